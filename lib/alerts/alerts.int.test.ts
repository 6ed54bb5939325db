/**
 * Alerts on a real Postgres: rule CRUD, idempotent decision writes against
 * the partial unique index, and the alert service across a restart (firing
 * alerts continue, no duplicate, the resolution lands on the same row).
 */
import pg from "pg";
import { getChannel } from "../store/notifications";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Fleet } from "../fleet/fleet";
import { createDb, createPool, sqlOf, type Db } from "../store/db";
import {
  applyAlertWrites,
  createAlertRule,
  deleteAlertRule,
  listAlertRules,
  listAlerts,
  loadFiringAlerts,
  setAlertAck,
  updateAlertRule,
  type AlertWrite,
} from "../store/alerts";
import { createTestDatabase, type TestDatabase } from "../store/testing";
import { loadFleet } from "../store/devices";
import { recentDisconnects } from "../store/sessions";
import { StoreWriter } from "../store/writer";
import { eventually } from "../testing/clients";
import type { AlertDecision } from "./engine";
import { DEFAULT_RULE } from "./rules";
import { AlertService, type AlertServiceOptions } from "./service";

let testDb: TestDatabase;
let db: Db;

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = createDb({ connectionString: testDb.url });
});

afterAll(async () => {
  await db?.$disconnect();
  await testDb?.drop();
});

describe("alert rules in the database", () => {
  it("has the default rule from the migration, which cannot be deleted and keeps matching *", async () => {
    const [def] = await listAlertRules(db);
    expect(def).toEqual({ ...DEFAULT_RULE, id: def.id, isDefault: true });
    expect(await deleteAlertRule(db, def.id)).toBe("default");
    const updated = await updateAlertRule(db, def.id, { ...DEFAULT_RULE, match: "x-*", resolveAfterSeconds: 5 });
    expect(updated).toMatchObject({ match: "*", resolveAfterSeconds: 5 });
    await updateAlertRule(db, def.id, DEFAULT_RULE);
  });

  it("creates, updates and deletes a rule with every field kept exactly", async () => {
    const input = {
      ...DEFAULT_RULE,
      name: "pumps",
      match: "pump-[0-9]*",
      offlineFactor: null,
      offlineSeconds: 45,
      lateFactor: null,
      nearMissRatio: 0.85,
      repeatIntervalSeconds: 600,
      webhookUrl: "https://hooks.example/kw?token=1",
      enabled: false,
    };
    const created = await createAlertRule(db, input);
    // The legacy webhook URL is saved as a webhook channel the rule points at.
    const { webhookUrl, ...kept } = input;
    const hook = await getChannel(db, created.channelIds[0]);
    expect(hook).toMatchObject({ type: "webhook", config: { url: webhookUrl } });
    expect(created).toEqual({ ...kept, channelIds: [hook!.id], id: created.id, isDefault: false });
    const updated = await updateAlertRule(db, created.id, { ...input, offlineSeconds: null, offlineFactor: 1.2 });
    expect(updated).toMatchObject({ offlineSeconds: null, offlineFactor: 1.2 });
    expect(await deleteAlertRule(db, created.id)).toBe("deleted");
    expect(await deleteAlertRule(db, created.id)).toBe("not-found");
    expect(await updateAlertRule(db, created.id, input)).toBeNull();
  });
});

