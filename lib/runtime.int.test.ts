/**
 * The whole data path against a real Mosquitto (log_dest topic) and a real
 * Postgres, with real clients: mosquitto_sub, a raw socket that never pings,
 * MQTT.js, SIGKILL, takeovers, a broker outage and a monitor restart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { Runtime } from "./runtime";
import { loadConfig } from "./config";
import { startMosquitto, type TestBroker } from "./testing/mosquitto";
import { eventually, exited, mosquittoSub, rawConnect } from "./testing/clients";
import { createTestDatabase } from "./store/testing";
import { getDeviceSessions } from "./store/devices";

let broker: TestBroker;
let database: { url: string; drop(): Promise<void> };
let runtime: Runtime;
const sockets: Socket[] = [];

function newRuntime(): Runtime {
  return new Runtime(
    loadConfig({ MQTT_URL: broker.url, DATABASE_URL: database.url, DEVICE_TOPICS: "devices/{id}/#", PORT: "3999" }),
  );
}

const device = (id: string) => runtime.fleet.get(id);

beforeAll(async () => {
  broker = await startMosquitto();
  database = await createTestDatabase();
  runtime = newRuntime();
  await runtime.start();
  await eventually(() => runtime.health().broker.connected, 10_000, "broker link");
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await runtime?.stop();
  await broker?.stop();
  await database?.drop();
});

describe("liveness from Mosquitto's log", () => {
  it("reports a mosquitto_sub -k 5 client online with its keepalive (target 2 s)", async () => {
    const started = Date.now();
    const proc = mosquittoSub(broker.port, "int-sub-1", 5);
    // Typically ~150 ms; the bound leaves room for spawning the client on a loaded machine.
    const d = await eventually(() => device("int-sub-1")?.status === "online" && device("int-sub-1"), 4_000, "online");
    expect(d.keepaliveSeconds).toBe(5);
    expect(d.sessionOpen).toBe(true);
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(runtime.health().broker.kind).toBe("mosquitto");

    // SIGKILL: the socket closes without DISCONNECT → connection_lost
    proc.kill("SIGKILL");
    await exited(proc);
    const gone = await eventually(
      () => device("int-sub-1")?.status === "offline" && device("int-sub-1"),
      3_000,
      "offline",
    );
    expect(gone.lastDisconnectReason).toBe("connection_lost");
    expect(gone.disconnectCount).toBe(1);
  });

  // Mosquitto 2.0 checks keepalives once every 6 s and counts whole seconds: a keepalive-2 client
  // that never pings is dropped 3–10 s after its CONNECT (measured 3.1–8.8 s over 40 phases).
  it("drops a client that never pings as keepalive_timeout within 1.5 k + Mosquitto's 6 s check + 1 s", async () => {
    const socket = await rawConnect(broker.port, "int-silent-1", 2);
    sockets.push(socket);
    const connectedAt = Date.now();
    await eventually(() => device("int-silent-1")?.status === "online", 2_000, "online");
    expect(device("int-silent-1")?.keepaliveSeconds).toBe(2);
    const d = await eventually(
      () => device("int-silent-1")?.status === "offline" && device("int-silent-1"),
      3_000 + 6_000 + 1_000 + 2_000,
      "keepalive timeout",
    );
    expect(d.lastDisconnectReason).toBe("keepalive_timeout");
    expect(Date.now() - connectedAt).toBeLessThan(3_000 + 6_000 + 1_000 + 2_000);
  });

  it("records a clean disconnect as clean", async () => {
    const client = await mqtt.connectAsync(broker.url, { clientId: "int-clean-1", keepalive: 10, reconnectPeriod: 0 });
    await eventually(() => device("int-clean-1")?.status === "online", 2_000, "online");
    await client.endAsync();
    const d = await eventually(
      () => device("int-clean-1")?.status === "offline" && device("int-clean-1"),
      3_000,
      "offline",
    );
    expect(d.lastDisconnectReason).toBe("clean");
  });

  it("closes the first session as taken_over when a second client takes the id, without a false offline", async () => {
    const first = await mqtt.connectAsync(broker.url, { clientId: "int-dup-1", keepalive: 30, reconnectPeriod: 0 });
    first.on("error", () => undefined);
    await eventually(() => device("int-dup-1")?.status === "online", 2_000, "first online");
    const firstConnectedAt = device("int-dup-1")!.connectedAt;
    const seen: string[] = [];
    const off = runtime.fleet.onEffects((effects) => {
      for (const e of effects) if (e.type === "status-change" && e.deviceId === "int-dup-1") seen.push(e.to);
    });
    // A second connection with the same id (neither reconnects, so exactly one takeover happens).
    const second = await mqtt.connectAsync(broker.url, { clientId: "int-dup-1", keepalive: 30, reconnectPeriod: 0 });
    await eventually(() => device("int-dup-1")!.connectedAt !== firstConnectedAt, 3_000, "new session");
    // Let the broker's lines for the old connection arrive before judging.
    await new Promise((r) => setTimeout(r, 1_000));
    off();
    expect(device("int-dup-1")?.status).toBe("online");
    expect(seen).not.toContain("offline");
    await runtime.writer!.flush();
    const sessions = await getDeviceSessions(runtime.db!.prisma, "int-dup-1", 10);
    expect(sessions.length).toBeGreaterThanOrEqual(2);
    const old = sessions.find((s) => s.connectedAt === firstConnectedAt);
    expect(old?.reason).toBe("taken_over");
    expect(sessions[0].disconnectedAt).toBeNull();
    await second.endAsync();
    first.end(true);
  });

  it("keeps hostile client ids intact", async () => {
    const id = `<img src=x onerror=alert(1)> =HYPERLINK("http://x","y") \u202Eevil 😀`;
    const client = await mqtt.connectAsync(broker.url, { clientId: id, keepalive: 10, reconnectPeriod: 0 });
    await eventually(() => device(id)?.status === "online", 2_000, "hostile id online");
    await client.endAsync();
    await eventually(() => device(id)?.status === "offline", 3_000, "hostile id offline");
  });

  it("counts publishes on device topics as activity", async () => {
    const client = await mqtt.connectAsync(broker.url, {
      clientId: "int-pub-client",
      keepalive: 10,
      reconnectPeriod: 0,
    });
    await client.publishAsync("devices/int-pub-1/telemetry", "21.5");
    const d = await eventually(() => device("int-pub-1"), 2_000, "device from topic");
    expect(d.status).toBe("online");
    expect(d.sources).toContain("device-topic");
    await client.endAsync();
  });
});

describe("hostile input", () => {
  it("refuses a 3,500-character device id from a topic at ingest; the next device's session is stored within 2 s", async () => {
    const long = randomBytes(2_700).toString("base64url").slice(0, 3_500);
    const pub = spawn("mosquitto_pub", [
      "-h",
      "127.0.0.1",
      "-p",
      String(broker.port),
      "-t",
      `devices/${long}/x`,
      "-m",
      "y",
    ]);
    await exited(pub);
    await eventually(() => (runtime.health().ingest.rejected.id_too_long ?? 0) >= 1, 3_000, "rejection counted");
    expect(runtime.fleet.get(long)).toBeUndefined();
    const next = await mqtt.connectAsync(broker.url, { clientId: "int-after-long", keepalive: 10, reconnectPeriod: 0 });
    const started = Date.now();
    await eventually(
      async () => (await getDeviceSessions(runtime.db!.prisma, "int-after-long", 5)).length === 1,
      2_000,
      "the next device's session stored",
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(runtime.health().db).toMatchObject({ ok: true });
    await next.endAsync();
  });
});

describe("monitor gaps and restarts", () => {
  it("turns devices unknown, not offline, when the broker goes away; when it restarted, its sessions end as broker_restart", async () => {
    const client = await mqtt.connectAsync(broker.url, { clientId: "int-gap-1", keepalive: 10, reconnectPeriod: 0 });
    client.on("error", () => undefined);
    await eventually(() => device("int-gap-1")?.status === "online", 2_000, "online");

    await broker.stop();
    await eventually(() => !runtime.health().broker.connected, 5_000, "broker disconnected in health");
    expect(device("int-gap-1")?.status).toBe("unknown");
    // Nothing claims the fleet went offline: every device is unknown during the gap.
    expect(runtime.counts().offline).toBe(0);
    expect(runtime.counts().unknown).toBe(runtime.counts().total);
    expect(runtime.health().monitor.gapSince).not.toBeNull();

    const stoppedAt = Date.now();
    await broker.start();
    await eventually(() => runtime.health().broker.connected, 40_000, "broker reconnected");
    expect(runtime.health().monitor.gapSince).toBeNull();
    // No debug log here: the broker's uptime, smaller than before, tells the restart. Every client was dropped.
    const gone = await eventually(() => device("int-gap-1")?.status === "offline" && device("int-gap-1"), 5_000, "off");
    expect(gone.lastDisconnectReason).toBe("broker_restart");
    const restart = runtime.health().broker.lastRestart!;
    expect(restart.evidence.join(" ")).toMatch(/uptime went back/);
    expect(restart.notBack).toBeGreaterThanOrEqual(1);
    // The session ends when the broker was last known up: no later than the link dropping.
    await runtime.writer!.flush();
    const [s] = await getDeviceSessions(runtime.db!.prisma, "int-gap-1", 5);
    expect(s.reason).toBe("broker_restart");
    expect(s.disconnectedAt!).toBeLessThanOrEqual(stoppedAt);
    expect(s.disconnectedAt!).toBeGreaterThan(stoppedAt - 2_000);
    const again = await mqtt.connectAsync(broker.url, { clientId: "int-gap-2", keepalive: 10, reconnectPeriod: 0 });
    await eventually(() => device("int-gap-2")?.status === "online", 3_000, "fresh signals after the gap");
    await again.endAsync();
    await eventually(() => device("int-gap-2")?.status === "offline", 5_000, "clean end seen");
    client.end(true);
  }, 90_000);

  it("restores devices and their sessions after a restart", async () => {
    await runtime.writer!.flush();
    const before = new Map(Array.from(runtime.fleet.all(), (d) => [d.id, d]));
    expect(before.size).toBeGreaterThan(3);
    await runtime.stop();
    runtime = newRuntime();
    await runtime.start();
    for (const [id, d] of before) {
      const r = runtime.fleet.get(id);
      expect(r, id).toBeDefined();
      expect(r!.disconnectCount).toBe(d.disconnectCount);
      expect(r!.lastDisconnectReason).toBe(d.lastDisconnectReason);
      expect(r!.keepaliveSeconds).toBe(d.keepaliveSeconds);
    }
    const sessions = await getDeviceSessions(runtime.db!.prisma, "int-sub-1", 10);
    expect(sessions[0].reason).toBe("connection_lost");
  });
});
