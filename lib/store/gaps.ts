/** Monitoring gap read queries (written by StoreWriter.openGap/closeGap). */
import type { Db } from "./db";
import { toGapRecord, type GapRecord } from "./rows";

export type { GapRecord } from "./rows";

/** The gap still open, if the monitor is (or was, before a restart) not hearing the broker. */
export async function getOpenGap(db: Db): Promise<GapRecord | null> {
  const row = await db.monitorGap.findFirst({ where: { endedAt: null }, orderBy: { startedAt: "desc" } });
  return row ? toGapRecord(row) : null;
}

/** Gaps that overlap [from, to], newest first. */
export async function listGaps(
  db: Db,
  opts: { from?: number; to?: number; limit?: number } = {},
): Promise<GapRecord[]> {
  const rows = await db.monitorGap.findMany({
    where: {
      ...(opts.to !== undefined ? { startedAt: { lte: new Date(opts.to) } } : {}),
      ...(opts.from !== undefined ? { OR: [{ endedAt: null }, { endedAt: { gte: new Date(opts.from) } }] } : {}),
    },
    orderBy: { startedAt: "desc" },
    take: Math.min(Math.max(1, opts.limit ?? 100), 1000),
  });
  return rows.map(toGapRecord);
}
