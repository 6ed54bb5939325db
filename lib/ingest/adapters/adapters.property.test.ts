/**
 * Property tests (fast-check) for every ingest adapter, 10,000 cases each.
 *
 * Each property mixes three kinds of input:
 * - well-formed messages built from the real formats (Mosquitto's `$SYS` and
 *   debug log lines as 2.0.11 prints them, EMQX JSON, NanoMQ's printf
 *   templates, device topics, Aedes observations) around random client ids:
 *   unicode, control characters, lone surrogates, ids far over
 *   MAX_DEVICE_ID_BYTES, empty ones, and ids that look like parts of the
 *   formats. For these the exact outcome is known (a model below);
 * - the same messages mutated (characters or bytes edited, inserted, cut);
 * - garbage (random bytes, random text, random JSON).
 *
 * What must hold for every input: no exception; a result of the documented
 * shape; and every refusal counted exactly once where ingest counts it —
 * a message the adapters cannot read (`error`) in IngestWorker.parseErrors,
 * an event whose device id is unusable in IngestScreen.rejected by cause
 * (`/api/health` → `ingest.rejected`), checked against a reference of the
 * refusal rules written here. Nothing else is counted, and nothing counted
 * reaches the fleet.
 *
 * The brokers' own limits are part of the model: Mosquitto formats each log
 * line into 1000 bytes (999 are printed, for `$SYS` and the debug log alike;
 * verified against Mosquitto 2.0.11), NanoMQ prints its events into 256 bytes.
 */
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ActivityEvent, type AdapterResult, type BrokerKind, DISCONNECT_REASONS } from "../events";
import { IngestScreen, type RejectCause } from "../limits";
import { IngestWorker } from "../worker";
import { type AedesObservation, aedesEvents } from "./aedes";
import type { ConfiguredBrokerKind } from "./detect";
import { type CompiledDeviceTopics, compileDeviceTopics, route } from "./index";
import { isDebugLine, parseDebugLine, parseLifecycleLine } from "./mosquitto-debug";
import { mosquittoLogAdapter } from "./mosquitto-log";
import { fromMqtt5ReasonCode } from "./reason-codes";

/** Generous: a property runs in about a second, but a loaded CI machine must not make it flaky. */
const PROPERTY_TEST = { timeout: 60_000 };

const RUNS = { numRuns: 10_000 };
const RECEIVED_AT = 1_800_000_000_000;
const OWN_CLIENT_ID = "keepwatch-property-test";
/** What Mosquitto prints of one log line (a 1000-byte buffer with its NUL). */
const MOSQUITTO_LINE_BYTES = 999;
/** What NanoMQ prints of one event payload (snprintf into 256 bytes). */
const NANOMQ_PAYLOAD_BYTES = 255;

// ---------------------------------------------------------------------------
// Reference: what ingest must refuse, written from lib/ingest/limits.ts' contract

function utf8Bytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && isLow(s.charCodeAt(i + 1))) {
      n += 4;
      i++;
    } else n += 3; // a lone surrogate is written as U+FFFD
  }
  return n;
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;
const isControl = (c: number) => c <= 0x1f || (c >= 0x7f && c <= 0x9f);

function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isHigh(c)) {
      if (!isLow(s.charCodeAt(i + 1))) return true;
      i++;
    } else if (isLow(c)) return true;
  }
  return false;
}

/** Empty, then too long (UTF-8 bytes), then control characters, then text that is not valid Unicode. */
function expectedRefusal(id: string, maxBytes: number): RejectCause | null {
  if (id.length === 0) return "id_empty";
  if (utf8Bytes(id) > maxBytes) return "id_too_long";
  for (let i = 0; i < id.length; i++) if (isControl(id.charCodeAt(i))) return "id_control_characters";
  return hasLoneSurrogate(id) ? "id_invalid_unicode" : null;
}

/** How a string arrives over MQTT or from a file: as UTF-8 (a lone surrogate becomes U+FFFD). */
const wire = (s: string): string => Buffer.from(s, "utf8").toString("utf8");

// ---------------------------------------------------------------------------
// Checks

class PropertyFailure extends Error {}

function check(ok: boolean, what: string, detail?: unknown): asserts ok {
  if (!ok) throw new PropertyFailure(detail === undefined ? what : `${what}: ${JSON.stringify(detail)}`);
}

const KINDS = new Set(["connect", "disconnect", "takeover", "ping", "packet", "publish", "status"]);
const SOURCES = new Set(["mosquitto-log", "mosquitto-debug", "emqx", "nanomq", "aedes", "device-topic"]);
const REASONS: ReadonlySet<string> = new Set(DISCONNECT_REASONS);

/** Every event an adapter emits has the documented shape, with a plausible wall-clock time. */
function checkEvent(ev: ActivityEvent): void {
  check(KINDS.has(ev.kind), "event kind", ev);
  check(SOURCES.has(ev.source), "event source", ev);
  check(typeof ev.deviceId === "string", "device id is a string", ev);
  check(Number.isFinite(ev.at) && ev.at >= 1e12 && ev.at < 1e13, "event time is plausible epoch ms", ev);
  switch (ev.kind) {
    case "connect":
      check(
        ev.keepaliveSeconds === null ||
          (Number.isInteger(ev.keepaliveSeconds) && ev.keepaliveSeconds >= 0 && ev.keepaliveSeconds <= 65535),
        "keepalive is null or 0..65535",
        ev,
      );
      break;
    case "disconnect":
      check(REASONS.has(ev.reason), "disconnect reason in the shared vocabulary", ev);
      check(ev.sessionConnectedAt == null || Number.isFinite(ev.sessionConnectedAt), "session stamp is a number", ev);
      break;
    case "status":
      check(typeof ev.online === "boolean" && typeof ev.retained === "boolean", "status flags", ev);
      break;
    case "publish":
      check(typeof ev.topic === "string", "publish topic", ev);
      break;
    case "packet":
      check(typeof ev.packet === "string" && ev.packet.length > 0, "packet type", ev);
      break;
  }
}

function checkResult(r: AdapterResult, what: string): void {
  check(Array.isArray(r.events), `${what}: events is an array`, r);
  for (const ev of r.events) checkEvent(ev);
  check(r.error === undefined || (typeof r.error === "string" && r.error.length > 0), `${what}: error text`, r);
  for (const s of r.stats ?? [])
    check(typeof s.key === "string" && Number.isFinite(s.value) && s.value >= 0, `${what}: stat`, s);
  check(r.brokerVersion === undefined || r.brokerVersion.trim() !== "", `${what}: broker version`, r);
}

/** The outcome a well-formed message must have. `events` are compared field by field (listed fields only). */
type ExpectedEvent = { kind: ActivityEvent["kind"]; deviceId: string; [field: string]: unknown };
type Expected = { outcome: "events"; events: ExpectedEvent[] } | { outcome: "error" } | { outcome: "ignored" };

const ignored: Expected = { outcome: "ignored" };
const rejected: Expected = { outcome: "error" };
const events = (...evs: ExpectedEvent[]): Expected => ({
  outcome: "events",
  events: evs,
});

