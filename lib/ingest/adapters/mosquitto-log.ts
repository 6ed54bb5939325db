/**
 * Mosquitto's own log lines, published on `$SYS/broker/log/<level>` when
 * mosquitto.conf has `log_dest topic`.
 *
 * What Mosquitto 2.0.11 really logs (recorded in fixtures/mosquitto-2.0.log.txt;
 * level topic in brackets):
 *
 *   connect          [N] New connection from 127.0.0.1:38258 on port 18931.
 *                    [N] New client connected from 127.0.0.1:38258 as dev (p2, c1, k30).
 *   DISCONNECT sent  [N] Client dev disconnected.
 *   socket closed    [N] Client dev closed its connection.
 *     (SIGKILL of the client, close() without DISCONNECT, and a TCP RST all log this line)
 *   keepalive        [N] Client dev has exceeded timeout, disconnecting.
 *     (k2 and no PINGREQ: logged 3.1–8.8 s after the connect over 40 connect phases, i.e.
 *     1.5 × 2 s plus up to 6 s to Mosquitto 2.0's next keepalive check, whole seconds)
 *   takeover         [N] New connection from 127.0.0.1:34306 on port 18931.
 *                    [E] Client dev already connected, closing old connection.
 *                    [N] New client connected from 127.0.0.1:34306 as dev (p2, c1, k30).
 *     Same three lines, in this order, for MQTT 3.1, 3.1.1 and 5. Nothing else is
 *     logged about the old connection: no "disconnected"/"closed" line for it, and an
 *     MQTT 5 old connection is not even sent DISCONNECT 0x8E (it just sees EOF). So the
 *     takeover line (on log/E, not log/N: subscribe to log/#) is the old session's end,
 *     and the connect line that follows starts the new session. This adapter emits a
 *     `takeover` event, then a `connect` event.
 *   auth failure     [N] Client <unknown> disconnected, not authorised.
 *     (the client id is not known yet when CONNECT is refused: no device to blame)
 *   protocol error   [N] Client dev disconnected due to protocol error.
 *   session expiry   [N] Expiring client dev due to timeout.
 *     (a persistent session whose client had already disconnected; see below)
 *   subscriptions    [M/subscribe] dev 0 devices/dev/#   (ignored: free text chosen by clients)
 *
 * Every line is cut at 999 bytes (timestamp included), possibly inside a UTF-8
 * sequence: a client id longer than ~900 bytes never appears whole and cannot be
 * attributed (reported as an error). No line of 999 bytes or more is attributed,
 * even one that still looks whole: the cut can fall inside an id crafted to end
 * like a complete line about another client (recorded: the id
 * `victim disconnected: aaa….zzzz` cut to `Client victim disconnected: aaa….`). Client ids may contain spaces, parentheses,
 * quotes, " as ", or look like a whole log line; the broker rejects control
 * characters. So every pattern is anchored on the fixed text after the id.
 *
 * The line starts with `<unix seconds>: ` by default, with `<strftime>: ` when
 * `log_timestamp_format` is set, and with nothing when `log_timestamp false`.
 *
 * Decisions:
 * - "Expiring client X due to timeout." is emitted as a disconnect with reason
 *   `session_expired`. The device was already offline (its disconnect was logged
 *   earlier); the fleet should treat it as confirmation of an offline device, not
 *   as a second disconnect (after a monitoring gap it is the first news of it).
 * - Bridges: "New bridge connected" is ignored, but Mosquitto logs a bridge's end as
 *   a plain "Client <bridge id> closed its connection." which cannot be told apart
 *   here (recorded: `vm.kw-bridge`).
 * - "disconnected due to out of memory" is the broker's failure, not the client's:
 *   reason `unknown` with detail, not `protocol_error`.
 */
import type { ActivityEvent, AdapterResult, DisconnectReason } from "../events";
import { byteLength, decodeUtf8, failure, noEvents, plausibleEpochSeconds, validKeepalive } from "./payload";
import type { Adapter, AdapterContext } from "./types";

export const name = "mosquitto-log";
const SOURCE = "mosquitto-log" as const;
const LOG_PREFIX = "$SYS/broker/log/";

/** Mosquitto 2.0 formats each log line into a 1000-byte buffer. */
export const MAX_LINE_BYTES = 999;

export function matches(topic: string): boolean {
  return topic.startsWith(LOG_PREFIX);
}