describe("writing decisions", () => {
  const fire = (at: number, deviceId = "w-1"): AlertDecision => ({
    type: "fire",
    deviceId,
    kind: "offline",
    ruleId: 1,
    at,
    message: "gone",
  });
  const resolve = (at: number, deviceId = "w-1"): AlertDecision => ({
    type: "resolve",
    deviceId,
    kind: "offline",
    ruleId: 1,
    at,
    message: "back",
  });

  it("never holds two firing alerts for one device and kind; repeats change nothing", async () => {
    const t = Date.parse("2026-11-22T03:00:00Z");
    const [first] = await applyAlertWrites(db, [fire(t)]);
    expect(first).toMatchObject({ changed: true, alert: { state: "firing", deviceId: "w-1", firedAt: t } });
    const again = await applyAlertWrites(db, [fire(t + 5_000)]);
    expect(again).toEqual([expect.objectContaining({ changed: false, alert: first.alert })]);
    const [res] = await applyAlertWrites(db, [resolve(t + 9_000)]);
    expect(res.alert).toMatchObject({
      id: first.alert!.id,
      state: "resolved",
      resolvedAt: t + 9_000,
      resolveMessage: "back",
    });
    expect(await applyAlertWrites(db, [resolve(t + 10_000)])).toEqual([]);
    // Fire and resolve in one batch, in order.
    const both = await applyAlertWrites(db, [fire(t + 20_000), resolve(t + 21_000)]);
    expect(both.map((a) => [a.write.type, a.alert!.state])).toEqual([
      ["fire", "firing"],
      ["resolve", "resolved"],
    ]);
    expect(await listAlerts(db, { deviceId: "w-1" })).toHaveLength(2);
    // The database itself refuses a second firing row.
    await applyAlertWrites(db, [fire(t + 30_000)]);
    await expect(
      db.$executeRaw`INSERT INTO "alerts" ("device_id", "kind", "state", "fired_at", "message")
                     VALUES ('w-1', 'offline', 'firing', now(), 'dup')`,
    ).rejects.toThrow(/alerts_one_firing_idx|unique/i);
  });

  it("a batch of fires: one row each, in order, new ones changed, one already firing kept", async () => {
    const t = Date.parse("2026-11-22T04:00:00Z");
    const at = (device: string, ms: number, extra: Partial<Extract<AlertWrite, { type: "fire" }>> = {}) => ({
      ...fire(ms),
      deviceId: device,
      message: `${device} offline`,
      ...extra,
    });
    const [before] = await applyAlertWrites(db, [at("run-2", t)]);
    const rule = await createAlertRule(db, { ...DEFAULT_RULE, name: "gone soon", match: "run-*" });
    await deleteAlertRule(db, rule.id);
    const run = [
      at("run-1", t + 1_000),
      at("run-2", t + 1_000),
      // Its rule was deleted meanwhile and its incident never stored: kept without them.
      at("run-3", t + 1_000, { ruleId: rule.id, meta: { notified: false, silenceId: null, incidentId: "no-such" } }),
      at("run-4\u0000x", t + 1_000, { kind: "flapping", meta: { notified: true, silenceId: "s-1", incidentId: null } }),
    ];
    const applied = await applyAlertWrites(db, run);
    expect(applied.map((a) => [a.write, a.changed])).toEqual(run.map((w, i) => [w, i !== 1]));
    expect(applied[1].alert).toEqual(before.alert);
    expect(applied[0].alert).toMatchObject({ deviceId: "run-1", state: "firing", firedAt: t + 1_000, notified: true });
    expect(applied[2].alert).toMatchObject({ deviceId: "run-3", ruleId: null, incidentId: null, notified: false });
    expect(applied[2].alert!.lastNotifiedAt).toBeNull();
    expect(applied[3].alert).toMatchObject({
      deviceId: "run-4\uFFFDx",
      kind: "flapping",
      silenced: true,
      silenceId: "s-1",
    });
    // A new alert's record is built from its write: exactly the row as stored.
    for (const i of [0, 2, 3])
      expect(applied[i].alert).toEqual((await listAlerts(db, { deviceId: applied[i].alert!.deviceId! }))[0]);
    const ids = [0, 2, 3].map((i) => BigInt(applied[i].alert!.id));
    expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
    expect(await listAlerts(db, { deviceId: "run-2" })).toHaveLength(1);
    // A device firing twice in one batch: the second finds the first.
    const twice = await applyAlertWrites(db, [at("run-5", t), at("run-5", t + 1)]);
    expect(twice.map((a) => a.changed)).toEqual([true, false]);
    expect(twice[1].alert!.id).toBe(twice[0].alert!.id);
  });

  it("reads every firing alert back in pages, exactly as listed, on the pool as through Prisma", async () => {
    const t = Date.parse("2026-11-22T05:00:00Z");
    await applyAlertWrites(
      db,
      Array.from({ length: 7 }, (_, i) => ({ ...fire(t + i * 1_001), deviceId: `page-${i}`, message: `m${i}` })),
    );
    await applyAlertWrites(db, [resolve(t + 9_000, "page-3")]);
    const pool = createPool(testDb.url, 1);
    try {
      const expected = (await listAlerts(db, { state: "firing", limit: 1000 })).sort((a, b) =>
        BigInt(a.id) < BigInt(b.id) ? -1 : 1,
      );
      expect(expected.some((a) => a.deviceId === "page-3")).toBe(false);
      expect(expected.filter((a) => a.deviceId?.startsWith("page-"))).toHaveLength(6);
      // Pages of 2 (and 3): every firing alert once, in id order, every field as listAlerts has it.
      expect(await loadFiringAlerts(pool, 2)).toEqual(expected);
      expect(await loadFiringAlerts(sqlOf(db), 3)).toEqual(expected);
    } finally {
      await pool.end();
    }
  });
});

describe("the alert service across a restart", () => {
  it("continues firing alerts: no duplicate, no storm, and the resolution lands on the same row", async () => {
    const rule = await createAlertRule(db, {
      ...DEFAULT_RULE,
      name: "restart",
      match: "rs-*",
      offlineFactor: null,
      offlineSeconds: 2,
      resolveAfterSeconds: 1,
    });
    const rsFiring = (s: AlertService) => s.feed().firing.filter((a) => a.deviceId?.startsWith("rs-"));
    let now = Date.now();
    const logs: string[] = [];
    const start = (fleet: Fleet) =>
      startOn(
        fleet,
        () => now,
        (m) => logs.push(m),
      );

    // First life: three devices go silent; their alerts fire.
    const fleet1 = new Fleet({ now: () => now, pingsVisible: () => true });
    const s1 = await start(fleet1);
    for (const id of ["rs-1", "rs-2", "rs-3"])
      fleet1.apply({ kind: "connect", deviceId: id, at: now, source: "aedes", keepaliveSeconds: 60 });
    now += 2_500;
    await eventually(() => rsFiring(s1).length === 3, 2_000, "three alerts firing");
    await s1.stop();
    const before = await listAlerts(db, { state: "firing" });
    expect(before.filter((a) => a.deviceId?.startsWith("rs-"))).toHaveLength(3);

    // Restart: the fleet comes back from its saved state (unknown), the service from the database.
    const fleet2 = new Fleet({ now: () => now, pingsVisible: () => true });
    fleet2.restore(
      [...fleet1.all()].map((d) => ({ ...d })),
      [],
    );
    const s2 = await start(fleet2);
    expect(rsFiring(s2)).toHaveLength(3);
    expect(
      rsFiring(s2)
        .map((a) => a.id)
        .sort(),
    ).toEqual(
      before
        .filter((a) => a.deviceId?.startsWith("rs-"))
        .map((a) => a.id)
        .sort(),
    );
    now += 10_000; // time passes with no news: nothing is decided about unknown devices
    await new Promise((r) => setTimeout(r, 100));
    // rs-1 comes back and stays; rs-2 and rs-3 are not heard of again.
    fleet2.apply({ kind: "connect", deviceId: "rs-1", at: now, source: "aedes", keepaliveSeconds: 60 });
    for (let i = 1; i <= 3; i++) {
      now += 500;
      fleet2.apply({ kind: "ping", deviceId: "rs-1", at: now, source: "aedes" });
      await new Promise((r) => setTimeout(r, 50));
    }
    now += 2_000;
    await eventually(() => rsFiring(s2).length === 2, 2_000, "rs-1 resolved");
    await s2.flush();
    await s2.stop();

    const rows = (await listAlerts(db, { limit: 1000 })).filter((a) => a.deviceId?.startsWith("rs-"));
    expect(rows).toHaveLength(3); // no duplicates
    const byDevice = Object.fromEntries(rows.map((a) => [a.deviceId, a]));
    expect(byDevice["rs-1"]).toMatchObject({ state: "resolved", ruleId: rule.id });
    expect(byDevice["rs-1"].id).toBe(before.find((a) => a.deviceId === "rs-1")!.id);
    expect(byDevice["rs-2"].state).toBe("firing");
    expect(byDevice["rs-3"].state).toBe("firing");
  });
});

