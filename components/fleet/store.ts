/**
 * Client state of the fleet page: what the live stream has told us, the
 * operator's view (filter, search, sort) and the window of rows the stream
 * keeps this tab supplied with. The server filters, sorts and pages
 * (lib/live/views.ts); the tab holds only its window, whatever the fleet size.
 *
 * The store is a vanilla zustand store created per page (see
 * FleetStoreProvider), so tests and previews can build one from a snapshot.
 */
import { createStore, type StoreApi } from "zustand/vanilla";
import type { DeltaMessage, DeviceDto, HealthDto, SnapshotMessage, StatusCounts, WindowDto } from "@/lib/api/dto";
import { DEFAULT_VIEW, WINDOW_LIMIT, windowFor, type ViewQuery, type WindowWant } from "./select";

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
  /** The window the server last described: where its rows sit in the view, and how many the view holds. */
  window: WindowDto;
  /** The window's rows, in order (`rows[i]` is row `window.offset + i` of the view). Same array while unchanged. */
  rows: readonly DeviceDto[];
  /** Bumped whenever `rows` changes. */
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
  /** The window this tab wants; the stream follows it (stream.ts). */
  want: WindowWant;
}

export interface FleetActions {
  /** Replaces the window (first message of every stream connection). */
  applySnapshot(msg: SnapshotMessage, receivedAt?: number): void;
  /** Updates the window's devices, and the window when it moved. Ignored before the first snapshot. */
  applyDelta(msg: DeltaMessage, receivedAt?: number): void;
  setConnection(state: StreamState, opts?: { at?: number; error?: string | null }): void;
  tick(now?: number): void;
  /** A new filter or order: the window starts again from the top. */
  setView(patch: Partial<ViewQuery>): void;
  /** Rows `first…last` of the view are on screen: move the window when they near its edge. */
  showRange(first: number, last: number): void;
}

export type FleetState = FleetData & FleetActions;
export type FleetStore = StoreApi<FleetState>;

export interface FleetStoreOptions {
  /** Browser clock (tests pass a fixed one). */
  now?: () => number;
  /** Start from this snapshot, received at `now()`. */
  snapshot?: SnapshotMessage;
  /** The clock of the first render (a server-rendered page passes its server's, so both render alike). */
  initialNow?: number;
  view?: Partial<ViewQuery>;
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

const EMPTY_WINDOW: WindowDto = Object.freeze({ offset: 0, total: 0, ids: [] }) as WindowDto;

export function createFleetStore(options: FleetStoreOptions = {}): FleetStore {
  const now = options.now ?? Date.now;
  /** The window's devices by id (replaced by a snapshot, updated by deltas). */
  let byId = new Map<string, DeviceDto>();
  const rowsOf = (ids: readonly string[]): DeviceDto[] => {
    const rows: DeviceDto[] = [];
    for (const id of ids) {
      const d = byId.get(id);
      if (d) rows.push(d);
    }
    return rows;
  };

  const snapshotData = (msg: SnapshotMessage, receivedAt: number) => {
    byId = new Map(msg.devices.map((d) => [d.id, d]));
    return {
      window: msg.window,
      rows: rowsOf(msg.window.ids),
      hasSnapshot: true,
      counts: msg.counts,
      health: msg.health,
      serverOffsetMs: offsetOf(msg.serverTime, receivedAt),
    };
  };

  const startedAt = options.initialNow ?? now();
  const initial: FleetData = {
    window: EMPTY_WINDOW,
    rows: [],
    version: 0,
    hasSnapshot: false,
    counts: ZERO_COUNTS,
    health: null,
    serverOffsetMs: 0,
    connection: { state: "connecting", since: startedAt, lastError: null, lastMessageAt: null },
    nowMs: startedAt,
    view: { ...DEFAULT_VIEW, ...options.view },
    want: { offset: 0, limit: WINDOW_LIMIT },
  };
  if (options.snapshot) {
    Object.assign(initial, snapshotData(options.snapshot, startedAt), {
      version: 1,
      connection: { ...initial.connection, lastMessageAt: startedAt },
    });
  }

  return createStore<FleetState>()((set, get) => ({
    ...initial,

    applySnapshot(msg, receivedAt = now()) {
      const s = get();
      set({
        ...snapshotData(msg, receivedAt),
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
      if (msg.devices.length > 0 || msg.window) {
        for (const d of msg.devices) byId.set(d.id, d);
        const window = msg.window ?? s.window;
        if (msg.window) {
          const keep = new Set(window.ids);
          for (const id of byId.keys()) if (!keep.has(id)) byId.delete(id);
        }
        patch.window = window;
        patch.rows = rowsOf(window.ids);
        patch.version = s.version + 1;
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
      set({ view: { ...s.view, ...patch }, want: { offset: 0, limit: s.want.limit } });
    },

    showRange(first, last) {
      const s = get();
      const want = windowFor(first, last, s.window.total, s.want);
      if (want !== s.want) set({ want });
    },
  }));
}
