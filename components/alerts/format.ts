import type { AlertDto } from "@/lib/alerts/dto";

type Kind = AlertDto["kind"];

export const KIND_LABEL: Record<Kind, string> = {
  system: "system",
  offline: "offline",
  late: "late",
  flapping: "flapping",
  "near-miss": "near-miss",
  never_seen: "never seen",
};

export const KIND_STYLE: Record<Kind, string> = {
  system: "bg-orange-500/20 text-orange-200 ring-orange-500/50",
  offline: "bg-red-500/15 text-red-300 ring-red-500/40",
  late: "bg-amber-500/15 text-amber-300 ring-amber-500/40",
  flapping: "bg-fuchsia-500/15 text-fuchsia-300 ring-fuchsia-500/40",
  "near-miss": "bg-sky-500/15 text-sky-300 ring-sky-500/40",
  never_seen: "bg-zinc-500/20 text-zinc-300 ring-zinc-500/40",
};

/** What a system alert is about. */
export const SOURCE_LABEL: Record<string, string> = {
  broker: "broker unreachable",
  database: "database writes failing",
  debug_log: "debug log stalled",
  broker_restart: "broker restarted",
};

/** "2026-11-22 03:04:05Z" */
export function shortTime(iso: string | null): string {
  return iso === null ? "—" : iso.replace("T", " ").replace(/\.\d+Z$/, "Z");
}
