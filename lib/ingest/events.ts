/**
 * The normalized vocabulary every ingest adapter speaks. Adapters turn broker
 * log lines, `$SYS` payloads and device-topic messages into ActivityEvents;
 * lib/fleet consumes nothing else.
 *
 * Times are epoch milliseconds (UTC). `at` is when the broker says the thing
 * happened when it tells us (log timestamp, connected_at), otherwise when we
 * received the message.
 */

/** One vocabulary of disconnect reasons for every broker and convention. */
export const DISCONNECT_REASONS = [
  "clean",
  "keepalive_timeout",
  "connection_lost",
  "taken_over",
  "protocol_error",
  "not_authorized",
  "admin",
  "session_expired",
  "will",
  "broker_restart",
  "unknown",
] as const;
export type DisconnectReason = (typeof DISCONNECT_REASONS)[number];

/**
 * Where a signal came from. Decides what the monitor may conclude from silence.
 * - `mosquitto-log`: $SYS/broker/log/# (connects, disconnects; no pings)
 * - `mosquitto-debug`: tailed debug log file (sees every PINGREQ)
 * - `emqx`: $SYS/brokers/<node>/clients/<id>/(dis)connected
 * - `nanomq`: $SYS/brokers/(dis)connected, client_status
 * - `aedes`: embedded broker events (sees every packet)
 * - `device-topic`: publishes on configured device topics
 */
export const SIGNAL_SOURCES = ["mosquitto-log", "mosquitto-debug", "emqx", "nanomq", "aedes", "device-topic"] as const;
export type SignalSource = (typeof SIGNAL_SOURCES)[number];

/** Sources that observe every PINGREQ: silence from them means the device is silent. */
export const PING_VISIBLE_SOURCES: ReadonlySet<SignalSource> = new Set(["mosquitto-debug", "aedes"]);

interface EventBase {
  deviceId: string;
  at: number;
  source: SignalSource;
}

/** A client completed CONNECT (a new session starts). */
export interface ConnectEvent extends EventBase {
  kind: "connect";
  /** Keep Alive from CONNECT in seconds; null when the source does not say. */
  keepaliveSeconds: number | null;
  address?: string | null; // "ip:port" or "ip"
  protocol?: string | null; // "3.1", "3.1.1", "5"
  cleanStart?: boolean | null;
  username?: string | null;
}

/** The broker (or device) ended the session. */
export interface DisconnectEvent extends EventBase {
  kind: "disconnect";
  reason: DisconnectReason;
  /** Broker's own wording, kept for the operator (e.g. the raw EMQX reason). */
  detail?: string | null;
  /**
   * For brokers that stamp sessions (EMQX connected_at): the connect time of
   * the session this disconnect belongs to, so a stale disconnect of an older
   * session can be ignored.
   */
  sessionConnectedAt?: number | null;
}

/** Another connection took over this client id; a connect for the new one follows. */
export interface TakeoverEvent extends EventBase {
  kind: "takeover";
}

/** PINGREQ seen (only from ping-visible sources). */
export interface PingEvent extends EventBase {
  kind: "ping";
}

/**
 * Any other control packet from the client (PUBACK, SUBSCRIBE, ...), only from
 * sources that see every packet. It keeps the connection alive exactly as a
 * PINGREQ does (MQTT.js, for one, skips its ping while it sends other packets).
 */
export interface PacketEvent extends EventBase {
  kind: "packet";
  /** The packet type, lower case: "puback", "subscribe", "unsubscribe". */
  packet: string;
}

/** The device published something (device topics, or broker-side publish events). */
export interface PublishEvent extends EventBase {
  kind: "publish";
  topic: string;
}

/**
 * A device-reported status (status topic, LWT, Homie $state...). `online:false`
 * from a retained message or last will means the device is offline with reason `will`.
 */
export interface StatusEvent extends EventBase {
  kind: "status";
  online: boolean;
  /** Original payload word, e.g. "Offline", "lost", "sleeping". */
  detail?: string | null;
  /** Replayed retained message: tells state, but is not fresh activity. */
  retained: boolean;
}

export type ActivityEvent =
  ConnectEvent | DisconnectEvent | TakeoverEvent | PingEvent | PacketEvent | PublishEvent | StatusEvent;

/** Broker-wide aggregates from Mosquitto's $SYS/broker/clients/* and load/*. */
export interface BrokerStatsUpdate {
  /** e.g. "clients/connected", "load/messages/received/1min" */
  key: string;
  value: number;
  at: number;
}

/** What an adapter returns for one MQTT message. */
export interface AdapterResult {
  events: ActivityEvent[];
  stats?: BrokerStatsUpdate[];
  /** Broker version string when the message revealed it ($SYS/broker/version). */
  brokerVersion?: string;
  /** Set when the message was meant for this adapter but could not be understood. */
  error?: string;
}

export type BrokerKind = "mosquitto" | "emqx" | "nanomq" | "aedes" | "unknown";
