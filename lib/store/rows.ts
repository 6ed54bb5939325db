/**
 * Database rows ↔ the fleet's plain data (epoch ms numbers). Values the
 * fleet's vocabulary does not know (a status or reason written by a newer
 * version) read back as "unknown" rather than leaking through.
 */
import { DISCONNECT_REASONS, type DisconnectReason, type SignalSource } from "../ingest/events";
import { DEVICE_STATUSES, type DeviceState, type DeviceStatus, type SessionRecord } from "../fleet/types";
import type { Device, MonitorGap, Session } from "./generated/prisma/client";

/** A session row as read (`inferred` came with a later migration). */
type SessionRow = Omit<Session, "inferred"> & { inferred?: boolean };

const STATUSES: ReadonlySet<string> = new Set(DEVICE_STATUSES);
const REASONS: ReadonlySet<string> = new Set(DISCONNECT_REASONS);

export const ms = (d: Date): number => d.getTime();
export const msOrNull = (d: Date | null): number | null => (d === null ? null : d.getTime());

export const toStatus = (s: string): DeviceStatus => (STATUSES.has(s) ? (s as DeviceStatus) : "unknown");
export const toReason = (s: string | null): DisconnectReason | null =>
  s === null ? null : REASONS.has(s) ? (s as DisconnectReason) : "unknown";

/**
 * A stored device as the fleet's DeviceState. The machine's transient fields
 * (lastClosed, takeoverWillPending) are not stored and start afresh.
 */
export function toDeviceState(row: Device): DeviceState {
  return {
    id: row.id,
    status: toStatus(row.status),
    statusSince: ms(row.statusSince),
    keepaliveSeconds: row.keepaliveSeconds,
    lastSeenAt: msOrNull(row.lastSeenAt),
    lastPingAt: msOrNull(row.lastPingAt),
    lastMessageAt: msOrNull(row.lastMessageAt),
    connectedAt: msOrNull(row.connectedAt),
    sessionOpen: row.sessionOpen,
    lastDisconnectAt: msOrNull(row.lastDisconnectAt),
    lastDisconnectReason: toReason(row.lastDisconnectReason),
    disconnectCount: row.disconnectCount,
    address: row.address,
    protocol: row.protocol,
    cleanStart: row.cleanStart,
    sources: [...new Set(row.sources ?? [])].sort() as SignalSource[],
    firstSeenAt: ms(row.firstSeenAt),
    connectReportedAt: msOrNull(row.connectReportedAt),
    lastConfirmedAt: msOrNull(row.lastConfirmedAt),
    lastClosed: null,
    takeoverCount: row.takeoverCount,
    takeoverWillPending: false,
  };
}

/** A device row as loadFleetPages selects it: snake_case, times as epoch ms. */
export interface RawDevice {
  id: string;
  status: string;
  status_since: number;
  keepalive_seconds: number | null;
  last_seen_at: number | null;
  last_ping_at: number | null;
  last_message_at: number | null;
  last_confirmed_at: number | null;
  connected_at: number | null;
  connect_reported_at: number | null;
  session_open: boolean;
  last_disconnect_at: number | null;
  last_disconnect_reason: string | null;
  disconnect_count: number;
  takeover_count: number;
  address: string | null;
  protocol: string | null;
  clean_start: boolean | null;
  sources: string[] | null;
  first_seen_at: number;
}

/** Whole milliseconds (the columns are timestamptz(3); float arithmetic may leave a fraction). */
const whole = (v: number | null): number | null => (v === null ? null : Math.round(v));

/** The same DeviceState as toDeviceState, from a raw row. */
export function fromRawDevice(r: RawDevice): DeviceState {
  return {
    id: r.id,
    status: toStatus(r.status),
    statusSince: whole(r.status_since)!,
    keepaliveSeconds: r.keepalive_seconds,
    lastSeenAt: whole(r.last_seen_at),
    lastPingAt: whole(r.last_ping_at),
    lastMessageAt: whole(r.last_message_at),
    connectedAt: whole(r.connected_at),
    sessionOpen: r.session_open,
    lastDisconnectAt: whole(r.last_disconnect_at),
    lastDisconnectReason: toReason(r.last_disconnect_reason),
    disconnectCount: r.disconnect_count,
    address: r.address,
    protocol: r.protocol,
    cleanStart: r.clean_start,
    sources: [...new Set(r.sources ?? [])].sort() as SignalSource[],
    firstSeenAt: whole(r.first_seen_at)!,
    connectReportedAt: whole(r.connect_reported_at),
    lastConfirmedAt: whole(r.last_confirmed_at),
    lastClosed: null,
    takeoverCount: r.takeover_count,
    takeoverWillPending: false,
  };
}

/** A session row as loadFleetPages selects it. */
export interface RawSession {
  device_id: string;
  connected_at: number;
  disconnected_at: number | null;
  reason: string | null;
  keepalive_seconds: number | null;
  last_activity_at: number | null;
  inferred: boolean;
}

export function fromRawSession(r: RawSession): SessionRecord {
  return {
    deviceId: r.device_id,
    connectedAt: whole(r.connected_at)!,
    disconnectedAt: whole(r.disconnected_at),
    reason: toReason(r.reason),
    keepaliveSeconds: r.keepalive_seconds,
    lastActivityAt: whole(r.last_activity_at),
    ...(r.inferred && { inferred: true }),
  };
}

export function toSessionRecord(row: SessionRow): SessionRecord {
  return {
    deviceId: row.deviceId,
    connectedAt: ms(row.connectedAt),
    disconnectedAt: msOrNull(row.disconnectedAt),
    reason: toReason(row.reason),
    keepaliveSeconds: row.keepaliveSeconds,
    lastActivityAt: msOrNull(row.lastActivityAt),
    ...(row.inferred && { inferred: true }),
  };
}

/** A monitoring gap: the monitor could not hear the broker from startedAt to endedAt. */
export interface GapRecord {
  id: string;
  startedAt: number;
  endedAt: number | null;
  reason: string;
}

export function toGapRecord(row: MonitorGap): GapRecord {
  return { id: row.id.toString(), startedAt: ms(row.startedAt), endedAt: msOrNull(row.endedAt), reason: row.reason };
}
