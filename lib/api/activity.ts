/**
 * GET /api/devices/{id}/activity?from=&to=&kinds=&limit= — a device's
 * keepalive timeline: raw activity points, minute roll-ups and the sessions
 * overlapping the range (for connected/disconnected bands and disconnect
 * markers, also past the raw window).
 *
 *   from, to  ISO-8601 times with a zone (or dates); default: the last hour.
 *             from < to, at most 35 days apart; otherwise 400.
 *   kinds     comma-separated point kinds to return (default all):
 *             connect, pingreq, publish, disconnect, packet
 *   limit     most points returned, 1–200,000 (default 50,000); with more in
 *             the range the newest are returned and `truncated` is true.
 *   bucketMinutes  roll-ups merged into buckets of this many minutes (1–1440,
 *             default 1): counts add up, the largest gap is kept. A week at
 *             15 minutes is 672 rows instead of 10,080.
 */
import { z } from "../zod";
import { ACTIVITY_KINDS, type ActivityKind, type MinuteRollup } from "../activity/points";
import type { DbPort, FleetPort, ActivityPort } from "./ports";
import { getActivityPoints, getActivityRollups, getSessionsOverlapping } from "../store/activity";
import { getDevice } from "../store/devices";
import { parseIsoTime } from "./disconnects";
import { activityPointDtoSchema, iso, isoTime, sessionDtoSchema } from "./dto";
import { AppError } from "./errors";
import { parseQuery } from "./query";

export const MAX_RANGE_MS = 35 * 86_400_000;
export const DEFAULT_RANGE_MS = 3_600_000;

export { type ActivityPointDto } from "./dto";

export const activityRollupDtoSchema = z.object({
  minute: isoTime,
  count: z.number().int(),
  maxGapSeconds: z
    .number()
    .nullable()
    .describe("Largest gap between consecutive activities that ended in the minute; null when none did."),
});
export type ActivityRollupDto = z.infer<typeof activityRollupDtoSchema>;

export const activitySessionDtoSchema = sessionDtoSchema.omit({ inferred: true });
export type ActivitySessionDto = z.infer<typeof activitySessionDtoSchema>;

export const activityDtoSchema = z.object({
  from: isoTime,
  to: isoTime,
  points: z.array(activityPointDtoSchema),
  rollups: z.array(activityRollupDtoSchema),
  sessions: z.array(activitySessionDtoSchema),
  truncated: z.boolean(),
  rawRetentionHours: z
    .number()
    .nullable()
    .describe("How far back raw points are kept (older ranges have roll-ups and sessions only)."),
});
export type ActivityDto = z.infer<typeof activityDtoSchema>;

const text = z.string().optional();
/** `GET /api/devices/{id}/activity` query parameters (checked further by parseActivityQuery). */
export const activityQuery = {
  from: text.describe("ISO-8601 time with a zone, or a date; default an hour before `to`"),
  to: text.describe("ISO-8601 time with a zone, or a date; default now"),
  kinds: text.describe("comma-separated point kinds: connect, pingreq, publish, disconnect, packet"),
  limit: text.describe("most points returned, 1–200000 (default 50000)"),
  bucketMinutes: text.describe("roll-ups merged into buckets of this many minutes, 1–1440"),
};

export interface ActivityQuery {
  from: number;
  to: number;
  kinds: ActivityKind[] | undefined;
  limit: number;
  bucketMinutes?: number;
}

export function parseActivityQuery(url: string, now = Date.now()): ActivityQuery {
  const q = parseQuery(url, activityQuery);
  const to = q.to ? parseIsoTime("to", q.to) : now;
  const from = q.from ? parseIsoTime("from", q.from) : to - DEFAULT_RANGE_MS;
  if (from >= to) throw new AppError("BAD_REQUEST", "from: must be before to");
  if (to - from > MAX_RANGE_MS) throw new AppError("BAD_REQUEST", "from, to: at most 35 days apart");
  let kinds: ActivityKind[] | undefined;
  if (q.kinds) {
    kinds = [];
    for (const k of q.kinds.split(",")) {
      if (!(ACTIVITY_KINDS as readonly string[]).includes(k))
        throw new AppError(
          "BAD_REQUEST",
          `kinds: unknown kind ${JSON.stringify(k.slice(0, 40))} (${ACTIVITY_KINDS.join(", ")})`,
        );
      kinds.push(k as ActivityKind);
    }
  }
  let limit = 50_000;
  if (q.limit) {
    limit = Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200_000)
      throw new AppError("BAD_REQUEST", "limit: an integer from 1 to 200000");
  }
  let bucketMinutes = 1;
  if (q.bucketMinutes) {
    bucketMinutes = Number(q.bucketMinutes);
    if (!Number.isInteger(bucketMinutes) || bucketMinutes < 1 || bucketMinutes > 1440)
      throw new AppError("BAD_REQUEST", "bucketMinutes: an integer from 1 to 1440");
  }
  return { from, to, kinds, limit, bucketMinutes };
}

