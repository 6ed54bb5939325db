/**
 * NanoMQ client presence events:
 *   up to 0.23   $SYS/brokers/connected and $SYS/brokers/disconnected
 *   0.24 and on  $SYS/brokers/client_status/<clientid> with "status":"online"|"offline"
 *                (also accepted without the /<clientid> level)
 *
 * NanoMQ writes these payloads with snprintf into a 256-byte buffer, not with a
 * JSON encoder (see fixtures/nanomq.json):
 *   connected     {"username":"%s", "ts":%llu,"proto_name":"%s","keepalive":%d,"return_code":"%x","proto_ver":%d,"client_id":"%s", "clean_start":%d}
 *                 later releases append , "IPv4":"%s"; client_status starts with "status":"online",
 *   disconnected  {"username":"%s","ts":%llu,"reason_code":"%x","client_id":"%s"}  (+ ,"IPv4":"%s")
 * Consequences handled here:
 * - Strings are not escaped: a client id with `"` or `\` is not valid JSON, and
 *   JSON.parse would even turn `a\b` into a backspace. So the payload is read with
 *   those templates first (raw strings, exactly as the client sent them), and as
 *   JSON only when no template fits (another layout). The username (before the id)
 *   is read lazily and the id greedily, so the id read always holds the client's
 *   whole id: an id that closes the string and repeats the fields after it
 *   (`x","ts":1,"reason_code":"0","client_id":"victim`) cannot speak for another
 *   client. One ambiguity remains: an id ending in `","IPv4":"<address>` on a
 *   release without the IPv4 field reads like a release with one.
 * - A missing username prints as "(null)": read as null.
 * - Long ids or usernames are cut at 255 bytes: the payload is then malformed. On a
 *   client_status/<id> topic the id and the leading "status" still say online/offline,
 *   and that much is used (with the return code when the cut left it: a refused
 *   connect stays refused).
 * - `ts` is epoch ms in current releases but was a monotonic clock (ms since NanoMQ
 *   started) in older ones: only a plausible epoch time is used, else the receive time.
 * - reason_code / return_code are hex without 0x ("8d"): MQTT 5 reason codes. Some
 *   releases leave reason_code at 0 when a socket just drops, so "clean" from NanoMQ
 *   is weaker evidence than from Mosquitto or EMQX.
 * - A connect event whose return_code is not 0 was refused: no session, no event.
 */
import type { ActivityEvent, AdapterResult } from "../events";
import * as reading from "./payload";
import type { JsonObject } from "./payload";
import { fromMqtt5ReasonCode } from "./reason-codes";
import type { Adapter, AdapterContext } from "./types";

export const name = "nanomq";
const SOURCE = "nanomq" as const;

const CONNECTED_TOPIC = "$SYS/brokers/connected";
const DISCONNECTED_TOPIC = "$SYS/brokers/disconnected";
const STATUS_TOPIC = "$SYS/brokers/client_status";

type NanoTopic = { event: "connected" | "disconnected" | "status"; clientId: string | null };

function parseNanoTopic(topic: string): NanoTopic | null {
  if (topic === CONNECTED_TOPIC) return { event: "connected", clientId: null };
  if (topic === DISCONNECTED_TOPIC) return { event: "disconnected", clientId: null };
  if (topic === STATUS_TOPIC) return { event: "status", clientId: null };
  if (topic.startsWith(`${STATUS_TOPIC}/`)) {
    const id = topic.slice(STATUS_TOPIC.length + 1);
    return { event: "status", clientId: id === "" ? null : id };
  }
  return null;
}

export function matches(topic: string): boolean {
  return parseNanoTopic(topic) !== null;
}

// ---------------------------------------------------------------------------
// Payload reading

interface NanoFields {
  status: string | null;
  username: string | null;
  ts: number | null;
  keepalive: number | null;
  returnCode: number | null;
  protoVer: number | null;
  clientId: string | null;
  cleanStart: boolean | null;
  reasonCode: number | null;
  address: string | null;
}

