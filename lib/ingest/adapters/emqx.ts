/**
 * EMQX client presence events:
 *   $SYS/brokers/<node>/clients/<clientid>/connected | disconnected
 *   $SYS/brokers/<node>/gateway/<gateway>/clients/<clientid>/connected | disconnected (5.x gateways)
 * and $SYS/brokers/<node>/version (retained) for the broker version, and
 * $SYS/brokers/<node>/uptime (every sys_heartbeat_interval, 30 s by default,
 * not retained) for restart detection (lib/broker/restarts.ts): 5.x sends
 * whole milliseconds ("3600042"), 4.x words ("1 days, 2 hours, 3 minutes, 4
 * seconds"). It becomes the stat `uptime/<node>` in seconds.
 *
 * Payload shapes (see fixtures/emqx.json for where each comes from):
 * - 4.0:  connected {clientid, username, ipaddress, proto_name, proto_ver, keepalive,
 *         connack, clean_start, expiry_interval, ts}; disconnected {clientid, username, reason, ts}
 * - 4.x:  connected adds sockport and connected_at; disconnected {clientid, username,
 *         reason, disconnected_at, ts} (no connected_at)
 * - 5.x:  both carry clientid, username, ipaddress (ip only), sockport (the broker's
 *         listener port, not the client's), protocol, proto_name, proto_ver, connected_at, ts;
 *         connected adds keepalive, clean_start, expiry_interval; disconnected adds reason,
 *         disconnected_at.
 * Times are epoch ms (older releases used seconds: told apart by magnitude).
 *
 * The client id may contain "/" (and "+", "#"), so the topic is ambiguous; the
 * JSON `clientid` (properly encoded by EMQX) wins, the topic is the fallback.
 * The node part of the topic is an Erlang node name, which always contains "@";
 * that keeps NanoMQ's `$SYS/brokers/client_status/<id>` out of this adapter.
 *
 * Reasons: EMQX reduces `{shutdown, R}` to R and `{E, _}` to E before publishing,
 * but tuple-looking strings such as "{shutdown,tcp_closed}" are accepted too.
 * `discarded` means a new connection with clean start threw the old session away
 * while the old connection was still up: the old connection was replaced, i.e.
 * taken over (without inheriting the session). `kicked` is an operator action.
 */
import type { ActivityEvent, AdapterResult, DisconnectReason } from "../events";
import {
  booleanField,
  decodeUtf8,
  epochMsFromSecondsOrMs,
  failure,
  type JsonObject,
  noEvents,
  numberField,
  parseJsonObject,
  protocolFromLevel,
  stringField,
  validKeepalive,
} from "./payload";
import type { Adapter, AdapterContext } from "./types";

export const name = "emqx";
const SOURCE = "emqx" as const;
const PREFIX = "$SYS/brokers/";

export type EmqxTopic =
  { kind: "connected" | "disconnected"; node: string; clientId: string } | { kind: "version" | "uptime"; node: string };

const EVENT_SUFFIX = /\/(connected|disconnected)$/;
const GATEWAY_CLIENTS = /^gateway\/[^/]+\/clients\//;

/** Splits an EMQX $SYS topic, or null when it is not one this adapter reads. */
export function parseEmqxTopic(topic: string): EmqxTopic | null {
  if (!topic.startsWith(PREFIX)) return null;
  const rest = topic.slice(PREFIX.length);
  const slash = rest.indexOf("/");
  if (slash <= 0) return null;
  const node = rest.slice(0, slash);
  if (!node.includes("@")) return null;
  const tail = rest.slice(slash + 1);
  if (tail === "version" || tail === "uptime") return { kind: tail, node };

  const event = EVENT_SUFFIX.exec(tail);
  if (!event) return null;
  const clients = tail.startsWith("clients/") ? "clients/" : GATEWAY_CLIENTS.exec(tail)?.[0];
  if (!clients) return null;
  const clientId = tail.slice(clients.length, tail.length - event[0].length);
  return { kind: event[1] as "connected" | "disconnected", node, clientId };
}

export function matches(topic: string): boolean {
  return parseEmqxTopic(topic) !== null;
}

// ---------------------------------------------------------------------------
// Reasons

const REASONS: Readonly<Record<string, DisconnectReason>> = {
  normal: "clean",
  keepalive_timeout: "keepalive_timeout",
  takenover: "taken_over",
  takeovered: "taken_over",
  discarded: "taken_over",
  kicked: "admin",
  tcp_closed: "connection_lost",
  ssl_closed: "connection_lost",
  sock_closed: "connection_lost",
  closed: "connection_lost",
  tcp_error: "connection_lost",
  ssl_error: "connection_lost",
  einval: "connection_lost",
  etimedout: "connection_lost",
  econnreset: "connection_lost",
  epipe: "connection_lost",
  ehostunreach: "connection_lost",
  enetunreach: "connection_lost",
  not_authorized: "not_authorized",
  banned: "not_authorized",
  protocol_error: "protocol_error",
  frame_too_large: "protocol_error",
  malformed: "protocol_error",
  malformed_packet: "protocol_error",
  unexpected_packet: "protocol_error",
};

