"use client";

import { useMemo } from "react";
import { describeId } from "@/components/fleet/format";

/**
 * An untrusted device id as plain text (never markup, never a formula): cut
 * to a sane length, isolated from the surrounding text direction, flagged
 * when it hides invisible or direction-changing characters.
 */
export function HistoryDeviceId({ id, name }: { id: string; name?: string | null }) {
  const d = useMemo(() => describeId(id), [id]);
  return (
    <span className="flex min-w-0 items-center gap-1.5 font-mono text-[12.5px] text-zinc-100" title={d.title}>
      {name && (
        <span
          dir="auto"
          data-testid="device-name"
          className="max-w-[14rem] shrink-0 truncate font-sans font-medium [unicode-bidi:isolate]"
        >
          {name}
        </span>
      )}
      <span dir="auto" className={`min-w-0 truncate [unicode-bidi:isolate] ${name ? "text-zinc-400" : ""}`}>
        {d.text}
      </span>
      {d.hidden.length > 0 && (
        <span
          className="shrink-0 rounded-sm bg-amber-500/15 px-1 font-sans text-[10px] leading-4 text-amber-300"
          title={`id contains invisible or direction-changing characters: ${d.hidden.join(", ")}`}
        >
          ⚠
        </span>
      )}
    </span>
  );
}