/** Database roll-ups plus those still in the recorder's memory (the current minute), merged by minute. */
export function mergeRollups(
  stored: readonly MinuteRollup[],
  pending: readonly MinuteRollup[],
  from: number,
  to: number,
) {
  const byMinute = new Map<number, MinuteRollup>();
  for (const r of stored) byMinute.set(r.minute, { ...r });
  for (const r of pending) {
    if (r.minute < from || r.minute >= to) continue;
    const held = byMinute.get(r.minute);
    if (!held) byMinute.set(r.minute, { ...r });
    else {
      held.count += r.count;
      if (r.maxGapMs !== null) held.maxGapMs = Math.max(held.maxGapMs ?? 0, r.maxGapMs);
    }
  }
  return [...byMinute.values()].sort((a, b) => a.minute - b.minute);
}

/** Roll-ups merged into buckets of `minutes` (aligned to the epoch), oldest first. */
export function bucketRollups(rollups: readonly MinuteRollup[], minutes: number): MinuteRollup[] {
  if (minutes <= 1) return [...rollups];
  const size = minutes * 60_000;
  const out = new Map<number, MinuteRollup>();
  for (const r of rollups) {
    const start = Math.floor(r.minute / size) * size;
    const held = out.get(start);
    if (!held) out.set(start, { ...r, minute: start });
    else {
      held.count += r.count;
      if (r.maxGapMs !== null) held.maxGapMs = Math.max(held.maxGapMs ?? 0, r.maxGapMs);
    }
  }
  return [...out.values()].sort((a, b) => a.minute - b.minute);
}

/** The device must have been seen (404 otherwise); the database must be there (503 otherwise). */
async function requireDevice(runtime: DbPort & FleetPort, id: string) {
  const db = runtime.db?.prisma;
  const known = runtime.fleet.get(id) ?? (db ? await getDevice(db, id).catch(() => null) : null);
  if (!known) throw new AppError("DEVICE_NOT_FOUND", "no device with this id has been seen");
  if (!db) throw new AppError("SERVICE_UNAVAILABLE", "the database is not available");
  return db;
}

/** Start of the minute holding `ms`: a roll-up covers its whole minute, so one that began before `from` still overlaps. */
export const minuteOf = (ms: number): number => Math.floor(ms / 60_000) * 60_000;

export async function getDeviceActivity(
  runtime: DbPort & FleetPort & ActivityPort,
  id: string,
  q: ActivityQuery,
): Promise<ActivityDto> {
  const db = await requireDevice(runtime, id);
  const rollupsFrom = minuteOf(q.from);
  const recorder = runtime.activity;
  let result;
  let pending: MinuteRollup[] = [];
  // The stored roll-ups and those still in memory must not overlap nor miss a minute: a write that
  // committed while the database was read makes it read again (at most a few times).
  for (let attempt = 0; ; attempt++) {
    const stamp = recorder?.writeStamp ?? 0;
    try {
      result = await Promise.all([
        getActivityPoints(db, id, q.from, q.to, { kinds: q.kinds, limit: q.limit }),
        getActivityRollups(db, id, rollupsFrom, q.to),
        getSessionsOverlapping(db, id, q.from, q.to),
      ]);
    } catch {
      throw new AppError("SERVICE_UNAVAILABLE", "the database is not available: activity cannot be read");
    }
    pending = recorder?.pendingRollups(id) ?? [];
    if (!recorder || (stamp % 2 === 0 && stamp === recorder.writeStamp) || attempt >= 4) break;
    await new Promise((r) => setTimeout(r, 25 * (attempt + 1)));
  }
  const [{ points, truncated }, stored, sessions] = result;
  const rollups = bucketRollups(mergeRollups(stored, pending, rollupsFrom, q.to), q.bucketMinutes ?? 1);
  return {
    from: new Date(q.from).toISOString(),
    to: new Date(q.to).toISOString(),
    points: points.map((p) =>
      p.kind === "disconnect"
        ? { at: new Date(p.at).toISOString(), kind: p.kind, reason: p.reason }
        : { at: new Date(p.at).toISOString(), kind: p.kind },
    ),
    rollups: rollups.map((r) => ({
      minute: new Date(r.minute).toISOString(),
      count: r.count,
      maxGapSeconds: r.maxGapMs === null ? null : r.maxGapMs / 1000,
    })),
    sessions: sessions.map((s) => ({
      connectedAt: new Date(s.connectedAt).toISOString(),
      disconnectedAt: iso(s.disconnectedAt),
      reason: s.reason,
      keepaliveSeconds: s.keepaliveSeconds,
    })),
    truncated,
    rawRetentionHours: runtime.activity ? runtime.activity.rawRetentionMs / 3_600_000 : null,
  };
}
