/**
 * The embedded broker (Aedes) as a signal source. Unlike the other adapters it
 * reads no MQTT messages: lib/ingest/aedes-source.ts listens to the broker
 * in-process and describes what happened to each connection as an
 * AedesObservation (plain data); this module turns observations into
 * ActivityEvents. Pure: no I/O, no clock, no state between calls.
 *
 * Aedes sees every packet, so this source is ping-visible: PINGREQs, every
 * other control packet and every PUBLISH come with the client that sent it,
 * and a connection's end comes with its cause:
 *
 * | cause (what the wiring saw)                              | event                       |
 * |----------------------------------------------------------|-----------------------------|
 * | a new connection registered the same client id           | takeover                    |
 * | Aedes' keepalive timer fired (1.5 × keepalive, +1 ms)    | disconnect keepalive_timeout|
 * | the client sent DISCONNECT                               | disconnect clean            |
 * | keepwatch is shutting its broker down                    | disconnect admin            |
 * | a malformed packet, or a publish the broker refused      | disconnect protocol_error / not_authorized |
 * | the socket closed or failed (ECONNRESET, EOF, ...)       | disconnect connection_lost  |
 * | CONNECT refused (CONNACK return code)                    | disconnect by return code   |
 *
 * Publishes also go through the device-topics conventions (status topics,
 * last wills), so `devices/{id}/status` means the same here as on any broker.
 * A will is published by the broker after its client is gone: it is never
 * activity of that client, only a status.
 */
import type { ActivityEvent, DisconnectReason } from "../events";
import { type CompiledDeviceTopics, parseDeviceMessage } from "./device-topics";

export const name = "aedes";

/** What the CONNECT packet said, as the wiring captured it. */
export interface AedesConnectInfo {
  clientId: string;
  keepaliveSeconds: number;
  /** CONNECT protocol level: 3 (MQTT 3.1), 4 (3.1.1), 5. */
  protocolVersion: number | null;
  cleanSession: boolean | null;
  username: string | null;
  /** "ip:port" of the client's socket. */
  address: string | null;
}

/** Why one connection ended, as far as the broker let us see. */
export interface AedesEndFacts {
  /** Another connection registered the same client id while this one was open. */
  takenOver: boolean;
  /** The broker's keepalive timer fired. */
  keepaliveTimeout: boolean;
  /** The client sent DISCONNECT. */
  disconnectPacket: boolean;
  /** The embedded broker itself is shutting down. */
  brokerClosing: boolean;
  /** The error that closed the connection, if one did. */
  error: { message: string; code: string | null } | null;
}

export type AedesObservation =
  | { type: "connect"; at: number; connect: AedesConnectInfo }
  | { type: "ping"; at: number; clientId: string }
  /** Another control packet from a connected client. */
  | { type: "packet"; at: number; clientId: string; packet: "puback" | "subscribe" | "unsubscribe" }
  | {
      type: "publish";
      at: number;
      /** The publishing client; null for the broker's own messages ($SYS heartbeats). */
      clientId: string | null;
      topic: string;
      payload: Buffer | string;
      /** Published by the broker on behalf of a client that is gone: its last will. */
      will: boolean;
      /**
       * The client connected with an empty client id (the broker named it) and
       * is not tracked as a device: its publish is no device's activity, though
       * what it publishes on device topics still is.
       */
      anonymous?: boolean;
    }
  | { type: "end"; at: number; clientId: string; facts: AedesEndFacts }
  /** CONNECT refused with a CONNACK return code (no session was opened). */
  | { type: "refused"; at: number; clientId: string; returnCode: number; message: string };

export interface AedesAdapterOptions {
  /** Compiled DEVICE_TOPICS; null when device topics are not watched. */
  deviceTopics: CompiledDeviceTopics | null;
}

const PROTOCOLS: Readonly<Record<number, string>> = { 3: "3.1", 4: "3.1.1", 5: "5" };

/** Socket-level failures: the connection was lost, the client did nothing wrong on the wire. */
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ECONNABORTED",
  "ERR_STREAM_PREMATURE_CLOSE",
  "ERR_STREAM_DESTROYED",
]);