/** An alert service on this fleet and clock, started. */
/** An alert service's options on a fleet and a clock the test moves. */
function optionsOn(fleet: Fleet, now: () => number, log: (m: string) => void = () => {}): AlertServiceOptions {
  return { db: () => db, fleet, pingsVisible: () => true, onFeedChange: () => {}, log, now, tickMs: 20 };
}

async function startOn(fleet: Fleet, now: () => number, log: (m: string) => void = () => {}): Promise<AlertService> {
  const service = new AlertService(optionsOn(fleet, now, log));
  await service.start();
  return service;
}

/** A rule for the devices matching `match` that watches flapping alone (3 drops in 60 s). */
function flapRule(name: string, match: string) {
  return createAlertRule(db, {
    ...DEFAULT_RULE,
    name,
    match,
    offlineFactor: null,
    offlineSeconds: 3_600,
    flapDisconnects: 3,
    flapWindowSeconds: 60,
  });
}

/** An alert service on a fleet, both on a clock the test moves (`clock.now`). */
async function serviceOnClock(opts: Partial<AlertServiceOptions> = {}) {
  const clock = { now: Date.now() };
  const fleet = new Fleet({ now: () => clock.now, pingsVisible: () => true });
  const service = new AlertService({
    db: () => db,
    fleet,
    pingsVisible: () => true,
    onFeedChange: () => {},
    log: () => {},
    now: () => clock.now,
    tickMs: 20,
    incidents: { groupWaitMs: 0 },
    ...opts,
  });
  await service.start();
  return { clock, fleet, service };
}

describe("flapping across a restart", () => {
  it("counts the disconnects stored before the start: a flapping alert does not resolve early, then resolves on time", async () => {
    await createAlertRule(db, {
      ...DEFAULT_RULE,
      name: "flap",
      match: "fl-*",
      offlineFactor: null,
      offlineSeconds: 3_600,
      flapDisconnects: 5,
      flapWindowSeconds: 60,
      resolveAfterSeconds: 30,
    });
    const t0 = Date.now();
    let now = t0;
    const start = (fleet: Fleet) => startOn(fleet, () => now);
    const flapping = async () =>
      (await listAlerts(db, { deviceId: "fl-1" })).filter((a) => a.kind === "flapping").map((a) => [a.id, a.state]);

    // First life: five drops in 24 s, written by the store writer as in the runtime; the flapping alert fires.
    const fleet1 = new Fleet({ now: () => now, pingsVisible: () => true });
    const writer = new StoreWriter({ db, flushIntervalMs: 20 });
    fleet1.onEffects((effects, changed) => writer.enqueue(effects, changed));
    const s1 = await start(fleet1);
    fleet1.apply({ kind: "connect", deviceId: "fl-1", at: now, source: "aedes", keepaliveSeconds: 60 });
    for (let i = 0; i < 5; i++) {
      now += 5_000;
      fleet1.apply({ kind: "disconnect", deviceId: "fl-1", at: now, source: "aedes", reason: "connection_lost" });
      now += 1_000;
      fleet1.apply({ kind: "connect", deviceId: "fl-1", at: now, source: "aedes", keepaliveSeconds: 60 });
    }
    await eventually(async () => (await flapping()).length === 1, 5_000, "the flapping alert stored");
    const [[id]] = await flapping();
    await s1.stop();
    await writer.stop();

    // Restart at t0 + 30 s: the device is connected. Its first drop (t0 + 5 s) leaves the 60 s window at t0 + 65 s.
    const fleet2 = new Fleet({ now: () => now, pingsVisible: () => true });
    fleet2.apply({ kind: "connect", deviceId: "fl-1", at: now, source: "aedes", keepaliveSeconds: 60 });
    const s2 = await start(fleet2);
    // 45 s later: forgetting the stored drops would have resolved it (30 s after the start); it is still flapping.
    now = t0 + 75_000;
    s2.tick(now);
    await s2.flush();
    expect(await flapping()).toEqual([[id, "firing"]]);
    // 30 s after it turned stable: resolved, on the same row.
    now = t0 + 110_000;
    s2.tick(now);
    await eventually(
      async () => (await s2.flush(), (await flapping())[0]?.[1] === "resolved"),
      5_000,
      "the flapping alert resolved",
    );
    expect(await flapping()).toEqual([[id, "resolved"]]);
    await s2.stop();
  });
});

