/**
 * The whole data path on embedded defaults (no DATABASE_URL, no MQTT_URL):
 * PGlite in a temp dir and keepwatch's own Aedes broker on a free port, with
 * real clients: mosquitto_sub, raw sockets that never ping (or only ack),
 * MQTT.js, SIGKILL, takeovers, credentials, and a restart on the same data dir.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "./config";
import type { DeviceStatus } from "./fleet/types";
import { LATE_GRACE_MS } from "./keepalive";
import { Runtime } from "./runtime";
import { connectPacket, PacketReader, PINGREQ, pubackPacket, subscribePacket } from "./sim/packets";
import { getDeviceSessions } from "./store/devices";
import { DataDirLockedError } from "./store/pglite";
import { eventually, exited, mosquittoSub, rawConnect } from "./testing/clients";
import { freePort, startMosquitto } from "./testing/mosquitto";
import { createTestDatabase } from "./store/testing";

const dirs: string[] = [];
const sockets: Socket[] = [];
let dataDir: string;
let mqttPort: number;
let wsPort: number;
let runtime: Runtime;

function newRuntime(env: Record<string, string> = {}): Runtime {
  // An explicit environment: DATABASE_URL and MQTT_URL are not set, whatever the shell has.
  return new Runtime(
    loadConfig({
      KEEPWATCH_DATA_DIR: dataDir,
      MQTT_PORT: String(mqttPort),
      MQTT_WS_PORT: String(wsPort),
      DEVICE_TOPICS: "devices/{id}/#",
      PORT: "3998",
      ...env,
    }),
  );
}

const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), "kw-embedded-"));
  dirs.push(d);
  return d;
};
const device = (id: string) => runtime.fleet.get(id);
const url = () => `mqtt://127.0.0.1:${mqttPort}`;

/** Status changes of one device from now on, with their times. */
function watchStatus(id: string): { changes: Array<{ to: DeviceStatus; at: number }>; stop(): void } {
  const changes: Array<{ to: DeviceStatus; at: number }> = [];
  const stop = runtime.fleet.onEffects((effects) => {
    for (const e of effects) if (e.type === "status-change" && e.deviceId === id) changes.push({ to: e.to, at: e.at });
  });
  return { changes, stop };
}

