/**
 * Client state of the fleet page: what the live stream has told us, the
 * operator's view (filter, search, sort) and the rows that view selects.
 *
 * The store is a vanilla zustand store created per page (see
 * FleetStoreProvider), so tests and previews can build one from a snapshot.
 */
import { createStore, type StoreApi } from "zustand/vanilla";
import type { DeltaMessage, DeviceDto, HealthDto, SnapshotMessage, StatusCounts } from "@/lib/api/dto";
import { createRowsSelector, DEFAULT_VIEW, type RowsSelector, type ViewQuery } from "./select";

export type StreamState = "connecting" | "live" | "reconnecting";

export interface ConnectionInfo {
  state: StreamState;
  /** Browser time (epoch ms) the stream last came up (state "live") or went down (any other state). */
  since: number;
  /** Why the stream last went down, when known. */
  lastError: string | null;
  /** Browser time of the last snapshot or delta. */
  lastMessageAt: number | null;
}

export interface FleetData {
  /** Every known device by id. Replaced by a snapshot, updated in place by deltas: watch `version`. */
  devices: ReadonlyMap<string, DeviceDto>;
  /** Bumped whenever `devices` changes. */
  version: number;
  hasSnapshot: boolean;
  counts: StatusCounts;
  health: HealthDto | null;
  /** Server clock minus browser clock (ms): server "now" is `nowMs + serverOffsetMs`. */
  serverOffsetMs: number;
  connection: ConnectionInfo;
  /** Browser clock, advanced once a second by tick(): the one clock relative times render from. */
  nowMs: number;
  view: ViewQuery;
  /** Devices the view selects, in display order. Same array while they do not change. */
  rows: readonly DeviceDto[];
}

export interface FleetActions {
  /** Replaces everything (first message of every stream connection). */
  applySnapshot(msg: SnapshotMessage, receivedAt?: number): void;
  /** Each device in the delta replaces the one held. Ignored before the first snapshot. */
  applyDelta(msg: DeltaMessage, receivedAt?: number): void;
  setConnection(state: StreamState, opts?: { at?: number; error?: string | null }): void;
  tick(now?: number): void;
  setView(patch: Partial<ViewQuery>): void;
}

export type FleetState = FleetData & FleetActions;
export type FleetStore = StoreApi<FleetState>;

export interface FleetStoreOptions {
  /** Browser clock (tests pass a fixed one). */
  now?: () => number;
  /** Start from this snapshot, received at `now()`. */
  snapshot?: SnapshotMessage;
  view?: Partial<ViewQuery>;
  /** Row selector (tests pass one to observe how often it sorts). */
  selectRows?: RowsSelector;
}

/** How long the stream may be down before the page calls its data stale. */
export const STALE_AFTER_MS = 5_000;

/**
 * Deltas refresh the clock offset only when it moved by more than this: the
 * offset measured on each message includes network latency, and following
 * that jitter would make every relative time flicker.
 */
export const OFFSET_TOLERANCE_MS = 1_000;

export const ZERO_COUNTS: StatusCounts = Object.freeze({ online: 0, late: 0, offline: 0, unknown: 0, total: 0 });

export function isStreamStale(connection: ConnectionInfo, nowMs: number): boolean {
  return connection.state !== "live" && nowMs - connection.since > STALE_AFTER_MS;
}

export function serverNow(s: Pick<FleetData, "nowMs" | "serverOffsetMs">): number {
  return s.nowMs + s.serverOffsetMs;
}

function offsetOf(serverTime: string, receivedAt: number): number {
  return Date.parse(serverTime) - receivedAt;
}

export function createFleetStore(options: FleetStoreOptions = {}): FleetStore {
  const now = options.now ?? Date.now;
  const selectRows = options.selectRows ?? createRowsSelector();
  let devices = new Map<string, DeviceDto>();

  const snapshotData = (msg: SnapshotMessage, receivedAt: number, view: ViewQuery) => {
    devices = new Map(msg.devices.map((d) => [d.id, d]));
    return {
      devices,
      hasSnapshot: true,
      counts: msg.counts,
      health: msg.health,
      serverOffsetMs: offsetOf(msg.serverTime, receivedAt),
      rows: selectRows(devices, view),
    };
  };

  const startedAt = now();
  const view: ViewQuery = { ...DEFAULT_VIEW, ...options.view };
  const initial: FleetData = {
    devices,
    version: 0,
    hasSnapshot: false,
    counts: ZERO_COUNTS,
    health: null,
    serverOffsetMs: 0,
    connection: { state: "connecting", since: startedAt, lastError: null, lastMessageAt: null },
    nowMs: startedAt,
    view,
    rows: selectRows(devices, view),
  };
  if (options.snapshot) {
    Object.assign(initial, snapshotData(options.snapshot, startedAt, view), {
      version: 1,
      connection: { ...initial.connection, lastMessageAt: startedAt },
    });
  }

  return createStore<FleetState>()((set, get) => ({
    ...initial,

    applySnapshot(msg, receivedAt = now()) {
      const s = get();
      set({
        ...snapshotData(msg, receivedAt, s.view),
        version: s.version + 1,
        connection: { ...s.connection, lastMessageAt: receivedAt },
      });
    },

    applyDelta(msg, receivedAt = now()) {
      const s = get();
      if (!s.hasSnapshot) return;
      const sample = offsetOf(msg.serverTime, receivedAt);
      const patch: Partial<FleetData> = {
        counts: msg.counts,
        health: msg.health,
        connection: { ...s.connection, lastMessageAt: receivedAt },
      };
      if (Math.abs(sample - s.serverOffsetMs) > OFFSET_TOLERANCE_MS) patch.serverOffsetMs = sample;
      if (msg.devices.length > 0 || msg.removed?.length) {
        for (const d of msg.devices) devices.set(d.id, d);
        for (const id of msg.removed ?? []) devices.delete(id);
        patch.version = s.version + 1;
        patch.rows = selectRows(devices, s.view);
      }
      set(patch);
    },

    setConnection(state, opts = {}) {
      const s = get();
      const at = opts.at ?? now();
      const lastError = state === "live" ? null : opts.error !== undefined ? opts.error : s.connection.lastError;
      if (state === s.connection.state && lastError === s.connection.lastError) return;
      set({
        connection: {
          ...s.connection,
          state,
          // `since` marks going down or coming up, not each retry in between.
          since: (state === "live") === (s.connection.state === "live") ? s.connection.since : at,
          lastError,
        },
      });
    },

    tick(at = now()) {
      set({ nowMs: at });
    },

    setView(patch) {
      const s = get();
      const view = { ...s.view, ...patch };
      set({ view, rows: selectRows(devices, view) });
    },
  }));
}