describe("a lone stored drop across a restart", () => {
  it("counts toward flapping once the device drops again: the restored fleet holds it", async () => {
    await flapRule("lone drop", "ld-*");
    const t0 = Date.now();
    let now = t0;
    const flapping = async (id: string) =>
      (await listAlerts(db, { deviceId: id })).filter((a) => a.kind === "flapping").length;
    const event = (fleet: Fleet, kind: "connect" | "disconnect", id: string) =>
      fleet.apply(
        kind === "connect"
          ? { kind, deviceId: id, at: now, source: "aedes", keepaliveSeconds: 60 }
          : { kind, deviceId: id, at: now, source: "aedes", reason: "connection_lost" },
      );

    // First life: ld-1 drops once, ld-2 never; the store writer stores sessions and rows as in the runtime.
    const fleet1 = new Fleet({ now: () => now, pingsVisible: () => true });
    const writer = new StoreWriter({ db, flushIntervalMs: 20 });
    fleet1.onEffects((effects, changed) => writer.enqueue(effects, changed));
    for (const id of ["ld-1", "ld-2"]) event(fleet1, "connect", id);
    now += 5_000;
    event(fleet1, "disconnect", "ld-1");
    now += 1_000;
    event(fleet1, "connect", "ld-1");
    await writer.stop();

    // Restart at t0 + 10 s, the fleet read back from its rows (sessions open); each device then drops twice more.
    now = t0 + 10_000;
    const saved = await loadFleet(db);
    const fleet2 = new Fleet({ now: () => now, pingsVisible: () => true });
    fleet2.restore(
      saved.devices.filter((d) => d.id.startsWith("ld-")),
      saved.openSessions,
    );
    const s2 = await startOn(fleet2, () => now);
    for (const dt of [15_000, 20_000]) {
      now = t0 + dt;
      for (const id of ["ld-1", "ld-2"]) event(fleet2, "disconnect", id);
      now += 1_000;
      for (const id of ["ld-1", "ld-2"]) event(fleet2, "connect", id);
    }
    await s2.flush();
    await eventually(async () => (await flapping("ld-1")) === 1, 5_000, "ld-1 flapping (1 stored + 2 seen)");
    expect(await flapping("ld-2")).toBe(0); // 2 of 3
    await s2.stop();
    await db.$executeRaw`DELETE FROM "alerts" WHERE "device_id" LIKE 'ld-%'`;
  });
});

describe("flapping across a takeover", () => {
  it("counts what the standby saw itself, stored or not, and each stored drop once", async () => {
    await flapRule("takeover flap", "tk-*");
    const t0 = Date.now();
    let now = t0;
    const options = (fleet: Fleet) => optionsOn(fleet, () => now);
    const connect = (fleet: Fleet, id: string, at = now) =>
      fleet.apply({ kind: "connect", deviceId: id, at, source: "aedes", keepaliveSeconds: 60 });
    const drop = (fleet: Fleet, id: string, at = now) =>
      fleet.apply({ kind: "disconnect", deviceId: id, at, source: "aedes", reason: "connection_lost" });
    const flapping = async (id: string) =>
      (await listAlerts(db, { deviceId: id })).filter((a) => a.kind === "flapping" && a.state === "firing").length;

    // The old leader's own fleet, whose sessions its store writer stores.
    const leaderFleet = new Fleet({ now: () => now, pingsVisible: () => true });
    const writer = new StoreWriter({ db, flushIntervalMs: 20 });
    leaderFleet.onEffects((effects, changed) => writer.enqueue(effects, changed));
    // tk-3 dropped twice before this instance stood by: only the database knows.
    connect(leaderFleet, "tk-3");
    for (const dt of [1_000, 2_000]) {
      drop(leaderFleet, "tk-3", t0 + dt);
      connect(leaderFleet, "tk-3", t0 + dt + 100);
    }

    // This instance stands by from t0 + 5 s with its own fleet.
    now = t0 + 5_000;
    const standbyFleet = new Fleet({ now: () => now, pingsVisible: () => true });
    for (const id of ["tk-1", "tk-2", "tk-3"]) connect(standbyFleet, id);
    connect(leaderFleet, "tk-2");
    const standby = new AlertService(options(standbyFleet));
    await standby.follow();
    // tk-4 drops twice, both seen and stored; the first is stamped before the standby began, but seen after.
    connect(standbyFleet, "tk-4", t0 + 4_000);
    connect(leaderFleet, "tk-4", t0 + 4_000);
    for (const dt of [4_500, 7_000]) {
      drop(standbyFleet, "tk-4", t0 + dt);
      connect(standbyFleet, "tk-4", t0 + dt + 100);
      drop(leaderFleet, "tk-4", t0 + dt + 3);
      connect(leaderFleet, "tk-4", t0 + dt + 103);
    }
    for (const dt of [6_000, 8_000]) {
      // tk-1 drops twice; the old leader dies before storing them.
      drop(standbyFleet, "tk-1", t0 + dt);
      connect(standbyFleet, "tk-1", t0 + dt + 100);
      // tk-2 drops twice; both instances see it, the leader (a few ms apart) stores it.
      drop(standbyFleet, "tk-2", t0 + dt);
      connect(standbyFleet, "tk-2", t0 + dt + 100);
      drop(leaderFleet, "tk-2", t0 + dt + 3);
      connect(leaderFleet, "tk-2", t0 + dt + 103);
    }
    // tk-3's third drop: seen by this instance only.
    drop(standbyFleet, "tk-3", t0 + 9_000);
    connect(standbyFleet, "tk-3", t0 + 9_100);
    await writer.stop();
    expect((await recentDisconnects(db, t0 - 1)).get("tk-2")).toHaveLength(2);

    // Takeover at t0 + 20 s: the standby's alert service hands its memory to the leader's.
    now = t0 + 20_000;
    await standby.stop();
    const leader = new AlertService(options(standbyFleet));
    await leader.start(standby.handOver());
    now += 1_000;
    drop(standbyFleet, "tk-1"); // its third drop
    standbyFleet.apply({ kind: "ping", deviceId: "tk-2", at: now, source: "aedes" }); // looked at again: 2 drops
    standbyFleet.apply({ kind: "ping", deviceId: "tk-3", at: now, source: "aedes" }); // 2 stored + 1 seen
    standbyFleet.apply({ kind: "ping", deviceId: "tk-4", at: now, source: "aedes" }); // 2 drops
    await leader.flush();
    await eventually(async () => (await flapping("tk-1")) === 1, 5_000, "tk-1 flapping");
    await eventually(async () => (await flapping("tk-3")) === 1, 5_000, "tk-3 flapping");
    // tk-2's and tk-4's drops, seen here and stored by the old leader, count once: 2 of 3.
    expect(await flapping("tk-2")).toBe(0);
    expect(await flapping("tk-4")).toBe(0);
    await leader.stop();
    await db.$executeRaw`DELETE FROM "alerts" WHERE "device_id" LIKE 'tk-%'`;
  });
});

