/**
 * Per-device activity as the timeline and the diagnosis see it: one point per
 * connect, PINGREQ, publish, other control packet or disconnect, and the
 * minute roll-ups (how many activities, largest gap) kept for longer ranges.
 *
 * Pure: the recorder (lib/store/activity.ts) feeds it events and fleet
 * effects and writes what it returns; nothing here does I/O or reads a clock.
 *
 * Gaps: the time between consecutive activities of one session. A connect
 * starts a session (no gap: it is the first sign of life); a PINGREQ,
 * publish or packet measures its gap from the previous activity; a
 * disconnect is not activity (the broker or the monitor reports it) and ends
 * the session, so the first activity after it starts afresh without a gap.
 */
import type { ActivityEvent, DisconnectReason, SignalSource } from "../ingest/events";
import type { FleetEffect } from "../fleet/types";
import { MINUTE_MS } from "../keepalive";

export const ACTIVITY_KINDS = ["connect", "pingreq", "publish", "disconnect", "packet"] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

/** Stored as SMALLINT: the index is the code minus one. */
export const KIND_CODE: Record<ActivityKind, number> = { connect: 1, pingreq: 2, publish: 3, disconnect: 4, packet: 5 };
export const kindOfCode = (code: number): ActivityKind | null => ACTIVITY_KINDS[code - 1] ?? null;

export interface ActivityPoint {
  deviceId: string;
  at: number;
  kind: ActivityKind;
  /** For a disconnect: why the session ended. */
  reason: DisconnectReason | null;
}

export interface MinuteRollup {
  deviceId: string;
  /** Start of the minute (epoch ms). */
  minute: number;
  count: number;
  /** Largest gap (ms) that ended in this minute, null when none did. */
  maxGapMs: number | null;
}

export { MINUTE_MS };
export const minuteOf = (at: number): number => Math.floor(at / MINUTE_MS) * MINUTE_MS;

/** Two reports of one packet from two sources (a debug log line and a device-topic message) arrive this close. */
export const DUPLICATE_WINDOW_MS = 250;

/** Raw points of one device and kind closer than this to the last stored one are counted, not stored. */
export const THIN_WINDOW_MS = 1_000;

const ACTIVITY_OF: Partial<Record<ActivityEvent["kind"], ActivityKind>> = {
  ping: "pingreq",
  publish: "publish",
  packet: "packet",
};

const SOURCE_CODE: Record<SignalSource, number> = {
  "mosquitto-log": 1,
  "mosquitto-debug": 2,
  emqx: 3,
  nanomq: 4,
  aedes: 5,
  "device-topic": 6,
};

/**
 * The points of a batch as they happen, for live views (the device page's
 * stream): every PINGREQ, publish and packet event, and the connects and
 * disconnects of session effects. Not thinned or merged across sources like
 * the stored points; a refetch shows the stored ones.
 */
export function livePoints(events: readonly ActivityEvent[], effects: readonly FleetEffect[] = []): ActivityPoint[] {
  const out: ActivityPoint[] = [];
  for (const ev of events) {
    const kind = ACTIVITY_OF[ev.kind];
    if (!kind || (ev.kind === "publish" && ev.topic.startsWith("$"))) continue;
    out.push({ deviceId: ev.deviceId, at: ev.at, kind, reason: null });
  }
  for (const e of effects) {
    if (e.type === "session-open")
      out.push({ deviceId: e.session.deviceId, at: e.session.connectedAt, kind: "connect", reason: null });
    else if (e.type === "session-close")
      out.push({ deviceId: e.deviceId, at: e.disconnectedAt, kind: "disconnect", reason: e.reason });
  }
  return out;
}

/** "No value" in the Float64 columns; NaN compares false with everything, so every read checks it. */
const NONE = Number.NaN;
const has = (v: number): boolean => v === v;
const INT4_MAX = 2_147_483_647;

/** A column of DeviceRows: one slot per row. */
type Column = Float64Array | Uint8Array | Int32Array;
/** Every column of DeviceRows, grown together (the check below the class keeps the list whole). */
const COLUMNS = [
  "lastAt",
  "closedAt",
  "dupKind",
  "dupAt",
  "dupSource",
  "windowAt",
  "windowKinds",
  "heldKind",
  "heldAt",
  "minute",
  "count",
  "maxGap",
] as const;

/** A copy of the column with room for `cap` slots (the same element type). */
function grown<T extends Column>(column: T, cap: number): T {
  const copy = new (column.constructor as new (length: number) => T)(cap);
  copy.set(column);
  return copy;
}

/**
 * Per-device memory of the accumulator, one row per device in typed-array
 * columns. At fleet scale an object per device (plus boxed timestamps and a
 * Map of minutes) cost several hundred bytes each; a row here is ~80 bytes,
 * and the columns are invisible to the garbage collector.
 */
