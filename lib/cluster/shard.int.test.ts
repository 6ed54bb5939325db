/**
 * KEEPWATCH_SHARD on one Mosquitto and one Postgres: four keepwatch
 * processes, shards 1/4 … 4/4, each the leader of its own shard. Each holds
 * only its shard's devices, and between them every device is stored once.
 * A broker outage is every shard's to see, and is one system alert, notified
 * once, all the same.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChannel } from "../store/notifications";
import { createDb, type Db } from "../store/db";
import { createTestDatabase, type TestDatabase } from "../store/testing";
import { eventually, exited } from "../testing/clients";
import { startKeepwatchProcess, type KeepwatchProcess } from "../testing/cluster";
import { startMosquitto, type TestBroker } from "../testing/mosquitto";
import { startWebhookReceiver, type WebhookReceiver } from "../testing/webhooks";
import { shardOf } from "./shard";

let dir: string;
let broker: TestBroker;
let database: TestDatabase;
let db: Db;
let receiver: WebhookReceiver;
const shards: KeepwatchProcess[] = [];
const devices = new Map<string, MqttClient>();
const ids = Array.from({ length: 40 }, (_, i) => `sh-${i}`);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "kw-shard-"));
  broker = await startMosquitto();
  database = await createTestDatabase();
  db = createDb({ connectionString: database.url });
  receiver = await startWebhookReceiver();
  await createChannel(db, {
    name: "ops",
    type: "webhook",
    config: { url: receiver.url },
    enabled: true,
    defaultForSystem: true,
    ratePerMinute: null,
  });
  for (const k of [1, 2, 3, 4])
    shards.push(
      await startKeepwatchProcess(`shard-${k}`, {
        DATABASE_URL: database.url,
        MQTT_URL: broker.url,
        KEEPWATCH_SHARD: `${k}/4`,
        KEEPWATCH_DATA_DIR: path.join(dir, String(k)),
        ALERT_BROKER_DOWN_SECONDS: "2",
        KEEPWATCH_WEBHOOK_ALLOW: "127.0.0.1",
      }),
    );
}, 120_000);

afterAll(async () => {
  for (const c of devices.values()) c.end(true);
  for (const s of shards) s.proc.kill("SIGKILL");
  await Promise.all(shards.map((s) => exited(s.proc)));
  await db?.$disconnect();
  await broker?.stop();
  await receiver?.close();
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe("four shards on one broker", () => {
  it("each instance leads its own shard and holds only its devices; every device is stored once", async () => {
    for (const s of shards) await eventually(async () => (await s.health()).cluster.role === "leader", 10_000, s.id);
    const epochs = await Promise.all(shards.map(async (s) => (await s.health()).cluster.epoch));
    expect(epochs).toEqual([1, 1, 1, 1]);

    for (const id of ids) {
      const c = await mqtt.connectAsync(broker.url, { clientId: id, keepalive: 30, reconnectPeriod: 0 });
      c.on("error", () => undefined);
      devices.set(id, c);
    }
    const mine = (k: number) => ids.filter((id) => shardOf(id, 4) === k).sort();
    // The ids spread over all four shards.
    expect([1, 2, 3, 4].map((k) => mine(k).length).every((n) => n > 0)).toBe(true);
    await eventually(
      async () => {
        for (const [i, s] of shards.entries()) {
          const held = Object.entries(await s.statuses())
            .filter(([, status]) => status === "online")
            .map(([id]) => id)
            .sort();
          if (JSON.stringify(held) !== JSON.stringify(mine(i + 1))) return false;
        }
        return true;
      },
      10_000,
      "each shard online with exactly its own devices",
    );
    for (const s of shards) expect(Object.keys(await s.statuses()).sort()).toEqual(mine(Number(s.id.slice(-1))));

    await eventually(
      async () => (await db.session.count({ where: { deviceId: { startsWith: "sh-" } } })) === ids.length,
      10_000,
      "every session stored",
    );
    expect(await db.device.count({ where: { id: { startsWith: "sh-" } } })).toBe(ids.length);

    // Every fourth device leaves: each shard records its own, once.
    const leaving = ids.filter((_, i) => i % 4 === 0);
    for (const id of leaving) await devices.get(id)!.endAsync();
    await eventually(
      async () =>
        (await db.session.count({ where: { deviceId: { in: leaving }, disconnectedAt: { not: null } } })) ===
        leaving.length,
      10_000,
      "the departures stored",
    );
    expect(await db.session.count({ where: { deviceId: { startsWith: "sh-" } } })).toBe(ids.length);
    const rows = await db.device.findMany({ where: { id: { in: leaving } } });
    expect(rows.map((r) => r.status)).toEqual(leaving.map(() => "offline"));
  }, 60_000);

  it("a broker outage seen by every shard is one system alert and one restart event, each notified once", async () => {
    const systemRows = (source: string) => db.alert.findMany({ where: { deviceId: null, source } });
    const systemHooks = (source: string, event: string) =>
      receiver.hooks.filter((h) => h.body.alert?.source === source && h.body.event === event);
    await broker.stop();
    // Every shard's leader sees the link go and crosses the 2 s threshold.
    await eventually(
      async () => {
        for (const s of shards) if ((await s.health()).broker.connected) return false;
        return true;
      },
      10_000,
      "every shard sees the broker down",
    );
    await eventually(async () => (await systemRows("broker")).length > 0, 15_000, "the broker alert fired");
    // Past every shard's threshold, with time for a second fire or notification to show.
    await new Promise((r) => setTimeout(r, 6_000));
    const fired = await systemRows("broker");
    expect(fired.map((a) => a.state)).toEqual(["firing"]);
    await eventually(async () => systemHooks("broker", "fired").length > 0, 10_000, "the fire notified");
    expect(systemHooks("broker", "fired")).toHaveLength(1);

    // The broker comes back: every shard sees the restart (each its own devices' sessions ended by it).
    await broker.start();
    await eventually(
      async () => (await systemRows("broker")).every((a) => a.state === "resolved"),
      30_000,
      "the broker alert resolved",
    );
    await eventually(
      async () => {
        for (const s of shards) if (!(await s.health()).broker.connected) return false;
        return true;
      },
      15_000,
      "every shard back on the broker",
    );
    await eventually(async () => systemHooks("broker_restart", "fired").length > 0, 15_000, "the restart notified");
    // Time for every other shard's view of the same restart to be stored and sent, were it to be.
    await new Promise((r) => setTimeout(r, 4_000));
    expect((await systemRows("broker")).map((a) => [a.id, a.state])).toEqual([[fired[0].id, "resolved"]]);
    expect((await systemRows("broker_restart")).map((a) => a.state)).toEqual(["resolved"]);
    expect(systemHooks("broker", "fired")).toHaveLength(1);
    expect(systemHooks("broker", "resolved")).toHaveLength(1);
    expect(systemHooks("broker_restart", "fired")).toHaveLength(1);
    expect(systemHooks("broker_restart", "resolved")).toHaveLength(1);
  }, 90_000);
});
