/**
 * The activity API's read of roll-ups against a real Postgres while the
 * recorder writes: the stored minutes and those still in the recorder's
 * memory are merged without counting a minute twice or missing one.
 */
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ActivityEvent } from "../ingest/events";
import type { Runtime } from "../runtime";
import { ActivityRecorder, dayStart } from "../store/activity";
import { createDb, createPool, sqlBatch, type Db, type SqlBatch } from "../store/db";
import { createTestDatabase, type TestDatabase } from "../store/testing";
import { getDeviceActivity } from "./activity";

const T = dayStart(Date.now()) + 9 * 3_600_000;
const ping = (deviceId: string, at: number): ActivityEvent => ({ kind: "ping", deviceId, at, source: "aedes" });

let testDb: TestDatabase;
let pool: pg.Pool;
let db: Db;

beforeAll(async () => {
  testDb = await createTestDatabase();
  pool = createPool(testDb.url, 4);
  db = createDb({ pool });
}, 60_000);

afterAll(async () => {
  await db?.$disconnect();
  await pool?.end();
  await testDb?.drop();
});

describe("activity API while the recorder writes", () => {
  it("counts a minute once when its write commits during the read", async () => {
    const real = sqlBatch(pool);
    let release: () => void = () => {};
    let held = false;
    // Commits, then holds the recorder before it forgets what it wrote: the rows are in the database and in memory.
    const slow: SqlBatch = async (statements) => {
      await real(statements);
      if (held) await new Promise<void>((r) => (release = r));
    };
    let now = T;
    const rec = new ActivityRecorder({ db, sql: slow, now: () => now });
    await rec.start();
    const runtime = {
      fleet: { get: () => ({ id: "race-1" }) },
      db: { prisma: db },
      activity: rec,
    } as unknown as Runtime;
    const query = { from: T - 60_000, to: T + 300_000, kinds: undefined, limit: 50_000 };

    rec.recordEvents([ping("race-1", T + 1_000), ping("race-1", T + 3_000), ping("race-1", T + 61_000)]);
    now = T + 120_000; // the first two minutes are over: their roll-ups are taken and written
    held = true;
    const writing = rec.flush();
    await new Promise((r) => setTimeout(r, 300)); // the write has committed and waits
    expect(rec.writeStamp % 2).toBe(1);
    const reading = getDeviceActivity(runtime, "race-1", query);
    await new Promise((r) => setTimeout(r, 60));
    held = false;
    release();
    await writing;
    const body = await reading;
    expect(body.rollups).toEqual([
      { minute: new Date(T).toISOString(), count: 2, maxGapSeconds: 2 },
      { minute: new Date(T + 60_000).toISOString(), count: 1, maxGapSeconds: 58 },
    ]);
    expect(body.points).toHaveLength(3);
    await rec.stop();
  });
});
