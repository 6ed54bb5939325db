/**
 * Why does this device drop? Plain-language findings from a device's recent
 * sessions, its activity gaps and its keepalive. Pure: the API gathers the
 * input (lib/api/device-diagnosis.ts), this module only reasons about it.
 *
 * Each rule returns at most one finding `{ code, severity, message, evidence }`:
 * the message says what is wrong and what to do, the evidence lists the facts
 * it rests on. The rules and their thresholds:
 *
 * - not_sending_pingreq: a session ended by keepalive timeout with no PINGREQ
 *   (nor any other packet) recorded between its connect and the drop. Needs a
 *   source that sees PINGREQs; without one, two or more keepalive drops each
 *   within 1.5 × keepalive + 10 s of the connect are read the same way, said
 *   as a likelihood.
 * - near_miss: gaps between activities that went past the keepalive by more
 *   than max(1 s, 5 %) but stayed under the broker's 1.5 × deadline. A
 *   client that pings on time leaves gaps at (or under) its keepalive; these
 *   ate into the grace the broker gives, so one delayed packet means a drop.
 * - shared_client_id: two or more sessions ended by takeover: another
 *   connection with the same client id replaced this one, repeatedly.
 * - reconnect_storm: five or more reconnects in the last 10 minutes, the
 *   median time offline at most 5 s, and the delays not growing (the last no
 *   more than twice the first): the client retries at once, without backoff.
 *   Takeovers are not reconnects, and neither is coming back after the broker
 *   restarted (`broker_restart`) or closed every connection (`admin`): the
 *   delay there is the outage's, not the client's.
 * - keepalive_disabled: keepalive 0, so the broker never checks liveness.
 */
import { BROKER_DEADLINE_FACTOR, brokerDeadline } from "../keepalive";
import type { DisconnectReason } from "../ingest/events";

/** Without visible PINGREQs, a keepalive drop this soon after the broker's deadline from the connect reads as "never pinged". */
const QUICK_DROP_SLACK_MS = 10_000;

export const FINDING_CODES = [
  "not_sending_pingreq",
  "near_miss",
  "shared_client_id",
  "reconnect_storm",
  "keepalive_disabled",
] as const;
export type FindingCode = (typeof FINDING_CODES)[number];

export interface Finding {
  code: FindingCode;
  severity: "problem" | "warning" | "info";
  message: string;
  evidence: string[];
}

export interface DiagnosisSession {
  connectedAt: number;
  disconnectedAt: number | null;
  reason: DisconnectReason | null;
  keepaliveSeconds: number | null;
  /** Activity recorded inside the session; null when not known (not recorded, or past retention). */
  pings?: number | null;
  publishes?: number | null;
  packets?: number | null;
}

export interface DiagnosisInput {
  now: number;
  /** The device's current (or last) keepalive; null when never reported. */
  keepaliveSeconds: number | null;
  /** A source that sees every PINGREQ backs this device (embedded broker, Mosquitto debug log). */
  pingsVisible: boolean;
  /** Recent sessions, any order. */
  sessions: readonly DiagnosisSession[];
  /** Gaps between consecutive activities (ms) with when they ended, e.g. minute maxima of the last 24 h. */
  gaps: readonly { at: number; gapMs: number }[];
}

export const STORM_WINDOW_MS = 10 * 60_000;
export const STORM_MIN_RECONNECTS = 5;
export const STORM_MAX_MEDIAN_OFFLINE_MS = 5_000;
/** Drops after which coming back is not the client's own retry. (`unknown` stays: brokers throttling a client report it.) */
const NOT_A_RETRY: ReadonlySet<DisconnectReason | null> = new Set(["taken_over", "admin", "broker_restart"]);

const seconds = (ms: number): string => {
  const s = ms / 1000;
  return `${s < 10 ? s.toFixed(1).replace(/\.0$/, "") : Math.round(s)} s`;
};
const times = (n: number) => (n === 1 ? "once" : `${n} times`);
const when = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

export function notSendingPingreq(input: DiagnosisInput): Finding | null {
  const drops = input.sessions
    .filter((s) => s.reason === "keepalive_timeout" && s.disconnectedAt !== null && (s.keepaliveSeconds ?? 0) > 0)
    .sort((a, b) => b.connectedAt - a.connectedAt);
  if (drops.length === 0) return null;
  const k = drops[0].keepaliveSeconds!;
  const advice =
    `Libraries such as MicroPython's umqtt.simple only send PINGREQ when the application calls ping(): ` +
    `call it more often than every ${k} s (or publish that often), or use a client that pings by itself.`;
  if (input.pingsVisible) {
    const silent = drops.filter((s) => s.pings === 0 && (s.packets ?? 0) === 0);
    if (silent.length === 0 || silent[0] !== drops[0]) return null;
    const last = silent[0];
    const lasted = last.disconnectedAt! - last.connectedAt;
    const published = silent.reduce((n, s) => n + (s.publishes ?? 0), 0);
    const evidence = [
      `${silent.length} of the last ${drops.length} keepalive-timeout drops had no PINGREQ between connect and drop`,
      `last: connected ${when(last.connectedAt)}, dropped ${seconds(lasted)} later (keepalive ${k} s, deadline ${seconds(brokerDeadline(k * 1000))})`,
    ];
    if (published > 0)
      evidence.push(`it published ${published} message(s) in those sessions, never often enough to keep it alive`);
    return {
      code: "not_sending_pingreq",
      severity: "problem",
      message: `The client is not sending PINGREQ: the broker dropped it for keepalive timeout ${times(silent.length)} without a single PINGREQ since it connected. ${advice}`,
      evidence,
    };
  }
  const quick = drops.filter(
    (s) => s.disconnectedAt! - s.connectedAt <= brokerDeadline((s.keepaliveSeconds ?? k) * 1000) + QUICK_DROP_SLACK_MS,
  );
  if (quick.length < 2 || quick[0] !== drops[0]) return null;
  return {
    code: "not_sending_pingreq",
    severity: "problem",
    message: `The client is most likely not sending PINGREQ: it was dropped for keepalive timeout ${times(quick.length)}, each time right after the ${seconds(brokerDeadline(k * 1000))} deadline following its connect. ${advice}`,
    evidence: [
      `${quick.length} sessions ended by keepalive timeout within ${BROKER_DEADLINE_FACTOR} × keepalive + ${QUICK_DROP_SLACK_MS / 1000} s of their connect`,
      "PINGREQs are not visible from this broker's source (set MOSQUITTO_LOG_FILE to see them)",
    ],
  };
}