const EMPTY_FIELDS: NanoFields = {
  status: null,
  username: null,
  ts: null,
  keepalive: null,
  returnCode: null,
  protoVer: null,
  clientId: null,
  cleanStart: null,
  reasonCode: null,
  address: null,
};

/** The printf templates, tolerant of the spacing differences between releases. */
const CONNECT_TEMPLATE =
  /^\{\s*(?:"status"\s*:\s*"(online)"\s*,\s*)?"username"\s*:\s*"(.*?)"\s*,\s*"ts"\s*:\s*(\d+)\s*,\s*"proto_name"\s*:\s*"[^"]*"\s*,\s*"keepalive"\s*:\s*(\d+)\s*,\s*"return_code"\s*:\s*"([0-9a-fA-F]+)"\s*,\s*"proto_ver"\s*:\s*(\d+)\s*,\s*"client_id"\s*:\s*"(.*)"\s*,\s*"clean_start"\s*:\s*(\d+)\s*(?:,\s*"IPv4"\s*:\s*"([^"]*)"\s*)?\}$/s;
/** With IPv4 first: otherwise a greedy client id would swallow the IPv4 field. */
const DISCONNECT_TEMPLATES: readonly RegExp[] = [
  /^\{\s*(?:"status"\s*:\s*"(offline)"\s*,\s*)?"username"\s*:\s*"(.*?)"\s*,\s*"ts"\s*:\s*(\d+)\s*,\s*"reason_code"\s*:\s*"([0-9a-fA-F]+)"\s*,\s*"client_id"\s*:\s*"(.*)"\s*,\s*"IPv4"\s*:\s*"([^"]*)"\s*\}$/s,
  /^\{\s*(?:"status"\s*:\s*"(offline)"\s*,\s*)?"username"\s*:\s*"(.*?)"\s*,\s*"ts"\s*:\s*(\d+)\s*,\s*"reason_code"\s*:\s*"([0-9a-fA-F]+)"\s*,\s*"client_id"\s*:\s*"(.*)"\s*\}$/s,
];
/** NanoMQ payloads fit in 255 bytes; the templates backtrack, so bigger text goes to JSON only. */
const MAX_TEMPLATE_CHARS = 1024;

function username(raw: string | null): string | null {
  return raw === null || raw === "(null)" ? null : raw;
}

function readConnectTemplate(text: string): NanoFields | null {
  const m = CONNECT_TEMPLATE.exec(text);
  if (!m) return null;
  return {
    ...EMPTY_FIELDS,
    status: m[1] ?? null,
    username: username(m[2]),
    ts: Number(m[3]),
    keepalive: Number(m[4]),
    returnCode: parseInt(m[5], 16),
    protoVer: Number(m[6]),
    clientId: m[7],
    cleanStart: m[8] === "1" ? true : m[8] === "0" ? false : null,
    address: m[9] ?? null,
  };
}

function readDisconnectTemplate(text: string): NanoFields | null {
  for (const template of DISCONNECT_TEMPLATES) {
    const m = template.exec(text);
    if (!m) continue;
    return {
      ...EMPTY_FIELDS,
      status: m[1] ?? null,
      username: username(m[2]),
      ts: Number(m[3]),
      reasonCode: parseInt(m[4], 16),
      clientId: m[5],
      address: m[6] || null,
    };
  }
  return null;
}

/** "8d" (NanoMQ's %x) or a plain number. */
function hexCodeField(obj: JsonObject, key: string): number | null {
  const v = obj[key];
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === "string" && /^[0-9a-fA-F]{1,2}$/.test(v)) return parseInt(v, 16);
  return null;
}

function readJson(obj: JsonObject): NanoFields {
  return {
    status: reading.stringField(obj, "status"),
    username: username(reading.stringField(obj, "username")),
    ts: reading.numberField(obj, "ts"),
    keepalive: reading.numberField(obj, "keepalive"),
    returnCode: hexCodeField(obj, "return_code"),
    protoVer: reading.numberField(obj, "proto_ver"),
    clientId: reading.stringField(obj, "client_id"),
    cleanStart: reading.booleanField(obj, "clean_start"),
    reasonCode: hexCodeField(obj, "reason_code"),
    address: reading.stringField(obj, "IPv4"),
  };
}