describe("an alert across a takeover", () => {
  it("resolves when the old leader would have: the standby knew how long the device had been fine", async () => {
    await createAlertRule(db, {
      ...DEFAULT_RULE,
      name: "takeover resolve",
      match: "hk-*",
      offlineFactor: null,
      offlineSeconds: 3,
      resolveAfterSeconds: 20,
    });
    const t0 = Date.now();
    let now = t0;
    const options = (fleet: Fleet) => optionsOn(fleet, () => now);
    const fleets = [0, 1].map(() => new Fleet({ now: () => now, pingsVisible: () => true }));
    const [leaderFleet, standbyFleet] = fleets;
    const each = (f: (fleet: Fleet) => void) => fleets.forEach(f);
    const rows = () => listAlerts(db, { deviceId: "hk-1" });

    // The old leader fires hk-1 offline (silent past 3 s); this instance follows what it stored.
    const oldLeader = new AlertService(options(leaderFleet));
    await oldLeader.start();
    each((f) => f.apply({ kind: "connect", deviceId: "hk-1", at: now, source: "aedes", keepaliveSeconds: 60 }));
    const standby = new AlertService(options(standbyFleet));
    await standby.follow();
    now = t0 + 4_000;
    await eventually(async () => (await rows()).some((a) => a.state === "firing"), 5_000, "hk-1 fired");
    await oldLeader.stop(); // it dies before the device is fine for 20 s
    await standby.follow(); // the periodic re-read: the stored alert

    // hk-1 is fine again from t0 + 10 s; both would resolve at t0 + 30 s.
    for (let t = 10; t <= 34; t += 2) {
      now = t0 + t * 1_000;
      standbyFleet.apply({ kind: "ping", deviceId: "hk-1", at: now, source: "aedes" });
      await new Promise((r) => setTimeout(r, 30)); // the standby's ticker runs
    }
    expect((await rows()).map((a) => a.state)).toEqual(["firing"]);

    // Takeover at t0 + 34 s: the leader resolves at once, on the same row.
    await standby.stop();
    const leader = new AlertService(options(standbyFleet));
    await leader.start(standby.handOver());
    await eventually(async () => (await rows()).every((a) => a.state === "resolved"), 5_000, "hk-1 resolved");
    const [row] = await rows();
    expect(row.resolvedAt).toBe(t0 + 34_000);
    expect(await rows()).toHaveLength(1);
    await leader.stop();
    await db.$executeRaw`DELETE FROM "alerts" WHERE "device_id" LIKE 'hk-%'`;
  });
});

