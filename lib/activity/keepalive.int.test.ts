/**
 * Keepalive timelines end to end, in process: real brokers, real clients,
 * the runtime's recorder and the API read models.
 *
 * - Mosquitto 2.0 with `log_dest stderr` + `log_type all`, its stderr appended
 *   to a file (the README's setup) that keepwatch follows as MOSQUITTO_LOG_FILE,
 *   storing in Postgres;
 * - the embedded broker, storing in PGlite.
 * On each: an MQTT.js client with keepalive 2 shows PINGREQ points about 2 s
 * apart; a client with keepalive 10 that never pings gets the "not sending
 * PINGREQ" diagnosis after its first drop; two clients sharing an id get the
 * shared-id diagnosis.
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDeviceActivity } from "../api/activity";
import { getDeviceDetail } from "../api/devices";
import { loadConfig } from "../config";
import { Runtime } from "../runtime";
import { createTestDatabase, type TestDatabase } from "../store/testing";
import { eventually, rawConnect } from "../testing/clients";
import { freePort, startMosquitto, type TestBroker } from "../testing/mosquitto";

const dirs: string[] = [];
const sockets: Socket[] = [];
const clients: MqttClient[] = [];

afterAll(() => {
  for (const s of sockets) s.destroy();
  for (const c of clients) c.end(true);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Spacing (s) of the PINGREQ points recorded for `id` in the last `ms`. */
async function pingSpacing(runtime: Runtime, id: string, ms: number): Promise<number[]> {
  await runtime.activity!.flush();
  const now = Date.now();
  const { points } = await getDeviceActivity(runtime, id, {
    from: now - ms,
    to: now + 1000,
    kinds: ["pingreq"],
    limit: 1000,
  });
  const at = points.map((p) => Date.parse(p.at));
  return at.slice(1).map((t, i) => (t - at[i]) / 1000);
}

function scenarios(label: string, setup: () => { runtime: () => Runtime; port: () => number }) {
  const env = setup();

  it(`${label}: an MQTT.js client with keepalive 2 shows PINGREQ points about 2 s apart`, async () => {
    const id = `${label}-k2`;
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${env.port()}`, {
      clientId: id,
      keepalive: 2,
      reconnectPeriod: 0,
    });
    clients.push(c);
    await new Promise((r) => setTimeout(r, 9_500));
    const spacing = await pingSpacing(env.runtime(), id, 12_000);
    console.log(`[${label}] PINGREQ spacing (s): ${spacing.map((s) => s.toFixed(3)).join(", ")}`);
    expect(spacing.length).toBeGreaterThanOrEqual(3);
    expect(median(spacing)).toBeGreaterThan(1.6);
    expect(median(spacing)).toBeLessThan(2.4);
    const detail = await getDeviceDetail(env.runtime(), id);
    expect(detail.lastPingAt).not.toBeNull();
    expect(detail.pingsVisible).toBe(true);
    expect(detail.diagnosis).toEqual([]);
    await c.endAsync();
  }, 30_000);

  it(`${label}: a client with keepalive 10 that never pings is diagnosed after its first drop`, async () => {
    const id = `${label}-silent`;
    sockets.push(await rawConnect(env.port(), id, 10));
    const runtime = env.runtime();
    await eventually(
      () => runtime.fleet.get(id)?.lastDisconnectReason === "keepalive_timeout",
      25_000,
      "keepalive drop",
    );
    await runtime.writer!.flush();
    await runtime.activity!.flush();
    const detail = await getDeviceDetail(runtime, id);
    const finding = detail.diagnosis.find((f) => f.code === "not_sending_pingreq");

    expect(finding?.message).toMatch(/not sending PINGREQ/);
    expect(finding?.evidence[0]).toMatch(/^1 of the last 1 keepalive-timeout drops had no PINGREQ/);
  }, 40_000);

  it(`${label}: two clients sharing one id get the shared-id diagnosis`, async () => {
    const id = `${label}-twin`;
    const opts = { clientId: id, keepalive: 30, reconnectPeriod: 500, connectTimeout: 2_000 };
    const a = mqtt.connect(`mqtt://127.0.0.1:${env.port()}`, opts);
    clients.push(a);
    await new Promise((r) => a.once("connect", r));
    const b = mqtt.connect(`mqtt://127.0.0.1:${env.port()}`, opts);
    clients.push(b);
    const runtime = env.runtime();
    await eventually(() => (runtime.fleet.get(id)?.takeoverCount ?? 0) >= 3, 15_000, "three takeovers");
    a.end(true);
    b.end(true);
    await runtime.writer!.flush();
    const detail = await getDeviceDetail(runtime, id);
    expect(detail.diagnosis.map((f) => f.code)).toContain("shared_client_id");
  }, 30_000);
}

describe("Mosquitto with MOSQUITTO_LOG_FILE (log_dest stderr, stderr appended to a file), Postgres", () => {
  let broker: TestBroker;
  let database: TestDatabase;
  let runtime: Runtime;

  beforeAll(async () => {
    broker = await startMosquitto({ debugLog: true });
    const logFile = broker.debugLogFile!;
    database = await createTestDatabase();
    runtime = new Runtime(
      loadConfig({
        MQTT_URL: broker.url,
        DATABASE_URL: database.url,
        MOSQUITTO_LOG_FILE: logFile,
        DEVICE_TOPICS: "devices/{id}/#",
        PORT: "3997",
      }),
    );
    await runtime.start();
    await eventually(() => runtime.health().broker.connected, 10_000, "broker link");
    await eventually(() => runtime.pingsVisible, 10_000, "debug lines in the log");
  }, 60_000);

  afterAll(async () => {
    await runtime?.stop();
    await broker?.dispose();
    await database?.drop();
  });

  scenarios("mosq", () => ({ runtime: () => runtime, port: () => broker.port }));
});

describe("embedded broker, PGlite", () => {
  let runtime: Runtime;
  let port: number;

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "kw-embedded-activity-"));
    dirs.push(dir);
    port = await freePort();
    runtime = new Runtime(
      loadConfig({ KEEPWATCH_DATA_DIR: dir, MQTT_PORT: String(port), DEVICE_TOPICS: "devices/{id}/#", PORT: "3996" }),
    );
    await runtime.start();
  }, 60_000);

  afterAll(async () => {
    await runtime?.stop();
  });

  scenarios("aedes", () => ({ runtime: () => runtime, port: () => port }));
});
