/**
 * KEEPWATCH_SHARD on one Mosquitto and one Postgres: four keepwatch
 * processes, shards 1/4 … 4/4, each the leader of its own shard. Each holds
 * only its shard's devices, and between them every device is stored once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../store/db";
import { createTestDatabase, type TestDatabase } from "../store/testing";
import { eventually, exited } from "../testing/clients";
import { startKeepwatchProcess, type KeepwatchProcess } from "../testing/cluster";
import { startMosquitto, type TestBroker } from "../testing/mosquitto";
import { shardOf } from "./shard";

let dir: string;
let broker: TestBroker;
let database: TestDatabase;
let db: Db;
const shards: KeepwatchProcess[] = [];
const devices = new Map<string, MqttClient>();
const ids = Array.from({ length: 40 }, (_, i) => `sh-${i}`);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "kw-shard-"));
  broker = await startMosquitto();
  database = await createTestDatabase();
  db = createDb({ connectionString: database.url });
  for (const k of [1, 2, 3, 4])
    shards.push(
      await startKeepwatchProcess(`shard-${k}`, {
        DATABASE_URL: database.url,
        MQTT_URL: broker.url,
        KEEPWATCH_SHARD: `${k}/4`,
        KEEPWATCH_DATA_DIR: path.join(dir, String(k)),
      }),
    );
}, 120_000);

afterAll(async () => {
  for (const c of devices.values()) c.end(true);
  for (const s of shards) s.proc.kill("SIGKILL");
  await Promise.all(shards.map((s) => exited(s.proc)));
  await db?.$disconnect();
  await broker?.stop();
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
});