/** A bare MQTT 3.1.1 connection: CONNECT, CONNACK, then only what the test sends. */
function rawClient(
  clientId: string,
  keepaliveSeconds: number,
  port = mqttPort,
): Promise<{ socket: Socket; reader: PacketReader; connectedAt: number }> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const reader = new PacketReader();
    sockets.push(socket);
    socket.once("error", reject);
    socket.once("data", (data) => {
      const [connack] = reader.push(data);
      if (connack?.type !== "connack" || connack.returnCode !== 0)
        return reject(new Error(`refused: ${data.toString("hex")}`));
      socket.removeAllListeners("error");
      socket.on("error", () => undefined);
      resolve({ socket, reader, connectedAt: Date.now() });
    });
    socket.connect(port, "127.0.0.1", () => socket.write(connectPacket({ clientId, keepaliveSeconds })));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  dataDir = tempDir();
  mqttPort = await freePort();
  wsPort = await freePort();
  runtime = newRuntime();
  await runtime.start();
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await runtime?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("embedded defaults", () => {
  it("runs on PGlite and its own broker, and says so in health; pings are visible", async () => {
    await runtime.writer!.flush();
    const health = runtime.health();
    expect(health.broker).toMatchObject({
      connected: true,
      kind: "aedes",
      version: "1.2.0",
      url: `mqtt://localhost:${mqttPort}`,
      lastError: null,
    });
    expect(health.db).toMatchObject({ ok: true, kind: "pglite", pendingWrites: 0 });
    expect(health.monitor).toMatchObject({ pingsVisible: true, gapSince: null, deviceTopics: ["devices/+/#"] });
    expect(health.ok).toBe(true);
    expect(runtime.pingsVisible).toBe(true);
    expect(runtime.db?.location).toBe(path.join(dataDir, "pglite"));
  });

  it("shows mosquitto_sub -k 5 online with keepalive 5, keeps it online on its pings, and connection_lost on SIGKILL", async () => {
    const started = Date.now();
    const proc = mosquittoSub(mqttPort, "probe-1", 5, "x");
    // The target is 2 s (typically ~150 ms here); the bound leaves room for spawning the client on a loaded machine.
    const d = await eventually(() => device("probe-1")?.status === "online" && device("probe-1"), 4_000, "online");
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(d).toMatchObject({ keepaliveSeconds: 5, sessionOpen: true, protocol: "3.1.1", sources: ["aedes"] });
    expect(d.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(runtime.health().broker.stats["clients/connected"]).toBeGreaterThanOrEqual(1);

    // mosquitto_sub pings every 5 s: past 1.5 × keepalive it is still online, never late, and lastPingAt moves.
    const watch = watchStatus("probe-1");
    await sleep(8_000);
    watch.stop();
    expect(watch.changes).toEqual([]);
    expect(device("probe-1")?.status).toBe("online");
    const lastPing = device("probe-1")!.lastPingAt!;
    expect(Date.now() - lastPing).toBeLessThan(5_500);
    // A PINGREQ (not the connect or subscribe) was seen after the session started.
    expect(lastPing).toBeGreaterThan(d.connectedAt!);

    proc.kill("SIGKILL");
    await exited(proc);
    const gone = await eventually(() => device("probe-1")?.status === "offline" && device("probe-1"), 1_000, "offline");
    expect(gone.lastDisconnectReason).toBe("connection_lost");
    expect(gone.disconnectCount).toBe(1);
    await runtime.writer!.flush();
    const [session] = await getDeviceSessions(runtime.db!.prisma, "probe-1", 5);
    expect(session).toMatchObject({ reason: "connection_lost", keepaliveSeconds: 5 });
  }, 20_000);

  it("takes a client with keepalive 2 that never pings late at 2 s (+ grace), then offline keepalive_timeout at 3 s, once", async () => {
    const watch = watchStatus("silent-1");
    const { connectedAt } = await rawClient("silent-1", 2);
    await eventually(() => device("silent-1")?.status === "offline", 5_000, "offline");
    await sleep(500); // the broker's own timeout (1.5 × 2 s + 1 ms) must not count it again
    watch.stop();
    expect(watch.changes.map((c) => c.to)).toEqual(["online", "late", "offline"]);
    const [, late, offline] = watch.changes;
    expect(late.at - connectedAt).toBeGreaterThanOrEqual(2_000 + LATE_GRACE_MS - 100);
    // Upper bounds leave room for a loaded machine; the order above already proves late came first.
    expect(late.at - connectedAt).toBeLessThan(2_000 + LATE_GRACE_MS + 1_000);
    expect(offline.at - connectedAt).toBeGreaterThanOrEqual(2_900);
    expect(offline.at - connectedAt).toBeLessThan(4_000);
    expect(device("silent-1")).toMatchObject({
      lastDisconnectReason: "keepalive_timeout",
      disconnectCount: 1,
      lastPingAt: null,
    });
    await runtime.writer!.flush();
    const sessions = await getDeviceSessions(runtime.db!.prisma, "silent-1", 5);
    expect(sessions.map((s) => s.reason)).toEqual(["keepalive_timeout"]);
  });

  it("applies a PINGREQ that arrived in time during an event-loop stall before judging silence", async () => {
    const { socket, connectedAt } = await rawClient("stalled-1", 2);
    await eventually(() => device("stalled-1")?.status === "online", 1_000, "online");
    const watch = watchStatus("stalled-1");
    await sleep(connectedAt + 2_200 - Date.now());
    socket.write(PINGREQ); // before the late deadline (2 s + grace); the broker's own 3 s limit is not reached
    const until = connectedAt + 2_000 + LATE_GRACE_MS + 300;
    while (Date.now() < until); // the process is busy past the deadline: the ping waits in the socket
    await eventually(() => (device("stalled-1")!.lastPingAt ?? 0) > connectedAt, 1_000, "ping applied");
    await sleep(300);
    watch.stop();
    expect(watch.changes).toEqual([]);
    expect(device("stalled-1")?.status).toBe("online");
    socket.destroy();
  });

  it("keeps a client that sends PINGREQs online, and every PINGREQ moves lastPingAt", async () => {
    const { socket } = await rawClient("pinger-1", 2);
    await eventually(() => device("pinger-1")?.status === "online", 1_000, "online");
    const watch = watchStatus("pinger-1");
    for (let i = 0; i < 5; i++) {
      await sleep(1_500);
      const sentAt = Date.now();
      socket.write(PINGREQ);
      const seen = await eventually(
        () => (device("pinger-1")!.lastPingAt ?? 0) >= sentAt && device("pinger-1")!.lastPingAt,
        2_000,
        "ping",
      );
      expect(seen - sentAt).toBeLessThan(1_000);
    }
    watch.stop();
    expect(watch.changes).toEqual([]); // 7.5 s with keepalive 2: never late, never dropped
    expect(device("pinger-1")?.status).toBe("online");
    socket.destroy();
  }, 15_000);

  it("counts other control packets (PUBACKs of a QoS 1 subscriber that never pings) as signs of life", async () => {
    const { socket, reader } = await rawClient("acker-1", 2);
    let acked = 0;
    socket.on("data", (chunk) => {
      for (const p of reader.push(chunk)) {
        if (p.type === "publish" && p.packetId !== null) {
          socket.write(pubackPacket(p.packetId));
          acked++;
        }
      }
    });
    socket.write(subscribePacket(1, "acker/in", 1));
    const publisher = await mqtt.connectAsync(url(), { clientId: "acker-feed", keepalive: 30, reconnectPeriod: 0 });
    const watch = watchStatus("acker-1");
    for (let i = 0; i < 6; i++) {
      await sleep(1_000);
      await publisher.publishAsync("acker/in", String(i), { qos: 1 });
    }
    await sleep(500);
    watch.stop();
    expect(acked).toBeGreaterThanOrEqual(5);
    expect(watch.changes).toEqual([]);
    expect(device("acker-1")).toMatchObject({ status: "online", lastPingAt: null, disconnectCount: 0 });
    socket.destroy();
    await publisher.endAsync();
  }, 15_000);

  it("closes the first session as taken_over when a second client takes the id; the device stays online and its will is ignored", async () => {
    const will = { topic: "devices/dup-1/status", payload: Buffer.from("offline"), retain: true, qos: 0 as const };
    const first = await mqtt.connectAsync(url(), { clientId: "dup-1", keepalive: 30, reconnectPeriod: 0, will });
    first.on("error", () => undefined);
    await eventually(() => device("dup-1")?.status === "online", 1_000, "first online");
    const firstConnectedAt = device("dup-1")!.connectedAt;
    const watch = watchStatus("dup-1");
    const second = await mqtt.connectAsync(url(), { clientId: "dup-1", keepalive: 30, reconnectPeriod: 0 });
    await eventually(() => device("dup-1")!.connectedAt !== firstConnectedAt, 1_000, "new session");
    await sleep(300); // the old connection's will comes after
    watch.stop();
    expect(watch.changes).toEqual([]);
    expect(device("dup-1")).toMatchObject({
      status: "online",
      takeoverCount: 1,
      disconnectCount: 0,
      sessionOpen: true,
    });
    await runtime.writer!.flush();
    const sessions = await getDeviceSessions(runtime.db!.prisma, "dup-1", 10);
    expect(sessions.map((s) => s.reason)).toEqual([null, "taken_over"]);
    expect(sessions[1].connectedAt).toBe(firstConnectedAt);

    await second.endAsync();
    const d = await eventually(() => device("dup-1")?.status === "offline" && device("dup-1"), 1_000, "offline");
    expect(d).toMatchObject({ lastDisconnectReason: "clean", disconnectCount: 1 });
    first.end(true);
  });

  it("a crashed device's will tells offline; its connection_lost stands", async () => {
    const will = { topic: "devices/crash-1/status", payload: Buffer.from("offline"), retain: true, qos: 0 as const };
    const client = await mqtt.connectAsync(url(), { clientId: "crash-1", keepalive: 30, reconnectPeriod: 0, will });
    client.on("error", () => undefined);
    await client.publishAsync("devices/crash-1/status", "online", { retain: true });
    await eventually(() => device("crash-1")?.sources.includes("device-topic"), 1_000, "status seen");
    client.stream.destroy();
    const d = await eventually(() => device("crash-1")?.status === "offline" && device("crash-1"), 1_000, "offline");
    await sleep(200);
    expect(d).toMatchObject({ lastDisconnectReason: "connection_lost", disconnectCount: 1 });
    expect(device("crash-1")?.disconnectCount).toBe(1);
    client.end(true);
  });

  it("refuses a client's publish or will on another device's topic: a spoofed 'offline' changes nothing", async () => {
    const pump = await mqtt.connectAsync(url(), { clientId: "pump-1", keepalive: 30, reconnectPeriod: 0 });
    await eventually(() => device("pump-1")?.status === "online", 1_000, "pump-1 online");
    const watch = watchStatus("pump-1");
    const refusedBefore = runtime.health().ingest.rejected.foreign_publish ?? 0;

    // A PUBLISH for pump-1 from someone else: refused, and that connection is closed.
    const spoofer = await mqtt.connectAsync(url(), { clientId: "spoofer", keepalive: 30, reconnectPeriod: 0 });
    spoofer.on("error", () => undefined);
    const closed = new Promise<void>((resolve) => spoofer.once("close", () => resolve()));
    spoofer.publish("devices/pump-1/status", "offline", { retain: true });
    await closed;
    // A will for pump-1 left by someone else: not published when that client drops.
    const willer = await mqtt.connectAsync(url(), {
      clientId: "willer",
      keepalive: 30,
      reconnectPeriod: 0,
      will: { topic: "devices/pump-1/status", payload: Buffer.from("offline"), qos: 0, retain: false },
    });
    (willer.stream as unknown as { destroy(): void }).destroy();
    await eventually(() => device("willer")?.status === "offline", 2_000, "willer dropped");
    await sleep(300);
    watch.stop();

    expect(watch.changes).toEqual([]);
    expect(device("pump-1")).toMatchObject({ status: "online", sessionOpen: true, disconnectCount: 0 });
    expect(runtime.health().ingest.rejected.foreign_publish).toBe(refusedBefore + 2);
    // Its own status is its to publish.
    await pump.publishAsync("devices/pump-1/status", "online", { retain: true });
    expect(pump.connected).toBe(true);
    await pump.endAsync();
  });

  it("holds at most MAX_DEVICES: a flood of random ids is refused and counted, the devices it holds are still followed", async () => {
    const port = await freePort();
    const bounded = new Runtime(
      loadConfig({
        KEEPWATCH_DATA_DIR: tempDir(),
        MQTT_PORT: String(port),
        PORT: "3991",
        MQTT_TOPIC_AUTH: "off",
        MAX_DEVICES: "300",
      }),
    );
    try {
      await bounded.start();
      const real = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
        clientId: "flood-real",
        keepalive: 30,
        reconnectPeriod: 0,
      });
      await eventually(() => bounded.fleet.get("flood-real")?.status === "online", 1_000, "real device online");
      const flooder = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
        clientId: "flooder",
        keepalive: 30,
        reconnectPeriod: 0,
      });
      for (let i = 0; i < 2_000; i++) flooder.publish(`devices/flood-${randomUUID()}/x`, "y");
      await eventually(() => (bounded.health().ingest.rejected.max_devices ?? 0) >= 1_000, 10_000, "refusals counted");
      expect(bounded.fleet.size).toBeLessThanOrEqual(300);
      expect(bounded.health().ingest).toMatchObject({ maxDevices: 300 });
      await real.endAsync();
      await eventually(() => bounded.fleet.get("flood-real")?.status === "offline", 2_000, "real device followed");
      await flooder.endAsync();
    } finally {
      await bounded.stop();
    }
  });

  it("with MQTT_TOPIC_AUTH=off, a gateway's publish is activity of the device its topic names", async () => {
    const port = await freePort();
    const open = new Runtime(
      loadConfig({ KEEPWATCH_DATA_DIR: tempDir(), MQTT_PORT: String(port), PORT: "3990", MQTT_TOPIC_AUTH: "off" }),
    );
    try {
      await open.start();
      const gw = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
        clientId: "gw-1",
        keepalive: 30,
        reconnectPeriod: 0,
      });
      await gw.publishAsync("devices/sensor-9/temp", "21.5");
      const s = await eventually(() => open.fleet.get("sensor-9"), 1_000, "device from topic");
      expect(s).toMatchObject({ status: "online", sources: ["device-topic"], keepaliveSeconds: null });
      expect(open.fleet.get("gw-1")).toMatchObject({ status: "online", sources: ["aedes"] });
      expect(open.fleet.get("gw-1")!.lastMessageAt).not.toBeNull();
      await gw.endAsync();
    } finally {
      await open.stop();
    }
  });

  it("takes MQTT over WebSocket on MQTT_WS_PORT: connect, pings, clean and lost disconnects, as on TCP", async () => {
    const ws = `ws://127.0.0.1:${wsPort}/mqtt`;
    const client = await mqtt.connectAsync(ws, { clientId: "ws-dev-1", keepalive: 2, reconnectPeriod: 0 });
    const d = await eventually(() => device("ws-dev-1")?.status === "online" && device("ws-dev-1"), 2_000, "online");
    expect(d).toMatchObject({ keepaliveSeconds: 2, sessionOpen: true, protocol: "3.1.1", sources: ["aedes"] });
    expect(d.address).toMatch(/^127\.0\.0\.1:\d+$/);
    // MQTT.js pings every 2 s over the WebSocket: seen, and never late.
    const watch = watchStatus("ws-dev-1");
    await eventually(() => (device("ws-dev-1")?.lastPingAt ?? 0) > d.connectedAt!, 4_000, "a PINGREQ");
    await sleep(3_500);
    watch.stop();
    expect(watch.changes).toEqual([]);
    await client.endAsync();
    const clean = await eventually(
      () => device("ws-dev-1")?.status === "offline" && device("ws-dev-1"),
      2_000,
      "clean",
    );
    expect(clean.lastDisconnectReason).toBe("clean");

    const lost = await mqtt.connectAsync(ws, { clientId: "ws-dev-2", keepalive: 30, reconnectPeriod: 0 });
    await eventually(() => device("ws-dev-2")?.status === "online", 2_000, "online");
    lost.stream.destroy(); // the connection drops without DISCONNECT
    lost.end(true);
    const gone = await eventually(() => device("ws-dev-2")?.status === "offline" && device("ws-dev-2"), 2_000, "lost");
    expect(gone.lastDisconnectReason).toBe("connection_lost");

    // A browser or curl opening the port plainly is told what it is.
    const res = await fetch(`http://127.0.0.1:${wsPort}/`);
    expect(res.status).toBe(426);
    expect(await res.text()).toMatch(/MQTT over WebSocket/);
  }, 20_000);

  it("disconnects a client announcing a packet over MQTT_MAX_PACKET_BYTES before reading it, and refuses foreign browser origins on WebSocket", async () => {
    const rejected = () => runtime.health().ingest.rejected;
    const before = rejected().packet_too_large ?? 0;
    // 100 KB is under the default 256 KB: delivered, the client stays.
    const ok = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: "big-ok", reconnectPeriod: 0 });
    await ok.publishAsync("devices/big-ok/data", Buffer.alloc(100 * 1024));
    await sleep(300);
    expect(ok.connected).toBe(true);
    await ok.endAsync();
    // A PUBLISH announcing 1 MB: cut off on its header, nothing of it buffered.
    const raw = await rawConnect(mqttPort, "big-bad", 30);
    const closed = new Promise<number>((resolve) => raw.once("close", () => resolve(Date.now())));
    const sentAt = Date.now();
    raw.write(Buffer.from([0x30, 0x80, 0x80, 0x40])); // remaining length 1,048,576
    const closedAt = await Promise.race([closed, sleep(3_000).then(() => null)]);
    expect(closedAt, "the connection was not closed").not.toBeNull();
    console.log(`[embedded] 1 MB packet announced → connection closed after ${closedAt! - sentAt} ms`);
    expect(rejected().packet_too_large).toBe(before + 1);

    // A page on another site may not open the broker's WebSocket; a client without an Origin may.
    const { WebSocket } = await import("ws");
    const status = await new Promise<number | string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${wsPort}/mqtt`, "mqtt", {
        headers: { origin: "https://evil.example" },
      });
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => (ws.close(), resolve("open")));
      ws.on("error", () => undefined);
    });
    expect(status).toBe(401);
    expect(rejected().ws_origin).toBe(1);
  }, 20_000);

  it("refuses an empty client id with a persistent session; takes one with a clean session without tracking it as a device", async () => {
    const rejected = () => runtime.health().ingest.rejected;
    // CONNECT, MQTT 3.1.1, clean session 0, keepalive 30, empty client id.
    const persistent = Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x00, 0, 30, 0, 0]);
    const answer = await new Promise<Buffer>((resolve, reject) => {
      const socket = new Socket();
      const chunks: Buffer[] = [];
      socket.on("data", (d) => chunks.push(d));
      socket.on("close", () => resolve(Buffer.concat(chunks)));
      socket.on("error", reject);
      socket.connect(mqttPort, "127.0.0.1", () => socket.write(persistent));
    });
    expect([...answer]).toEqual([0x20, 0x02, 0x00, 0x02]); // CONNACK: identifier rejected, then closed
    expect(rejected().empty_client_id).toBe(1);

    const devicesBefore = runtime.fleet.size;
    const anonymous = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
      clientId: "",
      clean: true,
      keepalive: 2,
      reconnectPeriod: 0,
    });
    await anonymous.publishAsync("some/topic", "x");
    await sleep(2_500); // a PINGREQ too
    await anonymous.endAsync();
    await sleep(300);
    expect(runtime.fleet.size).toBe(devicesBefore);
    expect([...runtime.fleet.all()].some((d) => d.id.startsWith("aedes_"))).toBe(false);
  }, 20_000);

  it("refuses a second keepwatch on the same data directory, and a busy MQTT_PORT, with clear errors", async () => {
    const second = newRuntime({ PORT: "3997" });
    await expect(second.start()).rejects.toThrow(DataDirLockedError);
    await second.stop();

    const other = tempDir();
    const third = new Runtime(loadConfig({ KEEPWATCH_DATA_DIR: other, MQTT_PORT: String(mqttPort), PORT: "3996" }));
    await expect(third.start()).rejects.toThrow(
      new RegExp(`MQTT_PORT ${mqttPort} is already in use.*set MQTT_URL=mqtt://127\\.0\\.0\\.1:${mqttPort}`),
    );
    await third.stop();
    const fourth = new Runtime(
      loadConfig({ KEEPWATCH_DATA_DIR: tempDir(), MQTT_PORT: String(await freePort()), MQTT_WS_PORT: String(wsPort) }),
    );
    await expect(fourth.start()).rejects.toThrow(new RegExp(`MQTT_WS_PORT ${wsPort} is already in use`));
    await fourth.stop();
    // The running monitor is untouched.
    expect(runtime.health()).toMatchObject({ ok: true, broker: { connected: true } });
  }, 30_000);
});