function checkExpected(r: AdapterResult, expected: Expected, what: string): void {
  switch (expected.outcome) {
    case "ignored":
      check(r.events.length === 0 && r.error === undefined, `${what}: expected nothing`, r);
      return;
    case "error":
      check(r.events.length === 0 && r.error !== undefined, `${what}: expected an error`, r);
      return;
    case "events": {
      check(r.error === undefined, `${what}: unexpected error`, r);
      check(r.events.length === expected.events.length, `${what}: event count`, { got: r.events, expected });
      expected.events.forEach((want, i) => {
        const got = r.events[i] as unknown as Record<string, unknown>;
        for (const [key, value] of Object.entries(want))
          check(isDeepStrictEqual(got[key], value), `${what}: event ${i} field ${key}`, { got, want });
      });
    }
  }
}

// ---------------------------------------------------------------------------
// The ingest path as the runtime wires it: IngestWorker → IngestScreen

/** IngestWorker's per-message handling, reached without a broker connection. */
interface WorkerInternals {
  onMessage(topic: string, payload: Buffer, retained: boolean): void;
  flush(): void;
}

type Kind = BrokerKind | ConfiguredBrokerKind;

/**
 * One worker and one screen, counting what they refuse; every message is also
 * routed directly (an adapter that throws fails the property there: the worker
 * would hide the exception as a parse error).
 */
class Pipeline {
  readonly screen: IngestScreen;
  private readonly worker: IngestWorker;
  private readonly expectedRejections: Partial<Record<RejectCause, number>> = {};
  private expectedParseErrors = 0;
  private delivered: ActivityEvent[] = [];
  private admitted: ActivityEvent[] = [];

  constructor(
    private readonly kind: Kind,
    private readonly deviceTopics: CompiledDeviceTopics,
    private readonly maxIdBytes: number,
  ) {
    this.screen = new IngestScreen(maxIdBytes);
    this.worker = new IngestWorker({
      url: "mqtt://127.0.0.1:1",
      clientId: OWN_CLIENT_ID,
      kind,
      deviceTopics,
      onEvents: (evs) => {
        this.delivered.push(...evs);
        this.admitted.push(...this.screen.admit(evs));
      },
      onLink: () => undefined,
    });
  }

  /** One MQTT message; returns what the adapters said (routed directly, with a fixed receive time). */
  message(topic: string, payload: Buffer, retained: boolean): AdapterResult {
    const direct = route(
      topic,
      payload,
      { receivedAt: RECEIVED_AT, retained },
      { kind: this.kind, deviceTopics: this.deviceTopics },
    );
    checkResult(direct, `route(${JSON.stringify(topic.slice(0, 80))})`);
    const w = this.worker as unknown as WorkerInternals;
    this.delivered = [];
    this.admitted = [];
    w.onMessage(topic, payload, retained);
    w.flush();
    if (direct.error !== undefined) this.expectedParseErrors++;
    check(this.worker.parseErrors === this.expectedParseErrors, "every unreadable message counted once", {
      parseErrors: this.worker.parseErrors,
      expected: this.expectedParseErrors,
      direct,
    });
    const own = direct.events.filter((e) => e.deviceId !== OWN_CLIENT_ID);
    check(
      isDeepStrictEqual(
        this.delivered.map((e) => [e.kind, e.deviceId]),
        own.map((e) => [e.kind, e.deviceId]),
      ),
      "the worker passes on what the adapters said",
      { delivered: this.delivered, direct },
    );
    this.checkScreen(this.delivered, this.admitted);
    return direct;
  }

  /** Events that reach ingest another way (the debug log tail, the embedded broker). */
  events(evs: ActivityEvent[]): void {
    for (const ev of evs) checkEvent(ev);
    this.checkScreen(evs, this.screen.admit(evs));
  }

  private checkScreen(offered: ActivityEvent[], admitted: ActivityEvent[]): void {
    const keep: ActivityEvent[] = [];
    for (const ev of offered) {
      const cause = expectedRefusal(ev.deviceId, this.maxIdBytes);
      if (cause === null) keep.push(ev);
      else this.expectedRejections[cause] = (this.expectedRejections[cause] ?? 0) + 1;
    }
    check(
      admitted.length === keep.length && admitted.every((ev, i) => ev === keep[i]),
      "the screen admits exactly the usable ids",
      { offered: offered.map((e) => e.deviceId), admitted: admitted.map((e) => e.deviceId) },
    );
    check(isDeepStrictEqual(this.screen.rejected, this.expectedRejections), "refused ids counted by cause", {
      counted: this.screen.rejected,
      expected: this.expectedRejections,
      ids: offered.map((e) => e.deviceId),
    });
  }
}

const DEFAULT_TOPICS = compileDeviceTopics("devices/{id}/#");

// ---------------------------------------------------------------------------
// Arbitraries: ids, mutations, garbage

const plainChar = fc.constantFrom(..."abcdefxyzABC0123456789-_.");
const controlChar = fc.constantFrom(
  ..."\u0000\u0001\u0007\u0008\u0009\u000a\u000b\u000c\u000d\u001b\u001f\u007f\u0080\u0085\u009f",
);
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const unicodeChar = fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 });
const anyCodePoint = fc.string({ unit: "binary", minLength: 1, maxLength: 1 });
/** Pieces of the formats themselves, and characters the formats treat specially. */
const formatPiece = fc.constantFrom(
  " ",
  "  ",
  "(",
  ")",
  "'",
  '"',
  "\\",
  "/",
  ":",
  ": ",
  ",",
  ".",
  " as ",
  "<unknown>",
  " disconnected",
  " disconnected: ",
  "Client ",
  " (p2, c1, k5)",
  " (Mid: 3)",
  "{",
  "}",
  "+",
  "#",
  "$",
  "%s",
  "é",
  "€",
  "😀",
  "\u202e",
  "\ufeff",
  "\ufffd",
  "\u2028",
);
const idChar = fc.oneof(
  { weight: 8, arbitrary: plainChar },
  { weight: 2, arbitrary: unicodeChar },
  { weight: 2, arbitrary: anyCodePoint },
  { weight: 1, arbitrary: controlChar },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 2, arbitrary: formatPiece },
);
const shortId = fc.array(idChar, { minLength: 1, maxLength: 20 }).map((cs) => cs.join(""));
/** Over MAX_DEVICE_ID_BYTES (256) mostly, over a Mosquitto log line (999 bytes) often. */
const longId = fc
  .tuple(fc.constantFrom("a", "é", "€", "😀", "dev-"), fc.integer({ min: 60, max: 1_100 }), fc.array(plainChar))
  .map(([c, n, tail]) => c.repeat(n) + tail.join(""));
const deviceId = fc.oneof(
  { weight: 1, arbitrary: fc.constant("") },
  { weight: 3, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/) },
  { weight: 8, arbitrary: shortId },
  { weight: 3, arbitrary: longId },
);
/**
 * Ids crafted so that, cut at some byte by the broker, a line about this client
 * looks like a whole line about another one ("victim"): a fragment of a format,
 * padding to move the cut, and the fragment that would end a line.
 */
const craftedId = fc
  .tuple(
    fc.constantFrom("victim", "dev-1"),
    fc.constantFrom(" disconnected: ", " (p2, c1, k5, u'", " (d0, q0, r0, m1, '", ": ", " ", ""),
    fc.integer({ min: 800, max: 1_000 }),
    fc.constantFrom(".", "').", "', ... (2 bytes))", " (Mid: 1)", " disconnected.", " closed its connection."),
    fc.stringMatching(/^[a-z]{0,6}$/),
  )
  .map(([victim, start, n, end, tail]) => `${victim}${start}${"a".repeat(n)}${end}${tail}`);
