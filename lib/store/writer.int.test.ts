/**
 * StoreWriter against a real Postgres: a few statements per batch whatever
 * its size, idempotent writes, opens before closes, and a database outage
 * that loses nothing within the bound.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DeviceState, FleetEffect, SessionRecord } from "../fleet/types";
import { createDb, createPool, sqlBatch, type Db } from "./db";
import { loadFleet } from "./devices";
import { getDeviceSessions } from "./sessions";
import { getOpenGap, listGaps } from "./gaps";
import { createTestDatabase, withAdmin, type TestDatabase } from "./testing";
import { StoreWriter } from "./writer";

const T0 = Date.parse("2026-03-01T12:00:00.000Z");

function device(id: string, over: Partial<DeviceState> = {}): DeviceState {
  return {
    id,
    status: "online",
    statusSince: T0,
    keepaliveSeconds: 30,
    lastSeenAt: T0 + 5,
    lastPingAt: null,
    lastMessageAt: T0 + 5,
    connectedAt: T0,
    sessionOpen: true,
    lastDisconnectAt: null,
    lastDisconnectReason: null,
    disconnectCount: 0,
    address: "10.0.0.1:50000",
    protocol: "5",
    cleanStart: true,
    sources: ["mosquitto-log"],
    firstSeenAt: T0,
    connectReportedAt: T0,
    lastConfirmedAt: T0 + 5,
    lastClosed: null,
    takeoverCount: 0,
    takeoverWillPending: false,
    ...over,
  };
}

const open = (deviceId: string, connectedAt: number, over: Partial<SessionRecord> = {}): FleetEffect => ({
  type: "session-open",
  session: {
    deviceId,
    connectedAt,
    disconnectedAt: null,
    reason: null,
    keepaliveSeconds: 30,
    lastActivityAt: connectedAt,
    ...over,
  },
});

const close = (
  deviceId: string,
  connectedAt: number,
  disconnectedAt: number,
  reason: "clean" | "keepalive_timeout" = "clean",
): FleetEffect => ({
  type: "session-close",
  deviceId,
  connectedAt,
  disconnectedAt,
  reason,
  lastActivityAt: disconnectedAt - 1,
});

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let testDb: TestDatabase;
/** Every SQL text the writer's pool sent, in order. */
let sent: string[];
let pool: pg.Pool;
let db: Db;
/** Verification connection; it survives the simulated outages. */
let check: pg.Client;
let checkPid: number;
const writers: StoreWriter[] = [];

function writer(opts: Partial<ConstructorParameters<typeof StoreWriter>[0]> = {}): StoreWriter {
  const w = new StoreWriter({
    db,
    sql: sqlBatch(pool), // as the runtime wires it (Database.batch): straight on the pool
    flushIntervalMs: 20,
    maxRetryDelayMs: 200,
    stopTimeoutMs: 2_000,
    ...opts,
  });
  writers.push(w);
  return w;
}

const count = async (sql: string, params: unknown[] = []): Promise<number> =>
  Number((await check.query(sql, params)).rows[0].n);

beforeAll(async () => {
  testDb = await createTestDatabase();
  check = new pg.Client({ connectionString: testDb.url });
  await check.connect();
  checkPid = Number((await check.query(`SELECT pg_backend_pid() AS pid`)).rows[0].pid);
});

afterAll(async () => {
  await check?.end();
  await testDb?.drop();
});

beforeEach(async () => {
  sent = [];
  pool = createPool(testDb.url, 4);
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const first = args[0];
      sent.push(typeof first === "string" ? first : ((first as { text?: string })?.text ?? "?"));
      return query(...args);
    };
  });
  db = createDb({ pool });
  await check.query(`TRUNCATE "devices", "sessions", "monitor_gaps", "debug_log_positions" CASCADE`);
});

afterEach(async () => {
  for (const w of writers.splice(0)) await w.stop();
  await db.$disconnect();
  await pool.end();
});

/** First word of each statement, e.g. ["BEGIN", "INSERT", "COMMIT"]. */
const verbs = () => sent.map((s) => s.trim().split(/\s+/)[0].toUpperCase());

