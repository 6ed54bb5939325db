/**
 * Text for the history page. Times are shown in UTC, as the CSV writes
 * them, so what an operator reads on screen matches the export.
 */
import type { DisconnectReason } from "@/lib/ingest/events";
import { formatDuration } from "@/components/fleet/format";

/** "2026-11-21 14:03:07" (UTC); the full ISO time belongs in a tooltip. */
export function formatUtc(iso: string | null): string {
  if (iso === null) return "—";
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return "—";
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

/** "2026-11-21 14:03" (UTC) for period bounds. */
export function formatUtcMinute(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

/** Seconds as an operator reads them: "0.25 s", "15.3 s", "3m 12s", "2h 5m"; "—" when unknown. */
export function formatSeconds(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "—";
  if (seconds < 10) return `${Number(seconds.toFixed(2))} s`;
  if (seconds < 60) return `${Number(seconds.toFixed(1))} s`;
  return formatDuration(seconds * 1000);
}

/** "97.78 %"; never rounds a partial outage up to a clean 100 %. */
export function formatPercent(p: number | null): string {
  if (p === null || !Number.isFinite(p)) return "—";
  const fixed = p.toFixed(2);
  return `${p < 100 && fixed === "100.00" ? "99.99" : fixed} %`;
}

/** "1.2 MB", "830 kB", "512 B". */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(0)} kB`;
  return `${(n / 1_000_000).toFixed(1)} MB`;
}

/** One color per kind of drop; the reason's words always come with it. */
export const REASON_TONE: Record<DisconnectReason, string> = {
  clean: "bg-zinc-500/10 text-zinc-300 ring-zinc-500/35",
  keepalive_timeout: "bg-amber-500/10 text-amber-300 ring-amber-500/35",
  connection_lost: "bg-red-500/10 text-red-300 ring-red-500/35",
  taken_over: "bg-sky-500/10 text-sky-300 ring-sky-500/35",
  protocol_error: "bg-fuchsia-500/10 text-fuchsia-300 ring-fuchsia-500/35",
  not_authorized: "bg-fuchsia-500/10 text-fuchsia-300 ring-fuchsia-500/35",
  admin: "bg-violet-500/10 text-violet-300 ring-violet-500/35",
  session_expired: "bg-zinc-500/10 text-zinc-300 ring-zinc-500/35",
  will: "bg-orange-500/10 text-orange-300 ring-orange-500/35",
  broker_restart: "bg-indigo-500/10 text-indigo-300 ring-indigo-500/35",
  unknown: "bg-zinc-500/10 text-zinc-400 ring-zinc-500/35",
};

/** Bar colors for the by-reason summary, matching REASON_TONE. */
export const REASON_BAR: Record<DisconnectReason, string> = {
  clean: "bg-zinc-500",
  keepalive_timeout: "bg-amber-500",
  connection_lost: "bg-red-500",
  taken_over: "bg-sky-500",
  protocol_error: "bg-fuchsia-500",
  not_authorized: "bg-fuchsia-400",
  admin: "bg-violet-500",
  session_expired: "bg-zinc-400",
  will: "bg-orange-500",
  broker_restart: "bg-indigo-500",
  unknown: "bg-zinc-600",
};
