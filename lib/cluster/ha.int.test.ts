/**
 * High availability, caused for real: three keepwatch processes
 * (lib/testing/keepwatch-process.ts) on one Postgres and one Mosquitto, real
 * MQTT.js devices, a webhook receiver for the notifications. The leader is
 * killed with SIGKILL during traffic, stopped with SIGTERM, and paused with
 * SIGSTOP for 10 s; a rule is changed on a standby.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AlertRule } from "../alerts/rules";
import { createDb, type Db } from "../store/db";
import { getDeviceSessions } from "../store/devices";
import { createChannel } from "../store/notifications";
import { createTestDatabase, type TestDatabase } from "../store/testing";
import { eventually, exited } from "../testing/clients";
import { startMosquitto, type TestBroker } from "../testing/mosquitto";
import { offlineAfterOneSecond, startKeepwatchProcess, type KeepwatchProcess } from "../testing/cluster";
import { startWebhookReceiver, type WebhookReceiver } from "../testing/webhooks";

const FAILOVER_SECONDS = 3;

let dir: string;
let broker: TestBroker;
let database: TestDatabase;
let db: Db;
let receiver: WebhookReceiver;
let channelId: number;
const instances = new Map<string, KeepwatchProcess>();
const devices = new Map<string, MqttClient>();

async function startInstance(id: string): Promise<KeepwatchProcess> {
  const instance = await startKeepwatchProcess(id, {
    DATABASE_URL: database.url,
    MQTT_URL: broker.url,
    KEEPWATCH_FAILOVER_SECONDS: String(FAILOVER_SECONDS),
    KEEPWATCH_DATA_DIR: path.join(dir, id),
    KEEPWATCH_WEBHOOK_ALLOW: "127.0.0.1",
    NOTIFY_RETRY_BASE_SECONDS: "1",
    INCIDENT_GROUP_WAIT_SECONDS: "0",
    INCIDENT_WINDOW_SECONDS: "2",
  });
  instances.set(id, instance);
  return instance;
}

const health = (id: string) => instances.get(id)!.health();
const statuses = (id: string) => instances.get(id)!.statuses();

/** The instances that answer, by role. */
async function roles(ids: Iterable<string> = instances.keys()): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const id of ids) {
    try {
      out[id] = (await health(id)).cluster.role;
    } catch {
      out[id] = "down";
    }
  }
  return out;
}

async function leaderOf(ids: string[]): Promise<string | null> {
  const r = await roles(ids);
  const leaders = Object.entries(r).filter(([, role]) => role === "leader");
  return leaders.length === 1 ? leaders[0][0] : null;
}

