/**
 * Wire shapes shared by the HTTP API, the SSE stream and the browser.
 * Times are ISO-8601 UTC strings, null where unknown.
 */
import type { DisconnectReason, SignalSource } from "../ingest/events";
import type { DeviceState, DeviceStatus, SessionRecord } from "../fleet/types";
import type { ActivityKind } from "../activity/points";
import type { JobDto } from "../jobs/registry";

export interface DeviceDto {
  id: string;
  status: DeviceStatus;
  statusSince: string;
  keepaliveSeconds: number | null;
  lastSeenAt: string | null;
  connectedAt: string | null;
  /** A connection session is open (connect seen, no end yet); may be true while `unknown` in a gap. */
  sessionOpen: boolean;
  lastDisconnectAt: string | null;
  lastDisconnectReason: DisconnectReason | null;
  disconnectCount: number;
  sources: readonly SignalSource[];
  /** The operator's name for the device (lib/inventory), null when none. */
  name: string | null;
  /** The operator's tags, sorted. */
  tags: readonly string[];
  /** Inventory says the device should exist; it has never been seen ("never seen"). */
  expected: boolean;
  /** An active silence covers the device now: its alerts are recorded, not sent. */
  muted: boolean;
}

/** What the inventory and the silences add to a device's state on the wire. */
export interface DeviceLabels {
  name: string | null;
  tags: readonly string[];
  /** Imported as expected and not seen since. */
  expected: boolean;
  muted: boolean;
}

export const NO_LABELS: DeviceLabels = { name: null, tags: [], expected: false, muted: false };

export interface SessionDto {
  connectedAt: string;
  disconnectedAt: string | null;
  reason: DisconnectReason | null;
  keepaliveSeconds: number | null;
  /** The end was inferred after a monitoring gap (no sign of life once watched again), not reported. */
  inferred: boolean;
}

export interface StatusCounts {
  online: number;
  late: number;
  offline: number;
  unknown: number;
  total: number;
}

export interface ClusterDto {
  instanceId: string;
  role: "leader" | "standby" | "single";
  /** The current leadership term (null: single, or no term read yet). */
  epoch: number | null;
  leaderId: string | null;
  leaderSince: string | null;
  peers: { instanceId: string; role: string; lastSeenAt: string }[];
}

export interface HealthDto {
  ok: boolean;
  broker: {
    connected: boolean;
    kind: string;
    version: string | null;
    url: string;
    /** When the current connection (or outage) began. */
    since: string | null;
    lastError: string | null;
    /** Broker-wide aggregates ($SYS/broker/clients/*, load/*), when the broker offers them. */
    stats: Record<string, number>;
    /** The last broker restart since keepwatch started (lib/broker/restarts.ts), or null. */
    lastRestart: BrokerRestartDto | null;
  };
  db: {
    ok: boolean;
    pendingWrites: number;
    droppedWrites: number;
    /** Rows the database refused for what they hold, isolated and dropped (the rest was written). */
    rejectedRows: number;
    lastError: string | null;
    /** Postgres (DATABASE_URL) or the embedded PGlite; absent until the database is opened. */
    kind?: "postgres" | "pglite";
  };
  /** Events refused at ingest, by cause (lib/ingest/limits.ts): a device id too long, empty, or not valid text. */
  ingest: {
    rejected: Partial<Record<string, number>>;
    /** Devices dropped from memory since start after FORGET_AFTER_DAYS without a sign of life. */
    forgottenDevices?: number;
    /** MAX_DEVICES: beyond it, new ids are refused (`rejected.max_devices`). */
    maxDevices?: number;
  };
  /** The notification outbox (lib/notify): waiting, dead-lettered, the oldest waiting's age, and the last error reading it. */
  notifications: { pending: number; dead: number; oldestPendingSeconds: number | null; lastError: string | null };
  /** Leader and standbys sharing the database (lib/cluster); role "single" on the embedded database or broker. */
  cluster: ClusterDto;
  monitor: {
    startedAt: string;
    /** Open monitoring gap: the monitor is not hearing the broker since this time. */
    gapSince: string | null;
    /** Whether any source that sees PINGREQs is active (silence verdicts possible). */
    pingsVisible: boolean;
    deviceTopics: string[];
    /**
     * After a gap (or keepwatch's own start): devices still `unknown` while being re-learned,
     * and since when the monitor hears the broker again. Null when nothing is being re-learned.
     */
    relearning: { since: string; devices: number } | null;
    /** With MOSQUITTO_LOG_FILE: whether it has shown debug lines, and whether it stalled since. */
    debugLog?: { file: string; seen: boolean; stalled: boolean; lastLineAt: string | null };
  };
  /** The background jobs (lib/jobs/registry.ts); in `GET /api/health`, not in the live streams. */
  jobs?: JobDto[];
}

