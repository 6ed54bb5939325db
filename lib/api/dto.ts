/**
 * Wire shapes shared by the HTTP API, the SSE stream and the browser.
 * Times are ISO-8601 UTC strings, null where unknown.
 */
import type { DisconnectReason, SignalSource } from "../ingest/events";
import type { DeviceState, DeviceStatus, SessionRecord } from "../fleet/types";

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
  sources: SignalSource[];
}

export interface SessionDto {
  connectedAt: string;
  disconnectedAt: string | null;
  reason: DisconnectReason | null;
  keepaliveSeconds: number | null;
}

export interface StatusCounts {
  online: number;
  late: number;
  offline: number;
  unknown: number;
  total: number;
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
  };
  db: { ok: boolean; pendingWrites: number; droppedWrites: number; lastError: string | null };
  monitor: {
    startedAt: string;
    /** Open monitoring gap: the monitor is not hearing the broker since this time. */
    gapSince: string | null;
    /** Whether any source that sees PINGREQs is active (silence verdicts possible). */
    pingsVisible: boolean;
    deviceTopics: string[];
  };
}

/** SSE `snapshot` event payload. */
export interface SnapshotMessage {
  serverTime: string;
  devices: DeviceDto[];
  counts: StatusCounts;
  health: HealthDto;
}

/** SSE `delta` event payload: devices that changed since the last batch. */
export interface DeltaMessage {
  serverTime: string;
  devices: DeviceDto[];
  counts: StatusCounts;
  health: HealthDto;
}

export const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

export function toDeviceDto(d: DeviceState): DeviceDto {
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
  };
}

export function toSessionDto(s: SessionRecord): SessionDto {
  return {
    connectedAt: new Date(s.connectedAt).toISOString(),
    disconnectedAt: iso(s.disconnectedAt),
    reason: s.reason,
    keepaliveSeconds: s.keepaliveSeconds,
  };
}
