import type { DisconnectReason, SignalSource } from "../ingest/events";

export const DEVICE_STATUSES = ["online", "late", "offline", "unknown"] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

/**
 * How long before a broker restart's estimated stop a session end the broker
 * itself reported (the embedded broker closing with keepwatch) may lie and
 * still be that restart's drop.
 */
export const RESTART_STOP_MATCH_MS = 5_000;

/**
 * What the monitor remembers about the most recently closed session, so that a
 * broker report arriving late or out of order can still be matched to it.
 * Not needed after a restart (restored devices start with `null`).
 */
export interface ClosedSession {
  /** The session's key (see `DeviceState.connectedAt`). */
  connectedAt: number;
  /** The broker's own time for its connect (the key may have been nudged forward). */
  connectReportedAt: number;
  disconnectedAt: number;
  /** `unknown` and `will` are provisional and may be refined by a later broker report. */
  reason: DisconnectReason;
  /** Whether closing it counted toward `disconnectCount`. */
  counted: boolean;
  /** Broker timestamp of the report that ended it; null when the monitor inferred the end (silence, will). */
  reportedEndAt: number | null;
}

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
  /**
   * Start of the open session, or of the last one when offline. This is the
   * session's key: strictly increasing per device (nudged +1 ms when a broker
   * stamps two connects with the same time).
   */
  connectedAt: number | null;
  /** True while a connection session is open (connect seen, no disconnect yet). */
  sessionOpen: boolean;
  lastDisconnectAt: number | null;
  lastDisconnectReason: DisconnectReason | null;
  /** Times the device went offline (takeovers are not counted: the id never went offline). */
  disconnectCount: number;
  address: string | null;
  protocol: string | null;
  cleanStart: boolean | null;
  /** Sources that have told us about this device (sorted, unique). */
  sources: readonly SignalSource[];
  firstSeenAt: number;

  // ---- added by lib/fleet/machine.ts; restore() fills defaults when a saved row lacks them ----

  /** The broker's own time for the current/last connect (`connectedAt` may be nudged forward). */
  connectReportedAt: number | null;
  /**
   * Last time the device was known alive: its last sign of life, or a replayed
   * (retained) status that re-confirmed it. Silence is measured from here.
   */
  lastConfirmedAt: number | null;
  /** The most recently closed session (see ClosedSession). */
  lastClosed: ClosedSession | null;
  /** Sessions that ended because another connection took over the client id. */
  takeoverCount: number;
  /**
   * A takeover just replaced a connection; that old connection's last will may
   * still be published and must not take the new connection offline.
   */
  takeoverWillPending: boolean;
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
  /**
   * The end was inferred, not reported: nobody saw the disconnect (the monitor
   * was away), the device simply showed no sign of life once watched again.
   */
  inferred?: boolean;
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
      /** See SessionRecord.inferred. */
      inferred?: boolean;
    }
  /**
   * A session already closed learned its true reason from a late broker report
   * (e.g. EMQX's `disconnected: takenover` arriving after the new `connected`).
   * Update the reason of session (deviceId, connectedAt); it is not a new
   * disconnect and must not be counted or alerted on again.
   */
  | {
      type: "session-refine";
      deviceId: string;
      connectedAt: number;
      /** When that session was closed (the alert engine un-counts a drop that turns out a takeover). */
      disconnectedAt: number;
      reason: DisconnectReason;
    }
  | { type: "status-change"; deviceId: string; from: DeviceStatus | null; to: DeviceStatus; at: number };