const maxIdBytes = fc.constantFrom(16, 64, 256, 256, 1024, 65_535);

type Edit = { at: number; op: "delete" | "insert" | "cut" | "duplicate"; text: string };
const edits = fc.array(
  fc.record({
    at: fc.nat(),
    op: fc.constantFrom<Edit["op"]>("delete", "insert", "cut", "duplicate"),
    text: fc.oneof(idChar, fc.constantFrom("\n", "\r", "\u0000", "{", '"', ":", " ", "999999999999: ")),
  }),
  { minLength: 1, maxLength: 4 },
);

function mutate(text: string, es: readonly Edit[]): string {
  const cs = Array.from(text);
  for (const e of es) {
    const at = e.at % (cs.length + 1);
    if (e.op === "delete") cs.splice(at, 1 + (e.at % 3));
    else if (e.op === "insert") cs.splice(at, 0, e.text);
    else if (e.op === "cut") cs.length = at;
    else cs.splice(at, 0, ...cs.slice(at, at + 1 + (e.at % 8)));
  }
  return cs.join("");
}

const byteEdits = fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), {
  minLength: 1,
  maxLength: 3,
});

function mutateBytes(buf: Buffer, es: ReadonlyArray<{ at: number; byte: number }>): Buffer {
  const out = Buffer.from(buf);
  if (out.length === 0) return out;
  for (const e of es) out[e.at % out.length] = e.byte;
  return out;
}

const garbage: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 1_200 }).map((a) => Buffer.from(a)),
  fc.string({ unit: "binary", maxLength: 200 }).map((s) => Buffer.from(s)),
  fc.json({ maxDepth: 2 }).map((s) => Buffer.from(s)),
  fc.constantFrom("", " ", "{}", "[]", "null", "0", "-1", '"x"', "{", "\u0000", "\ufeff{}").map((s) => Buffer.from(s)),
);

/** A well-formed message (with its expected outcome), mutated text, mutated bytes, or garbage. */
type Sample<T> =
  | { kind: "well-formed"; c: T }
  | { kind: "mutated"; c: T; payload: Buffer }
  | { kind: "garbage"; c: T; payload: Buffer };

function mixed<T>(wellFormed: fc.Arbitrary<T>, text: (c: T) => string): fc.Arbitrary<Sample<T>> {
  return fc.oneof(
    { weight: 6, arbitrary: wellFormed.map((c) => ({ kind: "well-formed" as const, c })) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(wellFormed, edits)
        .map(([c, es]) => ({ kind: "mutated" as const, c, payload: Buffer.from(mutate(text(c), es)) })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(wellFormed, byteEdits)
        .map(([c, es]) => ({ kind: "mutated" as const, c, payload: mutateBytes(Buffer.from(text(c)), es) })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(wellFormed, garbage).map(([c, payload]) => ({ kind: "garbage" as const, c, payload })),
    },
  );
}

const cutAt = (buf: Buffer, n: number): Buffer => (buf.length > n ? buf.subarray(0, n) : buf);

// ---------------------------------------------------------------------------
// Mosquitto $SYS/broker/log lines

const port = fc.integer({ min: 1, max: 65535 });
const address = fc.oneof(
  fc.tuple(fc.ipV4(), port).map(([ip, p]) => `${ip}:${p}`),
  fc.tuple(fc.constantFrom("::1", "2001:db8::7", "fe80::1"), port).map(([ip, p]) => `${ip}:${p}`),
  fc.ipV4(), // 1.x: no port
);

interface LogPrefix {
  text: string;
  /** The event time the prefix gives, or null: the receive time. */
  at: number | null;
}

const logPrefix: fc.Arbitrary<LogPrefix> = fc.oneof(
  fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }).map((s) => ({ text: `${s}: `, at: s * 1000 })),
  fc.constant({ text: "", at: null }), // log_timestamp false
  fc
    .integer({ min: 1_700_000_000, max: 1_900_000_000 })
    .map((s) => ({ text: `${new Date(s * 1000).toISOString().slice(0, 19)}Z: `, at: s * 1000 })),
  // Other log_timestamp_format values: the receive time.
  fc.constantFrom("Jan 02 03:04:05: ", "02/01/2026 03:04:05: ", "[03:04:05]: ").map((text) => ({ text, at: null })),
);

interface MosquittoLineCase {
  id: string;
  prefix: LogPrefix;
  form: number;
  addr: string;
  p: 1 | 2 | 3 | 5 | null;
  c: 0 | 1;
  k: number;
  user: string | null;
  errno: string;
  due: string;
  strerror: string;
}

type Outcome =
  | { kind: "connect" }
  | { kind: "takeover" }
  | { kind: "disconnect"; reason: (typeof DISCONNECT_REASONS)[number]; detail: string };

interface LogForm {
  topic: string;
  /** A line about one client that names it with its id (not the connect line). */
  clientLine: boolean;
  text(id: string, c: MosquittoLineCase): string;
  outcome(c: MosquittoLineCase): Outcome;
}

const disc = (reason: (typeof DISCONNECT_REASONS)[number], detail: string): Outcome => ({
  kind: "disconnect",
  reason,
  detail,
});
const CONNECTION_ERRNOS = new Set([
  "Connection reset by peer",
  "Broken pipe",
  "Connection timed out",
  "No route to host",
]);

/** The lines Mosquitto 2.0.11 prints about clients (`strings /usr/sbin/mosquitto`), plus 1.x's socket error. */
const LOG_FORMS: readonly LogForm[] = [
  {
    topic: "$SYS/broker/log/N",
    clientLine: false,
    text: (id, c) =>
      `New client connected from ${c.addr} as ${id} (${c.p === null ? "" : `p${c.p}, `}c${c.c}, k${c.k}${
        c.user === null ? "" : `, u'${c.user}'`
      }).`,
    outcome: () => ({ kind: "connect" }),
  },
  {
    topic: "$SYS/broker/log/E",
    clientLine: true,
    text: (id) => `Client ${id} already connected, closing old connection.`,
    outcome: () => ({ kind: "takeover" }),
  },
  {
    topic: "$SYS/broker/log/N",
    clientLine: true,
    text: (id) => `Client ${id} has exceeded timeout, disconnecting.`,
    outcome: () => disc("keepalive_timeout", "exceeded timeout"),
  },
  {
    topic: "$SYS/broker/log/N",
    clientLine: true,
    text: (id) => `Client ${id} disconnected.`,
    outcome: () => disc("clean", "disconnected"),
  },
  {
    topic: "$SYS/broker/log/N",
    clientLine: true,
    text: (id) => `Client ${id} closed its connection.`,
    outcome: () => disc("connection_lost", "closed its connection"),
  },
  {
    topic: "$SYS/broker/log/N",
    clientLine: true,
    text: (id, c) => `Client ${id} disconnected due to ${c.due}.`,
    outcome: (c) => disc("protocol_error", c.due),
  },
  {
    topic: "$SYS/broker/log/N",
    clientLine: true,
    text: (id) => `Client ${id} disconnected due to out of memory.`,
    outcome: () => disc("unknown", "broker out of memory"),
  },
  {
    topic: "$SYS/broker/log/N",
    clientLine: true,
    text: (id) => `Client ${id} disconnected, not authorised.`,
    outcome: () => disc("not_authorized", "not authorised"),
  },
  {
    topic: "$SYS/broker/log/N",
    clientLine: true,
    text: (id) => `Client ${id} been disconnected by administrative action.`,
    outcome: () => disc("admin", "disconnected by administrative action"),
  },
  {
    topic: "$SYS/broker/log/N",
    clientLine: true,
    text: (id) => `Socket error on client ${id}, disconnecting.`,
    outcome: () => disc("connection_lost", "socket error"),
  },
  {
    topic: "$SYS/broker/log/N",
    clientLine: true,
    text: (id) => `Expiring client ${id} due to timeout.`,
    outcome: () => disc("session_expired", "session expired"),
  },
  {
    topic: "$SYS/broker/log/N",
    clientLine: true,
    text: (id, c) => `Bad socket read/write on client ${id}: ${c.strerror}`,
    outcome: (c) => disc("connection_lost", c.strerror),
  },
  {
    topic: "$SYS/broker/log/N",
    clientLine: true,
    text: (id, c) => `Client ${id} disconnected: ${c.errno}.`,
    outcome: (c) => disc(CONNECTION_ERRNOS.has(c.errno) ? "connection_lost" : "unknown", c.errno),
  },
];

