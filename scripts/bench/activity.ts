/**
 * Benchmark: per-device activity recording at fleet scale — 10,000 devices
 * pinging every 30 s.
 *
 * Feeds the real recorder (lib/store/activity.ts: batched multi-row inserts
 * into the day-partitioned raw table, minute roll-ups computed in memory and
 * upserted in batches) with `minutes` of that fleet's PINGREQs (default 60:
 * 1,200,000 points, one whole hour) on a throwaway Postgres database
 * (createTestDatabase), and measures how fast they are written; then packs
 * the day's minute roll-ups into hour rows as maintenance does once a day is
 * over (packMinutes) and times that. Disk per day is extrapolated from
 * pg_total_relation_size (heap + primary key index) per row of the
 * partitions written: 28.8 million raw rows, 14.4 million minute roll-ups
 * and 240,000 packed device-hours a day for this fleet.
 *
 *   tsx scripts/bench/activity.ts [minutes]
 */
import { pathToFileURL } from "node:url";
import type { ActivityEvent } from "../../lib/ingest/events";
import { connectSqlSession, createDb, createPool, sqlBatch } from "../../lib/store/db";
import { ActivityRecorder, dayStart, packMinutes, partitionName } from "../../lib/store/activity";
import { createTestDatabase } from "../../lib/store/testing";

const DEVICES = 10_000;
const PING_EVERY_S = 30;

export interface ActivityBenchResult {
  /** Raw rows in the day's partition. */
  rows: number;
  writeSeconds: number;
  rowsPerSecond: number;
  /** Rows per second the simulated fleet produces. */
  fleetRowsPerSecond: number;
  rawBytesPerRow: number;
  rollupBytesPerRow: number;
  rollupRows: number;
  rawBytesPerDay: number;
  rollupBytesPerDay: number;
  /** Packing the minute roll-ups into hour rows: seconds for this run's rows, bytes per device-hour, per day. */
  packSeconds: number;
  packedRows: number;
  packedBytesPerRow: number;
  packedBytesPerDay: number;
  droppedPoints: number;
  generateSeconds: number;
}

