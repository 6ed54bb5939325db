"use client";

import { useServerNow } from "./FleetStoreProvider";
import { formatAgo } from "./format";

/** A relative time that re-renders on the page clock, with the absolute time in the tooltip. */
export function Ago({
  iso,
  never = "—",
  withTitle = true,
}: {
  iso: string | null;
  never?: string;
  withTitle?: boolean;
}) {
  const now = useServerNow();
  const text = formatAgo(iso, now, never);
  if (iso === null) return <span className="text-zinc-500">{text}</span>;
  return (
    <time dateTime={iso} title={withTitle ? iso : undefined}>
      {text}
    </time>
  );
}