export function nearMiss(input: DiagnosisInput): Finding | null {
  const k = input.keepaliveSeconds;
  if (!k || k <= 0) return null;
  const kMs = k * 1000;
  const over = Math.max(1000, kMs * 0.05);
  const near = input.gaps.filter((g) => g.gapMs > kMs + over && g.gapMs < brokerDeadline(kMs));
  if (near.length === 0) return null;
  const worst = near.reduce((a, b) => (b.gapMs > a.gapMs ? b : a));
  const last = near.reduce((a, b) => (b.at > a.at ? b : a));
  return {
    code: "near_miss",
    severity: "warning",
    message:
      `Near misses: the device went silent for longer than its ${k} s keepalive ${times(near.length)}, up to ${seconds(worst.gapMs)} ` +
      `against the broker's ${seconds(brokerDeadline(kMs))} deadline. It is one delayed packet away from a drop: ping well inside the keepalive ` +
      `(e.g. every ${Math.max(1, Math.floor(k / 2))} s) or raise the keepalive.`,
    evidence: [
      `${near.length} gap(s) between ${seconds(kMs + over)} and ${seconds(brokerDeadline(kMs))}`,
      `largest ${seconds(worst.gapMs)} at ${when(worst.at)}; latest at ${when(last.at)}`,
    ],
  };
}

export function sharedClientId(input: DiagnosisInput): Finding | null {
  const taken = input.sessions
    .filter((s) => s.reason === "taken_over" && s.disconnectedAt !== null)
    .sort((a, b) => b.disconnectedAt! - a.disconnectedAt!);
  if (taken.length < 2) return null;
  const span = taken[0].disconnectedAt! - taken[taken.length - 1].disconnectedAt!;
  return {
    code: "shared_client_id",
    severity: "problem",
    message:
      `Two clients share this client id: the connection was taken over ${times(taken.length)} — each new connection with the same id ` +
      `closes the one before. Give every device its own client id (and check for a second copy of the firmware or a stale process).`,
    evidence: [
      `${taken.length} sessions ended as taken over${span > 0 ? ` within ${seconds(span)}` : ""}`,
      `latest takeover at ${when(taken[0].disconnectedAt!)}`,
    ],
  };
}

export function reconnectStorm(input: DiagnosisInput): Finding | null {
  const sorted = [...input.sessions].sort((a, b) => a.connectedAt - b.connectedAt);
  const delays: { at: number; ms: number }[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const s = sorted[i];
    if (s.disconnectedAt === null || NOT_A_RETRY.has(s.reason)) continue;
    const next = sorted[i + 1];
    if (next.connectedAt < input.now - STORM_WINDOW_MS) continue;
    delays.push({ at: next.connectedAt, ms: Math.max(0, next.connectedAt - s.disconnectedAt) });
  }
  if (delays.length < STORM_MIN_RECONNECTS) return null;
  const ms = delays.map((d) => d.ms).sort((a, b) => a - b);
  const median = ms[Math.floor(ms.length / 2)];
  if (median > STORM_MAX_MEDIAN_OFFLINE_MS) return null;
  const first = delays[0].ms;
  const last = delays[delays.length - 1].ms;
  if (last > Math.max(2 * first, 1000)) return null; // delays grow: backoff
  return {
    code: "reconnect_storm",
    severity: "problem",
    message:
      `Reconnect storm: the client reconnected ${delays.length} times in the last ${STORM_WINDOW_MS / 60_000} minutes, each time ` +
      `within seconds of the drop and without growing delays — it retries without backoff. Retry with exponential backoff and ` +
      `jitter (e.g. 1 s doubling to 60 s) so a broker outage does not become a flood of connects.`,
    evidence: [
      `${delays.length} reconnects since ${when(delays[0].at)}`,
      `offline between drop and reconnect: ${seconds(ms[0])} to ${seconds(ms[ms.length - 1])}, median ${seconds(median)}`,
      `first delay ${seconds(first)}, latest ${seconds(last)}`,
    ],
  };
}

export function keepaliveDisabled(input: DiagnosisInput): Finding | null {
  if (input.keepaliveSeconds !== 0) return null;
  return {
    code: "keepalive_disabled",
    severity: "info",
    message:
      "Keepalive is 0: the broker is not checking this device's liveness. A device that loses power or network stays " +
      "'connected' until TCP notices, which can take hours. Set a keepalive (e.g. 60 s) unless the device sleeps on purpose.",
    evidence: ["CONNECT carried Keep Alive 0"],
  };
}

const RULES = [notSendingPingreq, sharedClientId, reconnectStorm, nearMiss, keepaliveDisabled];

/** Every finding that applies, problems first. */
export function diagnose(input: DiagnosisInput): Finding[] {
  const order = { problem: 0, warning: 1, info: 2 } as const;
  return RULES.map((rule) => rule(input))
    .filter((f): f is Finding => f !== null)
    .sort((a, b) => order[a.severity] - order[b.severity]);
}
