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

export const MINUTE_MS = 60_000;
export const minuteOf = (at: number): number => Math.floor(at / MINUTE_MS) * MINUTE_MS;

/** Two reports of one packet from two sources (a debug log line and a device-topic message) arrive this close. */
export const DUPLICATE_WINDOW_MS = 250;

interface DeviceMemo {
  /** Last activity (not disconnect) time; gaps are measured from here. */
  lastAt: number | null;
  /** Last session end seen. */
  closedAt: number | null;
  /** Last recorded activity point, for duplicate detection. */
  last: { kind: ActivityKind; at: number; source: SignalSource | null } | null;
}

const ACTIVITY_OF: Partial<Record<ActivityEvent["kind"], ActivityKind>> = {
  ping: "pingreq",
  publish: "publish",
  packet: "packet",
};

/**
 * Turns events and fleet effects into points, and keeps the minute roll-ups
 * of what it has seen until they are taken. Connects and disconnects come
 * from the fleet's session effects (one per session, with the reason the
 * fleet settled on, takeovers included), so a disconnect reported by two
 * sources is recorded once.
 */
export class ActivityAccumulator {
  private readonly devices = new Map<string, DeviceMemo>();
  /** deviceId → minute → roll-up not yet taken. */
  private readonly pending = new Map<string, Map<number, MinuteRollup>>();
  private pendingCount = 0;

  constructor(private readonly ignore: ReadonlySet<string> = new Set()) {}

  /** Activity points of a batch of ingest events (connects and disconnects come from effects). */
  events(events: readonly ActivityEvent[]): ActivityPoint[] {
    const out: ActivityPoint[] = [];
    for (const ev of events) {
      const kind = ACTIVITY_OF[ev.kind];
      if (!kind || this.ignore.has(ev.deviceId)) continue;
      if (ev.kind === "publish" && ev.topic.startsWith("$")) continue;
      const p = this.activity(ev.deviceId, ev.at, kind, ev.source);
      if (p) out.push(p);
    }
    return out;
  }

  /** Connect and disconnect points of the fleet's session effects. */
  effects(effects: readonly FleetEffect[]): ActivityPoint[] {
    const out: ActivityPoint[] = [];
    for (const e of effects) {
      if (e.type === "session-open") {
        const id = e.session.deviceId;
        if (this.ignore.has(id)) continue;
        const m = this.memo(id);
        const at = e.session.connectedAt;
        m.lastAt = m.lastAt === null ? at : Math.max(m.lastAt, at);
        this.count(id, at, null);
        out.push({ deviceId: id, at, kind: "connect", reason: null });
      } else if (e.type === "session-close") {
        if (this.ignore.has(e.deviceId)) continue;
        const m = this.memo(e.deviceId);
        m.closedAt = m.closedAt === null ? e.disconnectedAt : Math.max(m.closedAt, e.disconnectedAt);
        out.push({ deviceId: e.deviceId, at: e.disconnectedAt, kind: "disconnect", reason: e.reason });
      }
    }
    return out;
  }

  /** Roll-ups of minutes that ended before `before` (epoch ms), removed from the accumulator. */
  takeRollups(before: number): MinuteRollup[] {
    const out: MinuteRollup[] = [];
    for (const [id, minutes] of this.pending) {
      for (const [minute, r] of minutes) {
        if (minute + MINUTE_MS > before) continue;
        out.push(r);
        minutes.delete(minute);
        this.pendingCount--;
      }
      if (minutes.size === 0) this.pending.delete(id);
    }
    return out;
  }

  /** Roll-ups of one device not yet taken (the current minute, mostly), oldest first. */
  pendingRollups(deviceId: string): MinuteRollup[] {
    return [...(this.pending.get(deviceId)?.values() ?? [])].sort((a, b) => a.minute - b.minute);
  }

  get pendingRollupCount(): number {
    return this.pendingCount;
  }

  /** Forgets devices (bounded memory for fleets that churn ids). */
  forgetIdleBefore(at: number): void {
    for (const [id, m] of this.devices) {
      if ((m.lastAt ?? 0) < at && (m.closedAt ?? 0) < at && !this.pending.has(id)) this.devices.delete(id);
    }
  }

  private memo(id: string): DeviceMemo {
    let m = this.devices.get(id);
    if (!m) {
      m = { lastAt: null, closedAt: null, last: null };
      this.devices.set(id, m);
    }
    return m;
  }

  private activity(id: string, at: number, kind: ActivityKind, source: SignalSource): ActivityPoint | null {
    const m = this.memo(id);
    const prev = m.last;
    if (
      prev &&
      prev.kind === kind &&
      (prev.at === at || (prev.source !== source && Math.abs(prev.at - at) < DUPLICATE_WINDOW_MS))
    ) {
      return null; // the same packet reported twice
    }
    m.last = { kind, at, source };
    let gap: number | null = null;
    if (m.lastAt !== null && at >= m.lastAt) {
      const sessionEndedBetween = m.closedAt !== null && m.closedAt >= m.lastAt && at > m.closedAt;
      if (!sessionEndedBetween) gap = at - m.lastAt;
    }
    if (m.lastAt === null || at > m.lastAt) m.lastAt = at;
    this.count(id, at, gap);
    return { deviceId: id, at, kind, reason: null };
  }

  private count(id: string, at: number, gap: number | null): void {
    const minute = minuteOf(at);
    let minutes = this.pending.get(id);
    if (!minutes) {
      minutes = new Map();
      this.pending.set(id, minutes);
    }
    let r = minutes.get(minute);
    if (!r) {
      r = { deviceId: id, minute, count: 0, maxGapMs: null };
      minutes.set(minute, r);
      this.pendingCount++;
    }
    r.count++;
    if (gap !== null) r.maxGapMs = Math.max(r.maxGapMs ?? 0, Math.min(gap, 2_147_483_647));
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