const mosquittoLine: fc.Arbitrary<MosquittoLineCase> = fc.record({
  id: fc.oneof({ weight: 5, arbitrary: deviceId }, { weight: 1, arbitrary: craftedId }),
  prefix: logPrefix,
  form: fc.nat({ max: LOG_FORMS.length - 1 }),
  addr: address,
  p: fc.constantFrom<MosquittoLineCase["p"]>(1, 2, 3, 5, null),
  c: fc.constantFrom<0 | 1>(0, 1),
  k: fc.integer({ min: 0, max: 65535 }),
  // A username with " (" could make the line ambiguous (the id is read greedily): kept out.
  user: fc.option(
    fc.string({ unit: "grapheme", maxLength: 12 }).filter((u) => !u.includes("(")),
    { nil: null },
  ),
  errno: fc.constantFrom(...CONNECTION_ERRNOS, "Invalid argument", "Success", "Resource temporarily unavailable"),
  due: fc.constantFrom(
    "malformed packet",
    "protocol error",
    "oversize packet",
    "oversize payload",
    "QoS too high or retain not supported",
  ),
  strerror: fc.constantFrom("The client is not currently connected.", "Unknown error.", "Lost connection to broker."),
});

/**
 * The bytes Mosquitto publishes for this line: cut at 999 bytes. A line of 999
 * bytes may have been cut (`cut`): a cut can fall anywhere, also inside an id
 * crafted to end like a whole line about another client, so it names nobody.
 */
function mosquittoPayload(c: MosquittoLineCase): { payload: Buffer; cut: boolean } {
  const full = Buffer.from(c.prefix.text + LOG_FORMS[c.form].text(c.id, c), "utf8");
  return { payload: cutAt(full, MOSQUITTO_LINE_BYTES), cut: full.length >= MOSQUITTO_LINE_BYTES };
}

const LOG_CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

function expectMosquitto(c: MosquittoLineCase): Expected {
  const form = LOG_FORMS[c.form];
  const { payload, cut } = mosquittoPayload(c);
  // The suffix every pattern is anchored on may be gone: the line cannot be attributed, and says so.
  if (cut) return rejected;
  const id = wire(c.id);
  if (id === "") {
    // Mosquitto never prints an empty id (it assigns auto-…); such a line is no line it writes.
    return LOG_CONTROL.test(payload.toString("utf8")) ? rejected : ignored;
  }
  // Mosquitto's name for a connection before CONNECT: nobody to blame.
  if (form.clientLine && id === "<unknown>") return ignored;
  const at = c.prefix.at ?? RECEIVED_AT;
  const outcome = form.outcome(c);
  const base = { deviceId: id, at, source: "mosquitto-log" as const };
  switch (outcome.kind) {
    case "connect":
      return events({
        kind: "connect",
        ...base,
        keepaliveSeconds: c.k,
        address: c.addr,
        protocol: c.p === null ? null : ({ 1: "3.1", 2: "3.1.1", 3: "3.1", 5: "5" } as const)[c.p],
        cleanStart: c.c === 1,
        username: c.user === null ? null : wire(c.user),
      });
    case "takeover":
      return events({ kind: "takeover", ...base });
    case "disconnect":
      return events({ kind: "disconnect", ...base, reason: outcome.reason, detail: outcome.detail });
  }
}

// ---------------------------------------------------------------------------
// Mosquitto debug log lines (MOSQUITTO_LOG_FILE)

interface DebugLineCase {
  id: string;
  seconds: number | null;
  form: number;
  topic: string;
  mid: number;
  bytes: number;
  flags: [0 | 1, 0 | 1 | 2, 0 | 1];
}

interface DebugForm {
  text(id: string, c: DebugLineCase): string;
  /** The event for a line that names `id`, or null for lines that tell no activity. */
  event(id: string, c: DebugLineCase): ExpectedEvent | null;
  /** The id runs to the end of the line: a cut line still looks well-formed. */
  idLast: boolean;
}

/** Lines as Mosquitto 2.0.11 writes them with `log_type all` (`strings /usr/sbin/mosquitto`). */
const DEBUG_FORMS: readonly DebugForm[] = [
  {
    text: (id) => `Received PINGREQ from ${id}`,
    event: (id) => ({ kind: "ping", deviceId: id }),
    idLast: true,
  },
  {
    text: (id, c) =>
      `Received PUBLISH from ${id} (d${c.flags[0]}, q${c.flags[1]}, r${c.flags[2]}, m${c.mid}, '${c.topic}', ... (${c.bytes} bytes))`,
    event: (id, c) => ({ kind: "publish", deviceId: id, topic: c.topic }),
    idLast: false,
  },
  {
    text: (id, c) => `Received PUBACK from ${id} (Mid: ${c.mid}, RC:0)`,
    event: (id) => ({ kind: "packet", deviceId: id, packet: "puback" }),
    idLast: false,
  },
  {
    text: (id, c) => `Received PUBREL from ${id} (Mid: ${c.mid})`,
    event: (id) => ({ kind: "packet", deviceId: id, packet: "pubrel" }),
    idLast: false,
  },
  {
    text: (id) => `Received SUBSCRIBE from ${id}`,
    event: (id) => ({ kind: "packet", deviceId: id, packet: "subscribe" }),
    idLast: true,
  },
  {
    text: (id) => `Received UNSUBSCRIBE from ${id}`,
    event: (id) => ({ kind: "packet", deviceId: id, packet: "unsubscribe" }),
    idLast: true,
  },
  // What the broker sends, and DISCONNECT (the $SYS log reports the disconnect with its reason).
  { text: (id) => `Sending PINGRESP to ${id}`, event: () => null, idLast: true },
  { text: (id) => `Received DISCONNECT from ${id}`, event: () => null, idLast: true },
  // The connect line: taken from the file only while $SYS is not heard (runtime.connectsNotOnSys).
  {
    text: (id, c) => `New client connected from 127.0.0.1:${1000 + c.mid} as ${id} (p2, c1, k${c.mid}).`,
    event: (id, c) => ({ kind: "connect", deviceId: id, keepaliveSeconds: c.mid }),
    idLast: false,
  },
];