class DeviceRows {
  readonly index = new Map<string, number>();
  /** Row → device id (an empty string for a free row). */
  ids: string[] = [];
  private free: number[] = [];
  private capacity = 0;
  /** Last activity (not disconnect) time; gaps are measured from here. */
  lastAt = new Float64Array(0);
  /** Last session end seen. */
  closedAt = new Float64Array(0);
  /** Last recorded activity (kind, time, source), for duplicate detection. */
  dupKind = new Uint8Array(0);
  dupAt = new Float64Array(0);
  dupSource = new Uint8Array(0);
  /** The current thinning window: its start (a stored point) and the kinds stored in it (bits of 1 << code). */
  windowAt = new Float64Array(0);
  windowKinds = new Uint8Array(0);
  /** The latest point thinned away (kind 0: none), stored after all if it turns out to start a gap. */
  heldKind = new Uint8Array(0);
  heldAt = new Float64Array(0);
  /** The current minute's roll-up, inline: start, count (0: nothing pending), largest gap (-1: none). */
  minute = new Float64Array(0);
  count = new Int32Array(0);
  maxGap = new Int32Array(0);

  get size(): number {
    return this.index.size;
  }

  row(id: string): number {
    let i = this.index.get(id);
    if (i !== undefined) return i;
    i = this.free.pop() ?? this.ids.length;
    if (i >= this.capacity) this.grow();
    this.ids[i] = id;
    this.lastAt[i] = this.closedAt[i] = this.dupAt[i] = this.windowAt[i] = this.heldAt[i] = this.minute[i] = NONE;
    this.dupKind[i] = this.dupSource[i] = this.windowKinds[i] = this.heldKind[i] = 0;
    this.count[i] = 0;
    this.maxGap[i] = -1;
    this.index.set(id, i);
    return i;
  }

  remove(id: string, i: number): void {
    this.index.delete(id);
    this.ids[i] = "";
    this.free.push(i);
  }

  private grow(): void {
    const cap = Math.max(1024, Math.ceil(this.capacity * 1.5));
    const columns = this as Record<ColumnName, Column>;
    for (const key of COLUMNS) columns[key] = grown(columns[key], cap);
    this.capacity = cap;
  }
}

type ColumnName = (typeof COLUMNS)[number];
/** Fails to compile when a column of DeviceRows is missing from COLUMNS (it would never grow). */
type Unlisted = Exclude<
  { [K in keyof DeviceRows]: DeviceRows[K] extends Column ? K : never }[keyof DeviceRows],
  ColumnName
>;
const everyColumnListed: [Unlisted] extends [never] ? true : never = true;
void everyColumnListed;

/**
 * Turns events and fleet effects into points, and keeps the minute roll-ups
 * of what it has seen until they are taken. Connects and disconnects come
 * from the fleet's session effects (one per session, with the reason the
 * fleet settled on, takeovers included), so a disconnect reported by two
 * sources is recorded once.
 *
 * Thinning: a device that publishes many times a second would otherwise cost
 * a stored row per message. Per device, a window of THIN_WINDOW_MS starts at a
 * stored point, and within it one point per kind is stored; the others are
 * still counted in the minute roll-ups (whose count and largest gap stay
 * exact). The point that ends a gap of at least the window is always stored
 * (the window started at or before the gap's start, so it has ended), and so
 * is the point that starts it:
 * the latest thinned point is held and stored when the next activity ends a
 * gap from it, or when the session opens or closes. So stored gaps of at
 * least the window are exact; shorter ones may read up to two windows long.
 */
export class ActivityAccumulator {
  private readonly rows = new DeviceRows();
  /**
   * Minute → rows whose inline roll-up may be that minute. Taking a minute
   * visits only its rows, not the fleet; a row listed under a minute it has
   * since left (or already taken) is skipped.
   */
  private readonly byMinute = new Map<number, number[]>();
  /** Roll-ups no longer inline (the device moved on to a later minute, or a late point): minute → device → roll-up. */
  private readonly spilled = new Map<number, Map<string, MinuteRollup>>();
  /** How far takeRollups has got in a minute's list, while it takes it in slices. */
  private readonly byMinuteTaken = new Map<number, number>();
  private pendingCount = 0;

  constructor(private readonly ignore: ReadonlySet<string> = new Set()) {}

  /** Devices remembered (for tests and health). */
  get deviceCount(): number {
    return this.rows.size;
  }

