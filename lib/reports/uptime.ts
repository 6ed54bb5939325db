/**
 * The one definition of uptime, for the uptime reports (/api/reports/uptime)
 * and the disconnect summary (/api/disconnects/summary). Pure: stored
 * sessions, the device's first sighting and the monitor's gaps in, figures
 * out. Times are epoch ms; a period is half-open, [from, to).
 *
 * Connected time: a device is connected from a session's connected_at to
 * its end, where the end is the earliest of
 *   - its disconnected_at (a session still open: `now`),
 *   - the device's next connect (a session whose end was never recorded ends
 *     when the device connected again).
 * Sessions are merged, so overlapping or duplicate rows count once.
 *
 * Status of each instant of the period, as far as the stored data tells:
 *   online   connected (a late spell is part of it: late is not stored)
 *   unknown  not connected, and before the device was first seen or inside a
 *            monitoring gap (the monitor could not hear the broker)
 *   offline  the rest: seen before, not connected, the monitor listening
 * `late` is not stored anywhere, so it is reported as null, never as 0.
 *
 * Uptime % = online time ÷ the period's length × 100 (time before the device
 * was first seen counts as not up). Mean time between disconnects = the
 * period's length ÷ the disconnects in it (null without one). The longest
 * outage is the longest unbroken offline stretch inside the period (cut at
 * the period's edges).
 */

export interface Interval {
  start: number;
  end: number;
}

/** A stored session: `nextConnectedAt` is the device's next connect, when known (it may lie outside the rows given). */
export interface SessionSpan {
  connectedAt: number;
  disconnectedAt: number | null;
  nextConnectedAt?: number | null;
}

export interface StatusTimes {
  online: number;
  /** Not stored: always null. */
  late: null;
  offline: number;
  unknown: number;
}

export interface UptimeFigures {
  /** The period measured, [from, to). */
  from: number;
  to: number;
  /** 0–100, null for an empty period. */
  uptimePercent: number | null;
  /** Sessions that ended inside the period. */
  disconnects: number;
  meanMsBetweenDisconnects: number | null;
  /** ms; 0 when the device was never offline in the period. */
  longestOutageMs: number;
  /** ms in each status; online + offline + unknown = the period's length. */
  statusMs: StatusTimes;
  /** Uptime % per bucket, oldest first (`buckets` equal slices of the period; the last may be shorter). */
  sparkline: Array<number | null>;
}

/** Sorted, non-overlapping, non-empty intervals covering the same instants. */
export function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals.filter((i) => i.end > i.start).sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last && i.start <= last.end) last.end = Math.max(last.end, i.end);
    else out.push({ start: i.start, end: i.end });
  }
  return out;
}

/** The intervals (merged) cut to [from, to). */
export function clipIntervals(intervals: readonly Interval[], from: number, to: number): Interval[] {
  return mergeIntervals(intervals.map((i) => ({ start: Math.max(i.start, from), end: Math.min(i.end, to) })));
}

/** Total length of the intervals inside [from, to). */
export function coveredMs(intervals: readonly Interval[], from: number, to: number): number {
  let sum = 0;
  for (const i of clipIntervals(intervals, from, to)) sum += i.end - i.start;
  return sum;
}

/** [from, to) less the intervals, as sorted intervals. */
export function complement(intervals: readonly Interval[], from: number, to: number): Interval[] {
  const out: Interval[] = [];
  let at = from;
  for (const i of clipIntervals(intervals, from, to)) {
    if (i.start > at) out.push({ start: at, end: i.start });
    at = Math.max(at, i.end);
  }
  if (at < to) out.push({ start: at, end: to });
  return out;
}

/** The connected intervals of one device's sessions (definition in the header), merged. */
export function connectedIntervals(sessions: readonly SessionSpan[], now: number): Interval[] {
  const sorted = [...sessions].sort((a, b) => a.connectedAt - b.connectedAt);
  const out: Interval[] = [];
  for (let k = 0; k < sorted.length; k++) {
    const s = sorted[k];
    let end = s.disconnectedAt ?? now;
    if (s.nextConnectedAt != null && s.nextConnectedAt > s.connectedAt) end = Math.min(end, s.nextConnectedAt);
    // The next connect among the rows given (a duplicate connect time is the same session, not a next one).
    for (let j = k + 1; j < sorted.length; j++) {
      if (sorted[j].connectedAt > s.connectedAt) {
        end = Math.min(end, sorted[j].connectedAt);
        break;
      }
    }
    out.push({ start: s.connectedAt, end });
  }
  return mergeIntervals(out);
}