/** Time until one of `ids` leads (polled every 25 ms). */
async function timeToLeader(ids: string[], from: number, timeoutMs = 15_000): Promise<{ id: string; ms: number }> {
  for (;;) {
    const id = await leaderOf(ids);
    if (id) return { id, ms: Date.now() - from };
    if (Date.now() - from > timeoutMs) throw new Error(`no leader among ${ids.join(", ")} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function connectDevice(id: string): Promise<void> {
  const c = await mqtt.connectAsync(broker.url, { clientId: id, keepalive: 30, reconnectPeriod: 0 });
  c.on("error", () => undefined);
  devices.set(id, c);
}

async function dropDevice(id: string): Promise<void> {
  await devices.get(id)!.endAsync();
  devices.delete(id);
}

/** Notifications received, by event type and device. */
function received(event: string, device: string) {
  return receiver.hooks.filter((h) => h.body.event === event && h.body.alert?.deviceId === device);
}

async function firingAlerts(device: string) {
  return db.$queryRaw<{ id: bigint; kind: string }[]>`
    SELECT "id", "kind" FROM "alerts" WHERE "device_id" = ${device} AND "state" = 'firing'`;
}

async function allAlerts(device: string) {
  return db.$queryRaw<
    { id: bigint; state: string }[]
  >`SELECT "id", "state" FROM "alerts" WHERE "device_id" = ${device}`;
}

async function kill(id: string, signal: NodeJS.Signals): Promise<void> {
  await instances.get(id)!.signal(signal);
  instances.delete(id);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "kw-ha-"));
  broker = await startMosquitto();
  database = await createTestDatabase();
  db = createDb({ connectionString: database.url });
  receiver = await startWebhookReceiver();
  channelId = (
    await createChannel(db, {
      name: "ha",
      type: "webhook",
      config: { url: receiver.url },
      enabled: true,
      defaultForSystem: false,
      ratePerMinute: null,
    })
  ).id;
  await Promise.all(["a", "b", "c"].map((id) => startInstance(id)));
}, 120_000);

afterAll(async () => {
  for (const c of devices.values()) c.end(true);
  for (const i of instances.values()) {
    i.proc.kill("SIGCONT");
    i.proc.kill("SIGKILL");
  }
  await Promise.all([...instances.values()].map((i) => exited(i.proc)));
  await db?.$disconnect();
  await receiver?.close();
  await broker?.stop();
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe("leader and hot standbys on one Postgres", () => {
  let leader = "";

  it("elects exactly one leader; the standbys know it and every peer", async () => {
    leader = (await timeToLeader(["a", "b", "c"], Date.now())).id;
    await eventually(
      async () => {
        const all = await Promise.all(["a", "b", "c"].map(health));
        return all.every((h) => h.cluster.leaderId === leader && h.cluster.peers.length === 2);
      },
      10_000,
      "every instance sees the leader and two peers",
    );
    const r = await roles();
    expect(Object.values(r).sort()).toEqual(["leader", "standby", "standby"]);
    const h = await health(leader);
    expect(h.cluster.epoch).toBeGreaterThanOrEqual(1);
    expect(h.cluster.instanceId).toBe(leader);
    // Peers' monitor connections are not devices.
    expect(Object.keys(await statuses(leader)).filter((d) => d.startsWith("keepwatch-"))).toEqual([]);
  });

  it("a rule saved on a standby is applied by the leader within a second", async () => {
    const standby = ["a", "b", "c"].find((id) => id !== leader)!;
    const started = Date.now();
    const status = await instances.get(standby)!.addRule(offlineAfterOneSecond("ha devices", "ha-*", [channelId]));
    expect(status).toBe(201);
    const rules = await eventually(
      async () => {
        const r = (await (await fetch(`http://127.0.0.1:${instances.get(leader)!.port}/rules`)).json()) as AlertRule[];
        return r.some((x) => x.name === "ha devices") && r;
      },
      1_000,
      "the leader applies the standby's rule",
    );
    console.log(`rule saved on standby ${standby}, applied by leader ${leader} after ${Date.now() - started} ms`);
    expect(rules.find((x) => x.name === "ha devices")!.channelIds).toEqual([channelId]);
  });

  it("a standby's alert feed follows the leader's fires and resolutions, and an acknowledgement made on a peer", async () => {
    const [b, c] = ["a", "b", "c"].filter((id) => id !== leader);
    const feedOf = async (id: string) =>
      (await instances.get(id)!.alerts()).firing.find((a) => a.deviceId === "ha-feed");
    await connectDevice("ha-feed");
    await eventually(async () => (await statuses(leader))["ha-feed"] === "online", 10_000, "ha-feed online");
    await dropDevice("ha-feed");
    const [stored] = await eventually(
      async () => {
        const rows = await firingAlerts("ha-feed");
        return rows.length === 1 && rows;
      },
      10_000,
      "the leader fires ha-feed",
    );
    const shown = await eventually(() => feedOf(b), 5_000, `standby ${b} shows the alert`);
    expect(shown.id).toBe(String(stored.id));
    expect(shown.acknowledgedBy).toBeNull();

    // Acknowledged through the other standby: both standbys show it (NOTIFY, then what changed is read).
    await instances.get(c)!.ack(String(stored.id), "ops-on-c");
    await eventually(async () => (await feedOf(b))?.acknowledgedBy === "ops-on-c", 3_000, `standby ${b} shows the ack`);
    expect((await feedOf(c))?.acknowledgedBy).toBe("ops-on-c");

    // Back online: the leader resolves it, and it leaves the standbys' feeds.
    await connectDevice("ha-feed");
    await eventually(async () => (await firingAlerts("ha-feed")).length === 0, 10_000, "the leader resolves ha-feed");
    await eventually(async () => (await feedOf(b)) === undefined, 5_000, `standby ${b} drops the resolved alert`);
    await eventually(async () => (await feedOf(c)) === undefined, 5_000, `standby ${c} drops the resolved alert`);
  });

  it("kill -9 of the leader during traffic: a standby leads within the failover time, nothing lost or doubled", async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `ha-${i}`);
    await Promise.all(ids.map(connectDevice));
    await eventually(
      async () => {
        const all = await Promise.all(["a", "b", "c"].map(statuses));
        return all.every((s) => ids.every((id) => s[id] === "online"));
      },
      10_000,
      "every instance sees the devices online",
    );
    // One device is offline and alerting before the switch.
    await dropDevice("ha-0");
    await eventually(() => received("fired", "ha-0").length === 1, 10_000, "ha-0's offline alert notified");
    const [before] = await firingAlerts("ha-0");

    const survivors = ["a", "b", "c"].filter((id) => id !== leader);
    const killedAt = Date.now();
    await kill(leader, "SIGKILL");
    // Devices leave while nobody leads.
    const during = ["ha-1", "ha-2", "ha-3", "ha-4", "ha-5"];
    await Promise.all(during.map(dropDevice));
    const next = await timeToLeader(survivors, killedAt);
    console.log(`SIGKILL of leader ${leader}: ${next.id} leads after ${next.ms} ms`);
    expect(next.ms).toBeLessThan(FAILOVER_SECONDS * 1000 + 1_000);
    const old = leader;
    leader = next.id;
    const h = await health(leader);
    expect(h.cluster.epoch).toBeGreaterThan(1);

    // No device turned unknown on the new leader.
    const s = await statuses(leader);
    expect(ids.filter((id) => s[id] === "unknown")).toEqual([]);
    expect(during.map((id) => s[id])).toEqual(during.map(() => "offline"));

    // The disconnects of the switch are stored, each once; the others' sessions stay open, each once.
    await eventually(
      async () => {
        for (const id of during) {
          const sessions = await getDeviceSessions(db, id);
          if (sessions.length !== 1 || sessions[0].disconnectedAt === null) return false;
        }
        return true;
      },
      10_000,
      "the switch's disconnects stored",
    );
    for (const id of ids.slice(6)) {
      const sessions = await getDeviceSessions(db, id);
      expect(sessions.map((x) => x.disconnectedAt)).toEqual([null]);
    }

    // Their alerts fire once, from the new leader.
    await eventually(() => during.every((id) => received("fired", id).length >= 1), 15_000, "alerts of the switch");
    // ha-0's alert continues with the same id: back online, it resolves, notified once.
    await connectDevice("ha-0");
    await eventually(() => received("resolved", "ha-0").length === 1, 15_000, "ha-0 resolved");
    expect(received("resolved", "ha-0")[0].body.alert!.id).toBe(String(before.id));
    expect((await allAlerts("ha-0")).map((a) => [String(a.id), a.state])).toEqual([[String(before.id), "resolved"]]);
    await new Promise((r) => setTimeout(r, 1_500));
    for (const id of ["ha-0", ...during]) expect(received("fired", id)).toHaveLength(1);
    for (const id of during) expect(await allAlerts(id)).toHaveLength(1);
    // Every notification went out once (one Idempotency-Key each).
    const keys = receiver.hooks.map((h) => h.headers["idempotency-key"]);
    expect(new Set(keys).size).toBe(keys.length);

    await startInstance(old);
  }, 90_000);

  it("SIGTERM hands leadership over within a second", async () => {
    const others = [...instances.keys()].filter((id) => id !== leader);
    await eventually(async () => (await roles(others)).toString() !== "", 5_000, "standbys up");
    const gapsBefore = await db.monitorGap.count();
    const stoppedAt = Date.now();
    const stopping = kill(leader, "SIGTERM");
    const next = await timeToLeader(others, stoppedAt);
    await stopping;
    console.log(`SIGTERM of leader ${leader}: ${next.id} leads after ${next.ms} ms`);
    expect(next.ms).toBeLessThan(1_000);
    // The standby kept watching: the old leader's own link closing is no gap, and no device became unknown.
    const rows = await db.$queryRaw<{ id: string; status: string }[]>`
      SELECT "id", "status" FROM "devices" WHERE "id" LIKE 'ha-%' AND "status" = 'unknown'`;
    expect(rows).toEqual([]);
    expect(await db.monitorGap.count()).toBe(gapsBefore);
    const old = leader;
    leader = next.id;
    await startInstance(old);
  }, 60_000);

  it("a leader paused for 10 s is fenced: a standby leads, the old one cannot write and stands by on waking", async () => {
    const others = [...instances.keys()].filter((id) => id !== leader);
    const paused = instances.get(leader)!;
    const oldEpoch = (await health(leader)).cluster.epoch!;
    const pausedAt = Date.now();
    await paused.signal("SIGSTOP");
    await dropDevice("ha-6");
    const next = await timeToLeader(others, pausedAt);
    console.log(`SIGSTOP of leader ${leader}: ${next.id} leads after ${next.ms} ms`);
    expect(next.ms).toBeLessThan(FAILOVER_SECONDS * 1000 + 1_000);
    await eventually(
      async () => (await getDeviceSessions(db, "ha-6"))[0]?.disconnectedAt != null,
      10_000,
      "ha-6's disconnect stored by the new leader",
    ).catch((e: unknown) => {
      // What the new leader and the paused one were doing, for the failure's reader.
      console.log(`new leader ${next.id}:\n${instances.get(next.id)!.out.slice(-4000)}`);
      console.log(`paused leader ${paused.id}:\n${paused.out.slice(-2000)}`);
      throw e;
    });
    const newEpoch = (await health(next.id)).cluster.epoch!;
    expect(newEpoch).toBeGreaterThan(oldEpoch);
    await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - pausedAt))));
    await paused.signal("SIGCONT");
    // It wakes with ha-6's disconnect to write (buffered by the broker meanwhile): refused, and it stands by.
    await eventually(async () => (await health(paused.id)).cluster.role === "standby", 10_000, "old leader stands by");
    expect(paused.out).toMatch(new RegExp(`leadership epoch ${oldEpoch} ended`));
    expect(await leaderOf([...instances.keys()])).toBe(next.id);
    // Its view of the leader is read afresh within a round.
    await eventually(
      async () => (await health(paused.id)).cluster.leaderId !== null,
      2_000,
      "old leader reads the lease",
    );
    expect((await health(paused.id)).cluster.leaderId).toBe(next.id);
    expect(await leaderOf([...instances.keys()])).toBe(next.id);
    const sessions = await getDeviceSessions(db, "ha-6");
    expect(sessions).toHaveLength(1);
    leader = next.id;
  }, 60_000);

  it("across the three switches: no device unknown, every alert fired once, every notification sent once", async () => {
    const s = await statuses(leader);
    const unknown = Object.entries(s).filter(([, x]) => x === "unknown");
    if (unknown.length > 0) console.log(instances.get(leader)!.out.slice(-4000));
    expect(
      unknown.map(([id]) => id),
      `unknown on the leader ${leader}`,
    ).toEqual([]);
    const fired = receiver.hooks.filter((h) => h.body.event === "fired").map((h) => h.body.alert!.id);
    expect(new Set(fired).size).toBe(fired.length);
    const keys = receiver.hooks.map((h) => h.headers["idempotency-key"]);
    expect(new Set(keys).size).toBe(keys.length);
    const rows = await db.$queryRaw<{ device_id: string; n: bigint }[]>`
      SELECT "device_id", count(*) AS n FROM "alerts" WHERE "device_id" LIKE 'ha-%' GROUP BY 1 HAVING count(*) > 1`;
    expect(rows).toEqual([]);
  });
});