describe("StoreWriter batching", () => {
  it("writes a 10,000-effect batch in one transaction of a handful of statements", async () => {
    const w = writer({ maxBatch: 20_000 });
    const effects: FleetEffect[] = [];
    const changed: DeviceState[] = [];
    for (let i = 0; i < 2_500; i++) {
      const id = `bulk-${i}`;
      changed.push(device(id, { connectedAt: T0 + 1000, disconnectCount: 1 }));
      effects.push(open(id, T0), close(id, T0, T0 + 900, "keepalive_timeout"));
      effects.push({ type: "status-change", deviceId: id, from: "online", to: "offline", at: T0 + 900 });
      effects.push(open(id, T0 + 1000));
    }
    expect(effects).toHaveLength(10_000);
    w.enqueue(effects, changed);
    await w.flush();

    expect(verbs()).toEqual(["BEGIN", "INSERT", "INSERT", "INSERT", "COMMIT"]);
    expect(await count(`SELECT count(*) AS n FROM devices`)).toBe(2_500);
    expect(await count(`SELECT count(*) AS n FROM sessions`)).toBe(5_000);
    expect(
      await count(
        `SELECT count(*) AS n FROM sessions WHERE reason = 'keepalive_timeout' AND disconnected_at IS NOT NULL`,
      ),
    ).toBe(2_500);
    expect(await count(`SELECT count(*) AS n FROM sessions WHERE disconnected_at IS NULL`)).toBe(2_500);
    expect(w.health()).toMatchObject({ ok: true, pendingWrites: 0, droppedWrites: 0, lastError: null });
  });

  it("splits work larger than maxBatch into transactions of maxBatch rows", async () => {
    const w = writer({ maxBatch: 1_000 });
    const effects: FleetEffect[] = [];
    for (let i = 0; i < 3_000; i++) effects.push(open(`split-${i}`, T0));
    w.enqueue(effects, []);
    await w.flush();
    // 3 transactions, each: placeholder devices + sessions
    expect(verbs()).toEqual(Array(3).fill(["BEGIN", "INSERT", "INSERT", "COMMIT"]).flat());
    expect(await count(`SELECT count(*) AS n FROM sessions`)).toBe(3_000);
  });

  it("writes a backlog of device states maxBatch at a time, newer states enqueued meanwhile last", async () => {
    const w = writer({ maxBatch: 1_000 });
    const states = (status: "online" | "late", at: number) =>
      Array.from({ length: 3_500 }, (_, i) => device(`back-${i}`, { status, statusSince: at }));
    w.enqueue([], states("online", T0));
    expect(w.health().pendingWrites).toBe(3_500);
    // While the backlog is written, a third of the devices change again.
    const flushing = w.flush();
    while (!verbs().includes("INSERT")) await new Promise((r) => setImmediate(r));
    w.enqueue([], states("late", T0 + 5_000).slice(0, 1_200));
    await flushing;
    await w.flush();
    const inserts = verbs().filter((v) => v === "INSERT").length;
    // The backlog in 4 batches (the superseded states of back-1000…1199 skipped), then the newer states in 2.
    expect(inserts).toBe(6);
    const { devices } = await loadFleet(db);
    expect(devices).toHaveLength(3_500);
    expect(
      devices
        .filter((d) => d.status === "late")
        .map((d) => d.id)
        .sort(),
    ).toEqual(Array.from({ length: 1_200 }, (_, i) => `back-${i}`).sort());
    expect(devices.filter((d) => d.status === "online")).toHaveLength(2_300);
    expect(w.health()).toMatchObject({ pendingWrites: 0, droppedWrites: 0 });
  });

  it("keeps only the latest state of a device between flushes", async () => {
    const w = writer();
    w.enqueue([], [device("c-1", { status: "online" })]);
    w.enqueue([], [device("c-1", { status: "late", statusSince: T0 + 45_000 })]);
    w.enqueue(
      [],
      [device("c-1", { status: "offline", statusSince: T0 + 60_000, sessionOpen: false, disconnectCount: 1 })],
    );
    expect(w.health().pendingWrites).toBe(1);
    await w.flush();
    // One statement: a batch of one runs without BEGIN/COMMIT.
    expect(verbs()).toEqual(["INSERT"]);
    const { devices } = await loadFleet(db);
    expect(devices).toEqual([
      device("c-1", { status: "offline", statusSince: T0 + 60_000, sessionOpen: false, disconnectCount: 1 }),
    ]);
  });

  it("flushes on its own once started, every flushIntervalMs", async () => {
    const w = writer({ flushIntervalMs: 30 });
    w.start();
    w.enqueue([open("auto-1", T0)], [device("auto-1")]);
    await until("the timer flushed", async () => (await count(`SELECT count(*) AS n FROM sessions`)) === 1);
    expect(w.health().lastFlushAt).not.toBeNull();
  });
});