/** `$SYS/broker/log/M/subscribe|unsubscribe` carry "<id> <qos> <topic filter>": never a connection line. */
function isSubscriptionTrace(topic: string): boolean {
  return topic.startsWith(`${LOG_PREFIX}M/`);
}

// ---------------------------------------------------------------------------
// Line classification

type Classified =
  | {
      kind: "connect";
      deviceId: string;
      address: string;
      protocol: string | null;
      cleanStart: boolean;
      keepaliveSeconds: number | null;
      username: string | null;
    }
  | { kind: "disconnect"; deviceId: string; reason: DisconnectReason; detail: string }
  | { kind: "takeover"; deviceId: string }
  /** A known line that says nothing about a device. */
  | { kind: "ignored" };

const IGNORED: Classified = { kind: "ignored" };

/** Mosquitto's name for a connection that has not sent a valid CONNECT yet. */
const UNKNOWN_CLIENT = "<unknown>";

/**
 * 2.0: `New client connected from <ip>:<port> as <id> (p2, c1, k60[, u'<user>']).`
 * 1.x: no port, and some 1.5/1.6 releases drop `pN, ` when a username is present.
 * The address never contains " as "; the id may (the id is greedy, the address is not).
 */
const CONNECT_LINE = /^New client connected from (.+?) as (.+) \((?:p(\d+), )?c([01]), k(\d+)(?:, u'(.*)')?\)\.$/s;

const IGNORED_LINES: readonly RegExp[] = [
  /^New connection from .+ on port \d+\.$/s, // TCP accept, before CONNECT
  /^New bridge connected from /, // another broker, not a device
  /^Bad client .+ sending multiple CONNECT messages\.$/s, // followed by a protocol-error line
  /^Outgoing messages are being dropped for client .+\.$/s,
];

interface ClientRule {
  pattern: RegExp;
  /** From the match: [reason, detail], or "takeover". */
  outcome: (m: RegExpExecArray) => [DisconnectReason, string] | "takeover";
}

const fixed =
  (reason: DisconnectReason, detail: string): ClientRule["outcome"] =>
  () => [reason, detail];

/**
 * Lines about one client, each anchored on its fixed suffix. Order matters only
 * for the generic `disconnected: <errno text>.` line, which comes last so that an
 * id containing "disconnected: " cannot shadow a fixed suffix.
 */
const CLIENT_RULES: readonly ClientRule[] = [
  { pattern: /^Client (.+) already connected, closing old connection\.$/s, outcome: () => "takeover" },
  {
    pattern: /^Client (.+) has exceeded timeout, disconnecting\.$/s,
    outcome: fixed("keepalive_timeout", "exceeded timeout"),
  },
  { pattern: /^Client (.+) disconnected\.$/s, outcome: fixed("clean", "disconnected") },
  {
    pattern: /^Client (.+) closed its connection\.$/s,
    outcome: fixed("connection_lost", "closed its connection"),
  },
  {
    pattern:
      /^Client (.+) disconnected due to (protocol error|malformed packet|oversize packet|oversize payload|QoS too high or retain not supported)\.$/s,
    outcome: (m) => ["protocol_error", m[2]],
  },
  {
    pattern: /^Client (.+) disconnected due to out of memory\.$/s,
    outcome: fixed("unknown", "broker out of memory"),
  },
  {
    pattern: /^Client (.+) disconnected, (not authorised|no longer authorised)\.$/s,
    outcome: (m) => ["not_authorized", m[2]],
  },
  {
    pattern: /^Client (.+) been disconnected by administrative action\.$/s,
    outcome: fixed("admin", "disconnected by administrative action"),
  },
  // 1.x: any socket failure
  { pattern: /^Socket error on client (.+), disconnecting\.$/s, outcome: fixed("connection_lost", "socket error") },
  {
    pattern: /^Expiring client (.+) due to timeout\.$/s,
    outcome: fixed("session_expired", "session expired"),
  },
  // `Bad socket read/write on client <id>: <mosquitto_strerror>` (no final period)
  { pattern: /^Bad socket read\/write on client (.+): (.+)$/s, outcome: (m) => ["connection_lost", m[2]] },
  // `Client <id> disconnected: <strerror(errno)>.`
  { pattern: /^Client (.+) disconnected: (.+?)\.$/s, outcome: (m) => [reasonFromErrno(m[2]), m[2]] },
];

