/**
 * Truth across restarts, caused for real on a real Mosquitto 2.0 (its debug
 * log followed through MOSQUITTO_LOG_FILE) and a real Postgres:
 * - the broker restarts and 2 of 3 mosquitto_sub clients never return;
 * - keepwatch's own link to the broker is cut (a TCP relay drops it) while
 *   the broker runs on: nothing may be closed;
 * - keepwatch restarts while one device leaves, and cannot read on in the log
 *   (lib/runtime.replay.int.test.ts is the restart that can);
 * - a device first seen right after a start is judged at once.
 * keepwatch reaches the broker through the relay; devices connect directly.
 */
import type { ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "./config";
import { Runtime } from "./runtime";
import { createAlertRule } from "./store/alerts";
import { listBrokerRestarts } from "./store/broker";
import { getDeviceSessions } from "./store/devices";
import { getDisconnects } from "./store/disconnects";
import { listGaps } from "./store/gaps";
import { buildUptimeReport, parseUptimeQuery } from "./api/reports";
import { createTestDatabase, type TestDatabase } from "./store/testing";
import { eventually, exited, mosquittoSub, rawConnect } from "./testing/clients";
import { startMosquitto, type TestBroker } from "./testing/mosquitto";
import { startRelay, type TcpRelay } from "./testing/relay";
import { DEFAULT_RULE } from "./alerts/rules";
import type { FleetEffect } from "./fleet/types";

let logFile: string;
let broker: TestBroker;
let relay: TcpRelay;
let database: TestDatabase;
let runtime: Runtime;
const procs: ChildProcess[] = [];
const clients: MqttClient[] = [];
const sockets: Socket[] = [];

function newRuntime(env: Record<string, string> = {}): Runtime {
  return new Runtime(
    loadConfig({
      MQTT_URL: relay.url,
      DATABASE_URL: database.url,
      MOSQUITTO_LOG_FILE: logFile,
      PORT: "3989",
      ALERT_RESTART_WINDOW_SECONDS: "3",
      ...env,
    }),
  );
}

const device = (id: string) => runtime.fleet.get(id);
const db = () => runtime.db!.prisma;

async function connectClient(clientId: string, keepalive: number): Promise<MqttClient> {
  const c = await mqtt.connectAsync(broker.url, { clientId, keepalive, reconnectPeriod: 0 });
  c.on("error", () => undefined);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  broker = await startMosquitto({ debugLog: true });
  logFile = broker.debugLogFile!;
  relay = await startRelay(broker.port);
  database = await createTestDatabase();
  runtime = newRuntime();
  await runtime.start();
  await eventually(() => runtime.health().broker.connected && runtime.pingsVisible, 10_000, "link up, pings visible");
}, 60_000);

afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  for (const c of clients) c.end(true);
  for (const s of sockets) s.destroy();
  await runtime?.stop();
  await relay?.close();
  await broker?.dispose();
  await database?.drop();
});