describe("StoreWriter and the followed debug log's position", () => {
  it("writes the position with the batch that takes the last change buffered, never with an earlier one", async () => {
    let offset = 100;
    const asked: number[] = [];
    const w = writer({
      maxBatch: 1_000,
      logPosition: () => {
        asked.push(offset);
        return { shard: "1/1", file: "/var/log/mosquitto/debug.log", dev: "2049", ino: "77", offset, tail: "3:abc" };
      },
    });
    const position = async () =>
      (await check.query(`SELECT "offset", "dev", "ino", "tail" FROM "debug_log_positions"`)).rows as unknown[];

    // 2,500 session opens: three transactions, and only the last carries the position.
    w.enqueue(
      Array.from({ length: 2_500 }, (_, i) => open(`pos-${i}`, T0)),
      [],
    );
    await w.flush();
    expect(verbs().filter((v) => v === "BEGIN")).toHaveLength(3);
    expect(asked).toEqual([100]);
    expect(sent.filter((q) => q.includes("debug_log_positions"))).toHaveLength(1);
    expect(sent.lastIndexOf(sent.find((q) => q.includes("debug_log_positions"))!)).toBeGreaterThan(
      sent.findLastIndex((q) => q.includes('"sessions"')),
    );
    expect(await position()).toEqual([{ offset: "100", dev: "2049", ino: "77", tail: "3:abc" }]);

    // Later lines: the next drained batch moves it on.
    offset = 250;
    w.enqueue([], [device("pos-0", { lastSeenAt: T0 + 9_000 })]);
    await w.flush();
    expect(await position()).toEqual([{ offset: "250", dev: "2049", ino: "77", tail: "3:abc" }]);
  });
});