describe("a standby following the stored alerts", () => {
  const decide = (type: "fire" | "resolve", deviceId: string, at: number): AlertDecision => ({
    type,
    deviceId,
    kind: "offline",
    ruleId: 1,
    at,
    message: type === "fire" ? "gone" : "back",
  });
  // Other tests' alerts may still fire in this database: only this test's devices.
  const firingIds = (s: AlertService) =>
    s
      .feed()
      .firing.map((a) => a.deviceId!)
      .filter((id) => id.startsWith("fo-"))
      .sort();
  const mirrored = (s: AlertService) => s.engine.firing().filter((a) => a.deviceId.startsWith("fo-")).length;

  it("reads what changed since its last read, a transaction that commits late included, and hands it over", async () => {
    const t0 = Date.now();
    let now = t0;
    const fleet = new Fleet({ now: () => now, pingsVisible: () => true });
    let feedChanges = 0;
    const standby = new AlertService({ ...optionsOn(fleet, () => now), onFeedChange: () => feedChanges++ });
    await applyAlertWrites(db, [decide("fire", "fo-1", t0), decide("fire", "fo-2", t0)]);
    await standby.follow();
    expect(firingIds(standby)).toEqual(["fo-1", "fo-2"]);
    expect(mirrored(standby)).toBe(2);

    // Nothing written: nothing read again, the feed is not rebuilt.
    const before = feedChanges;
    await standby.follow();
    expect(feedChanges).toBe(before);

    // A transaction resolves fo-1 and stays open while a younger one fires fo-3 and commits.
    const late = new pg.Client({ connectionString: testDb.url });
    await late.connect();
    try {
      await late.query("BEGIN");
      await late.query(
        `UPDATE "alerts" SET "state" = 'resolved', "resolved_at" = now() WHERE "device_id" = 'fo-1' AND "state" = 'firing'`,
      );
      await applyAlertWrites(db, [decide("fire", "fo-3", t0 + 1_000)]);
      await standby.follow();
      expect(firingIds(standby)).toEqual(["fo-1", "fo-2", "fo-3"]);
      await late.query("COMMIT");
    } finally {
      await late.end();
    }
    // Read after the younger one, yet not missed.
    await standby.follow();
    expect(firingIds(standby)).toEqual(["fo-2", "fo-3"]);
    expect(mirrored(standby)).toBe(2);

    // An acknowledgement (from any instance's API) and a repeat are read too.
    const fo2 = (await listAlerts(db, { deviceId: "fo-2" }))[0];
    await setAlertAck(db, fo2.id, { by: "ops", comment: "on it", at: t0 + 2_000 });
    await applyAlertWrites(db, [
      { type: "repeat", deviceId: "fo-2", kind: "offline", ruleId: 1, at: t0 + 3_000, firedAt: t0, message: "still" },
    ]);
    await standby.follow();
    expect(standby.feed().firing.find((a) => a.deviceId === "fo-2")).toMatchObject({ acknowledgedBy: "ops" });
    expect(standby.engine.firing().find((a) => a.deviceId === "fo-2")?.lastNotifiedAt).toBe(t0 + 3_000);

    // Written after the standby's last read: fo-3 resolves, fo-4 fires. The leader it becomes has both.
    await applyAlertWrites(db, [decide("resolve", "fo-3", t0 + 4_000), decide("fire", "fo-4", t0 + 4_000)]);
    now = t0 + 5_000;
    await standby.stop();
    const handed = standby.handOver();
    expect([...handed!.firing!.alerts.values()].filter((a) => a.deviceId?.startsWith("fo-"))).toHaveLength(2);
    const leader = new AlertService(optionsOn(fleet, () => now));
    await leader.start(handed);
    expect(firingIds(leader)).toEqual(["fo-2", "fo-4"]);
    expect(mirrored(leader)).toBe(2);
    await leader.stop();
    await db.$executeRaw`DELETE FROM "alerts" WHERE "device_id" LIKE 'fo-%'`;
  });
});

describe("the alert service in a mass outage", () => {
  it("one incident for 600 devices dropped at once: every member stored in it, its row written per batch, not per member", async () => {
    await createAlertRule(db, {
      ...DEFAULT_RULE,
      name: "mass",
      match: "mo-*",
      offlineFactor: null,
      offlineSeconds: 1,
      resolveAfterSeconds: 1,
    });
    // Counts every statement that writes an incident row.
    await db.$executeRawUnsafe(`CREATE TABLE "incident_writes" ("n" int NOT NULL)`);
    await db.$executeRawUnsafe(`INSERT INTO "incident_writes" VALUES (0)`);
    await db.$executeRawUnsafe(`CREATE FUNCTION count_incident_write() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN UPDATE "incident_writes" SET "n" = "n" + 1; RETURN NEW; END $$`);
    await db.$executeRawUnsafe(`CREATE TRIGGER count_incident_write AFTER INSERT OR UPDATE ON "incidents"
      FOR EACH ROW EXECUTE FUNCTION count_incident_write()`);

    const { clock, fleet, service } = await serviceOnClock();
    const ids = Array.from({ length: 600 }, (_, i) => `mo-${i}`);
    for (const id of ids)
      fleet.apply({ kind: "connect", deviceId: id, at: clock.now, source: "aedes", keepaliveSeconds: 60 });
    clock.now += 100;
    for (const id of ids)
      fleet.apply({ kind: "disconnect", deviceId: id, at: clock.now, source: "aedes", reason: "connection_lost" });
    clock.now += 1_500;
    await eventually(
      async () => {
        await service.flush();
        const n = (await listAlerts(db, { state: "firing", limit: 1000 })).filter((a) => a.deviceId?.startsWith("mo-"));
        return n.length === ids.length;
      },
      10_000,
      "600 alerts stored",
    );
    await service.flush();
    // All of them counted (keepwatch_alerts_firing), not the feed's newest 200.
    expect(service.firingByKind().offline).toBeGreaterThanOrEqual(600);
    await service.stop();

    const alerts = (await listAlerts(db, { state: "firing", limit: 1000 })).filter((a) =>
      a.deviceId?.startsWith("mo-"),
    );
    const incidentIds = new Set(alerts.map((a) => a.incidentId));
    expect(incidentIds.size).toBe(1);
    const [incident] = await db.$queryRaw<{ id: string; device_count: number; still_offline: number }[]>`
      SELECT "id", "device_count", "still_offline" FROM "incidents" WHERE "id" = ${[...incidentIds][0]}`;
    expect(incident).toMatchObject({ device_count: 600, still_offline: 600 });
    // 600 members in batches of at most 1,000 writes: a handful of incident writes, where one per member was 600.
    const [{ n }] = await db.$queryRaw<{ n: number }[]>`SELECT "n" FROM "incident_writes"`;
    console.log(`incident row written ${n} times for ${ids.length} members`);
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(5);
  });
});

