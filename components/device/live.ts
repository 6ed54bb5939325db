/**
 * The device page's timeline kept live: points from the device stream
 * (`activity` events) merged into the last activity answer, and its window
 * moved to `now`, with no request. Pure, so it is tested without a browser.
 *
 * - Raw ranges get the points themselves.
 * - Roll-up ranges get each activity counted in its bucket, and the gap it
 *   ends (from the device's previous activity) as the bucket's largest when
 *   larger.
 * - A connect opens a session band, a disconnect closes the open one with
 *   its reason.
 */
import type { ActivityDto } from "@/lib/api/activity";
import type { ActivityEventMessage, DeviceDto } from "@/lib/api/dto";
import { rangeOf, type RangeKey } from "./timeline";

export type LivePoint = ActivityEventMessage["points"][number];

const MINUTE_MS = 60_000;

/**
 * The answer with `points` merged in and its window ending at `now`. `device`,
 * the device's live state, settles its current (or last) session: the
 * answer is read from the database, which may not hold that session yet.
 */
export function mergeLive(
  dto: ActivityDto,
  points: readonly LivePoint[],
  range: RangeKey,
  now: number,
  device: Pick<
    DeviceDto,
    "connectedAt" | "sessionOpen" | "lastDisconnectAt" | "lastDisconnectReason" | "keepaliveSeconds"
  > | null = null,
): ActivityDto {
  const spec = rangeOf(range);
  const from = now - spec.ms;
  const fromIso = new Date(from).toISOString();
  const out: ActivityDto = {
    ...dto,
    from: fromIso,
    to: new Date(Math.max(Date.parse(dto.to), now + 1_000)).toISOString(),
    points: dto.points.filter((p) => p.at >= fromIso),
    rollups: dto.rollups.filter((r) => r.minute >= fromIso),
    sessions: [...dto.sessions],
  };
  const bucketMs = ("bucketMinutes" in spec ? spec.bucketMinutes : 1) * MINUTE_MS;
  // A session the answer does not hold yet (not written when it was read) still starts with its connect.
  const connectedAt = device?.sessionOpen ? device.connectedAt : null;
  if (spec.raw && connectedAt && connectedAt >= fromIso && !out.points.some((p) => p.at === connectedAt)) {
    out.points.push({ at: connectedAt, kind: "connect" });
    out.points.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }
  // Where the previous activity was: the newest raw point, or none known (a roll-up range keeps no points).
  let lastActivity = lastActivityAt(out);
  // Points the answer already has (they arrived while it was being fetched) are not added twice.
  const answered = dto.points.length > 0 ? dto.points[dto.points.length - 1].at : "";
  for (const p of points) {
    if (spec.raw && p.at <= answered) continue;
    const at = Date.parse(p.at);
    if (spec.raw) out.points.push(p);
    else if (p.kind !== "disconnect") {
      const minute = new Date(Math.floor(at / bucketMs) * bucketMs).toISOString();
      const gap = p.kind === "connect" || lastActivity === null ? null : (at - lastActivity) / 1000;
      const i = out.rollups.findIndex((r) => r.minute === minute);
      const prev = i >= 0 ? out.rollups[i] : { minute, count: 0, maxGapSeconds: null };
      const next = {
        minute,
        count: prev.count + 1,
        maxGapSeconds: gap === null ? prev.maxGapSeconds : Math.max(prev.maxGapSeconds ?? 0, gap),
      };
      if (i >= 0) out.rollups[i] = next;
      else out.rollups.push(next);
    }
    if (p.kind === "connect") {
      if (!out.sessions.some((s) => s.connectedAt === p.at))
        out.sessions.push({ connectedAt: p.at, disconnectedAt: null, reason: null, keepaliveSeconds: null });
    } else if (p.kind === "disconnect") {
      const open = out.sessions.findIndex((s) => s.disconnectedAt === null);
      if (open >= 0) out.sessions[open] = { ...out.sessions[open], disconnectedAt: p.at, reason: p.reason ?? null };
    }
    lastActivity = p.kind === "disconnect" ? null : at;
  }
  if (device?.connectedAt) {
    const current = {
      connectedAt: device.connectedAt,
      disconnectedAt: device.sessionOpen ? null : device.lastDisconnectAt,
      reason: device.sessionOpen ? null : device.lastDisconnectReason,
      keepaliveSeconds: device.keepaliveSeconds,
    };
    const i = out.sessions.findIndex((s) => s.connectedAt === device.connectedAt);
    if (i < 0) out.sessions.push(current);
    else if (out.sessions[i].disconnectedAt === null && current.disconnectedAt !== null) out.sessions[i] = current;
  }
  return out;
}

function lastActivityAt(dto: ActivityDto): number | null {
  for (let i = dto.points.length - 1; i >= 0; i--)
    if (dto.points[i].kind !== "disconnect") return Date.parse(dto.points[i].at);
  return null;
}