describe("a broker restart where 2 of 3 devices never return", () => {
  it("ends all three sessions at the restart as broker_restart; the returning one gets a second session", async () => {
    for (const id of ["rs-a", "rs-b", "rs-c"]) procs.push(mosquittoSub(broker.port, id, 5));
    await eventually(() => ["rs-a", "rs-b", "rs-c"].every((id) => device(id)?.status === "online"), 5_000, "online");

    const stoppedAt = Date.now();
    await broker.stop();
    // rs-b and rs-c die while the broker is down: they never return. rs-a reconnects by itself.
    const [, b, c] = procs;
    b.kill("SIGKILL");
    c.kill("SIGKILL");
    await Promise.all([exited(b), exited(c)]);
    await broker.start();
    const returnedAt = Date.now();

    const settled = () => {
      const [a, bb, cc] = ["rs-a", "rs-b", "rs-c"].map(device);
      return (
        a?.status === "online" &&
        a.sessionOpen &&
        a.connectedAt! > stoppedAt &&
        [bb, cc].every((d) => d?.status === "offline" && d.lastDisconnectReason === "broker_restart")
      );
    };
    await eventually(settled, 15_000, "verdicts settled after the restart").catch((e) => {
      console.log(JSON.stringify(["rs-a", "rs-b", "rs-c"].map(device), null, 1), stoppedAt, runtime.health());
      throw e;
    });
    const settleMs = Date.now() - returnedAt;
    console.log(`[restart] broker back → last verdict settled in ${settleMs} ms`);

    await runtime.writer!.flush();
    for (const id of ["rs-b", "rs-c"]) {
      const [s] = await getDeviceSessions(db(), id, 5);
      expect(s.reason).toBe("broker_restart");
      expect(Math.abs(s.disconnectedAt! - stoppedAt)).toBeLessThanOrEqual(2_000);
    }
    const sessionsA = await getDeviceSessions(db(), "rs-a", 5);
    expect(sessionsA.map((s) => s.reason)).toEqual([null, "broker_restart"]);
    expect(Math.abs(sessionsA[1].disconnectedAt! - stoppedAt)).toBeLessThanOrEqual(2_000);

    // The history, as /api/disconnects reads it: three drops at the restart.
    const page = await getDisconnects(db(), {
      filter: { from: stoppedAt - 5_000, to: Date.now(), device: null, reasons: ["broker_restart"] },
      limit: 100,
    });
    expect(page.disconnects.map((d) => d.deviceId).sort()).toEqual(["rs-a", "rs-b", "rs-c"]);

    // Recorded, with the log's evidence; the banner's figures.
    const [restart] = await listBrokerRestarts(db());
    expect(restart.evidence.join(" ")).toMatch(/terminating at .* starting at/);
    expect(Math.abs(restart.downAt - stoppedAt)).toBeLessThanOrEqual(2_000);
    expect(runtime.health().broker.lastRestart).toMatchObject({ devices: 3, notBack: 2 });
    // A restart is not the devices' disconnect.
    expect(device("rs-b")!.disconnectCount).toBe(0);
  }, 60_000);

  it("holds the offline alerts of devices it dropped for the reconnect window, then fires for those still out", async () => {
    const detectedAt = Date.parse(runtime.health().broker.lastRestart!.detectedAt);
    const firing = () => runtime.alerts!.feed().firing.filter((a) => a.deviceId?.startsWith("rs-"));
    const fired = await eventually(() => firing().length >= 2 && firing(), 10_000, "offline alerts for rs-b, rs-c");
    expect(fired.map((a) => a.deviceId).sort()).toEqual(["rs-b", "rs-c"]);
    for (const a of fired) {
      expect(a.kind).toBe("offline");
      // Window: max(3 s, 2 × keepalive 5 s) = 10 s after the restart was detected.
      expect(Date.parse(a.firedAt) - detectedAt).toBeGreaterThanOrEqual(10_000 - 50);
    }
  }, 30_000);
});

describe("a link blip while the broker runs on", () => {
  it("closes no session and records no restart; devices are confirmed again", async () => {
    await connectClient("blip-1", 2);
    await connectClient("blip-2", 2);
    await eventually(() => device("blip-1")?.status === "online" && device("blip-2")?.status === "online", 3_000, "on");
    const closes: FleetEffect[] = [];
    const off = runtime.fleet.onEffects((fx) => closes.push(...fx.filter((e) => e.type === "session-close")));
    const restartsBefore = (await listBrokerRestarts(db())).length;
    const gapsBefore = (await listGaps(db())).length;

    relay.cut();
    await eventually(() => !runtime.health().broker.connected, 5_000, "link down");
    await new Promise((r) => setTimeout(r, 2_000));
    relay.restore();
    await eventually(() => runtime.health().broker.connected, 30_000, "link back");
    // Longer than the re-learning deadline (1.5 × 2 s + 6 s): nobody may be called offline.
    await new Promise((r) => setTimeout(r, 10_000));
    off();

    expect(closes.filter((e) => e.type === "session-close" && e.deviceId.startsWith("blip-"))).toEqual([]);
    expect(device("blip-1")).toMatchObject({ status: "online", sessionOpen: true });
    expect(device("blip-2")).toMatchObject({ status: "online", sessionOpen: true });
    await runtime.writer!.flush();
    expect(await listBrokerRestarts(db())).toHaveLength(restartsBefore);
    expect((await listGaps(db())).length).toBe(gapsBefore + 1);
  }, 60_000);
});

