/**
 * The activity recorder and its queries on a real Postgres and on the
 * embedded PGlite: the same points, roll-ups, partitions and retention.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetEffect } from "../fleet/types";
import type { ActivityEvent } from "../ingest/events";
import { createDb, createPool, sqlBatch, type Db, type SqlBatch } from "./db";
import type pg from "pg";
import {
  ActivityRecorder,
  dayStart,
  getActivityPoints,
  getActivityRollups,
  getSessionActivity,
  HOUR_TABLE,
  listPartitions,
  PACK_AFTER_MS,
  RAW_TABLE,
  ROLLUP_TABLE,
} from "./activity";
import { migrate } from "./migrate";
import { openEmbeddedDatabase, type Database } from "./open";
import { createTestDatabase, MIGRATIONS_DIR, type TestDatabase } from "./testing";

const DAY = 86_400_000;
/** Mid-morning today (UTC), so every point of a test lands in one day. */
const T = dayStart(Date.now()) + 10 * 3_600_000;

const ping = (deviceId: string, at: number): ActivityEvent => ({ kind: "ping", deviceId, at, source: "aedes" });
const open = (deviceId: string, at: number, keepaliveSeconds = 10): FleetEffect => ({
  type: "session-open",
  session: { deviceId, connectedAt: at, disconnectedAt: null, reason: null, keepaliveSeconds, lastActivityAt: at },
});
const close = (deviceId: string, connectedAt: number, at: number): FleetEffect => ({
  type: "session-close",
  deviceId,
  connectedAt,
  disconnectedAt: at,
  reason: "keepalive_timeout",
  lastActivityAt: null,
});

let pgTest: TestDatabase;
let pgDb: Db;
let pgPool: pg.Pool;
let embedded: Database;
let dir: string;

beforeAll(async () => {
  pgTest = await createTestDatabase();
  pgPool = createPool(pgTest.url, 4);
  pgDb = createDb({ pool: pgPool });
  dir = mkdtempSync(path.join(tmpdir(), "kw-pglite-activity-"));
  embedded = await openEmbeddedDatabase(dir);
  await migrate({ db: embedded.queryable, migrationsDir: MIGRATIONS_DIR });
}, 60_000);