const debugLine: fc.Arbitrary<DebugLineCase> = fc.record({
  // A line holds no line break; the broker refuses control characters in ids anyway.
  id: fc
    .oneof({ weight: 5, arbitrary: deviceId }, { weight: 1, arbitrary: craftedId })
    .map((id) => id.replace(/[\r\n]/g, "_")),
  seconds: fc.option(fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }), { nil: null }),
  form: fc.nat({ max: DEBUG_FORMS.length - 1 }),
  topic: fc.oneof(
    fc.constantFrom("devices/a/t", "a/b", ""),
    fc.string({ maxLength: 30 }).map((t) => t.replace(/[\r\n]/g, "")),
  ),
  mid: fc.integer({ min: 1, max: 65535 }),
  bytes: fc.nat({ max: 1_000_000 }),
  flags: fc.tuple(fc.constantFrom<0 | 1>(0, 1), fc.constantFrom<0 | 1 | 2>(0, 1, 2), fc.constantFrom<0 | 1>(0, 1)),
});

/** A debug line as the log tail hands it on: cut at 999 bytes by Mosquitto, decoded leniently. */
function debugText(c: DebugLineCase): { line: string; cut: boolean } {
  const full = Buffer.from(`${c.seconds === null ? "" : `${c.seconds}: `}${DEBUG_FORMS[c.form].text(c.id, c)}`);
  return { line: cutAt(full, MOSQUITTO_LINE_BYTES).toString("utf8"), cut: full.length >= MOSQUITTO_LINE_BYTES };
}

/** What runtime.ts does with one line of the debug log (less the link-state filter). */
function debugLineEvents(line: string): ActivityEvent[] {
  const lifecycle = parseLifecycleLine(line, { receivedAt: RECEIVED_AT });
  if (lifecycle) {
    check(Number.isFinite(lifecycle.at), "lifecycle time", lifecycle);
    return [];
  }
  isDebugLine(line);
  const found = parseDebugLine(line, { receivedAt: RECEIVED_AT });
  if (found.length > 0) return found;
  const sys = mosquittoLogAdapter.parse("$SYS/broker/log/N", line, { receivedAt: RECEIVED_AT, retained: false });
  checkResult(sys, "debug line through the $SYS log adapter");
  return sys.events;
}

function expectDebug(c: DebugLineCase): ExpectedEvent[] | "nothing" {
  const form = DEBUG_FORMS[c.form];
  const id = wire(c.id);
  const { cut } = debugText(c);
  // A cut line has lost its fixed suffix, or (id last) the end of the id: nobody can be named.
  if (cut || id === "") return "nothing";
  const ev = form.event(id, c);
  return ev === null ? "nothing" : [ev];
}

// ---------------------------------------------------------------------------
// EMQX $SYS/brokers/<node>/clients/<id>/(dis)connected

const EMQX_REASONS: Readonly<Record<string, string>> = {
  normal: "clean",
  keepalive_timeout: "keepalive_timeout",
  takenover: "taken_over",
  discarded: "taken_over",
  kicked: "admin",
  tcp_closed: "connection_lost",
  "{shutdown,tcp_closed}": "connection_lost",
  "{tcp_error,etimedout}": "connection_lost",
  not_authorized: "not_authorized",
  frame_too_large: "protocol_error",
  some_new_atom: "unknown",
};

const brokerTime = fc.oneof(
  fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }), // ms
  fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }), // s (older releases)
  fc.constantFrom(0, -5, 12_345, 1e20, "1795306801000", null),
);

interface EmqxCase {
  id: string;
  /** The id in the topic when it differs from the JSON's (null: the same). */
  topicId: string | null;
  idField: "string" | "missing" | "null" | "number";
  node: string;
  gateway: string | null;
  event: "connected" | "disconnected";
  keepalive: unknown;
  connectedAt: unknown;
  ts: unknown;
  reason: unknown;
  cleanStart: unknown;
  extra: Record<string, unknown>;
}

const emqxCase: fc.Arbitrary<EmqxCase> = fc.record({
  id: deviceId,
  topicId: fc.option(deviceId, { nil: null, freq: 4 }),
  idField: fc.constantFrom<EmqxCase["idField"]>("string", "string", "string", "missing", "null", "number"),
  node: fc.constantFrom("emqx@127.0.0.1", "emqx@10.0.0.7", "emqx@node-b.example"),
  gateway: fc.option(fc.constantFrom("mqttsn", "coap", "lwm2m"), { nil: null, freq: 4 }),
  event: fc.constantFrom<EmqxCase["event"]>("connected", "disconnected"),
  keepalive: fc.oneof(
    fc.integer({ min: 0, max: 65535 }),
    fc.constantFrom(-1, 65536, 1.5, "60", " 30 ", null, "x", true),
  ),
  connectedAt: brokerTime,
  ts: brokerTime,
  reason: fc.oneof(fc.constantFrom(...Object.keys(EMQX_REASONS)), fc.constantFrom(null, 42, "", { a: 1 })),
  cleanStart: fc.constantFrom(true, false, 1, 0, "true", null),
  // Fields other releases add (and a few no release has): they must not disturb the reading.
  extra: fc.dictionary(
    fc.constantFrom("sockport", "expiry_interval", "protocol", "connack", "x y", "é", "clientId"),
    fc.oneof(fc.integer(), fc.string({ maxLength: 6 }), fc.constant(null), fc.constant({ a: [1] })),
    { maxKeys: 3 },
  ),
});

function emqxTopic(c: EmqxCase): string {
  const clients = c.gateway === null ? "clients" : `gateway/${c.gateway}/clients`;
  return wire(`$SYS/brokers/${c.node}/${clients}/${c.topicId ?? c.id}/${c.event}`);
}

function emqxPayload(c: EmqxCase): string {
  const idValue = { string: c.id, missing: undefined, null: null, number: 42 }[c.idField];
  const common = {
    ...c.extra,
    clientid: idValue,
    username: "plant-a",
    ipaddress: "10.1.2.3",
    proto_name: c.gateway === null ? "MQTT" : c.gateway.toUpperCase(),
    proto_ver: c.gateway === null ? 5 : "1.2",
    connected_at: c.connectedAt,
    ts: c.ts,
  };
  const specific =
    c.event === "connected"
      ? { keepalive: c.keepalive, clean_start: c.cleanStart, expiry_interval: 0 }
      : { reason: c.reason, disconnected_at: c.ts };
  // JSON escapes what a client id may hold (EMQX encodes it properly).
  return JSON.stringify({ ...common, ...specific });
}

function expectEmqx(c: EmqxCase): Expected {
  const fromJson = c.idField === "string" && c.id !== "" ? c.id : null;
  const fromTopic = wire(c.topicId ?? c.id);
  const id = fromJson ?? (fromTopic !== "" ? fromTopic : null);
  if (id === null) return rejected; // an event without a client id
  if (c.event === "connected") return events({ kind: "connect", deviceId: id, source: "emqx" });
  const reason = typeof c.reason === "string" && c.reason !== "" ? EMQX_REASONS[c.reason] : "unknown";
  return events({ kind: "disconnect", deviceId: id, source: "emqx", reason });
}

// ---------------------------------------------------------------------------
// NanoMQ $SYS/brokers/connected, /disconnected, /client_status[/<id>]

interface NanoCase {
  id: string;
  user: string;
  layout: "0.23" | "0.24";
  idInTopic: boolean;
  event: "connected" | "disconnected";
  ipv4: string | null;
  ts: number;
  keepalive: number;
  returnCode: number;
  reasonCode: number;
  protoVer: 3 | 4 | 5;
  clean: 0 | 1;
}