/** "{shutdown,tcp_closed}" → "tcp_closed"; "{tcp_error,etimedout}" → "tcp_error"; "normal" → "normal". */
export function reasonAtom(raw: string): string {
  const tuple = /^\{\s*([^,{}\s]+)\s*(?:,\s*([^,{}\s]+)\s*)?(?:,.*)?\}$/s.exec(raw.trim());
  if (!tuple) return raw.trim();
  return tuple[1] === "shutdown" && tuple[2] ? tuple[2] : tuple[1];
}

export function mapEmqxReason(raw: unknown): { reason: DisconnectReason; detail: string | null } {
  if (raw === undefined || raw === null) return { reason: "unknown", detail: null };
  if (typeof raw !== "string") return { reason: "unknown", detail: JSON.stringify(raw) };
  return { reason: REASONS[reasonAtom(raw)] ?? "unknown", detail: raw };
}

// ---------------------------------------------------------------------------
// Fields

function deviceIdOf(obj: JsonObject, topic: { clientId: string }): string | null {
  const fromJson = stringField(obj, "clientid");
  if (fromJson) return fromJson;
  return topic.clientId !== "" ? topic.clientId : null;
}

/** MQTT levels 3/4/5 by number; gateways (MQTT-SN, CoAP, LwM2M…) as "<name> <version>". */
function protocolOf(obj: JsonObject): string | null {
  const protoName = stringField(obj, "proto_name");
  if (protoName === null || protoName === "MQTT" || protoName === "MQIsdp") {
    return protocolFromLevel(numberField(obj, "proto_ver"));
  }
  const rawVer = obj.proto_ver;
  const version = typeof rawVer === "string" || typeof rawVer === "number" ? String(rawVer) : "";
  return version ? `${protoName} ${version}` : protoName;
}

function timeField(obj: JsonObject, key: string): number | null {
  return epochMsFromSecondsOrMs(numberField(obj, key));
}

function connectedEvent(obj: JsonObject, deviceId: string, ctx: AdapterContext): ActivityEvent {
  return {
    kind: "connect",
    deviceId,
    at: timeField(obj, "connected_at") ?? timeField(obj, "ts") ?? ctx.receivedAt,
    source: SOURCE,
    keepaliveSeconds: validKeepalive(numberField(obj, "keepalive")),
    address: stringField(obj, "ipaddress"),
    protocol: protocolOf(obj),
    cleanStart: booleanField(obj, "clean_start") ?? booleanField(obj, "clean_session"),
    username: stringField(obj, "username"),
  };
}

function disconnectedEvent(obj: JsonObject, deviceId: string, ctx: AdapterContext): ActivityEvent {
  const { reason, detail } = mapEmqxReason(obj.reason);
  return {
    kind: "disconnect",
    deviceId,
    at: timeField(obj, "disconnected_at") ?? timeField(obj, "ts") ?? ctx.receivedAt,
    source: SOURCE,
    reason,
    detail,
    sessionConnectedAt: timeField(obj, "connected_at"),
  };
}

// ---------------------------------------------------------------------------

export function parse(topic: string, payload: Buffer | string, ctx: AdapterContext): AdapterResult {
  const parsed = parseEmqxTopic(topic);
  if (!parsed) return noEvents();
  const text = decodeUtf8(payload);
  if (text === null) return failure(`EMQX ${parsed.kind} payload is not valid UTF-8`);

  if (parsed.kind === "version") {
    const version = text.trim();
    return version ? { events: [], brokerVersion: version } : failure("EMQX version payload is empty");
  }
  if (parsed.kind === "uptime") {
    const seconds = uptimeSeconds(text);
    if (seconds === null)
      return failure(
        `EMQX uptime: expected milliseconds or "<n> days, … seconds", got ${JSON.stringify(text.slice(0, 80))}`,
      );
    return { events: [], stats: [{ key: `uptime/${parsed.node}`, value: seconds, at: ctx.receivedAt }] };
  }

  if (!("clientId" in parsed)) return noEvents();
  const json = parseJsonObject(text);
  if (!json.ok) return failure(`EMQX ${parsed.kind} event: ${json.error}`);
  const deviceId = deviceIdOf(json.value, parsed);
  if (deviceId === null) return failure(`EMQX ${parsed.kind} event without a client id`);

  const event =
    parsed.kind === "connected"
      ? connectedEvent(json.value, deviceId, ctx)
      : disconnectedEvent(json.value, deviceId, ctx);
  return { events: [event] };
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { days: 86_400, hours: 3_600, minutes: 60, seconds: 1 };

/** EMQX uptime in whole seconds: "3600042" (5.x, ms) or "1 days, 2 hours, 3 minutes, 4 seconds" (4.x). */
export function uptimeSeconds(text: string): number | null {
  const t = text.trim();
  if (/^\d{1,15}$/.test(t)) return Math.floor(Number(t) / 1000);
  const parts = t.split(/,\s*/);
  let total = 0;
  for (const part of parts) {
    const m = /^(\d{1,9}) (days|hours|minutes|seconds)$/.exec(part);
    if (!m) return null;
    total += Number(m[1]) * UNIT_SECONDS[m[2]];
  }
  return parts.length > 0 ? total : null;
}

export const emqxAdapter: Adapter = { name, matches, parse };
