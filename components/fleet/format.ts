/**
 * Text for the fleet page: relative times, keepalives, disconnect reasons,
 * signal sources, and safe display of untrusted device ids.
 */
import { brokerDeadline } from "@/lib/keepalive";
import type { DisconnectReason, SignalSource } from "@/lib/ingest/events";
import { PING_VISIBLE_SOURCES } from "@/lib/ingest/events";

/** Epoch ms of a wire time, null when absent or unparsable. */
export function parseIso(iso: string | null): number | null {
  if (iso === null) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ["d", 86_400],
  ["h", 3_600],
  ["m", 60],
  ["s", 1],
];

/** Compact duration with at most two units: "42s", "3m 12s", "2h 5m", "4d 3h". */
export function formatDuration(ms: number): string {
  let seconds = Math.floor(Math.max(0, ms) / 1000);
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    if (parts.length === 0 && seconds < size && size > 1) continue;
    const n = Math.floor(seconds / size);
    seconds -= n * size;
    if (parts.length > 0 && n === 0) break;
    parts.push(`${n}${unit}`);
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

/** "3m 12s ago" relative to the server clock; "just now" under a second; "in 4s" for future times. */
export function formatAgo(iso: string | null, serverNow: number, never = "—"): string {
  const at = parseIso(iso);
  if (at === null) return never;
  const diff = serverNow - at;
  if (diff < -1500) return `in ${formatDuration(-diff)}`;
  if (diff < 1000) return "just now";
  return `${formatDuration(diff)} ago`;
}

/** "5 s", "0 (off)" for a disabled keepalive, "—" when the broker never said. */
export function formatKeepalive(seconds: number | null): string {
  if (seconds === null) return "—";
  if (seconds === 0) return "0 (off)";
  return `${seconds} s`;
}

/** What the broker's own keepalive enforcement means for this value. */
export function keepaliveHint(seconds: number | null): string {
  if (seconds === null) return "keepalive not reported by the source";
  if (seconds === 0) return "keepalive 0: the broker never drops this client for silence";
  return `keepalive ${seconds} s: the broker drops the client after ~${brokerDeadline(seconds).toLocaleString("en")} s of silence`;
}

export const DISCONNECT_REASON_LABELS: Record<DisconnectReason, string> = {
  clean: "clean disconnect",
  keepalive_timeout: "keepalive timeout",
  connection_lost: "connection lost",
  taken_over: "taken over (id reused)",
  protocol_error: "protocol error",
  not_authorized: "not authorized",
  admin: "closed by broker or admin",
  session_expired: "session expired",
  will: "reported offline (will / status)",
  broker_restart: "broker restarted",
  unknown: "unknown reason",
};

export function reasonLabel(reason: DisconnectReason | null): string {
  return reason === null ? "—" : DISCONNECT_REASON_LABELS[reason];
}

export const SOURCE_LABELS: Record<SignalSource, { short: string; long: string }> = {
  "mosquitto-log": { short: "log", long: "Mosquitto $SYS log (connects and disconnects)" },
  "mosquitto-debug": { short: "debug", long: "Mosquitto debug log (sees every PINGREQ)" },
  emqx: { short: "emqx", long: "EMQX client events" },
  nanomq: { short: "nanomq", long: "NanoMQ client events" },
  aedes: { short: "embedded", long: "embedded broker (sees every packet)" },
  "device-topic": { short: "topic", long: "device topics (publishes, status, last will)" },
};

export function sourcesTitle(sources: readonly SignalSource[]): string {
  if (sources.length === 0) return "no source has reported this device yet";
  const lines = sources.map((s) => `• ${SOURCE_LABELS[s]?.long ?? s}`);
  const pings = sources.some((s) => PING_VISIBLE_SOURCES.has(s));
  lines.push(
    pings
      ? "silence verdicts backed by a ping-visible source"
      : "no ping-visible source: silence alone is not a verdict",
  );
  return lines.join("\n");
}

/** Code points shown in a cell: far more than fits; the rest is never laid out. */
export const ID_DISPLAY_MAX = 200;
/** Characters of a device id in a tooltip. */
export const ID_TITLE_MAX = 1000;

/**
 * Invisible or direction-changing characters that can make two ids look alike
 * or reorder what surrounds them: C0/C1 controls, bidi embeddings, overrides,
 * isolates and marks, zero-width space, word joiner, BOM. Joiners (U+200C/D)
 * are left out: emoji sequences and several scripts need them.
 */
const HIDDEN_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/gu;

export interface IdDisplay {
  /** The id as text, cut to ID_DISPLAY_MAX code points (never inside a surrogate pair). */
  text: string;
  truncated: boolean;
  /** Tooltip: the id cut to ID_TITLE_MAX code points, hidden characters spelled out. */
  title: string;
  /** Hidden characters found, as "U+202E", unique, in order of appearance. */
  hidden: string[];
  length: number;
}

function cutCodePoints(s: string, max: number): string {
  if (s.length <= max) return s;
  let out = "";
  let n = 0;
  for (const ch of s) {
    if (n === max) break;
    out += ch;
    n++;
  }
  return out;
}

const codeOf = (ch: string): string => `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;

export function describeId(id: string): IdDisplay {
  const text = cutCodePoints(id, ID_DISPLAY_MAX);
  const titleBase = cutCodePoints(id, ID_TITLE_MAX);
  const hidden = Array.from(new Set(Array.from(id.matchAll(HIDDEN_CHARS), (m) => codeOf(m[0]))));
  const spelled = titleBase.replace(HIDDEN_CHARS, (ch) => `[${codeOf(ch)}]`);
  const more = titleBase.length < id.length ? `… (${id.length.toLocaleString("en")} characters in all)` : "";
  return { text, truncated: text.length < id.length, title: spelled + more, hidden, length: id.length };
}

/** Link to a device page; a lone surrogate (which encodeURIComponent rejects) becomes U+FFFD. */
export function deviceHref(id: string): string {
  return `/devices/${encodeURIComponent(id.toWellFormed())}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString("en");
}