describe("embedded broker with credentials", () => {
  let secured: Runtime;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    secured = new Runtime(
      loadConfig({
        KEEPWATCH_DATA_DIR: tempDir(),
        MQTT_PORT: String(port),
        MQTT_USERNAME: "fleet",
        MQTT_PASSWORD: "s3cret",
        PORT: "3995",
      }),
    );
    await secured.start();
  }, 60_000);

  afterAll(async () => {
    await secured?.stop();
  });

  it("lets in clients with the credentials and refuses the others as not_authorized", async () => {
    const ok = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      clientId: "auth-ok",
      username: "fleet",
      password: "s3cret",
      reconnectPeriod: 0,
    });
    await eventually(() => secured.fleet.get("auth-ok")?.status === "online", 1_000, "online");
    expect(secured.fleet.get("auth-ok")).toMatchObject({ keepaliveSeconds: 60 });

    for (const [clientId, creds] of [
      ["auth-bad", { username: "fleet", password: "wrong" }],
      ["auth-none", {}],
    ] as const) {
      await expect(
        mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId, reconnectPeriod: 0, ...creds }),
      ).rejects.toThrow(/Bad username or password/);
      const d = await eventually(() => secured.fleet.get(clientId), 1_000, clientId);
      expect(d).toMatchObject({ status: "offline", lastDisconnectReason: "not_authorized", sessionOpen: false });
    }
    await ok.endAsync();
  });

  it("needs MQTT_USERNAME with MQTT_PASSWORD", async () => {
    const r = new Runtime(loadConfig({ KEEPWATCH_DATA_DIR: tempDir(), MQTT_PORT: String(port), MQTT_PASSWORD: "x" }));
    await expect(r.start()).rejects.toThrow("MQTT_PASSWORD is set without MQTT_USERNAME");
  });
});