/**
 * Ids that close the printf string and repeat the fields after it, naming
 * "victim". (Not covered: an id ending in `","IPv4":"…` on a release whose
 * payloads have no IPv4 field: it reads exactly like a release with one.)
 */
const nanoCraftedId = fc
  .tuple(
    fc.stringMatching(/^[a-z]{0,4}$/),
    fc.constantFrom(
      '","ts":1,"reason_code":"0","client_id":"',
      '", "ts":1,"proto_name":"MQTT","keepalive":60,"return_code":"0","proto_ver":4,"client_id":"',
      '", "clean_start":1}',
    ),
    fc.constantFrom("victim", ""),
  )
  .map(([head, fields, victim]) => head + fields + victim);

const nanoCase: fc.Arbitrary<NanoCase> = fc.record({
  id: fc.oneof({ weight: 5, arbitrary: deviceId }, { weight: 1, arbitrary: nanoCraftedId }),
  user: fc.oneof(fc.constant("(null)"), fc.stringMatching(/^[a-z]{1,8}$/)),
  layout: fc.constantFrom<NanoCase["layout"]>("0.23", "0.24"),
  idInTopic: fc.boolean(),
  event: fc.constantFrom<NanoCase["event"]>("connected", "disconnected"),
  ipv4: fc.option(fc.ipV4(), { nil: null }),
  ts: fc.oneof(fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }), fc.integer({ min: 0, max: 99_999_999 })),
  keepalive: fc.integer({ min: 0, max: 65535 }),
  returnCode: fc.oneof(
    { weight: 4, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 0x9f }) },
  ),
  reasonCode: fc.constantFrom(0, 4, 0x80, 0x81, 0x87, 0x8d, 0x8e, 0x98, 0x99, 0xff),
  protoVer: fc.constantFrom<3 | 4 | 5>(3, 4, 5),
  clean: fc.constantFrom<0 | 1>(0, 1),
});

function nanoTopic(c: NanoCase): string {
  if (c.layout === "0.23") return `$SYS/brokers/${c.event}`;
  return c.idInTopic ? wire(`$SYS/brokers/client_status/${c.id}`) : "$SYS/brokers/client_status";
}

/** NanoMQ's printf templates (see fixtures/nanomq.json): strings are not escaped. */
function nanoText(c: NanoCase): string {
  const status = c.layout === "0.24" ? `"status":"${c.event === "connected" ? "online" : "offline"}", ` : "";
  if (c.event === "connected") {
    const ip = c.ipv4 === null ? "" : `, "IPv4":"${c.ipv4}"`;
    return `{${status}"username":"${c.user}", "ts":${c.ts},"proto_name":"MQTT","keepalive":${c.keepalive},"return_code":"${c.returnCode.toString(16)}","proto_ver":${c.protoVer},"client_id":"${c.id}", "clean_start":${c.clean}${ip}}`;
  }
  const ip = c.ipv4 === null ? "" : `,"IPv4":"${c.ipv4}"`;
  return `{${status}"username":"${c.user}","ts":${c.ts},"reason_code":"${c.reasonCode.toString(16)}","client_id":"${c.id}"${ip}}`;
}

function nanoPayload(c: NanoCase): { payload: Buffer; cut: boolean } {
  const full = Buffer.from(nanoText(c), "utf8");
  return { payload: cutAt(full, NANOMQ_PAYLOAD_BYTES), cut: full.length > NANOMQ_PAYLOAD_BYTES };
}

function expectNano(c: NanoCase): Expected {
  const { cut } = nanoPayload(c);
  const topicId = c.layout === "0.24" && c.idInTopic && wire(c.id) !== "" ? wire(c.id) : null;
  const refused = c.event === "connected" && c.returnCode !== 0;
  if (cut) {
    // Only client_status/<id> still names the device; the return code comes before the id, so a
    // refused connect stays recognizable.
    if (topicId === null) return rejected;
    if (refused) return ignored;
    return c.event === "connected"
      ? events({ kind: "connect", deviceId: topicId, source: "nanomq" })
      : events({ kind: "disconnect", deviceId: topicId, source: "nanomq", reason: "unknown" });
  }
  const id = topicId ?? (wire(c.id) !== "" ? wire(c.id) : null);
  if (id === null) return rejected;
  if (refused) return ignored; // refused: never connected
  if (c.event === "connected")
    return events({ kind: "connect", deviceId: id, source: "nanomq", keepaliveSeconds: c.keepalive });
  return events({
    kind: "disconnect",
    deviceId: id,
    source: "nanomq",
    reason: fromMqtt5ReasonCode(c.reasonCode).reason,
  });
}

// ---------------------------------------------------------------------------
// Device topics

interface Convention {
  spec: string;
  topic(id: string, extra: string): string;
  /** Status words this convention reads, with what they mean; null: no status topic. */
  words: Record<string, boolean> | null;
}

const ONLINE_OFFLINE = {
  online: true,
  offline: false,
  ONLINE: true,
  " Offline ": false,
  '{"status":"online"}': true,
  '{"state":"offline"}': false,
};
const CONVENTIONS: readonly Convention[] = [
  { spec: "devices/{id}/#", topic: (id) => `devices/${id}/status`, words: ONLINE_OFFLINE },
  { spec: "devices/{id}/#", topic: (id, x) => `devices/${id}/${x}`, words: null },
  { spec: "devices/{id}/#", topic: (id) => `devices/${id}`, words: null },
  { spec: "tele/{id}/#", topic: (id) => `tele/${id}/LWT`, words: { Online: true, Offline: false } },
  { spec: "tele/{id}/LWT", topic: (id) => `tele/${id}/LWT`, words: { Online: true, Offline: false } },
  {
    spec: "homie/{id}/#",
    topic: (id) => `homie/${id}/$state`,
    words: { ready: true, init: true, alert: true, disconnected: false, lost: false, sleeping: false },
  },
  { spec: "homie/5/{id}/#", topic: (id) => `homie/5/${id}/$state`, words: { ready: true, lost: false } },
  { spec: "{id}/status", topic: (id) => `${id}/status`, words: { online: true, offline: false } },
  {
    spec: "zigbee2mqtt/{id}/availability",
    topic: (id) => `zigbee2mqtt/${id}/availability`,
    words: ONLINE_OFFLINE,
  },
  { spec: "shellies/{id}/online", topic: (id) => `shellies/${id}/online`, words: { true: true, false: false } },
  {
    spec: "spBv1.0/+/NDEATH/{id}",
    topic: (id, x) => `spBv1.0/${x.replace(/\//g, "_") || "g"}/NDEATH/${id}`,
    words: null,
  },
];
const COMPILED = CONVENTIONS.map((c) => compileDeviceTopics(c.spec));

interface DeviceCase {
  convention: number;
  id: string;
  extra: string;
  /** A status word of the convention (index into its words), or data. */
  word: number | null;
  /** Status word padded past the 256 bytes a status payload may have: data, then. */
  padded: boolean;
  data: Buffer;
  retained: boolean;
}