type FieldsResult = { ok: true; fields: NanoFields } | { ok: false; error: string };

function readFields(text: string): FieldsResult {
  if (text.length <= MAX_TEMPLATE_CHARS) {
    const fields = readConnectTemplate(text) ?? readDisconnectTemplate(text);
    if (fields) return { ok: true, fields };
  }
  const json = reading.parseJsonObject(text);
  return json.ok ? { ok: true, fields: readJson(json.value) } : json;
}

// ---------------------------------------------------------------------------
// Events

function connectEvent(f: NanoFields, deviceId: string, ctx: AdapterContext): ActivityEvent[] {
  if (f.returnCode !== null && f.returnCode !== 0) return []; // refused: never connected
  return [
    {
      kind: "connect",
      deviceId,
      at: reading.epochMsStrict(f.ts) ?? ctx.receivedAt,
      source: SOURCE,
      keepaliveSeconds: reading.validKeepalive(f.keepalive),
      address: f.address,
      protocol: reading.protocolFromLevel(f.protoVer),
      cleanStart: f.cleanStart,
      username: f.username,
    },
  ];
}

function disconnectEvent(f: NanoFields, deviceId: string, ctx: AdapterContext): ActivityEvent[] {
  const { reason, detail } =
    f.reasonCode === null
      ? { reason: "unknown" as const, detail: "no reason code" }
      : fromMqtt5ReasonCode(f.reasonCode);
  return [
    { kind: "disconnect", deviceId, at: reading.epochMsStrict(f.ts) ?? ctx.receivedAt, source: SOURCE, reason, detail },
  ];
}

const CUT_STATUS = /^\{\s*"status"\s*:\s*"(online|offline)"/;
/** The template prints return_code before client_id: a cut usually leaves it whole. */
const CUT_RETURN_CODE = /"return_code"\s*:\s*"([0-9a-fA-F]+)"/;

/** A client_status/<id> payload cut at 255 bytes: the topic and the leading status still tell. */
function salvageCutStatus(text: string, topic: NanoTopic, ctx: AdapterContext): AdapterResult | null {
  const m = CUT_STATUS.exec(text);
  if (!m || topic.clientId === null) return null;
  const deviceId = topic.clientId;
  if (m[1] === "online") {
    const rc = CUT_RETURN_CODE.exec(text);
    const returnCode = rc === null ? null : parseInt(rc[1], 16);
    return { events: connectEvent({ ...EMPTY_FIELDS, returnCode }, deviceId, ctx) };
  }
  return {
    events: [
      {
        kind: "disconnect",
        deviceId,
        at: ctx.receivedAt,
        source: SOURCE,
        reason: "unknown",
        detail: "payload cut short",
      },
    ],
  };
}

export function parse(topic: string, payload: Buffer | string, ctx: AdapterContext): AdapterResult {
  const t = parseNanoTopic(topic);
  if (!t) return reading.noEvents();
  const strict = reading.decodeUtf8(payload);
  // a cut can split a UTF-8 sequence: decode leniently only to look for the leading status
  const text = strict ?? Buffer.from(payload).toString("utf8");

  const read = strict === null ? ({ ok: false, error: "payload is not valid UTF-8" } as const) : readFields(text);
  if (!read.ok) return salvageCutStatus(text, t, ctx) ?? reading.failure(`NanoMQ ${t.event} event: ${read.error}`);

  const f = read.fields;
  // client_status/<id>: NanoMQ builds the topic from the real id; the JSON copy is unescaped printf
  const deviceId = t.clientId ?? (f.clientId || null);
  if (deviceId === null) return reading.failure(`NanoMQ ${t.event} event without a client id`);

  const event = t.event === "status" ? f.status : t.event;
  if (event === "connected" || event === "online") return { events: connectEvent(f, deviceId, ctx) };
  if (event === "disconnected" || event === "offline") return { events: disconnectEvent(f, deviceId, ctx) };
  return reading.failure(`NanoMQ client_status event with unknown status ${JSON.stringify(f.status)}`);
}

export const nanomqAdapter: Adapter = { name, matches, parse };
