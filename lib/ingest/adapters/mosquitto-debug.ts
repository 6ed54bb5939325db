/**
 * Mosquitto's debug log, read from a file (MOSQUITTO_LOG_FILE, tailed by
 * lib/ingest/log-tail.ts). Debug lines never reach `$SYS/broker/log/#`: only
 * a log destination with `log_type all` (or `debug`) has them. They are the
 * one way to see a Mosquitto client's PINGREQs from outside the broker.
 *
 * What Mosquitto 2.0.11 writes (recorded with `log_dest stderr`, `log_type all`):
 *
 *   1795309837: Received PINGREQ from dev-1
 *   1795309837: Sending PINGRESP to dev-1
 *   1795309835: Received PUBLISH from dev-1 (d0, q1, r0, m1, 'devices/a/t', ... (2 bytes))
 *   1795309835: Received PUBACK from dev-1 (Mid: 3, RC:0)
 *   1795309835: Received SUBSCRIBE from dev-1
 *   1795309835: New client connected from 127.0.0.1:46591 as dev-1 (p2, c1, k2).
 *
 * Two more lines tell the broker's own life (`parseLifecycleLine`), read for
 * restart detection (lib/broker/restarts.ts):
 *
 *   1795309840: mosquitto version 2.0.11 terminating
 *   1795309841: mosquitto version 2.0.11 starting      (after a kill -9, the only one)
 *
 * This adapter turns the lines about packets a client sent into activity:
 * PINGREQ → ping, PUBLISH → publish (with its topic), PUBACK/PUBREC/PUBREL/
 * PUBCOMP/SUBSCRIBE/UNSUBSCRIBE → packet (they keep the connection alive just
 * as a PINGREQ does). Connects and disconnects are left to the `$SYS` log
 * adapter (mosquitto-log.ts), which already reports them with their reasons:
 * reporting them twice from two clocks would open sessions twice.
 *
 * Client ids may contain spaces and parentheses, so each pattern is anchored
 * on the fixed text around the id; for PINGREQ and SUBSCRIBE the id is the
 * rest of the line. Mosquitto prints at most 999 bytes of any log line (the
 * debug log included: recorded with a 1,200-character client id), so a line
 * that long may have been cut: it names nobody. Its id may have lost its end
 * (a device that does not exist), or the cut may fall inside an id crafted to
 * end like a whole line about another client (`victim (d0, q0, r0, m1, '…',
 * ... (2 bytes))`).
 *
 * Time: the prefix is whole Unix seconds (`log_timestamp_format` changes it;
 * then the receive time is used). A line read within two seconds of its stamp
 * (the tailer reads a few milliseconds after Mosquitto writes) takes the
 * receive time, kept inside the stamped second, so pings 2 s apart are not
 * rounded to 1 or 3 s; a line read later (a backlog) takes its stamp.
 */
import type { ActivityEvent } from "../events";
import { MAX_LINE_BYTES } from "./mosquitto-log";
import { byteLength, plausibleEpochSeconds } from "./payload";

export const name = "mosquitto-debug";
const SOURCE = "mosquitto-debug" as const;

const STAMP = /^(\d{9,11}): /;
const PINGREQ = /^Received PINGREQ from (.+)$/s;
/**
 * The id is read greedily: a line is ambiguous only when its id or topic holds
 * ` (d0, q0, r0, m1, '`, and a greedy id then still contains the sender's whole
 * id, where a lazy one could be a prefix of it, i.e. another client's id
 * (`victim (d0, q0, r0, m1, 'x', ... (2 bytes))` would speak for `victim`).
 */
const PUBLISH = /^Received PUBLISH from (.+) \(d[01], q[0-2], r[01], m\d+, '(.*)', \.\.\. \(\d+ bytes\)\)$/s;
const ACK = /^Received (PUBACK|PUBREC|PUBREL|PUBCOMP) from (.+?) \(Mid: ?\d+(?:, RC: ?\d+)?\)$/s;
const SUBSCRIBE = /^Received (SUBSCRIBE|UNSUBSCRIBE) from (.+)$/s;

export interface DebugLineContext {
  /** When the line was read (epoch ms). */
  receivedAt: number;
}

/** Epoch ms of a line stamped `seconds`, read at `receivedAt`. */
export function lineTime(seconds: number | null, receivedAt: number): number {
  if (seconds === null) return receivedAt;
  const start = seconds * 1000;
  if (receivedAt >= start && receivedAt < start + 2000) return Math.min(receivedAt, start + 999);
  return start;
}

/** Splits the timestamp prefix off a line: [seconds or null, rest]. */
export function splitStamp(line: string): [number | null, string] {
  const m = STAMP.exec(line);
  if (!m) return [null, line];
  const seconds = Number(m[1]);
  return plausibleEpochSeconds(seconds) ? [seconds, line.slice(m[0].length)] : [null, line];
}

/**
 * Events for one debug log line (without its line break). Lines about
 * anything else (what the broker sends, connects, subscriptions' topics,
 * start-up) give none.
 */
export function parseDebugLine(line: string, ctx: DebugLineContext): ActivityEvent[] {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  const [seconds, rest] = splitStamp(text);
  if (!rest.startsWith("Received ") || mayBeCut(text)) return [];
  const at = lineTime(seconds, ctx.receivedAt);
  let m = PINGREQ.exec(rest);
  if (m) return m[1] ? [{ kind: "ping", deviceId: m[1], at, source: SOURCE }] : [];
  m = PUBLISH.exec(rest);
  if (m) return [{ kind: "publish", deviceId: m[1], at, source: SOURCE, topic: m[2] }];
  m = ACK.exec(rest) ?? SUBSCRIBE.exec(rest);
  if (m && m[2]) return [{ kind: "packet", deviceId: m[2], at, source: SOURCE, packet: m[1].toLowerCase() }];
  return [];
}

/**
 * Whether Mosquitto may have cut this line (read leniently from the file: a
 * sequence cut in the middle became U+FFFD, never fewer bytes than it had).
 * UTF-8 takes at most 3 bytes per UTF-16 unit, so short lines are decided
 * without encoding.
 */
function mayBeCut(text: string): boolean {
  return text.length * 3 >= MAX_LINE_BYTES && byteLength(text) >= MAX_LINE_BYTES;
}

const LIFECYCLE = /^mosquitto version \S+ (starting|terminating)$/;

/**
 * The broker's own start and stop lines, `mosquitto version 2.0.11 starting`
 * and `… terminating` (lib/broker/restarts.ts), with the time of the line.
 */
export function parseLifecycleLine(
  line: string,
  ctx: DebugLineContext,
): { phase: "starting" | "terminating"; at: number } | null {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  const [seconds, rest] = splitStamp(text);
  const m = LIFECYCLE.exec(rest);
  if (!m) return null;
  // A stop is known to the second: its last millisecond, unless the line was read earlier than that.
  const at = seconds === null ? ctx.receivedAt : seconds * 1000;
  const phase = m[1] as "starting" | "terminating";
  return { phase, at: phase === "terminating" ? Math.min(at + 999, Math.max(at, ctx.receivedAt)) : at };
}

/** Whether a line shows that the log carries debug lines at all (`log_type all` or `debug`). */
export function isDebugLine(line: string): boolean {
  const rest = splitStamp(line)[1];
  return rest.startsWith("Received ") || rest.startsWith("Sending ");
}