  /** Activity points of a batch of ingest events (connects and disconnects come from effects). */
  events(events: readonly ActivityEvent[]): ActivityPoint[] {
    const out: ActivityPoint[] = [];
    for (const ev of events) {
      const kind = ACTIVITY_OF[ev.kind];
      if (!kind || this.ignore.has(ev.deviceId)) continue;
      if (ev.kind === "publish" && ev.topic.startsWith("$")) continue;
      this.activity(ev.deviceId, ev.at, kind, ev.source, out);
    }
    return out;
  }

  /** Connect and disconnect points of the fleet's session effects. */
  effects(effects: readonly FleetEffect[]): ActivityPoint[] {
    const out: ActivityPoint[] = [];
    const r = this.rows;
    for (const e of effects) {
      if (e.type === "session-open") {
        const id = e.session.deviceId;
        if (this.ignore.has(id)) continue;
        const i = r.row(id);
        const at = e.session.connectedAt;
        this.releaseHeld(i, out);
        r.lastAt[i] = has(r.lastAt[i]) ? Math.max(r.lastAt[i], at) : at;
        this.count(i, at, null);
        out.push({ deviceId: id, at, kind: "connect", reason: null });
      } else if (e.type === "session-close") {
        if (this.ignore.has(e.deviceId)) continue;
        const i = r.row(e.deviceId);
        this.releaseHeld(i, out);
        r.closedAt[i] = has(r.closedAt[i]) ? Math.max(r.closedAt[i], e.disconnectedAt) : e.disconnectedAt;
        out.push({ deviceId: e.deviceId, at: e.disconnectedAt, kind: "disconnect", reason: e.reason });
      }
    }
    return out;
  }

  /**
   * Roll-ups of minutes that ended before `before` (epoch ms), removed from
   * the accumulator: about `limit` at most (a minute's spilled devices are
   * taken whole), so a minute's end with a million devices is taken in
   * slices; fewer than `limit` means none is left.
   */
  takeRollups(before: number, limit = Number.POSITIVE_INFINITY): MinuteRollup[] {
    const out: MinuteRollup[] = [];
    for (const [minute, byDevice] of this.spilled) {
      if (minute + MINUTE_MS > before) continue;
      if (out.length >= limit) return out;
      for (const r of byDevice.values()) out.push(r);
      this.pendingCount -= byDevice.size;
      this.spilled.delete(minute);
    }
    const r = this.rows;
    for (const [minute, list] of this.byMinute) {
      if (minute + MINUTE_MS > before) continue;
      let at = this.byMinuteTaken.get(minute) ?? 0;
      for (; at < list.length; at++) {
        if (out.length >= limit) {
          this.byMinuteTaken.set(minute, at);
          return out;
        }
        const i = list[at];
        if (r.count[i] === 0 || r.minute[i] !== minute) continue;
        out.push(this.inline(i));
        r.count[i] = 0;
        r.maxGap[i] = -1;
        this.pendingCount--;
      }
      this.byMinute.delete(minute);
      this.byMinuteTaken.delete(minute);
    }
    return out;
  }

  /** Roll-ups of one device not yet taken (the current minute, mostly), oldest first. */
  pendingRollups(deviceId: string): MinuteRollup[] {
    const out: MinuteRollup[] = [];
    for (const byDevice of this.spilled.values()) {
      const s = byDevice.get(deviceId);
      if (s) out.push({ ...s });
    }
    const i = this.rows.index.get(deviceId);
    if (i !== undefined && this.rows.count[i] > 0) out.push(this.inline(i));
    return out.sort((a, b) => a.minute - b.minute);
  }

  get pendingRollupCount(): number {
    return this.pendingCount;
  }

  /** Forgets devices (bounded memory for fleets that churn ids). */
  forgetIdleBefore(at: number): void {
    const r = this.rows;
    const spilled = new Set<string>();
    for (const byDevice of this.spilled.values()) for (const id of byDevice.keys()) spilled.add(id);
    for (const [id, i] of r.index) {
      const idle =
        (!has(r.lastAt[i]) || r.lastAt[i] < at) &&
        (!has(r.closedAt[i]) || r.closedAt[i] < at) &&
        r.count[i] === 0 &&
        !spilled.has(id);
      if (idle) r.remove(id, i);
    }
  }

  private inline(i: number): MinuteRollup {
    const r = this.rows;
    return {
      deviceId: r.ids[i],
      minute: r.minute[i],
      count: r.count[i],
      maxGapMs: r.maxGap[i] < 0 ? null : r.maxGap[i],
    };
  }