/** strerror() texts that mean the network connection broke. */
const CONNECTION_ERRNO_TEXTS: ReadonlySet<string> = new Set([
  "connection reset by peer",
  "broken pipe",
  "connection timed out",
  "operation timed out",
  "no route to host",
  "host is down",
  "network is unreachable",
  "network is down",
  "software caused connection abort",
  "connection aborted",
  "transport endpoint is not connected",
]);

function reasonFromErrno(text: string): DisconnectReason {
  return CONNECTION_ERRNO_TEXTS.has(text.trim().toLowerCase()) ? "connection_lost" : "unknown";
}

/** Mosquitto's protocol enum as printed after `p` (1 = 3.1, 2 = 3.1.1, 5 = 5). */
function protocolFromMosquittoEnum(p: string | undefined): string | null {
  switch (p) {
    case "1":
    case "3": // never logged for a connection by 2.0; a protocol-level byte 3 would also mean 3.1
      return "3.1";
    case "2":
      return "3.1.1";
    case "5":
      return "5";
    default:
      return null;
  }
}

/**
 * A copy of `s` that does not point into the string it was cut from. V8
 * keeps a regex capture of 13+ characters as a slice of the whole log line,
 * so a device id or address kept for the life of a device would keep its
 * ~100-byte connect line alive too (~8 MB per 100k devices). A JSON round
 * trip always builds a fresh flat string and is the fastest of the copies
 * measured.
 */
function own(s: string): string {
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string);
}

function classifyConnect(message: string): Classified | null {
  const m = CONNECT_LINE.exec(message);
  if (!m) return null;
  return {
    kind: "connect",
    address: own(m[1]),
    deviceId: own(m[2]),
    protocol: protocolFromMosquittoEnum(m[3]),
    cleanStart: m[4] === "1",
    // Mosquitto prints a 16-bit value; anything else (e.g. 400 digits: Infinity) is no keepalive.
    keepaliveSeconds: validKeepalive(Number(m[5])),
    username: m[6] ?? null,
  };
}

function classifyClientLine(message: string): Classified | null {
  for (const rule of CLIENT_RULES) {
    const m = rule.pattern.exec(message);
    if (!m) continue;
    const deviceId = own(m[1]);
    if (deviceId === UNKNOWN_CLIENT) return IGNORED;
    const outcome = rule.outcome(m);
    if (outcome === "takeover") return { kind: "takeover", deviceId };
    return { kind: "disconnect", deviceId, reason: outcome[0], detail: outcome[1] };
  }
  return null;
}

/** What a log message (timestamp removed) says, or null for a line this adapter does not know. */
export function classifyMessage(message: string): Classified | null {
  if (IGNORED_LINES.some((re) => re.test(message))) return IGNORED;
  return classifyConnect(message) ?? classifyClientLine(message);
}

// ---------------------------------------------------------------------------
// Timestamp prefix

const UNIX_PREFIX = /^(\d{1,12}): /;
const ISO_PREFIX = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)?: /;
/** Mosquitto formats a custom timestamp into 50 bytes, then adds ": ". */
const MAX_CUSTOM_PREFIX = 51;

const MINUTE = 60_000;
const QUARTER_HOUR = 15 * MINUTE;
const MAX_ZONE_OFFSET = 14 * 60 * MINUTE;

function zoneOffsetMs(zone: string): number {
  if (zone === "Z") return 0;
  const sign = zone.startsWith("-") ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  return sign * (hours * 60 + minutes) * MINUTE;
}

/**
 * A zone-less wall-clock time is in the broker's local zone, which the monitor
 * does not know. Log lines arrive within moments of being written, so the zone is
 * inferred as the whole quarter-hour offset that brings the stamp closest to the
 * receive time (zones are whole quarter hours). Beyond ±14 h the clocks disagree
 * and the receive time is used.
 */
function alignLocalWallClock(wallAsUtc: number, receivedAt: number): number {
  const offset = Math.round((receivedAt - wallAsUtc) / QUARTER_HOUR) * QUARTER_HOUR;
  return Math.abs(offset) <= MAX_ZONE_OFFSET ? wallAsUtc + offset : receivedAt;
}