describe("a restart during a mass outage", () => {
  it("loads an open incident of 150,000 firing alerts with all its members", async () => {
    const n = 150_000;
    const t0 = Date.now() - 60_000;
    await db.$executeRaw`
      INSERT INTO "incidents" ("id", "state", "opened_at", "cause_kind", "cause_reason", "device_count",
                               "still_offline", "message", "last_notified_at")
      VALUES ('inc-big', 'open', ${new Date(t0 + 5_000)}, 'mass_disconnect', 'connection_lost', ${n}, ${n},
              'big outage', ${new Date(t0 + 5_000)})`;
    await db.$executeRaw`
      INSERT INTO "alerts" ("device_id", "rule_id", "kind", "state", "fired_at", "message", "last_notified_at",
                            "incident_id", "notified")
      SELECT 'big-' || i, NULL, 'offline', 'firing', ${new Date(t0)}::timestamptz + i * interval '1 microsecond',
             'offline', ${new Date(t0)}, 'inc-big', false
        FROM generate_series(1, ${n}::int) AS i`;
    const logs: string[] = [];
    const fleet = new Fleet({ now: Date.now, pingsVisible: () => true });
    const service = await startOn(fleet, Date.now, (m) => logs.push(m));
    try {
      expect(logs.filter((m) => m.includes("not loaded"))).toEqual([]);
      expect(service.feed().firingCount).toBeGreaterThanOrEqual(n);
      expect(service.feed().incidents.map((i) => i.id)).toContain("inc-big");
      for (const id of ["big-1", `big-${n}`])
        expect(service.incidents.incidentOf(`offline\u0000${id}`)).toBe("inc-big");
    } finally {
      await service.stop();
      await db.$executeRaw`DELETE FROM "alerts" WHERE "incident_id" = 'inc-big'`;
      await db.$executeRaw`DELETE FROM "incidents" WHERE "id" = 'inc-big'`;
    }
  });
});

describe("alert writes while the database is away", () => {
  it("holds ALERT_MAX_PENDING_WRITES of them, drops and counts the oldest beyond, and writes the rest once it is back", async () => {
    let open = false;
    const logs: string[] = [];
    const { clock, fleet, service } = await serviceOnClock({
      db: () => (open ? db : null),
      log: (m) => logs.push(m),
      maxPendingWrites: 1_000,
    });
    const ids = Array.from({ length: 1_500 }, (_, i) => `away-${String(i).padStart(4, "0")}`);
    // Silent, not disconnected: 1,500 offline alerts of their own, no incident.
    for (const id of ids)
      fleet.apply({ kind: "connect", deviceId: id, at: clock.now, source: "aedes", keepaliveSeconds: 10 });
    clock.now += 20_000;
    service.tick(clock.now);
    expect(service.pendingWrites).toBe(1_000);
    expect(service.droppedWrites).toBe(500);
    expect(logs.filter((l) => l.includes("ALERT_MAX_PENDING_WRITES"))).toHaveLength(1);

    open = true;
    await eventually(() => service.pendingWrites === 0, 30_000, "the held writes stored");
    await service.stop();
    const [{ n }] = await db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS "n" FROM "alerts" WHERE "device_id" LIKE 'away-%' AND "state" = 'firing'`;
    expect(n).toBe(1_000);
    expect(service.droppedWrites).toBe(500);
  });
  it("past the limit while a batch is being written, drops the oldest waiting writes and keeps later incident counts", async () => {
    await createAlertRule(db, { ...DEFAULT_RULE, name: "ovf", match: "ovf-*", offlineFactor: null, offlineSeconds: 1 });
    const { clock, fleet, service } = await serviceOnClock({ maxPendingWrites: 1_000, writeBatch: 500 });
    const verdicts = () => {
      while (fleet.tick()) {
        /* every due deadline: the engine judges changes at once */
      }
      service.tick(clock.now);
    };
    const drop = (ids: string[]) => {
      for (const id of ids)
        fleet.apply({ kind: "connect", deviceId: id, at: clock.now, source: "aedes", keepaliveSeconds: 60 });
      clock.now += 100;
      for (const id of ids)
        fleet.apply({ kind: "disconnect", deviceId: id, at: clock.now, source: "aedes", reason: "clean" });
      clock.now += 1_500;
      verdicts();
    };
    // This test's incident: the one for clean disconnects (the silent devices form one for missed keepalives).
    const earlier = new Set(service.incidents.incidents().map((i) => i.id));
    const incident = () =>
      service.incidents.incidents().find((i) => !earlier.has(i.id) && i.state === "open" && i.cause.reason === "clean");

    // Another transaction holds the alerts table: the first batch waits inside its write.
    let unlock!: () => void;
    const held = new Promise<void>((r) => (unlock = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = db.$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe(`LOCK TABLE "alerts" IN EXCLUSIVE MODE`);
        locked();
        await held;
      },
      { timeout: 60_000 },
    );
    try {
      await isLocked;
      // 600 silent devices: 600 fires, the first 500 go into a batch, which waits for the lock.
      for (let i = 0; i < 600; i++)
        fleet.apply({ kind: "connect", deviceId: `ovs-${i}`, at: clock.now, source: "aedes", keepaliveSeconds: 10 });
      clock.now += 20_000;
      verdicts();
      await eventually(
        async () =>
          (
            await db.$queryRawUnsafe<{ n: number }[]>(
              `SELECT count(*)::int AS "n" FROM pg_locks WHERE NOT "granted" AND "relation" = '"alerts"'::regclass`,
            )
          )[0].n > 0,
        5_000,
        "the first batch waiting for the lock",
      );
      // 750 devices drop at once: one incident. Its row's write is queued early among 750 fires and more, and
      // that many over the limit drops it while the batch is still being written.
      drop(Array.from({ length: 750 }, (_, i) => `ovf-${i}`));
      await eventually(() => incident()?.deviceCount === 750, 5_000, "one incident for the 750");
      expect(service.droppedWrites).toBeGreaterThan(0);
      expect(service.pendingWrites).toBe(1_000);
    } finally {
      unlock();
      await holder;
    }
    await eventually(() => service.pendingWrites === 0, 30_000, "the held writes stored");
    // The batch that was being written landed.
    const [{ n }] = await db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS "n" FROM "alerts" WHERE "device_id" LIKE 'ovs-%' AND "state" = 'firing'`;
    expect(n).toBeGreaterThan(0);

    // Later members of the incident: their counts reach its row.
    drop(Array.from({ length: 50 }, (_, i) => `ovf-late-${i}`));
    await eventually(() => incident()?.deviceCount === 800, 5_000, "the later members joined");
    await service.flush();
    await service.stop();
    const rows = await db.$queryRaw<{ device_count: number }[]>`
      SELECT "device_count" FROM "incidents" WHERE "id" = ${incident()!.id}`;
    expect(rows).toEqual([{ device_count: 800 }]);
    // Its rows, dated ahead of the wall clock, would be the newest for the tests that follow.
    await db.$executeRaw`DELETE FROM "alerts" WHERE "device_id" LIKE 'ov%'`;
  });
});