afterAll(async () => {
  await pgDb?.$disconnect();
  await pgPool?.end();
  await pgTest?.drop();
  await embedded?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Each database with its batch path, as the runtime wires them (Database.batch). */
const databases: Array<[string, () => { db: Db; sql: SqlBatch }]> = [
  ["postgres", () => ({ db: pgDb, sql: sqlBatch(pgPool) })],
  ["pglite", () => ({ db: embedded.prisma, sql: embedded.batch })],
];

describe.each(databases)("activity recorder on %s", (_name, getDb) => {
  it("writes points in batches and reads them back with minute roll-ups and per-session counts", async () => {
    const { db, sql } = getDb();
    const rec = new ActivityRecorder({ db, sql, now: () => T + 10 * 60_000, ignore: new Set(["keepwatch-self"]) });
    await rec.start();
    rec.recordEffects([open("dev-a", T)]);
    const pings = Array.from({ length: 40 }, (_, i) => ping("dev-a", T + 2_000 * (i + 1)));
    rec.recordEvents([...pings, ping("keepwatch-self", T + 1)]);
    rec.recordEffects([close("dev-a", T, T + 95_000)]);
    // Second session: connect, never pings, dropped.
    rec.recordEffects([open("dev-a", T + 100_000), close("dev-a", T + 100_000, T + 115_000)]);
    await rec.flush();

    const { points, truncated } = await getActivityPoints(db, "dev-a", T - 1, T + 200_000);
    expect(truncated).toBe(false);
    expect(points).toHaveLength(1 + 40 + 1 + 2);
    expect(points[0]).toEqual({ at: T, kind: "connect", reason: null });
    expect(points[1]).toEqual({ at: T + 2_000, kind: "pingreq", reason: null });
    expect(points.at(-1)).toEqual({ at: T + 115_000, kind: "disconnect", reason: "keepalive_timeout" });
    expect((await getActivityPoints(db, "keepwatch-self", T - 1, T + 1000)).points).toEqual([]);

    const limited = await getActivityPoints(db, "dev-a", T - 1, T + 200_000, { limit: 5 });
    expect(limited.truncated).toBe(true);
    expect(limited.points.map((p) => p.at)).toEqual([T + 78_000, T + 80_000, T + 95_000, T + 100_000, T + 115_000]);
    const onlyEnds = await getActivityPoints(db, "dev-a", T - 1, T + 200_000, { kinds: ["connect", "disconnect"] });
    expect(onlyEnds.points.map((p) => p.kind)).toEqual(["connect", "disconnect", "connect", "disconnect"]);

    const rollups = await getActivityRollups(db, "dev-a", T, T + 200_000);
    expect(rollups).toEqual([
      { deviceId: "dev-a", minute: T, count: 30, maxGapMs: 2_000 }, // connect + 29 pings
      { deviceId: "dev-a", minute: T + 60_000, count: 12, maxGapMs: 2_000 }, // 11 pings + connect at +100 s
    ]);

    const perSession = await getSessionActivity(db, "dev-a", [
      { connectedAt: T, disconnectedAt: T + 95_000 },
      { connectedAt: T + 100_000, disconnectedAt: T + 115_000 },
    ]);
    expect(perSession.sort((a, b) => a.connectedAt - b.connectedAt).map((s) => [s.recorded, s.pings])).toEqual([
      [true, 40],
      [true, 0],
    ]);
    const unrecorded = await getSessionActivity(db, "dev-a", [{ connectedAt: T - 50_000, disconnectedAt: T - 1 }]);
    expect(unrecorded[0]).toMatchObject({ recorded: false, pings: 0 });
    await rec.stop();
  });

  it("adds a late point to a minute already written", async () => {
    const { db, sql } = getDb();
    const rec = new ActivityRecorder({ db, sql, now: () => T + 10 * 60_000 });
    await rec.start();
    rec.recordEvents([ping("dev-late", T + 1_000), ping("dev-late", T + 4_000)]);
    await rec.flush();
    rec.recordEvents([ping("dev-late", T + 30_000)]);
    await rec.flush();
    expect(await getActivityRollups(db, "dev-late", T, T + 60_000)).toEqual([
      { deviceId: "dev-late", minute: T, count: 3, maxGapMs: 26_000 },
    ]);
    await rec.stop();
  });

  it("writes a large batch as multi-row statements", async () => {
    const { db, sql } = getDb();
    const rec = new ActivityRecorder({ db, sql, now: () => T + 3_600_000, maxBatch: 5_000 });
    await rec.start();
    const events: ActivityEvent[] = [];
    for (let d = 0; d < 500; d++) for (let k = 0; k < 24; k++) events.push(ping(`bulk-${d}`, T + k * 2_500 + d));
    rec.recordEvents(events);
    const started = Date.now();
    await rec.flush();
    const ms = Date.now() - started;
    expect(rec.health()).toMatchObject({ pendingPoints: 0, writtenPoints: 12_000, lastError: null });
    expect((await getActivityPoints(db, "bulk-7", T, T + 3_600_000)).points).toHaveLength(24);
    expect(ms).toBeLessThan(30_000);
    await rec.stop();
  });

  it("creates partitions ahead and drops whole expired days, never the window", async () => {
    const { db, sql } = getDb();
    let now = T;
    const rec = new ActivityRecorder({ db, sql, now: () => now, rawRetentionHours: 24, rollupRetentionDays: 2 });
    await rec.start();
    const today = dayStart(T);
    const raw = await listPartitions(db, RAW_TABLE);
    expect(raw).toEqual(expect.arrayContaining([today, today + DAY, today + 2 * DAY]));
    rec.recordEvents([ping("dev-old", T + 1_000), ping("dev-old", T + 2_000)]);
    await rec.flush({ all: true });

    now = T + 30 * 3_600_000; // the next day, 30 h later: today's raw rows are still within 24 h + 1 day
    await rec.maintain();
    expect(await listPartitions(db, RAW_TABLE)).toContain(today);
    now = today + 2 * DAY + 1; // the whole day is older than 24 h
    await rec.maintain();
    expect(await listPartitions(db, RAW_TABLE)).not.toContain(today);
    expect(await listPartitions(db, ROLLUP_TABLE)).not.toContain(today); // packed by hour
    expect(await listPartitions(db, HOUR_TABLE)).toContain(today); // roll-ups are kept 2 days
    expect((await getActivityPoints(db, "dev-old", T, T + 10_000)).points).toEqual([]);
    expect(await getActivityRollups(db, "dev-old", T - 60_000, T + 60_000)).toHaveLength(1);
    now = today + 3 * DAY + 1;
    await rec.maintain();
    expect(await listPartitions(db, HOUR_TABLE)).not.toContain(today);
    await rec.stop();
  });

  it("packs a finished day's minutes into hour rows without losing or changing any", async () => {
    const { db, sql } = getDb();
    const today = dayStart(T);
    const H = today + 7 * 3_600_000; // 07:00, apart from the other tests' minutes
    let now = H;
    const rec = new ActivityRecorder({ db, sql, now: () => now });
    await rec.start();
    // Two sessions across an hour boundary: minutes with and without a gap, one minute with several points.
    rec.recordEffects([open("dev-pack", H - 150_000)]); // 06:57:30, alone in its minute: no gap
    rec.recordEvents([ping("dev-pack", H - 90_000), ping("dev-pack", H - 30_000), ping("dev-pack", H - 1_000)]);
    rec.recordEvents([ping("dev-pack", H + 20_000), ping("dev-pack", H + 50_000), ping("dev-pack", H + 59_999)]);
    rec.recordEffects([close("dev-pack", H - 150_000, H + 61_000)]);
    rec.recordEffects([open("dev-pack", H + 3_600_000 + 5_000)]); // 08:00:05
    rec.recordEvents([ping("dev-pack", H + 3_600_000 + 65_000), ping("other-pack", H + 1_000)]);
    now = H + 3 * 3_600_000;
    await rec.flush({ all: true });
    const range = [H - 3_600_000, H + 2 * 3_600_000] as const;
    const before = await getActivityRollups(db, "dev-pack", ...range);
    expect(before.map((r) => [(r.minute - H) / 60_000, r.count, r.maxGapMs])).toEqual([
      [-3, 1, null],
      [-2, 1, 60_000],
      [-1, 2, 60_000],
      [0, 3, 30_000],
      [60, 1, null],
      [61, 1, 60_000],
    ]);

    now = today + DAY + PACK_AFTER_MS - 1; // the day is over, but late points may still come
    await rec.maintain();
    expect(await listPartitions(db, ROLLUP_TABLE)).toContain(today);

    now = today + DAY + PACK_AFTER_MS + 1;
    await rec.maintain();
    expect(await listPartitions(db, ROLLUP_TABLE)).not.toContain(today);
    expect(await listPartitions(db, HOUR_TABLE)).toContain(today);
    expect(rec.health()).toMatchObject({ packedDays: 1, lastError: null });
    expect(await getActivityRollups(db, "dev-pack", ...range)).toEqual(before);
    expect(await getActivityRollups(db, "other-pack", ...range)).toEqual([
      { deviceId: "other-pack", minute: H, count: 1, maxGapMs: null },
    ]);
    // Three device-hours (06:00 and 07:00 and 08:00) for dev-pack: one row each.
    const rows = await db.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM device_activity_hours WHERE device_id = 'dev-pack'`;
    expect(Number(rows[0].n)).toBe(3);

    // A late point for the packed day lands as a minute again, reads add it, and the next upkeep packs it too.
    rec.recordEvents([ping("dev-pack", H + 30_000)]);
    await rec.flush({ all: true });
    const late = before.map((r) => (r.minute === H ? { ...r, count: 4 } : r));
    expect(await getActivityRollups(db, "dev-pack", ...range)).toEqual(late);
    await rec.maintain();
    expect(await listPartitions(db, ROLLUP_TABLE)).not.toContain(today);
    expect(await getActivityRollups(db, "dev-pack", ...range)).toEqual(late);
    expect(rec.health().packedDays).toBe(2);
    await rec.stop();
  });

  it("keeps points while the database fails and writes them once it is back", async () => {
    const { db, sql } = getDb();
    const rec = new ActivityRecorder({ db, sql, now: () => T + 600_000 });
    await rec.start();
    await db.$executeRawUnsafe(`ALTER TABLE device_activity RENAME TO device_activity_away`);
    try {
      rec.recordEvents([ping("dev-retry", T + 100), ping("dev-retry", T + 1_200)]); // a second apart: both stored
      await expect(rec.flush()).rejects.toThrow();
      expect(rec.health()).toMatchObject({ pendingPoints: 2 });
      expect(rec.health().lastError).toMatch(/device_activity/);
    } finally {
      await db.$executeRawUnsafe(`ALTER TABLE device_activity_away RENAME TO device_activity`);
    }
    await rec.flush();
    expect((await getActivityPoints(db, "dev-retry", T, T + 2_000)).points).toHaveLength(2);
    await rec.stop();
  });
});
