/**
 * The lease and the fence on a real Postgres, with two connections standing
 * for two instances: a term ends only by lapsing or by hand-over, a newer
 * epoch refuses the old one's writes, and a takeover waits for the old
 * term's open transaction instead of overtaking it, unless the old leader
 * left it open past its lease (paused, idle or mid-statement), when the
 * takeover ends it.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createPool, sqlBatch } from "./db";
import {
  WHOLE_FLEET,
  endLapsedTerm,
  fencedBatch,
  isFenced,
  listMembers,
  readLeader,
  releaseLease,
  renewLease,
  reportMember,
  sessionName,
  tryLead,
} from "./cluster";
import { createTestDatabase, type TestDatabase } from "./testing";

const F = WHOLE_FLEET;

let database: TestDatabase;
let a: pg.Client;
let b: pg.Client;
let pool: pg.Pool;

const insert = (id: string) => ({
  text: `INSERT INTO "devices" ("id", "status", "status_since", "first_seen_at", "updated_at") VALUES ($1, 'unknown', now(), now(), now())`,
  values: [id],
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exists = async (id: string) =>
  (await pool.query(`SELECT 1 FROM "devices" WHERE "id" = $1`, [id])).rows.length === 1;
/** A session of instance `id`, named as its pools name theirs (what endLapsedTerm finds). */
const sessionOf = async (id: string) => {
  const c = new pg.Client({ connectionString: database.url, application_name: sessionName(id) });
  c.on("error", () => {});
  await c.connect();
  return c;
};
/** A write of term `epoch` left open: fenced, one row inserted, not committed. */
const openWrite = async (c: pg.Client, epoch: number, row: string) => {
  await c.query("BEGIN");
  await c.query(`SELECT keepwatch_fence('1/1', ${epoch})`);
  await c.query(insert(row).text, insert(row).values);
};
/** a ends the lapsed term (one session) and takes the lease: its term and how long that took. */
const takeOver = async () => {
  const started = Date.now();
  expect(await endLapsedTerm(a, F, "a")).toBe(1);
  const term = await tryLead(a, F, "a", 5_000);
  return { term, waited: Date.now() - started };
};

beforeAll(async () => {
  database = await createTestDatabase();
  a = new pg.Client({ connectionString: database.url });
  b = new pg.Client({ connectionString: database.url });
  await a.connect();
  await b.connect();
  pool = createPool(database.url, 4);
});

afterAll(async () => {
  await a?.end();
  await b?.end();
  await pool?.end();
  await database?.drop();
});

