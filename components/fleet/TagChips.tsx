"use client";

/** A device's tags as small chips (the first few; the rest counted). */
export function TagChips({ tags, max = 3 }: { tags: readonly string[]; max?: number }) {
  const shown = tags.slice(0, max);
  return (
    <span className="ml-1.5 flex shrink-0 items-center gap-1" data-testid="tag-chips">
      {shown.map((t) => (
        <span key={t} data-tag={t} className="rounded bg-indigo-500/15 px-1 text-[10.5px] leading-4 text-indigo-300">
          {t}
        </span>
      ))}
      {tags.length > max && <span className="text-[10.5px] text-zinc-500">+{tags.length - max}</span>}
    </span>
  );
}