export interface BrokerRestartDto {
  /** When keepwatch noticed. */
  detectedAt: string;
  /** Best estimate of when the broker went down: the sessions open then ended here. */
  downAt: string;
  /** When its new run started, as far as known. */
  upAt: string;
  /** What showed the restart. */
  evidence: string[];
  /** Devices the restart dropped. */
  devices: number;
  /** Of those, how many are not back (not online or late) now. */
  notBack: number;
}

/** SSE `snapshot` event payload. */
/** Where a stream's window stands in its view: the rows shown, in order. */
export interface WindowDto {
  /** Position of the first id in the view (clamped to the view). */
  offset: number;
  /** Devices the view holds (the filter's matches). */
  total: number;
  ids: string[];
}

/** SSE `snapshot` event payload: the stream's window, the first message on every connection. */
export interface SnapshotMessage {
  serverTime: string;
  window: WindowDto;
  /** The window's devices, in its order. */
  devices: DeviceDto[];
  counts: StatusCounts;
  health: HealthDto;
}

/**
 * SSE `delta` event payload: the window's devices that changed or entered it
 * since the last message, and the window itself when its rows or their order
 * moved (a device that left is simply no longer in `window.ids`).
 */
export interface DeltaMessage {
  serverTime: string;
  window?: WindowDto;
  devices: DeviceDto[];
  counts: StatusCounts;
  health: HealthDto;
}

/**
 * SSE `device` event payload of a device stream (`GET /api/stream?device=`):
 * the device's live state, sent on subscribe and whenever it changes; null
 * while the monitor holds no such device.
 */
export interface DeviceEventMessage {
  serverTime: string;
  device: DeviceDto | null;
}

/** SSE `activity` event payload of a device stream: the device's points since the last one. */
export interface ActivityEventMessage {
  serverTime: string;
  points: { at: string; kind: ActivityKind; reason?: DisconnectReason | null }[];
}

export const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

export function toDeviceDto(d: DeviceState, labels: DeviceLabels = NO_LABELS): DeviceDto {
  return {
    id: d.id,
    status: d.status,
    statusSince: new Date(d.statusSince).toISOString(),
    keepaliveSeconds: d.keepaliveSeconds,
    lastSeenAt: iso(d.lastSeenAt),
    connectedAt: iso(d.connectedAt),
    sessionOpen: d.sessionOpen,
    lastDisconnectAt: iso(d.lastDisconnectAt),
    lastDisconnectReason: d.lastDisconnectReason,
    disconnectCount: d.disconnectCount,
    sources: d.sources,
    name: labels.name,
    tags: labels.tags,
    expected: labels.expected,
    muted: labels.muted,
  };
}

export function toSessionDto(s: SessionRecord): SessionDto {
  return {
    connectedAt: new Date(s.connectedAt).toISOString(),
    disconnectedAt: iso(s.disconnectedAt),
    reason: s.reason,
    keepaliveSeconds: s.keepaliveSeconds,
    inferred: s.inferred === true,
  };
}

/** One disconnect (a session's end) with what led to it and what followed; durations in seconds. */
export interface DisconnectDto {
  deviceId: string;
  /** The operator's name for the device, or null. */
  deviceName: string | null;
  disconnectedAt: string;
  reason: DisconnectReason;
  keepaliveSeconds: number | null;
  /** Last sign of life in the session, when known. */
  lastActivityAt: string | null;
  /** Nobody saw this disconnect: after a monitoring gap the device showed no sign of life (ended at its last). */
  inferred: boolean;
  /** How long the device had been silent before the drop. */
  silenceSeconds: number | null;
  /** Start of the session that ended. */
  connectedAt: string;
  sessionSeconds: number;
  /** Start of the device's next session; null while it has not come back. */
  reconnectedAt: string | null;
  offlineSeconds: number | null;
}

export interface DisconnectListDto {
  disconnects: DisconnectDto[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export interface DeviceDisconnectStatsDto {
  deviceId: string;
  deviceName: string | null;
  disconnects: number;
  /** Share of the period (0–100) the device had a session open; null for an empty period. */
  uptimePercent: number | null;
  /** The period's length divided by the device's disconnects. */
  meanSecondsBetweenDisconnects: number | null;
}

export interface DisconnectSummaryDto {
  /** What the figures cover: [from, to), `to` no later than the time of the request. */
  period: { from: string | null; to: string };
  total: number;
  devices: number;
  byReason: Array<{ reason: DisconnectReason; count: number }>;
  topDevices: DeviceDisconnectStatsDto[];
}