describe("keepwatch restarts while a device leaves, and the log's lines from meanwhile cannot be read", () => {
  it("calls the one that left offline (inferred) within 20 s; those still pinging are online within k + 2 s", async () => {
    await connectClient("kr-stay", 5);
    const leave = await connectClient("kr-leave", 5);
    await eventually(
      () => device("kr-stay")?.status === "online" && device("kr-leave")?.status === "online",
      3_000,
      "on",
    );
    // For the next test: a 3 s offline rule on fresh-*, loaded by the new start.
    await createAlertRule(db(), {
      ...DEFAULT_RULE,
      name: "fresh",
      match: "fresh-*",
      offlineSeconds: 3,
      offlineFactor: null,
    });
    const stoppedAt = Date.now();
    await runtime.stop();
    leave.end(true); // gone while nobody watches
    await new Promise((r) => setTimeout(r, 2_000)); // keepwatch away for 2 s

    const startedAt = Date.now();
    // As when the log was rotated away meanwhile: followed from its end, so nobody saw the drop.
    runtime = newRuntime({ MOSQUITTO_LOG_REPLAY_MAX_MB: "0" });
    await runtime.start();
    expect(device("kr-leave")?.status).toBe("unknown");
    await eventually(() => device("kr-stay")?.status === "online", 5_000 + 2_000, "kr-stay online");
    const stayMs = Date.now() - startedAt;
    const gone = await eventually(() => device("kr-leave")?.status === "offline" && device("kr-leave"), 20_000, "left");
    const leaveMs = Date.now() - startedAt;
    console.log(`[restart] keepwatch start → still pinging online in ${stayMs} ms, left offline in ${leaveMs} ms`);
    expect(gone).toMatchObject({ lastDisconnectReason: "unknown" });
    await runtime.writer!.flush();
    const [s] = await getDeviceSessions(db(), "kr-leave", 5);
    expect(s).toMatchObject({ reason: "unknown", inferred: true });
    expect(s.disconnectedAt).toBeLessThan(startedAt);
    expect(await listBrokerRestarts(db())).toHaveLength(1); // the broker did not restart

    // Nobody heard the broker while keepwatch was away: a monitoring gap from the last write of the run before
    // (its broker state, written every second) to the new link, and the report calls that time unknown, not offline.
    const gaps = (await listGaps(db(), {})).filter((g) => g.reason === "keepwatch was not running");
    expect(gaps).toHaveLength(1);
    expect(gaps[0].startedAt).toBeGreaterThan(stoppedAt - 3_000);
    expect(gaps[0].startedAt).toBeLessThanOrEqual(stoppedAt + 1_000);
    expect(gaps[0].endedAt).toBeGreaterThanOrEqual(startedAt);
    expect(gaps[0].endedAt).toBeLessThan(startedAt + 10_000);
    const q = parseUptimeQuery(
      `http://localhost/api/reports/uptime?device=kr-leave&from=${new Date(s.disconnectedAt!).toISOString()}`,
      { maxDays: 1, maxDevices: 10 },
    );
    const [figures] = (await buildUptimeReport(db(), q)).devices;
    const awayS = (gaps[0].endedAt! - Math.max(gaps[0].startedAt, s.disconnectedAt!)) / 1000;
    console.log(`[restart] away gap ${gaps[0].endedAt! - gaps[0].startedAt} ms; kr-leave`, figures.statusSeconds);
    expect(figures.statusSeconds.unknown).toBeCloseTo(awayS, 0);
  }, 60_000);

  it("judges a device first seen right after the start at once: a 3 s offline rule alerts within 5 s", async () => {
    const socket = await rawConnect(broker.port, "fresh-1", 60); // never pings
    sockets.push(socket);
    const connectedAt = Date.now();
    const alert = await eventually(
      () => runtime.alerts!.feed().firing.find((a) => a.deviceId === "fresh-1"),
      5_000,
      "offline alert for fresh-1",
    );
    expect(alert.kind).toBe("offline");
    expect(Date.parse(alert.firedAt) - connectedAt).toBeLessThan(5_000);
  }, 20_000);
});
