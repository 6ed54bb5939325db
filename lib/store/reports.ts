/**
 * Reads behind the uptime reports (lib/reports/uptime.ts computes the
 * figures): the devices a report covers, and their sessions that touch a
 * period, each with the device's next connect (a session whose end was never
 * recorded ends there).
 */
import type { SessionSpan } from "../reports/uptime";
import type { Db } from "./db";
import { NEXT_CONNECT, type DeviceMatch } from "./disconnects";
import { Prisma } from "./generated/prisma/client";

export interface ReportDevice {
  id: string;
  firstSeenAt: number;
  tags: string[];
}

const ts = (ms: number) => Prisma.sql`${new Date(ms).toISOString()}::timestamptz`;
const msOf = (seconds: number) => Math.round(seconds * 1000);

function deviceCondition(match: DeviceMatch): Prisma.Sql {
  switch (match.kind) {
    case "exact":
      return Prisma.sql`d."id" = ${match.id}`;
    case "like":
      return Prisma.sql`d."id" LIKE ${match.pattern}`;
    case "regex":
      return Prisma.sql`d."id" ~ ${match.pattern}`;
  }
}

/**
 * Devices first seen before `to` that match the filter, by id, strictly after
 * `after`; at most `limit`.
 */
export async function getReportDevices(
  db: Db,
  opts: { to: number; device: DeviceMatch | null; tag: string | null; after: string | null; limit: number },
): Promise<ReportDevice[]> {
  const where = [Prisma.sql`d."first_seen_at" < ${ts(opts.to)}`];
  if (opts.device) where.push(deviceCondition(opts.device));
  if (opts.tag) where.push(Prisma.sql`${opts.tag} = ANY(l."tags")`);
  if (opts.after !== null) where.push(Prisma.sql`d."id" COLLATE "C" > ${opts.after}`);
  const rows = await db.$queryRaw<Array<{ id: string; first_seen_at: number; tags: string[] | null }>>`
    SELECT d."id", date_part('epoch', d."first_seen_at") AS "first_seen_at", l."tags"
    FROM "devices" d LEFT JOIN "device_labels" l ON l."device_id" = d."id"
    WHERE ${Prisma.join(where, " AND ")}
    ORDER BY d."id" COLLATE "C"
    LIMIT ${Math.max(1, Math.trunc(opts.limit))}`;
  return rows.map((r) => ({ id: r.id, firstSeenAt: msOf(r.first_seen_at), tags: r.tags ?? [] }));
}

/** The devices' sessions that overlap [from, to), with each one's next connect, by device. */
export async function getSessionSpans(
  db: Db,
  opts: { deviceIds: readonly string[]; from: number; to: number },
): Promise<Map<string, SessionSpan[]>> {
  const out = new Map<string, SessionSpan[]>();
  if (opts.deviceIds.length === 0) return out;
  const rows = await db.$queryRaw<
    Array<{ device_id: string; connected_at: number; disconnected_at: number | null; next_connected_at: number | null }>
  >`
    SELECT s."device_id", date_part('epoch', s."connected_at") AS "connected_at",
           date_part('epoch', s."disconnected_at") AS "disconnected_at",
           date_part('epoch', nx."connected_at") AS "next_connected_at"
    FROM "sessions" s
    ${NEXT_CONNECT}
    WHERE s."device_id" = ANY(${[...opts.deviceIds]}::text[])
      AND s."connected_at" < ${ts(opts.to)}
      AND (s."disconnected_at" IS NULL OR s."disconnected_at" >= ${ts(opts.from)})
    ORDER BY s."device_id", s."connected_at"`;
  for (const r of rows) {
    let list = out.get(r.device_id);
    if (!list) out.set(r.device_id, (list = []));
    list.push({
      connectedAt: msOf(r.connected_at),
      disconnectedAt: r.disconnected_at === null ? null : msOf(r.disconnected_at),
      nextConnectedAt: r.next_connected_at === null ? null : msOf(r.next_connected_at),
    });
  }
  return out;
}