/** How an error that closed a connection reads in the shared reason vocabulary. */
export function errorReason(error: { message: string; code: string | null }): DisconnectReason {
  if (error.code !== null && NETWORK_CODES.has(error.code)) return "connection_lost";
  const m = error.message.toLowerCase();
  if (m.includes("keep alive timeout")) return "keepalive_timeout";
  if (m.includes("drain timeout") || m.includes("connection closed")) return "connection_lost";
  if (m.includes("not authorized") || m.includes("not authorised") || m.includes("is reserved"))
    return "not_authorized";
  // Everything else Aedes or its packet parser raises is about what the client sent.
  return "protocol_error";
}

/** The reason for a connection's end (a takeover is not a disconnect: see aedesEvents). */
export function endReason(facts: AedesEndFacts): { reason: DisconnectReason; detail: string } {
  if (facts.keepaliveTimeout) return { reason: "keepalive_timeout", detail: "keep alive timeout" };
  if (facts.disconnectPacket) return { reason: "clean", detail: "DISCONNECT" };
  if (facts.brokerClosing) return { reason: "broker_restart", detail: "embedded broker shut down" };
  if (facts.error) {
    const detail = facts.error.code ? `${facts.error.code}: ${facts.error.message}` : facts.error.message;
    return { reason: errorReason(facts.error), detail: detail.slice(0, 200) };
  }
  return { reason: "connection_lost", detail: "socket closed without DISCONNECT" };
}

/** CONNACK return codes of MQTT 3.1.1 (Aedes uses 6 for its keepalive limit). */
export function refusedReason(returnCode: number): DisconnectReason {
  switch (returnCode) {
    case 4: // bad user name or password
    case 5: // not authorized
      return "not_authorized";
    case 1: // unacceptable protocol version
    case 2: // identifier rejected
    case 6: // keep alive limit exceeded
      return "protocol_error";
    default:
      return "unknown";
  }
}

export function aedesEvents(obs: AedesObservation, opts: AedesAdapterOptions): ActivityEvent[] {
  const source = "aedes" as const;
  switch (obs.type) {
    case "connect": {
      const c = obs.connect;
      return [
        {
          kind: "connect",
          deviceId: c.clientId,
          at: obs.at,
          source,
          keepaliveSeconds: c.keepaliveSeconds,
          address: c.address,
          protocol: c.protocolVersion === null ? null : (PROTOCOLS[c.protocolVersion] ?? String(c.protocolVersion)),
          cleanStart: c.cleanSession,
          username: c.username,
        },
      ];
    }
    case "ping":
      return [{ kind: "ping", deviceId: obs.clientId, at: obs.at, source }];
    case "packet":
      return [{ kind: "packet", deviceId: obs.clientId, at: obs.at, source, packet: obs.packet }];
    case "publish":
      return publishEvents(obs, opts);
    case "end": {
      if (obs.facts.takenOver) return [{ kind: "takeover", deviceId: obs.clientId, at: obs.at, source }];
      const { reason, detail } = endReason(obs.facts);
      return [{ kind: "disconnect", deviceId: obs.clientId, at: obs.at, source, reason, detail }];
    }
    case "refused":
      if (obs.clientId === "") return [];
      return [
        {
          kind: "disconnect",
          deviceId: obs.clientId,
          at: obs.at,
          source,
          reason: refusedReason(obs.returnCode),
          detail: `connection refused (${obs.returnCode}): ${obs.message}`.slice(0, 200),
        },
      ];
  }
}

function publishEvents(
  obs: Extract<AedesObservation, { type: "publish" }>,
  opts: AedesAdapterOptions,
): ActivityEvent[] {
  // The broker's own messages ($SYS heartbeats and the like) are about no device.
  if (obs.clientId === null || obs.topic.startsWith("$")) return [];
  const events: ActivityEvent[] = [];
  if (!obs.will && !obs.anonymous)
    events.push({ kind: "publish", deviceId: obs.clientId, at: obs.at, source: "aedes", topic: obs.topic });
  if (opts.deviceTopics) {
    // Seen as it is published, never as a replay: a retained flag does not make it stale.
    const ctx = { receivedAt: obs.at, retained: false };
    const parsed = parseDeviceMessage(opts.deviceTopics, obs.topic, obs.payload, ctx).events;
    // A will tells a status (offline), never that its device is alive.
    events.push(...(obs.will ? parsed.filter((e) => e.kind === "status") : parsed));
  }
  return events;
}
