/** MQTT 5 DISCONNECT reason codes → the shared disconnect vocabulary. */
import type { DisconnectReason } from "../events";

interface ReasonCode {
  name: string;
  reason: DisconnectReason;
}

const CODES: ReadonlyMap<number, ReasonCode> = new Map([
  [0x00, { name: "normal disconnection", reason: "clean" }],
  [0x04, { name: "disconnect with will message", reason: "clean" }],
  [0x80, { name: "unspecified error", reason: "unknown" }],
  [0x81, { name: "malformed packet", reason: "protocol_error" }],
  [0x82, { name: "protocol error", reason: "protocol_error" }],
  [0x83, { name: "implementation specific error", reason: "unknown" }],
  [0x87, { name: "not authorized", reason: "not_authorized" }],
  [0x89, { name: "server busy", reason: "unknown" }],
  [0x8b, { name: "server shutting down", reason: "unknown" }],
  [0x8d, { name: "keep alive timeout", reason: "keepalive_timeout" }],
  [0x8e, { name: "session taken over", reason: "taken_over" }],
  [0x8f, { name: "topic filter invalid", reason: "protocol_error" }],
  [0x90, { name: "topic name invalid", reason: "protocol_error" }],
  [0x93, { name: "receive maximum exceeded", reason: "protocol_error" }],
  [0x94, { name: "topic alias invalid", reason: "protocol_error" }],
  [0x95, { name: "packet too large", reason: "protocol_error" }],
  [0x96, { name: "message rate too high", reason: "unknown" }],
  [0x97, { name: "quota exceeded", reason: "unknown" }],
  [0x98, { name: "administrative action", reason: "admin" }],
  [0x99, { name: "payload format invalid", reason: "protocol_error" }],
  [0x9a, { name: "retain not supported", reason: "protocol_error" }],
  [0x9b, { name: "QoS not supported", reason: "protocol_error" }],
  [0x9c, { name: "use another server", reason: "unknown" }],
  [0x9d, { name: "server moved", reason: "unknown" }],
  [0x9e, { name: "shared subscriptions not supported", reason: "protocol_error" }],
  [0x9f, { name: "connection rate exceeded", reason: "unknown" }],
  [0xa0, { name: "maximum connect time", reason: "unknown" }],
  [0xa1, { name: "subscription identifiers not supported", reason: "protocol_error" }],
  [0xa2, { name: "wildcard subscriptions not supported", reason: "protocol_error" }],
]);

function hex(code: number): string {
  return `0x${code.toString(16).toUpperCase().padStart(2, "0")}`;
}

/** e.g. 0x8D → { reason: "keepalive_timeout", detail: "0x8D keep alive timeout" }. */
export function fromMqtt5ReasonCode(code: number): { reason: DisconnectReason; detail: string } {
  const known = CODES.get(code);
  return known
    ? { reason: known.reason, detail: `${hex(code)} ${known.name}` }
    : { reason: "unknown", detail: `reason code ${hex(code)}` };
}