describe("verdicts before alert writes", () => {
  it("holds the alert writes back while the fleet's deadlines are overdue, and writes them once verdicts catch up", async () => {
    const { clock, fleet, service } = await serviceOnClock();
    // "vb-late" will be overdue (keepalive 10 s, nobody ticks the fleet); "vb-0..2" go silent on a shorter rule.
    await createAlertRule(db, { ...DEFAULT_RULE, name: "vb", match: "vb-?", offlineFactor: null, offlineSeconds: 1 });
    await service.reloadRules();
    for (const id of ["vb-0", "vb-1", "vb-2", "vb-late"])
      fleet.apply({ kind: "connect", deviceId: id, at: clock.now, source: "aedes", keepaliveSeconds: 10 });
    clock.now += 20_000;
    // The alert tick itself waits for the late verdicts, 5 s at most.
    await eventually(() => service.pendingWrites > 0, 7_000, "alert writes decided");
    await new Promise((r) => setTimeout(r, 300));
    expect(service.pendingWrites).toBeGreaterThan(0);
    expect((await listAlerts(db, { limit: 100 })).filter((a) => a.deviceId?.startsWith("vb-"))).toEqual([]);
    // The verdicts run: nothing overdue any more, the writes go.
    while (fleet.tick()) {
      /* every due deadline */
    }
    await eventually(() => service.pendingWrites === 0, 5_000, "alert writes stored");
    await service.stop();
    const stored = (await listAlerts(db, { limit: 100 })).filter((a) => a.deviceId?.startsWith("vb-"));
    expect(stored.length).toBeGreaterThanOrEqual(3);
  });
  it("keeps fleet changes from the engine while verdicts are overdue: judged once they catch up, or after 5 s", async () => {
    const { clock, fleet, service } = await serviceOnClock();
    // "ve-late" will be overdue (keepalive 10 s, nobody ticks the fleet); "ve-0" drops on a 1 s rule.
    await createAlertRule(db, { ...DEFAULT_RULE, name: "ve", match: "ve-?", offlineFactor: null, offlineSeconds: 1 });
    await service.reloadRules();
    for (const id of ["ve-0", "ve-late"])
      fleet.apply({ kind: "connect", deviceId: id, at: clock.now, source: "aedes", keepaliveSeconds: 10 });
    clock.now += 20_000;
    const stored = async (id: string) => (await listAlerts(db, { limit: 100 })).some((a) => a.deviceId === id);

    // Verdicts are 10 s behind: the disconnect waits for the engine, nothing is decided.
    fleet.apply({ kind: "disconnect", deviceId: "ve-0", at: clock.now, source: "aedes", reason: "connection_lost" });
    await new Promise((r) => setTimeout(r, 300));
    expect(service.evaluationLagMs).toBeGreaterThanOrEqual(250);
    expect(service.pendingWrites).toBe(0);
    // The verdicts run: the engine takes the change, its alert is stored.
    while (fleet.tick()) {
      /* every due deadline */
    }
    await eventually(() => stored("ve-0"), 5_000, "ve-0's offline alert stored");
    expect(service.evaluationLagMs).toBe(0);

    // Verdicts behind for good (the next deadline overdue, nobody ticks): the change still reaches the engine.
    for (const id of ["ve-2", "ve-3"])
      fleet.apply({ kind: "connect", deviceId: id, at: clock.now, source: "aedes", keepaliveSeconds: 10 });
    clock.now += 20_000;
    const dropped = Date.now();
    fleet.apply({ kind: "disconnect", deviceId: "ve-3", at: clock.now, source: "aedes", reason: "connection_lost" });
    let worstLag = 0;
    await eventually(
      async () => {
        worstLag = Math.max(worstLag, service.evaluationLagMs);
        return stored("ve-3");
      },
      10_000,
      "ve-3's offline alert stored",
    );
    await service.stop();
    expect(worstLag).toBeGreaterThanOrEqual(4_000);
    expect(worstLag).toBeLessThan(6_000);
    expect(Date.now() - dropped).toBeGreaterThanOrEqual(5_000);
  });
});