function timeFromIso(m: RegExpExecArray, receivedAt: number): number | null {
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return null;
  }
  const fraction = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  const wallAsUtc = Date.UTC(year, month - 1, day, hour, minute, second, fraction);
  const at = m[8] ? wallAsUtc - zoneOffsetMs(m[8]) : alignLocalWallClock(wallAsUtc, receivedAt);
  return plausibleEpochSeconds(at / 1000) ? at : null;
}

interface LocatedLine {
  at: number;
  message: string;
  classified: Classified | null;
}

function located(at: number, message: string): LocatedLine {
  return { at, message, classified: classifyMessage(message) };
}

/**
 * Splits the timestamp prefix off a log line. Unix seconds and ISO-8601-like
 * stamps give `at`; any other prefix (or none) falls back to the receive time and
 * is recognized by the message after it.
 */
export function locateMessage(line: string, receivedAt: number): LocatedLine {
  const unix = UNIX_PREFIX.exec(line);
  if (unix) {
    const seconds = Number(unix[1]);
    const at = plausibleEpochSeconds(seconds) ? seconds * 1000 : receivedAt;
    return located(at, line.slice(unix[0].length));
  }
  const iso = ISO_PREFIX.exec(line);
  if (iso) return located(timeFromIso(iso, receivedAt) ?? receivedAt, line.slice(iso[0].length));

  const whole = located(receivedAt, line);
  if (whole.classified) return whole;
  for (let i = line.indexOf(": "); i !== -1 && i < MAX_CUSTOM_PREFIX; i = line.indexOf(": ", i + 1)) {
    const candidate = located(receivedAt, line.slice(i + 2));
    if (candidate.classified) return candidate;
  }
  return whole;
}

// ---------------------------------------------------------------------------
// Events

function toEvents(c: Classified, at: number): ActivityEvent[] {
  switch (c.kind) {
    case "connect":
      return [
        {
          kind: "connect",
          deviceId: c.deviceId,
          at,
          source: SOURCE,
          keepaliveSeconds: c.keepaliveSeconds,
          address: c.address,
          protocol: c.protocol,
          cleanStart: c.cleanStart,
          username: c.username,
        },
      ];
    case "disconnect":
      return [{ kind: "disconnect", deviceId: c.deviceId, at, source: SOURCE, reason: c.reason, detail: c.detail }];
    case "takeover":
      return [{ kind: "takeover", deviceId: c.deviceId, at, source: SOURCE }];
    case "ignored":
      return [];
  }
}

const CLIENT_LINE_START =
  /^(?:New client connected from |Client |Socket error on client |Expiring client |Bad socket read\/write on client )/;

/**
 * Whether a line that could not be classified starts like a line about one
 * client. A cut line cannot confirm where its timestamp ends (a custom
 * `log_timestamp_format` is only recognized by the message after it), so
 * every candidate prefix end is tried, as locateMessage does.
 */
function startsClientLine(line: string, message: string): boolean {
  if (CLIENT_LINE_START.test(message)) return true;
  for (let i = line.indexOf(": "); i !== -1 && i < MAX_CUSTOM_PREFIX; i = line.indexOf(": ", i + 1))
    if (CLIENT_LINE_START.test(line.slice(i + 2, i + 40))) return true;
  return false;
}
const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
const TRUNCATED = `log line cut at ${MAX_LINE_BYTES} bytes by Mosquitto: the client id is too long to attribute the line`;

export function parse(topic: string, payload: Buffer | string, ctx: AdapterContext): AdapterResult {
  if (!matches(topic) || isSubscriptionTrace(topic)) return noEvents();
  const size = byteLength(payload);
  const line = decodeUtf8(payload);
  if (line === null) {
    return failure(size >= MAX_LINE_BYTES ? TRUNCATED : "log line is not valid UTF-8");
  }
  if (line.length === 0) return failure("empty log line");

  const { at, message, classified } = locateMessage(line, ctx.receivedAt);
  // A line Mosquitto may have cut can end anywhere, also inside a client id crafted to make the
  // rest look like a whole line about another client: it names nobody.
  if (size >= MAX_LINE_BYTES && (classified ? classified.kind !== "ignored" : startsClientLine(line, message)))
    return failure(TRUNCATED);
  if (classified) return { events: toEvents(classified, at) };
  if (CONTROL_CHARS.test(line)) return failure("log line contains control characters: not a Mosquitto log line");
  return noEvents(); // one of the many lines that say nothing about devices
}

export const mosquittoLogAdapter: Adapter = { name, matches, parse };