  private activity(id: string, at: number, kind: ActivityKind, source: SignalSource, out: ActivityPoint[]): void {
    const r = this.rows;
    const i = r.row(id);
    const code = KIND_CODE[kind];
    const src = SOURCE_CODE[source] ?? 0;
    if (
      r.dupKind[i] === code &&
      (r.dupAt[i] === at || (r.dupSource[i] !== src && Math.abs(r.dupAt[i] - at) < DUPLICATE_WINDOW_MS))
    ) {
      return; // the same packet reported twice
    }
    r.dupKind[i] = code;
    r.dupAt[i] = at;
    r.dupSource[i] = src;
    let gap: number | null = null;
    const lastAt = r.lastAt[i];
    if (has(lastAt) && at >= lastAt) {
      const closedAt = r.closedAt[i];
      const sessionEndedBetween = has(closedAt) && closedAt >= lastAt && at > closedAt;
      if (!sessionEndedBetween) gap = at - lastAt;
    }
    if (!has(lastAt) || at > lastAt) r.lastAt[i] = at;
    this.count(i, at, gap);

    const bit = 1 << code;
    const since = at - r.windowAt[i];
    if (since >= 0 && since < THIN_WINDOW_MS) {
      if (r.windowKinds[i] & bit) {
        // Counted above, not stored; held in case it turns out to be the last sign of life before a gap.
        if (r.heldKind[i] === 0 || at >= r.heldAt[i]) {
          r.heldKind[i] = code;
          r.heldAt[i] = at;
        }
        return;
      }
      r.windowKinds[i] |= bit;
    } else if (!(since < 0)) {
      // A new window starts here (an out-of-order point, since < 0, is stored and leaves the window as it was).
      r.windowAt[i] = at;
      r.windowKinds[i] = bit;
    }
    // A gap of at least the window ends here: when it started at a thinned point, store that one too.
    if (r.heldKind[i] !== 0 && gap !== null && gap >= THIN_WINDOW_MS && r.heldAt[i] === at - gap)
      this.releaseHeld(i, out);
    r.heldKind[i] = 0;
    r.heldAt[i] = NONE;
    out.push({ deviceId: id, at, kind, reason: null });
  }

  /** Stores the held point (the last activity before a gap, or before a session opened or closed). */
  private releaseHeld(i: number, out: ActivityPoint[]): void {
    const r = this.rows;
    const code = r.heldKind[i];
    if (code === 0) return;
    out.push({ deviceId: r.ids[i], at: r.heldAt[i], kind: kindOfCode(code)!, reason: null });
    r.heldKind[i] = 0;
    r.heldAt[i] = NONE;
  }

  private count(i: number, at: number, gap: number | null): void {
    const r = this.rows;
    const minute = minuteOf(at);
    const g = gap === null ? -1 : Math.min(gap, INT4_MAX);
    if (r.count[i] > 0 && r.minute[i] !== minute) {
      if (minute < r.minute[i]) return this.spill(r.ids[i], minute, 1, g); // a late point
      // The device moved on to a later minute: the previous one waits outside the row until taken.
      this.spill(r.ids[i], r.minute[i], r.count[i], r.maxGap[i]);
      r.count[i] = 0;
      r.maxGap[i] = -1;
      this.pendingCount--;
    }
    if (r.count[i] === 0) {
      r.minute[i] = minute;
      let list = this.byMinute.get(minute);
      if (!list) this.byMinute.set(minute, (list = []));
      list.push(i);
      this.pendingCount++;
    }
    r.count[i]++;
    if (g > r.maxGap[i]) r.maxGap[i] = g;
  }

  private spill(id: string, minute: number, count: number, maxGap: number): void {
    let byDevice = this.spilled.get(minute);
    if (!byDevice) this.spilled.set(minute, (byDevice = new Map()));
    const held = byDevice.get(id);
    if (held) {
      held.count += count;
      if (maxGap >= 0) held.maxGapMs = Math.max(held.maxGapMs ?? 0, maxGap);
    } else {
      byDevice.set(id, { deviceId: id, minute, count, maxGapMs: maxGap < 0 ? null : maxGap });
      this.pendingCount++;
    }
  }
}

/** One gap in a timeline: the activity at `at` came `gapMs` after the previous one of its session. */
export interface GapSample {
  at: number;
  gapMs: number;
  kind: ActivityKind;
}

/** Gaps between consecutive activities of a sorted point list, by the rule in the header. */
export function gapsOf(points: readonly { at: number; kind: ActivityKind }[]): GapSample[] {
  const out: GapSample[] = [];
  let lastAt: number | null = null;
  for (const p of points) {
    if (p.kind === "disconnect") {
      lastAt = null;
      continue;
    }
    if (p.kind !== "connect" && lastAt !== null && p.at >= lastAt)
      out.push({ at: p.at, gapMs: p.at - lastAt, kind: p.kind });
    if (lastAt === null || p.at > lastAt) lastAt = p.at;
  }
  return out;
}
