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