describe("leadership lease and epoch fence", () => {
  it("one term at a time: a valid lease is kept, a lapsed one is taken with the next epoch", async () => {
    const first = await tryLead(a, F, "a", 400);
    expect(first?.epoch).toBe(1);
    expect(await tryLead(b, F, "b", 400)).toBeNull();
    expect(await renewLease(a, { shard: F, epoch: 1 }, "a", 400)).toBe(true);
    await sleep(500);
    const second = await tryLead(b, F, "b", 400);
    expect(second?.epoch).toBe(2);
    // The old term is over: its renewal is refused.
    expect(await renewLease(a, { shard: F, epoch: 1 }, "a", 400)).toBe(false);
    const view = await readLeader(a, F);
    expect(view).toMatchObject({ epoch: 2, leaderId: "b", leaseValid: true });
  });

  it("a superseded leader's writes are refused by the database; the leader's go through", async () => {
    const batch = sqlBatch(pool);
    const old = fencedBatch(batch, () => ({ shard: F, epoch: 1 }));
    const current = fencedBatch(batch, () => ({ shard: F, epoch: 2 }));
    const refused = await old([insert("from-old")]).catch((e: unknown) => e);
    expect(isFenced(refused)).toBe(true);
    expect(String(refused)).toMatch(/epoch 1 of shard 1\/1 has ended/);
    expect(await exists("from-old")).toBe(false);
    await current([insert("from-current")]);
    expect(await exists("from-current")).toBe(true);
    // Not leading at all: refused before reaching the database.
    const none = await fencedBatch(batch, () => null)([insert("from-nobody")]).catch((e: unknown) => e);
    expect(isFenced(none)).toBe(true);
    expect(await exists("from-nobody")).toBe(false);
  });

  it("a takeover waits for the old term's open transaction, and nothing of the old term commits after it", async () => {
    // b leads (epoch 2) and has a write in flight when its lease lapses.
    await b.query("BEGIN");
    await b.query(`SELECT keepwatch_fence('1/1', 2)`);
    await b.query(insert("in-flight").text, insert("in-flight").values);
    await sleep(500);
    let tookAt = 0;
    const takeover = tryLead(a, F, "a", 5_000).then((t) => ((tookAt = Date.now()), t));
    await sleep(300);
    expect(tookAt).toBe(0); // still waiting for b's transaction
    const committedAt = Date.now();
    await b.query("COMMIT");
    const term = await takeover;
    expect(term?.epoch).toBe(3);
    expect(tookAt).toBeGreaterThanOrEqual(committedAt);
    expect(await exists("in-flight")).toBe(true);
    // From now on b's epoch is refused.
    const late = await b.query(`SELECT keepwatch_fence('1/1', 2)`).catch((e: unknown) => e);
    expect(isFenced(late)).toBe(true);
  });

  it("a hand-over ends the lease at once; a restarted instance takes its own lease back with a new epoch", async () => {
    await releaseLease(a, { shard: F, epoch: 3 }, "a");
    expect((await readLeader(b, F)).leaseValid).toBe(false);
    expect((await tryLead(b, F, "b", 5_000))?.epoch).toBe(4);
    // b restarts (same instance id) while its lease is valid: a new term, the old one fenced.
    expect((await tryLead(b, F, "b", 5_000))?.epoch).toBe(5);
    expect(isFenced(await b.query(`SELECT keepwatch_fence('1/1', 4)`).catch((e: unknown) => e))).toBe(true);
  });

  it("a leader paused inside a transaction past its lease: the takeover ends that transaction instead of waiting", async () => {
    // b leads (epoch 6) on a short lease; one of its sessions is paused inside a write.
    expect((await tryLead(b, F, "b", 400))?.epoch).toBe(6);
    const paused = await sessionOf("b");
    await openWrite(paused, 6, "paused-write");
    // While the lease holds, nothing is ended.
    expect(await endLapsedTerm(a, F, "a")).toBe(0);
    await sleep(500);
    const { term, waited } = await takeOver();
    console.log(`takeover past a paused transaction: ${waited} ms`);
    expect(term?.epoch).toBe(7);
    // Without the end, tryLead would wait for the lock until the transaction ended.
    expect(waited).toBeLessThan(1_000);
    expect(await exists("paused-write")).toBe(false);
    expect(await paused.query("COMMIT").catch((e: unknown) => e)).toBeInstanceOf(Error);
    await paused.end().catch(() => {});
  });

  it("a leader paused while a statement of its transaction still runs: the takeover ends it too", async () => {
    await releaseLease(a, { shard: F, epoch: 7 }, "a");
    expect((await tryLead(b, F, "b", 400))?.epoch).toBe(8);
    const paused = await sessionOf("b");
    await openWrite(paused, 8, "running-write");
    // The statement still running (a result the paused process does not read, a lock): the session is active.
    const running = paused.query("SELECT pg_sleep(60)").catch((e: unknown) => e);
    const stateOf = async () =>
      (
        await pool.query(`SELECT "state" FROM pg_stat_activity WHERE "application_name" = $1`, [sessionName("b")])
      ).rows.map((r: { state: string }) => r.state);
    for (let i = 0; i < 50 && !(await stateOf()).includes("active"); i++) await sleep(20);
    expect(await stateOf()).toEqual(["active"]);
    await sleep(500);
    const { term, waited } = await takeOver();
    console.log(`takeover past a running statement: ${waited} ms`);
    expect(term?.epoch).toBe(9);
    expect(waited).toBeLessThan(1_000);
    expect(await running).toBeInstanceOf(Error);
    expect(await exists("running-write")).toBe(false);
    await paused.end().catch(() => {});
  });

  it("a lapsed leader's sessions outside a transaction are left alone", async () => {
    await releaseLease(a, { shard: F, epoch: 9 }, "a");
    expect((await tryLead(b, F, "b", 400))?.epoch).toBe(10);
    const idle = await sessionOf("b");
    await sleep(500);
    expect(await endLapsedTerm(a, F, "a")).toBe(0);
    expect((await idle.query("SELECT 1 AS one")).rows[0].one).toBe(1);
    await idle.end();
  });
});

describe("cluster members", () => {
  it("a member's last report is placed on this process's clock, whatever the database's clock says", async () => {
    const member = { instanceId: "m1", shard: F, role: "standby", clientId: "kw-m1", startedAt: Date.now() };
    await reportMember(a, member);
    await a.query(
      `UPDATE "cluster_members" SET "last_seen_at" = now() - interval '3 seconds' WHERE "instance_id" = 'm1'`,
    );
    const real = Date.now.bind(Date);
    // This process's clock an hour ahead of the database's.
    const skew = vi.spyOn(Date, "now").mockImplementation(() => real() + 3_600_000);
    try {
      const [m] = (await listMembers(a, 10_000)).filter((x) => x.instanceId === "m1");
      const age = Date.now() - m.lastSeenAt;
      expect(age).toBeGreaterThanOrEqual(3_000);
      expect(age).toBeLessThan(4_000);
    } finally {
      skew.mockRestore();
    }
  });
});