describe("StoreWriter correctness", () => {
  it("writes the same session open twice without error or duplicate", async () => {
    const w = writer();
    w.enqueue([open("dup-1", T0), open("dup-1", T0)], [device("dup-1")]);
    await w.flush();
    w.enqueue([open("dup-1", T0)], []);
    await w.flush();
    expect(await count(`SELECT count(*) AS n FROM sessions WHERE device_id = 'dup-1'`)).toBe(1);
    expect(w.health().ok).toBe(true);
  });

  it("writes an open before its close in the same batch", async () => {
    const w = writer();
    w.enqueue([open("ord-1", T0, { keepaliveSeconds: 17 }), close("ord-1", T0, T0 + 60_000)], [device("ord-1")]);
    await w.flush();
    // Were the close applied first, the open would have been ignored and its keepalive lost.
    expect(await getDeviceSessions(db, "ord-1", 10)).toEqual([
      {
        deviceId: "ord-1",
        connectedAt: T0,
        disconnectedAt: T0 + 60_000,
        reason: "clean",
        keepaliveSeconds: 17,
        lastActivityAt: T0 + 59_999,
      },
    ]);
  });

  it("applies a close written in a later batch, once: the first close of a session wins", async () => {
    const w = writer();
    w.enqueue([open("ord-2", T0)], [device("ord-2")]);
    await w.flush();
    w.enqueue([close("ord-2", T0, T0 + 10_000, "keepalive_timeout")], []);
    await w.flush();
    w.enqueue([close("ord-2", T0, T0 + 99_000, "clean")], []);
    await w.flush();
    const [s] = await getDeviceSessions(db, "ord-2", 10);
    expect(s).toMatchObject({ disconnectedAt: T0 + 10_000, reason: "keepalive_timeout", keepaliveSeconds: 30 });
  });

  it("refines the reason of a closed session, in the same batch as its close or later", async () => {
    const w = writer();
    w.enqueue(
      [
        open("ref-1", T0),
        close("ref-1", T0, T0 + 1_000),
        {
          type: "session-refine",
          deviceId: "ref-1",
          connectedAt: T0,
          disconnectedAt: T0 + 1_000,
          reason: "taken_over",
        },
        open("ref-1", T0 + 2_000),
      ],
      [device("ref-1")],
    );
    await w.flush();
    expect((await getDeviceSessions(db, "ref-1", 10)).map((s) => s.reason)).toEqual([null, "taken_over"]);

    w.enqueue(
      [
        {
          type: "session-refine",
          deviceId: "ref-1",
          connectedAt: T0,
          disconnectedAt: T0 + 1_000,
          reason: "not_authorized",
        },
        // an open session has no reason to refine
        {
          type: "session-refine",
          deviceId: "ref-1",
          connectedAt: T0 + 2_000,
          disconnectedAt: T0 + 3_000,
          reason: "clean",
        },
      ],
      [],
    );
    await w.flush();
    const [current, first] = await getDeviceSessions(db, "ref-1", 10);
    expect(first).toMatchObject({ reason: "not_authorized", disconnectedAt: T0 + 1_000 });
    expect(current).toMatchObject({ reason: null, disconnectedAt: null });
  });

  it("records a close whose open was never written, and the device it belongs to", async () => {
    const w = writer();
    w.enqueue([close("orphan-1", T0, T0 + 5_000)], []);
    await w.flush();
    expect(await getDeviceSessions(db, "orphan-1", 10)).toEqual([
      {
        deviceId: "orphan-1",
        connectedAt: T0,
        disconnectedAt: T0 + 5_000,
        reason: "clean",
        keepaliveSeconds: null,
        lastActivityAt: T0 + 4_999,
      },
    ]);
    const { devices } = await loadFleet(db);
    expect(devices.map((d) => [d.id, d.status])).toEqual([["orphan-1", "unknown"]]);
  });

  it("writes every field of a device row as it is: quotes, braces, NULL-like text, nulls and several sources", async () => {
    const w = writer();
    const odd = device('odd "1", {x}\\', {
      status: "offline",
      statusSince: T0 + 123,
      keepaliveSeconds: null,
      lastSeenAt: null,
      lastPingAt: T0 + 7,
      lastMessageAt: null,
      connectedAt: null,
      sessionOpen: false,
      lastDisconnectAt: T0 + 99,
      lastDisconnectReason: "keepalive_timeout",
      disconnectCount: 2_147_483_647,
      takeoverCount: 3,
      address: '[::1]:1883 "a,b" {c} \\ NULL',
      protocol: "NULL",
      cleanStart: false,
      sources: ["aedes", "device-topic", "mosquitto-debug"],
      connectReportedAt: null,
      lastConfirmedAt: null,
    });
    const plain = device("plain-1", { address: null, protocol: null, sources: [] });
    w.enqueue([], [odd, plain]);
    await w.flush();
    const byId = new Map((await loadFleet(db)).devices.map((d) => [d.id, d]));
    expect(byId.get(odd.id)).toEqual(odd);
    expect(byId.get("plain-1")).toEqual(plain);
  });

  it("does not overwrite a known device with a placeholder", async () => {
    const w = writer();
    w.enqueue([], [device("known-1", { status: "late" })]);
    await w.flush();
    w.enqueue([open("known-1", T0 + 1)], []);
    await w.flush();
    expect((await loadFleet(db)).devices).toEqual([device("known-1", { status: "late" })]);
  });

  it("never throws from enqueue: invalid records are dropped and counted, NUL bytes cleaned", async () => {
    const errors: unknown[] = [];
    const w = writer({ onError: (e) => errors.push(e) });
    expect(() =>
      w.enqueue(
        [
          open("bad-1", Number.NaN),
          {
            type: "session-close",
            deviceId: "",
            connectedAt: T0,
            disconnectedAt: T0,
            reason: "clean",
            lastActivityAt: null,
          },
        ],
        [device("bad-2", { statusSince: Number.POSITIVE_INFINITY }), device("nul\u0000id")],
      ),
    ).not.toThrow();
    // Session effects are checked as they come; device states when their batch is taken.
    await w.flush();
    expect(w.health().droppedWrites).toBe(3);
    expect(errors).toHaveLength(3);
    expect((await loadFleet(db)).devices.map((d) => d.id)).toEqual(["nul\uFFFDid"]);
  });

  it("records monitoring gaps, one open at a time", async () => {
    const w = writer();
    w.openGap(T0, "broker connection lost");
    w.openGap(T0 + 1_000, "broker connection lost"); // already open: ignored
    await w.flush();
    expect(await getOpenGap(db)).toMatchObject({ startedAt: T0, endedAt: null, reason: "broker connection lost" });
    w.closeGap(T0 + 30_000);
    w.openGap(T0 + 60_000, "broker unreachable");
    await w.flush();
    expect((await listGaps(db)).map((g) => [g.startedAt, g.endedAt, g.reason])).toEqual([
      [T0 + 60_000, null, "broker unreachable"],
      [T0, T0 + 30_000, "broker connection lost"],
    ]);
  });
});