const deviceCase: fc.Arbitrary<DeviceCase> = fc.record({
  convention: fc.nat({ max: CONVENTIONS.length - 1 }),
  // A topic level: no "/", no wildcards, no NUL (MQTT forbids them in topic names).
  id: deviceId.map((id) => id.replace(/[/+#\u0000]/g, "_")),
  extra: fc.constantFrom("temp", "a/b/c", "sensor/1", ""),
  word: fc.option(fc.nat({ max: 10 }), { nil: null }),
  padded: fc.boolean(),
  // Data that is no status word: starts with a byte no word starts with.
  data: fc.oneof(
    fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.concat([Buffer.from([0xff]), Buffer.from(a)])),
    fc.double({ noNaN: true }).map((n) => Buffer.from(String(n))),
    fc.constant(Buffer.from('{"t":21.5}')),
    fc.constant(Buffer.alloc(0)),
  ),
  retained: fc.boolean(),
});

function devicePayload(c: DeviceCase): { payload: Buffer; online: boolean | null } {
  const words = CONVENTIONS[c.convention].words;
  if (words === null || c.word === null) return { payload: c.data, online: null };
  const keys = Object.keys(words);
  const word = keys[c.word % keys.length];
  if (c.padded) return { payload: Buffer.from(word + " ".repeat(300)), online: null };
  return { payload: Buffer.from(word), online: words[word] };
}

function expectDevice(c: DeviceCase): Expected {
  const id = wire(c.id);
  const topic = wire(CONVENTIONS[c.convention].topic(c.id, c.extra));
  // No device behind an empty level; a `$` topic is the broker's.
  if (id === "" || topic.startsWith("$")) return ignored;
  const { online } = devicePayload(c);
  const out: ExpectedEvent[] = [];
  if (!c.retained && online !== false) out.push({ kind: "publish", deviceId: id, topic });
  if (online !== null) out.push({ kind: "status", deviceId: id, online, retained: c.retained });
  return events(...out);
}

// ---------------------------------------------------------------------------
// Aedes observations (the embedded broker)

const aedesObservation: fc.Arbitrary<AedesObservation> = fc.oneof(
  fc.record({
    type: fc.constant("connect" as const),
    at: fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
    connect: fc.record({
      clientId: deviceId,
      keepaliveSeconds: fc.integer({ min: 0, max: 65535 }),
      protocolVersion: fc.constantFrom(3, 4, 5, 7, null),
      cleanSession: fc.constantFrom(true, false, null),
      username: fc.option(fc.string({ maxLength: 8 }), { nil: null }),
      address: fc.option(address, { nil: null }),
    }),
  }),
  fc.record({
    type: fc.constant("ping" as const),
    at: fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
    clientId: deviceId,
  }),
  fc.record({
    type: fc.constant("packet" as const),
    at: fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
    clientId: deviceId,
    packet: fc.constantFrom("puback" as const, "subscribe" as const, "unsubscribe" as const),
  }),
  fc.record({
    type: fc.constant("end" as const),
    at: fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
    clientId: deviceId,
    facts: fc.record({
      takenOver: fc.boolean(),
      keepaliveTimeout: fc.boolean(),
      disconnectPacket: fc.boolean(),
      brokerClosing: fc.boolean(),
      error: fc.option(
        fc.record({
          message: fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom("keep alive timeout", "Not authorized")),
          code: fc.option(fc.constantFrom("ECONNRESET", "EPIPE", "ERR_X"), { nil: null }),
        }),
        { nil: null },
      ),
    }),
  }),
  fc.record({
    type: fc.constant("refused" as const),
    at: fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
    clientId: deviceId,
    returnCode: fc.integer({ min: 0, max: 255 }),
    message: fc.string({ maxLength: 300 }),
  }),
  fc.record({
    type: fc.constant("publish" as const),
    at: fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
    clientId: fc.option(deviceId, { nil: null }),
    topic: fc.oneof(
      deviceId.map((id) => `devices/${id.replace(/[/+#]/g, "_")}/status`),
      fc.constantFrom("$SYS/x/heartbeat", "other/topic", "devices//temp"),
    ),
    payload: fc.oneof(garbage, fc.constantFrom(Buffer.from("online"), Buffer.from("offline"), "offline", "online")),
    will: fc.boolean(),
    anonymous: fc.boolean(),
  }),
);

// ---------------------------------------------------------------------------

const kindArb = (...kinds: Kind[]) => fc.constantFrom(...kinds);

function wellFormedOrContract<T>(
  sample: Sample<T>,
  wellFormed: (c: T) => { topic: string; payload: Buffer; expected: Expected; retained?: boolean },
  pipeline: Pipeline,
  mutatedTopic: (c: T) => string = (c) => wellFormed(c).topic,
): void {
  if (sample.kind === "well-formed") {
    const { topic, payload, expected, retained } = wellFormed(sample.c);
    checkExpected(pipeline.message(topic, payload, retained ?? false), expected, `well-formed ${topic.slice(0, 60)}`);
  } else {
    pipeline.message(mutatedTopic(sample.c), sample.payload, false);
  }
}

describe("ingest adapters: properties (fast-check, 10,000 cases each)", () => {
  it(
    "Mosquitto $SYS log lines: the client named exactly, cut lines reported, every refusal counted",
    PROPERTY_TEST,
    () => {
      fc.assert(
        fc.property(
          mixed(mosquittoLine, (c) => c.prefix.text + LOG_FORMS[c.form].text(c.id, c)),
          kindArb("mosquitto", "auto", "unknown"),
          maxIdBytes,
          (sample, kind, max) => {
            const pipeline = new Pipeline(kind, DEFAULT_TOPICS, max);
            wellFormedOrContract(
              sample,
              (c) => ({ topic: LOG_FORMS[c.form].topic, ...mosquittoPayload(c), expected: expectMosquitto(c) }),
              pipeline,
            );
          },
        ),
        RUNS,
      );
    },
  );

  it(
    "Mosquitto debug log lines: activity for the client named, nothing for lines it cannot name",
    PROPERTY_TEST,
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            { weight: 6, arbitrary: debugLine.map((c) => ({ c, line: null as string | null })) },
            {
              weight: 3,
              arbitrary: fc
                .tuple(debugLine, edits)
                .map(([c, es]) => ({ c, line: mutate(debugText(c).line, es).split("\n")[0] })),
            },
            {
              weight: 1,
              arbitrary: fc.tuple(debugLine, garbage).map(([c, g]) => ({ c, line: g.toString("utf8").split("\n")[0] })),
            },
          ),
          maxIdBytes,
          ({ c, line }, max) => {
            const pipeline = new Pipeline("mosquitto", DEFAULT_TOPICS, max);
            const text = line ?? debugText(c).line;
            const found = debugLineEvents(text);
            pipeline.events(found);
            if (line !== null) return;
            const expected = expectDebug(c);
            if (expected === "nothing") {
              check(found.length === 0, "a line that names nobody gives nothing", { text: text.slice(0, 120), found });
              return;
            }
            checkExpected({ events: found }, events(...expected), `debug line ${text.slice(0, 60)}`);
          },
        ),
        RUNS,
      );
    },
  );

  it(
    "EMQX client events: the JSON client id (or the topic's), an error without one, every refusal counted",
    PROPERTY_TEST,
    () => {
      fc.assert(
        fc.property(
          mixed(emqxCase, emqxPayload),
          kindArb("emqx", "auto", "unknown"),
          maxIdBytes,
          (sample, kind, max) => {
            const pipeline = new Pipeline(kind, DEFAULT_TOPICS, max);
            wellFormedOrContract(
              sample,
              (c) => ({ topic: emqxTopic(c), payload: Buffer.from(emqxPayload(c)), expected: expectEmqx(c) }),
              pipeline,
              emqxTopic,
            );
          },
        ),
        RUNS,
      );
    },
  );

  it(
    "NanoMQ client events: printf payloads read raw, cut payloads salvaged or reported, every refusal counted",
    PROPERTY_TEST,
    () => {
      fc.assert(
        fc.property(
          mixed(nanoCase, nanoText),
          kindArb("nanomq", "auto", "unknown"),
          maxIdBytes,
          (sample, kind, max) => {
            const pipeline = new Pipeline(kind, DEFAULT_TOPICS, max);
            wellFormedOrContract(
              sample,
              (c) => ({ topic: nanoTopic(c), ...nanoPayload(c), expected: expectNano(c) }),
              pipeline,
              nanoTopic,
            );
          },
        ),
        RUNS,
      );
    },
  );

  it("device topics: the id from the topic, status conventions read, every refusal counted", PROPERTY_TEST, () => {
    fc.assert(
      fc.property(
        deviceCase,
        fc.oneof(fc.constant(null), edits),
        kindArb("mosquitto", "emqx", "nanomq", "aedes", "auto"),
        maxIdBytes,
        (c, es, kind, max) => {
          const pipeline = new Pipeline(kind, COMPILED[c.convention], max);
          const topic = wire(CONVENTIONS[c.convention].topic(c.id, c.extra));
          const { payload } = devicePayload(c);
          if (es !== null) {
            pipeline.message(mutate(topic, es), payload, c.retained);
            return;
          }
          checkExpected(
            pipeline.message(topic, payload, c.retained),
            expectDevice(c),
            `device topic ${topic.slice(0, 60)}`,
          );
        },
      ),
      RUNS,
    );
  });

  it(
    "Aedes observations: events only for the client (or the device its topic names), every refusal counted",
    PROPERTY_TEST,
    () => {
      const devices = compileDeviceTopics("devices/{id}/#");
      fc.assert(
        fc.property(aedesObservation, fc.boolean(), maxIdBytes, (obs, watchTopics, max) => {
          const pipeline = new Pipeline("aedes", devices, max);
          const evs = aedesEvents(obs, { deviceTopics: watchTopics ? devices : null });
          pipeline.events(evs);
          if (obs.type === "publish") {
            const named = new Set([obs.clientId, devices.match(obs.topic)?.deviceId]);
            check(
              evs.every((e) => named.has(e.deviceId)),
              "publish events name the publisher or the topic's device",
              evs,
            );
            if (obs.clientId === null || obs.topic.startsWith("$"))
              check(evs.length === 0, "broker's own messages", evs);
            if (obs.will || obs.anonymous)
              check(
                !evs.some((e) => e.kind === "publish" && e.deviceId === obs.clientId),
                "no activity from a will",
                evs,
              );
            return;
          }
          if (obs.type === "refused" && obs.clientId === "") {
            check(evs.length === 0, "nobody to blame for a refused empty id", evs);
            return;
          }
          const id = obs.type === "connect" ? obs.connect.clientId : obs.clientId;
          check(evs.length === 1 && evs[0].deviceId === id, "one event for the client", { obs, evs });
          const kind = { connect: "connect", ping: "ping", packet: "packet", refused: "disconnect" }[
            obs.type as string
          ];
          if (kind) check(evs[0].kind === kind, "event kind", { obs, evs });
          if (obs.type === "end") check(evs[0].kind === (obs.facts.takenOver ? "takeover" : "disconnect"), "end", evs);
        }),
        RUNS,
      );
    },
  );

  it(
    "any topic, any payload, any broker kind: no exception, documented shapes, every refusal counted",
    PROPERTY_TEST,
    () => {
      const topics = [
        ...new Set([
          ...LOG_FORMS.map((f) => f.topic),
          "$SYS/broker/log/M/subscribe",
          "$SYS/broker/version",
          "$SYS/broker/uptime",
          "$SYS/broker/clients/connected",
          "$SYS/broker/load/messages/received/1min",
          "$SYS/brokers/emqx@127.0.0.1/clients/dev-1/connected",
          "$SYS/brokers/emqx@127.0.0.1/clients/dev-1/disconnected",
          "$SYS/brokers/emqx@127.0.0.1/version",
          "$SYS/brokers/emqx@127.0.0.1/uptime",
          "$SYS/brokers/connected",
          "$SYS/brokers/disconnected",
          "$SYS/brokers/client_status",
          "$SYS/brokers/client_status/dev-1",
          "devices/dev-1/status",
          "devices/dev-1/temp",
        ]),
      ];
      const topic = fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...topics) },
        { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...topics), edits).map(([t, es]) => mutate(t, es)) },
        { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 60 }).map((s) => `$SYS/${s}`) },
        { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
      );
      const payload = fc.oneof(
        garbage,
        fc.tuple(mosquittoLine, edits).map(([c, es]) => Buffer.from(mutate(LOG_FORMS[c.form].text(c.id, c), es))),
        fc.tuple(emqxCase, edits).map(([c, es]) => Buffer.from(mutate(emqxPayload(c), es))),
        fc.tuple(nanoCase, byteEdits).map(([c, es]) => mutateBytes(nanoPayload(c).payload, es)),
        fc
          .constantFrom("121 seconds", "34.33", "4", "mosquitto version 2.0.11", "1 days, 2 hours", "3600042")
          .map((s) => Buffer.from(s)),
      );
      fc.assert(
        fc.property(
          topic,
          payload,
          fc.boolean(),
          kindArb("mosquitto", "emqx", "nanomq", "aedes", "unknown", "auto"),
          maxIdBytes,
          (t, p, retained, kind, max) => {
            const result = new Pipeline(kind, DEFAULT_TOPICS, max).message(t, p, retained);
            if (t.startsWith("$SYS/broker/") && !t.startsWith("$SYS/broker/log/"))
              check(result.events.length === 0, "broker-wide figures are no device's events", result);
          },
        ),
        RUNS,
      );
    },
  );

  it("the models above are not vacuous: every outcome occurs", PROPERTY_TEST, () => {
    // Outcomes the generators must reach (a generator change that loses one would weaken the properties).
    const seen = new Set<string>();
    fc.assert(
      fc.property(mosquittoLine, emqxCase, nanoCase, deviceCase, debugLine, (m, e, n, d, g) => {
        seen.add(`mosquitto:${expectMosquitto(m).outcome}`);
        seen.add(`emqx:${expectEmqx(e).outcome}`);
        seen.add(`nanomq:${expectNano(n).outcome}`);
        seen.add(`device:${expectDevice(d).outcome}`);
        const dbg = expectDebug(g);
        seen.add(`debug:${dbg === "nothing" ? "nothing" : "events"}`);
        if (m.id !== "" && expectedRefusal(wire(m.id), 256) !== null) seen.add("refused id");
      }),
      { numRuns: 2_000, seed: 1 },
    );
    expect([...seen].sort()).toEqual(
      [
        "debug:events",
        "debug:nothing",
        "device:events",
        "device:ignored",
        "emqx:error",
        "emqx:events",
        "mosquitto:error",
        "mosquitto:events",
        "mosquitto:ignored",
        "nanomq:error",
        "nanomq:events",
        "nanomq:ignored",
        "refused id",
      ].sort(),
    );
  });
});