describe("one embedded, the other external", () => {
  it("embedded broker with Postgres (DATABASE_URL set)", async () => {
    const database = await createTestDatabase();
    const port = await freePort();
    const r = new Runtime(
      loadConfig({ DATABASE_URL: database.url, KEEPWATCH_DATA_DIR: tempDir(), MQTT_PORT: String(port), PORT: "3993" }),
    );
    try {
      await r.start();
      expect(r.health()).toMatchObject({ broker: { kind: "aedes", connected: true }, db: { kind: "postgres" } });
      expect(r.pingsVisible).toBe(true);
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
        clientId: "mixed-1",
        keepalive: 9,
        reconnectPeriod: 0,
      });
      await eventually(() => r.fleet.get("mixed-1")?.status === "online", 1_000, "online");
      await c.endAsync();
      await eventually(() => r.fleet.get("mixed-1")?.status === "offline", 1_000, "offline");
      await r.writer!.flush();
      expect((await getDeviceSessions(r.db!.prisma, "mixed-1", 5)).map((x) => [x.reason, x.keepaliveSeconds])).toEqual([
        ["clean", 9],
      ]);
    } finally {
      await r.stop();
      await database.drop();
    }
  });

  it("an external Mosquitto with the embedded database (MQTT_URL set)", async () => {
    const broker = await startMosquitto();
    const r = new Runtime(loadConfig({ MQTT_URL: broker.url, KEEPWATCH_DATA_DIR: tempDir(), PORT: "3992" }));
    try {
      await r.start();
      await eventually(() => r.health().broker.kind === "mosquitto", 5_000, "broker detected");
      expect(r.health()).toMatchObject({ broker: { connected: true }, db: { kind: "pglite", ok: true } });
      expect(r.pingsVisible).toBe(false);
      const c = await mqtt.connectAsync(broker.url, { clientId: "mixed-2", keepalive: 9, reconnectPeriod: 0 });
      await eventually(() => r.fleet.get("mixed-2")?.status === "online", 2_000, "online");
      await c.endAsync();
      await eventually(() => r.fleet.get("mixed-2")?.status === "offline", 2_000, "offline");
      await r.writer!.flush();
      expect((await getDeviceSessions(r.db!.prisma, "mixed-2", 5)).map((x) => [x.reason, x.keepaliveSeconds])).toEqual([
        ["clean", 9],
      ]);
    } finally {
      await r.stop();
      await broker.stop();
    }
  });
});

