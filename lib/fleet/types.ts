import type { DisconnectReason, SignalSource } from "../ingest/events";

export const DEVICE_STATUSES = ["online", "late", "offline", "unknown"] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

/**
 * What the monitor believes about one device. Plain data (epoch ms), owned by
 * lib/fleet; persisted by lib/store and shown by lib/live.
 */
export interface DeviceState {
  id: string;
  status: DeviceStatus;
  /** When `status` last changed. */
  statusSince: number;
  /** Keep Alive of the current/last session (seconds), null if never told. */
  keepaliveSeconds: number | null;
  /** Last sign of life of any kind (connect, ping, publish, fresh status). */
  lastSeenAt: number | null;
  lastPingAt: number | null;
  lastMessageAt: number | null;
  /** Start of the open session, or of the last one when offline. */
  connectedAt: number | null;
  /** True while a connection session is open (connect seen, no disconnect yet). */
  sessionOpen: boolean;
  lastDisconnectAt: number | null;
  lastDisconnectReason: DisconnectReason | null;
  disconnectCount: number;
  address: string | null;
  protocol: string | null;
  cleanStart: boolean | null;
  /** Sources that have told us about this device (sorted, unique). */
  sources: SignalSource[];
  firstSeenAt: number;
}

/** A connection session as stored: one connect → one disconnect. */
export interface SessionRecord {
  deviceId: string;
  connectedAt: number;
  disconnectedAt: number | null;
  reason: DisconnectReason | null;
  keepaliveSeconds: number | null;
  /** Last sign of life inside the session (for "silent before the drop"). */
  lastActivityAt: number | null;
}

/** Side effects the pure state machine asks its driver to carry out. */
export type FleetEffect =
  | { type: "session-open"; session: SessionRecord }
  | {
      type: "session-close";
      deviceId: string;
      connectedAt: number;
      disconnectedAt: number;
      reason: DisconnectReason;
      lastActivityAt: number | null;
    }
  | { type: "status-change"; deviceId: string; from: DeviceStatus | null; to: DeviceStatus; at: number };