export async function benchActivity(
  opts: { minutes?: number; log?: (line: string) => void } = {},
): Promise<ActivityBenchResult> {
  const minutes = opts.minutes ?? 60;
  const log = opts.log ?? (() => {});
  const database = await createTestDatabase();
  // Wired as the runtime wires it: Prisma for the recorder's partition upkeep, batches straight on the pool.
  const pool = createPool(database.url);
  const db = createDb({ pool });
  try {
    // Start at the beginning of an hour early in a UTC day so every row lands in one partition.
    const t0 = dayStart(Date.now()) + 3_600_000;
    let now = t0;
    const rec = new ActivityRecorder({ db, sql: sqlBatch(pool), now: () => now, maxBatch: 10_000 });
    await rec.start();
    const pingsPerDevice = Math.floor((minutes * 60) / PING_EVERY_S);
    const rows = DEVICES * pingsPerDevice;
    log(
      `${DEVICES.toLocaleString("en")} devices × ${pingsPerDevice} pings (${minutes} min at one per ${PING_EVERY_S} s) = ${rows.toLocaleString("en")} rows`,
    );
    let writeMs = 0;
    let genMs = 0;
    // Arrive as the broker would: every second, the devices whose ping is due (a 30 s phase per device).
    for (let second = 0; second < minutes * 60; second += 10) {
      const g = performance.now();
      const batch: ActivityEvent[] = [];
      for (let s = second; s < second + 10; s++) {
        for (let d = s % PING_EVERY_S; d < DEVICES; d += PING_EVERY_S) {
          batch.push({
            kind: "ping",
            deviceId: `bench-${String(d).padStart(5, "0")}`,
            at: t0 + s * 1000 + (d % 997),
            source: "aedes",
          });
        }
      }
      rec.recordEvents(batch);
      now = t0 + (second + 10) * 1000;
      const w = performance.now();
      genMs += w - g;
      await rec.flush();
      writeMs += performance.now() - w;
    }
    now += 120_000;
    const w = performance.now();
    await rec.flush({ all: true });
    writeMs += performance.now() - w;
    const health = rec.health();
    await rec.stop();

    const sql = await connectSqlSession(database.url);
    try {
      const size = async (table: string) =>
        Number(
          (
            await sql.query(
              `SELECT pg_total_relation_size($1::regclass) AS b, (SELECT count(*) FROM "${table}") AS n`,
              [table],
            )
          ).rows[0].b,
        );
      const count = async (table: string) =>
        Number((await sql.query(`SELECT count(*) AS n FROM "${table}"`)).rows[0].n);
      await sql.query("CHECKPOINT").catch(() => {});
      const rawTable = partitionName("device_activity", dayStart(t0));
      const rollTable = partitionName("device_activity_minutes", dayStart(t0));
      const rawBytes = await size(rawTable);
      const rawRows = await count(rawTable);
      const rollBytes = await size(rollTable);
      const rollRows = await count(rollTable);
      const rawPerRow = rawBytes / rawRows;
      const rollPerRow = rollBytes / rollRows;
      const p = performance.now();
      await packMinutes(db, sqlBatch(pool), dayStart(t0));
      const packMs = performance.now() - p;
      await sql.query("CHECKPOINT").catch(() => {});
      const hourTable = partitionName("device_activity_hours", dayStart(t0));
      const packedBytes = await size(hourTable);
      const packedRows = await count(hourTable);
      // A full device-hour holds 60 minutes; a shorter run's rows are scaled up to that.
      const packedPerRow = (packedBytes / packedRows) * (minutes >= 60 ? 1 : 60 / minutes);
      const rawRowsPerDay = DEVICES * (86_400 / PING_EVERY_S);
      const rollRowsPerDay = DEVICES * 1440;
      const result: ActivityBenchResult = {
        rows: rawRows,
        writeSeconds: Math.round(writeMs) / 1000,
        rowsPerSecond: Math.round(rawRows / (writeMs / 1000)),
        fleetRowsPerSecond: Math.round(DEVICES / PING_EVERY_S),
        rawBytesPerRow: Math.round(rawPerRow * 10) / 10,
        rollupBytesPerRow: Math.round(rollPerRow * 10) / 10,
        rollupRows: rollRows,
        rawBytesPerDay: Math.round(rawPerRow * rawRowsPerDay),
        rollupBytesPerDay: Math.round(rollPerRow * rollRowsPerDay),
        packSeconds: Math.round(packMs) / 1000,
        packedRows,
        packedBytesPerRow: Math.round(packedPerRow * 10) / 10,
        packedBytesPerDay: Math.round(packedPerRow * DEVICES * 24),
        droppedPoints: health.droppedPoints,
        generateSeconds: Math.round(genMs) / 1000,
      };
      return result;
    } finally {
      await sql.end();
    }
  } finally {
    await db.$disconnect();
    await pool.end();
    await database.drop();
  }
}

/**
 * Disk at the defaults (24 h raw, 30 d roll-ups), at the most: raw rows span
 * up to two day partitions, minutes up to two (today's, and yesterday's
 * until it is packed), packed hours 31 (retention drops whole days).
 */
export const diskAtDefaults = (r: ActivityBenchResult): number =>
  2 * r.rawBytesPerDay + 2 * r.rollupBytesPerDay + 31 * r.packedBytesPerDay;

async function main(): Promise<void> {
  const arg = process.argv[2];
  const r = await benchActivity({ minutes: arg ? Number(arg) : undefined, log: (l) => console.log(`activity: ${l}`) });
  const n = (x: number) => x.toLocaleString("en");
  const gb = (b: number) => (b / 1024 ** 3).toFixed(2);
  console.log(
    `activity: wrote ${n(r.rows)} raw rows in ${r.writeSeconds} s: ${n(r.rowsPerSecond)} rows/s (the fleet needs ${n(r.fleetRowsPerSecond)} rows/s)`,
  );
  console.log(
    `activity: raw ${r.rawBytesPerRow} B/row → ${gb(r.rawBytesPerDay)} GiB/day; minute roll-ups ${r.rollupBytesPerRow} B/row → ${gb(r.rollupBytesPerDay)} GiB/day; packed ${r.packedBytesPerRow} B per device-hour → ${gb(r.packedBytesPerDay)} GiB/day`,
  );
  console.log(
    `activity: packed ${n(r.packedRows)} device-hours in ${r.packSeconds} s (a whole day of this fleet ≈ ${(r.packSeconds * 24).toFixed(0)} s, once a day)`,
  );
  console.log(`activity: at the defaults ≈ ${gb(diskAtDefaults(r))} GiB on disk`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(`activity: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  });
}
