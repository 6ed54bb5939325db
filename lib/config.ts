/**
 * Configuration from the environment, validated once. A bad value stops
 * start-up with a message naming the variable, instead of failing later.
 */
import { z } from "./zod";
import { parseAllowList } from "./alerts/egress";

const DEFAULT_DEVICE_TOPICS = "devices/{id}/#";

const schema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
    .optional(),
  MQTT_URL: z
    .string()
    .regex(/^(mqtts?|wss?|tcp):\/\//, "must be an mqtt://, mqtts://, ws:// or wss:// URL")
    .optional(),
  MQTT_USERNAME: z.string().optional(),
  MQTT_PASSWORD: z.string().optional(),
  MQTT_PORT: z.coerce.number().int().min(1).max(65535).default(1883),
  /** Embedded broker: the address to listen on (default all interfaces, IPv6 and IPv4). */
  MQTT_HOST: z.string().min(1).optional(),
  /** Embedded broker: a client may publish only on its own device topics (`on`), or anywhere (`off`, gateways). */
  MQTT_TOPIC_AUTH: z.enum(["on", "off"]).default("on"),
  /** Embedded broker: connections beyond this many are closed at once. */
  MQTT_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(10_000_000).default(100_000),
  /** Embedded broker: a client sending a larger packet (bytes) is disconnected. */
  MQTT_MAX_PACKET_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(256 * 1024),
  /** Embedded broker: track clients that connect without a client id (named aedes_<uuid> anew each time) as devices. */
  TRACK_ANONYMOUS_CLIENTS: z.enum(["0", "1"], { error: "TRACK_ANONYMOUS_CLIENTS must be 0 or 1" }).default("0"),
  /** GET /metrics without credentials (for a Prometheus that cannot send a token); by default it takes the viewer role. */
  METRICS_ANONYMOUS: z.enum(["0", "1"], { error: "METRICS_ANONYMOUS must be 0 or 1" }).default("0"),
  /** GET /metrics: one series per device (keepwatch_device_up, keepwatch_device_keepalive_seconds). Mind the cardinality. */
  METRICS_PER_DEVICE: z.enum(["0", "1"], { error: "METRICS_PER_DEVICE must be 0 or 1" }).default("0"),
  /** Embedded broker: at most this many topics hold a retained message. */
  MQTT_MAX_RETAINED: z.coerce.number().int().min(1).max(100_000_000).default(100_000),
  /** Embedded broker: browser origins allowed on MQTT_WS_PORT (comma-separated); clients without an Origin always are. */
  MQTT_WS_ORIGINS: z.string().optional(),
  /** Embedded broker only: also take MQTT over WebSocket on this port (unset: no WebSocket listener). */
  MQTT_WS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  MQTT_BROKER_KIND: z.enum(["auto", "mosquitto", "emqx", "nanomq"]).default("auto"),
  MQTT_CLIENT_ID: z.string().min(1).max(64).optional(),
  DEVICE_TOPICS: z.string().min(1).default(DEFAULT_DEVICE_TOPICS),
  MOSQUITTO_LOG_FILE: z.string().optional(),
  /** After a restart, MOSQUITTO_LOG_FILE is read on from where the written changes end if at most this much (MB) came since; 0: never. */
  MOSQUITTO_LOG_REPLAY_MAX_MB: z.coerce.number().min(0).max(1_000_000).default(256),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  KEEPWATCH_DATA_DIR: z.string().default("./data"),
  /**
   * Several instances on one Postgres and one broker (lib/cluster): this instance's name among them
   * (default: derived from the host, PORT and working directory, stable across restarts).
   */
  KEEPWATCH_INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, "KEEPWATCH_INSTANCE_ID: 1–64 letters, digits, '.', '_' or '-'")
    .optional(),
  /** k/n: watch (and lead) only the devices whose id hashes to shard k of n (lib/cluster/shard.ts). */
  KEEPWATCH_SHARD: z.string().optional(),
  /** A standby leads within this many seconds of the leader's death (its lease is this less 1.5 s). */
  KEEPWATCH_FAILOVER_SECONDS: z.coerce.number().min(2.5).max(600).default(5),
  /**
   * After a broker restart, how long (s, at least; 2 × keepalive when longer) a device it dropped
   * has to reconnect before its offline alert fires (lib/alerts/engine.ts).
   */
  ALERT_RESTART_WINDOW_SECONDS: z.coerce.number().min(0).max(3600).default(30),
  /** A system alert when the broker is unreachable this long (s). */
  ALERT_BROKER_DOWN_SECONDS: z.coerce.number().min(1).max(86_400).default(30),
  /** A system alert when database writes have been failing this long (s). */
  ALERT_DATABASE_DOWN_SECONDS: z.coerce.number().min(1).max(86_400).default(30),
  /** At least this many devices offline for one cause within INCIDENT_WINDOW_SECONDS form one incident. */
  INCIDENT_MIN_DEVICES: z.coerce.number().int().min(2).max(1_000_000).default(10),
  INCIDENT_WINDOW_SECONDS: z.coerce.number().min(1).max(86_400).default(60),
  /** At most one "N still offline" update per this many seconds while devices come back. */
  INCIDENT_UPDATE_SECONDS: z.coerce.number().min(10).max(86_400).default(300),
  /** How long a lone offline alert waits for others of its cause before it notifies on its own (0: never). */
  INCIDENT_GROUP_WAIT_SECONDS: z.coerce.number().min(0).max(3600).default(10),
  /** An imported device not seen within this many hours raises a never_seen alert. */
  EXPECTED_GRACE_HOURS: z.coerce.number().positive().max(8760).default(24),
  /** Largest device inventory import (bytes). */
  MAX_IMPORT_BYTES: z.coerce.number().int().min(1024).max(100_000_000).default(2_000_000),
  /** Embedded broker, for demos: this many seconds after start it drops every client connection once. */
  DEMO_BROKER_OUTAGE_SECONDS: z.coerce.number().positive().max(86_400).optional(),
  /** Raw per-device activity is kept this long (hours); roll-ups (minutes, packed by hour) ACTIVITY_ROLLUP_DAYS. */
  ACTIVITY_RAW_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 366)
    .default(24),
  ACTIVITY_ROLLUP_DAYS: z.coerce.number().positive().max(3660).default(30),
  /**
   * Webhook destinations allowed although they are loopback, private, link-local, CGNAT, multicast or
   * unspecified: comma-separated host names, IP addresses or CIDR ranges (lib/alerts/egress.ts).
   */
  KEEPWATCH_WEBHOOK_ALLOW: z
    .string()
    .default("")
    .superRefine((text, ctx) => {
      try {
        parseAllowList(text);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
      }
    }),
  /** Where operators reach keepwatch (https://…): the origin state-changing requests must come from, Secure cookies. */
  KEEPWATCH_PUBLIC_URL: z
    .string()
    .url()
    .regex(/^https?:\/\//, "must be an http:// or https:// URL")
    .optional(),
  /** A notification is tried at most this many times (backoff doubling from NOTIFY_RETRY_BASE_SECONDS up to NOTIFY_RETRY_MAX_SECONDS), then dead-lettered. */
  NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  NOTIFY_RETRY_BASE_SECONDS: z.coerce.number().min(0.1).max(86_400).default(30),
  NOTIFY_RETRY_MAX_SECONDS: z.coerce
    .number()
    .min(1)
    .max(7 * 86_400)
    .default(1920),
  /** One delivery attempt's time limit. */
  NOTIFY_TIMEOUT_SECONDS: z.coerce.number().min(1).max(300).default(10),
  /** A claimed notification is kept from other keepwatch processes this long; one that dies mid-send lets it fall due after it. */
  NOTIFY_LEASE_SECONDS: z.coerce.number().min(2).max(3600).default(60),
  /** The first admin (created, or its password reset, at start) and its password (at least 8 characters). */
  KEEPWATCH_ADMIN_USER: z.string().min(1).max(64).default("admin"),
  KEEPWATCH_ADMIN_PASSWORD: z.string().min(8, "must be at least 8 characters").max(1024).optional(),
  /** The role of requests without credentials (a wall display on a trusted network); unset: none. */
  KEEPWATCH_ANONYMOUS_ROLE: z.enum(["viewer", "operator", "admin"]).optional(),
  /** Device ids longer than this in UTF-8 (client ids, ids from topics) are refused at ingest and counted. */
  MAX_DEVICE_ID_BYTES: z.coerce.number().int().min(16).max(65_535).default(256),
  /** Devices not heard from for this many days (offline or unknown) are dropped from memory; their history stays. */
  FORGET_AFTER_DAYS: z.coerce.number().positive().max(36_500).default(30),
  /** Session writes (connects, disconnects) waiting for the database at most; the oldest beyond are dropped and counted. */
  DB_MAX_PENDING_WRITES: z.coerce.number().int().min(1_000).max(100_000_000).default(1_000_000),
  /** Alert writes (fires, resolutions, incident changes) waiting for the database at most; the oldest beyond are dropped and counted. */
  ALERT_MAX_PENDING_WRITES: z.coerce.number().int().min(1_000).max(100_000_000).default(1_000_000),
  /** Devices held at most; new ids beyond are refused and counted. */
  MAX_DEVICES: z.coerce.number().int().min(1).max(100_000_000).default(1_000_000),
  /** Longest period an uptime report may cover (days). */
  KEEPWATCH_REPORT_MAX_DAYS: z.coerce.number().int().min(1).max(3660).default(90),
  /** Devices one page of an uptime report holds at most. */
  KEEPWATCH_REPORT_MAX_DEVICES: z.coerce.number().int().min(1).max(100_000).default(500),
  /** CSV exports streaming at once; one more answers 429. */
  MAX_CONCURRENT_EXPORTS: z.coerce.number().int().min(1).max(1000).default(2),
  /**
   * Postgres cancels a read (API query, export page, alert or account write) running longer than this (s);
   * the fleet's batched writes run on a pool of their own without it.
   */
  DB_STATEMENT_TIMEOUT_SECONDS: z.coerce.number().min(1).max(3600).default(30),
  /** Concurrent event streams (SSE) in all, and per user or token. */
  KEEPWATCH_MAX_STREAMS: z.coerce.number().int().min(1).max(100_000).default(100),
  KEEPWATCH_MAX_STREAMS_PER_USER: z.coerce.number().int().min(1).max(10_000).default(10),
  /** Rows one event stream's window may hold (`GET /api/stream?limit=`). */
  KEEPWATCH_STREAM_WINDOW_MAX: z.coerce.number().int().min(10).max(10_000).default(500),
  /** Sessions end after this long unused (hours), and this long after sign-in whatever happens (days). */
  KEEPWATCH_SESSION_IDLE_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 365)
    .default(24),
  KEEPWATCH_SESSION_MAX_DAYS: z.coerce.number().positive().max(3650).default(30),
});

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings count as unset: `MQTT_URL= npm start` means "use the default".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  return parsed.data;
}

/** Credentials are never shown: mqtt://user:secret@host → mqtt://user:***@host. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
  }
}