/** Uptime % of [from, to): connected time ÷ length × 100; null for an empty period. */
export function uptimePercent(sessions: readonly SessionSpan[], from: number, to: number, now: number): number | null {
  if (!(to > from)) return null;
  return Math.min(100, (coveredMs(connectedIntervals(sessions, now), from, to) / (to - from)) * 100);
}

/** Mean time between disconnects (ms): the period's length ÷ disconnects; null without one or for an empty period. */
export function meanMsBetweenDisconnects(periodMs: number, disconnects: number): number | null {
  return periodMs > 0 && disconnects > 0 ? periodMs / disconnects : null;
}

/** Equal slices of [from, to), at most `count`, the last cut at `to`. */
export function buckets(from: number, to: number, count: number): Interval[] {
  if (!(to > from) || count < 1) return [];
  const size = Math.max(1, Math.ceil((to - from) / count));
  const out: Interval[] = [];
  for (let start = from; start < to; start += size) out.push({ start, end: Math.min(start + size, to) });
  return out;
}

/** Every figure of one device for [from, to) (definitions in the header). */
export function deviceUptime(opts: {
  sessions: readonly SessionSpan[];
  /** When the monitor first saw the device; null: never (the whole period is unknown unless connected). */
  firstSeenAt: number | null;
  /** Monitoring gaps; an open gap ends at `now`. */
  gaps?: readonly { start: number; end: number | null }[];
  from: number;
  to: number;
  now: number;
  buckets?: number;
}): UptimeFigures {
  const { from, to, now } = opts;
  if (!(to > from)) throw new RangeError(`empty period: from ${from} is not before to ${to}`);
  const length = to - from;
  const online = clipIntervals(connectedIntervals(opts.sessions, now), from, to);
  const unseen: Interval[] =
    opts.firstSeenAt === null ? [{ start: from, end: to }] : [{ start: from, end: Math.min(opts.firstSeenAt, to) }];
  const gaps = (opts.gaps ?? []).map((g) => ({ start: g.start, end: g.end ?? now }));
  const notOnline = complement(online, from, to);
  // unknown = (unseen ∪ gaps) ∩ not online
  const unknownCover = mergeIntervals([...unseen, ...gaps]);
  const unknown: Interval[] = [];
  for (const span of notOnline) for (const u of clipIntervals(unknownCover, span.start, span.end)) unknown.push(u);
  const offline: Interval[] = [];
  for (const span of notOnline) offline.push(...complement(unknown, span.start, span.end));
  const sum = (xs: readonly Interval[]) => xs.reduce((n, i) => n + (i.end - i.start), 0);
  const onlineMs = sum(online);
  const disconnects = countDisconnects(opts.sessions, from, to);
  return {
    from,
    to,
    uptimePercent: Math.min(100, (onlineMs / length) * 100),
    disconnects,
    meanMsBetweenDisconnects: meanMsBetweenDisconnects(length, disconnects),
    longestOutageMs: offline.reduce((m, i) => Math.max(m, i.end - i.start), 0),
    statusMs: { online: onlineMs, late: null, offline: sum(offline), unknown: sum(unknown) },
    sparkline: buckets(from, to, opts.buckets ?? 24).map(
      (b) => (coveredMs(online, b.start, b.end) / (b.end - b.start)) * 100,
    ),
  };
}

/** Sessions whose disconnected_at lies in [from, to); rows with the same connect time are one session. */
export function countDisconnects(sessions: readonly SessionSpan[], from: number, to: number): number {
  const seen = new Set<number>();
  for (const s of sessions)
    if (s.disconnectedAt !== null && s.disconnectedAt >= from && s.disconnectedAt < to) seen.add(s.connectedAt);
  return seen.size;
}

/** Figures of several devices together (a tag): times and disconnects add up, uptime is online ÷ the summed periods. */
export function combineUptime(figures: readonly UptimeFigures[]): Omit<UptimeFigures, "from" | "to" | "sparkline"> & {
  devices: number;
} {
  let online = 0;
  let offline = 0;
  let unknown = 0;
  let disconnects = 0;
  let longest = 0;
  let length = 0;
  for (const f of figures) {
    online += f.statusMs.online;
    offline += f.statusMs.offline;
    unknown += f.statusMs.unknown;
    disconnects += f.disconnects;
    longest = Math.max(longest, f.longestOutageMs);
    length += f.to - f.from;
  }
  return {
    devices: figures.length,
    uptimePercent: length > 0 ? Math.min(100, (online / length) * 100) : null,
    disconnects,
    // Per device: the mean device's time between its disconnects.
    meanMsBetweenDisconnects: meanMsBetweenDisconnects(length, disconnects),
    longestOutageMs: longest,
    statusMs: { online, late: null, offline, unknown },
  };
}