describe("StoreWriter during a database outage", () => {
  const setAccess = (allowed: boolean) =>
    withAdmin(async (admin) => {
      await admin.query(`ALTER DATABASE "${testDb.name}" WITH ALLOW_CONNECTIONS ${allowed}`);
      if (!allowed) {
        await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> $2`, [
          testDb.name,
          checkPid,
        ]);
      }
    });

  afterEach(() => setAccess(true));

  it("keeps everything, reports unhealthy, retries, and writes it all once the database is back", async () => {
    const errors: unknown[] = [];
    const w = writer({ onError: (e) => errors.push(e) });
    w.start();
    w.enqueue([open("out-1", T0)], [device("out-1")]);
    await until("first batch written", () => w.health().lastFlushAt !== null && w.health().pendingWrites === 0);

    await setAccess(false);

    const effects: FleetEffect[] = [close("out-1", T0, T0 + 1_000, "keepalive_timeout")];
    const changed: DeviceState[] = [device("out-1", { status: "offline", sessionOpen: false, disconnectCount: 1 })];
    for (let i = 0; i < 500; i++) {
      effects.push(open(`out-dev-${i}`, T0 + i), close(`out-dev-${i}`, T0 + i, T0 + i + 500));
      changed.push(device(`out-dev-${i}`, { connectedAt: T0 + i, sessionOpen: false }));
    }
    w.enqueue(effects, changed);

    await until("health reports the outage", () => !w.health().ok);
    const during = w.health();
    expect(during.lastError).toMatch(/not currently accepting connections|terminating connection/);
    expect(during.lastError).not.toContain("\n");
    expect(during.pendingWrites).toBe(1_001 + 501);
    expect(during.droppedWrites).toBe(0);
    await expect(w.flush()).rejects.toThrow();
    // Retries keep failing without losing anything.
    await new Promise((r) => setTimeout(r, 600));
    expect(w.health().pendingWrites).toBe(1_502);

    await setAccess(true);
    await until("everything written", () => w.health().ok && w.health().pendingWrites === 0);

    expect(await count(`SELECT count(*) AS n FROM sessions WHERE disconnected_at IS NOT NULL`)).toBe(501);
    expect(await count(`SELECT count(*) AS n FROM devices`)).toBe(501);
    const [s] = await getDeviceSessions(db, "out-1", 1);
    expect(s).toMatchObject({ disconnectedAt: T0 + 1_000, reason: "keepalive_timeout" });
    expect(errors.length).toBeGreaterThan(0);
  });

  it("drops the oldest session writes past maxPending and counts them", async () => {
    const w = writer({ maxPending: 10 });
    w.enqueue([], [device("bound-1")]);
    await w.flush();

    await setAccess(false);
    const effects: FleetEffect[] = [];
    for (let i = 0; i < 25; i++) effects.push(open("bound-1", T0 + i * 1_000));
    w.enqueue(effects, []);
    await expect(w.flush()).rejects.toThrow();
    expect(w.health()).toMatchObject({ ok: false, pendingWrites: 10, droppedWrites: 15 });

    await setAccess(true);
    await w.flush();
    const kept = (await getDeviceSessions(db, "bound-1", 100)).map((s) => (s.connectedAt - T0) / 1_000);
    expect(kept).toEqual([24, 23, 22, 21, 20, 19, 18, 17, 16, 15]);
    expect(w.health()).toMatchObject({ ok: true, pendingWrites: 0, droppedWrites: 15, lastError: null });
  });

  it("stop() writes what is left", async () => {
    const w = writer({ flushIntervalMs: 60_000 });
    w.start();
    w.enqueue([open("stop-1", T0)], [device("stop-1")]);
    await w.stop();
    expect(await count(`SELECT count(*) AS n FROM sessions WHERE device_id = 'stop-1'`)).toBe(1);
  });
});

describe("a row the database refuses (poison)", () => {
  it("isolates it: the rest of the batch and every later batch is written, the row is counted and dropped", async () => {
    const w = writer();
    w.start();
    // Random, so it does not compress below Postgres' 2,704-byte btree row limit for devices_pkey.
    const poison = `long-${randomBytes(2_700).toString("base64")}`;
    w.enqueue(
      [open("ok-1", T0), open(poison, T0), close("ok-1", T0, T0 + 1_000)],
      [device("ok-1"), device(poison), device("ok-2")],
    );
    await until(
      "ok-1's session closed",
      async () =>
        (await count(`SELECT count(*) AS n FROM sessions WHERE device_id = 'ok-1' AND disconnected_at IS NOT NULL`)) ===
        1,
    );
    expect(await count(`SELECT count(*) AS n FROM devices WHERE id IN ('ok-1', 'ok-2')`)).toBe(2);
    expect(await count(`SELECT count(*) AS n FROM devices WHERE length(id) > 3000`)).toBe(0);
    // The poison was a device row and the session open that refers to it.
    expect(w.health()).toMatchObject({ ok: true, rejectedRows: 2, pendingWrites: 0 });
    // Later batches are not held up.
    w.enqueue([open("ok-3", T0 + 5)], [device("ok-3")]);
    await until(
      "ok-3 written",
      async () => (await count(`SELECT count(*) AS n FROM sessions WHERE device_id = 'ok-3'`)) === 1,
      2_000,
    );
    await w.stop();
  });
});