describe("restart on the same data directory", () => {
  it("keeps devices and sessions; sessions open at the stop end as broker_restart, and devices restart offline", async () => {
    const stay = await mqtt.connectAsync(url(), { clientId: "stay-1", keepalive: 30, reconnectPeriod: 0 });
    stay.on("error", () => undefined);
    await eventually(() => device("stay-1")?.status === "online", 1_000, "online");
    await runtime.stop();
    // The broker closed every connection as it stopped.
    expect(device("stay-1")).toMatchObject({ status: "offline", lastDisconnectReason: "broker_restart" });
    const before = new Map(Array.from(runtime.fleet.all(), (d) => [d.id, d]));
    expect(before.size).toBeGreaterThanOrEqual(8);

    runtime = newRuntime();
    await runtime.start();
    for (const [id, d] of before) {
      const r = runtime.fleet.get(id);
      expect(r, id).toBeDefined();
      // Its broker was keepwatch itself: every session ended at the stop, nobody is connected yet. A device
      // known only from publishes about it (a gateway's) had no connection of its own: unknown until it is heard.
      expect(r!.status).toBe(d.connectedAt === null ? "unknown" : "offline");
      expect(r!.disconnectCount).toBe(d.disconnectCount);
      expect(r!.lastDisconnectReason).toBe(d.lastDisconnectReason);
      expect(r!.keepaliveSeconds).toBe(d.keepaliveSeconds);
      expect(r!.takeoverCount).toBe(d.takeoverCount);
    }
    const prisma = runtime.db!.prisma;
    expect((await getDeviceSessions(prisma, "probe-1", 5))[0].reason).toBe("connection_lost");
    expect((await getDeviceSessions(prisma, "dup-1", 5)).map((s) => s.reason)).toEqual(["clean", "taken_over"]);
    expect((await getDeviceSessions(prisma, "stay-1", 5)).map((s) => s.reason)).toEqual(["broker_restart"]);
    expect(runtime.health().broker.lastRestart).toMatchObject({ devices: expect.any(Number) });

    // Devices come back by themselves.
    const again = await mqtt.connectAsync(url(), { clientId: "stay-1", keepalive: 30, reconnectPeriod: 0 });
    await eventually(() => device("stay-1")?.status === "online", 1_000, "back online");
    await again.endAsync();
    stay.end(true);
  }, 30_000);
});
