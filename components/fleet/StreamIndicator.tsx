"use client";

import { useFleet } from "./FleetStoreProvider";
import { formatDuration } from "./format";
import { isStreamStale, type StreamState } from "./store";

const LABEL: Record<StreamState, string> = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…" };

/** Whether the page is hearing the server: live, (re)connecting, or down long enough to distrust. */
export function StreamIndicator() {
  const connection = useFleet((s) => s.connection);
  const nowMs = useFleet((s) => s.nowMs);
  const offset = useFleet((s) => s.serverOffsetMs);
  const stale = isStreamStale(connection, nowMs);
  const live = connection.state === "live";
  const downFor = formatDuration(nowMs - connection.since);

  const title = [
    live ? `live since ${new Date(connection.since).toISOString()}` : `not live for ${downFor}`,
    connection.lastMessageAt !== null
      ? `last update ${formatDuration(nowMs - connection.lastMessageAt)} ago`
      : "no update yet",
    connection.lastError ? `last error: ${connection.lastError}` : null,
    Math.abs(offset) >= 2_000
      ? `browser clock is ${formatDuration(Math.abs(offset))} ${offset > 0 ? "behind" : "ahead of"} the server; times are corrected`
      : null,
  ]
    .filter(Boolean)
    .join("\n");

  const tone = live
    ? "border-emerald-500/40 bg-emerald-500/10 text-emerald-300"
    : stale
      ? "border-red-500/60 bg-red-500/15 text-red-200"
      : "border-amber-500/40 bg-amber-500/10 text-amber-200";
  const dot = live ? "bg-emerald-400" : stale ? "bg-red-500" : "bg-amber-400";

  return (
    <div
      data-testid="stream-state"
      data-state={connection.state}
      data-stale={String(stale)}
      role="status"
      title={title}
      className={`flex h-7 shrink-0 items-center gap-1.5 rounded-md border px-2 text-xs font-medium ${tone}`}
    >
      <span aria-hidden="true" className="relative inline-flex size-2">
        {live && <span className={`absolute inline-flex size-full animate-ping rounded-full opacity-50 ${dot}`} />}
        <span className={`relative inline-flex size-2 rounded-full ${dot}`} />
      </span>
      {stale ? `stream down ${downFor} — data may be stale` : LABEL[connection.state]}
    </div>
  );
}
