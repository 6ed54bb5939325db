/**
 * Truth across keepwatch's own crash, caused for real: a keepwatch process
 * (lib/testing/keepwatch-process.ts) following a real Mosquitto 2.0's debug
 * log on a real Postgres is killed with SIGKILL while devices (MQTT.js) come
 * and go; what happened while it was away is read on from the log when it
 * starts again, from where its written changes end (nothing lost, nothing
 * twice).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceDto } from "./api/dto";
import { createDb, type Db } from "./store/db";
import { getDeviceSessions } from "./store/devices";
import { listGaps } from "./store/gaps";
import { buildUptimeReport, parseUptimeQuery } from "./api/reports";
import { createTestDatabase, type TestDatabase } from "./store/testing";
import { eventually } from "./testing/clients";
import { startKeepwatchProcess, type KeepwatchProcess } from "./testing/cluster";
import { startMosquitto, type TestBroker } from "./testing/mosquitto";

let dir: string;
let logFile: string;
let broker: TestBroker;
let database: TestDatabase;
let db: Db;
let instance: KeepwatchProcess | null = null;
const clients: MqttClient[] = [];

async function start(env: Record<string, string> = {}): Promise<KeepwatchProcess> {
  instance = await startKeepwatchProcess("solo", {
    DATABASE_URL: database.url,
    MQTT_URL: broker.url,
    MOSQUITTO_LOG_FILE: logFile,
    KEEPWATCH_DATA_DIR: path.join(dir, "data"),
    ...env,
  });
  return instance;
}

async function device(id: string): Promise<DeviceDto | null> {
  const res = await fetch(`http://127.0.0.1:${instance!.port}/device?id=${encodeURIComponent(id)}`);
  return res.status === 200 ? ((await res.json()) as DeviceDto) : null;
}

async function connectClient(clientId: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(broker.url, { clientId, keepalive: 5, reconnectPeriod: 0 });
  c.on("error", () => undefined);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "kw-replay-"));
  broker = await startMosquitto({ debugLog: true });
  logFile = broker.debugLogFile!;
  database = await createTestDatabase();
  db = createDb({ connectionString: database.url });
  await start();
  await eventually(async () => (await instance!.health()).monitor.pingsVisible, 15_000, "pings visible");
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.end(true);
  await instance?.signal("SIGKILL");
  await db?.$disconnect();
  await broker?.dispose();
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe("keepwatch killed (SIGKILL) while devices come and go", () => {
  it("reads on in the debug log: drops with the broker's reason and time, connects it missed, each once", async () => {
    await connectClient("rp-stay");
    const early = await connectClient("rp-early");
    const leave = await connectClient("rp-leave");
    await eventually(
      async () => {
        const s = await instance!.statuses();
        return s["rp-stay"] === "online" && s["rp-early"] === "online" && s["rp-leave"] === "online";
      },
      5_000,
      "all online",
    );
    await new Promise((r) => setTimeout(r, 1_000)); // written

    // Dropped just before the kill: seen, perhaps written, perhaps not.
    early.end(true);
    await new Promise((r) => setTimeout(r, 100));
    await instance!.signal("SIGKILL");

    // While nobody watches: one drops, one new device connects and stays.
    await new Promise((r) => setTimeout(r, 500));
    const leftAt = Date.now();
    leave.end(true);
    await connectClient("rp-new");
    await new Promise((r) => setTimeout(r, 1_500));

    const startedAt = Date.now();
    await start();
    // The log saw the time away: the stored statuses stand, none turns unknown. (rp-early is offline if its
    // drop was stored before the kill, else online as stored until its line is read on, a moment later.)
    const first = await instance!.statuses();
    expect(first["rp-stay"]).toBe("online");
    expect(["online", "offline"]).toContain(first["rp-early"]);
    expect(["online", "offline"]).toContain(first["rp-leave"]);
    await eventually(
      async () => (await device("rp-leave"))?.status === "offline" && (await device("rp-new"))?.status === "online",
      5_000,
      "the drop and the connect from while it was away",
    );
    console.log(`[replay] restart → the drop and the connect read on in ${Date.now() - startedAt} ms`);
    await eventually(
      () => /debug log .*: read on from byte \d+: \d+ bytes written while keepwatch was away/.test(instance!.out),
      5_000,
      "the log says where it read on from",
    );
    const readOn = (await instance!.health()).monitor.debugLog?.readOn;
    expect(readOn).toMatchObject({ reading: false, reason: null });
    expect(readOn?.offset).toBeGreaterThan(0);
    expect(readOn?.bytes).toBeGreaterThan(0);

    // The drop: the broker's reason, its own time (whole seconds), not inferred, counted once.
    const left = (await device("rp-leave"))!;
    expect(left).toMatchObject({ lastDisconnectReason: "connection_lost", disconnectCount: 1 });
    const early1 = (await device("rp-early"))!;
    expect(early1).toMatchObject({ status: "offline", lastDisconnectReason: "connection_lost", disconnectCount: 1 });
    expect((await device("rp-stay"))?.status).toBe("online");
    expect(Object.values(await instance!.statuses())).not.toContain("unknown");
    expect((await instance!.health()).monitor.relearning).toBeNull();
    // The device that joined meanwhile: its session opened when it connected, before the restart.

    await eventually(async () => (await getDeviceSessions(db, "rp-new", 5)).length === 1, 5_000, "rp-new's session");
    const [joined] = await getDeviceSessions(db, "rp-new", 5);
    expect(joined.disconnectedAt).toBeNull();
    expect(joined.connectedAt).toBeLessThan(startedAt);

    for (const id of ["rp-leave", "rp-early"]) {
      await eventually(
        async () => (await getDeviceSessions(db, id, 5))[0]?.disconnectedAt != null,
        5_000,
        `${id}'s session closed`,
      );
      const sessions = await getDeviceSessions(db, id, 5);
      expect(sessions, id).toHaveLength(1);
      expect(sessions[0], id).toMatchObject({ reason: "connection_lost" });
      expect(sessions[0].inferred, id).toBeUndefined(); // the broker said so: not inferred
    }
    const [s] = await getDeviceSessions(db, "rp-leave", 5);
    expect(Math.abs(s.disconnectedAt! - leftAt)).toBeLessThan(1_500);
    expect(s.disconnectedAt!).toBeLessThan(startedAt);
    // The log saw the time away: it is no monitoring gap (history and reports know what happened in it).
    expect(await listGaps(db, {})).toEqual([]);

    // Silence is judged again from now on: the devices still pinging stay online.
    await new Promise((r) => setTimeout(r, 8_000));
    expect((await device("rp-stay"))?.status).toBe("online");
    expect((await device("rp-new"))?.status).toBe("online");
  }, 90_000);
  it("reads on after a clean stop (SIGTERM) too: the stop turns no device unknown and records no gap", async () => {
    const term = await connectClient("rp-term");
    await eventually(async () => (await device("rp-term"))?.status === "online", 5_000, "rp-term online");
    await new Promise((r) => setTimeout(r, 1_000)); // written
    await instance!.signal("SIGTERM");
    term.end(true); // gone while nobody watches
    await new Promise((r) => setTimeout(r, 1_000));

    await start();
    const first = await instance!.statuses();
    expect(Object.values(first)).not.toContain("unknown");
    expect(first["rp-stay"]).toBe("online");
    await eventually(async () => (await device("rp-term"))?.status === "offline", 5_000, "rp-term's drop read on");
    expect(await device("rp-term")).toMatchObject({ lastDisconnectReason: "connection_lost", disconnectCount: 1 });
    expect(await listGaps(db, {})).toEqual([]);
  }, 60_000);

  it("cannot read on (the replay limit is 0): the time away is a monitoring gap, unknown in the uptime report", async () => {
    await new Promise((r) => setTimeout(r, 1_500)); // the broker state written since the start
    const killedAt = Date.now();
    await instance!.signal("SIGKILL");
    await new Promise((r) => setTimeout(r, 2_000));
    const startedAt = Date.now();
    await start({ MOSQUITTO_LOG_REPLAY_MAX_MB: "0" });
    expect(Object.values(await instance!.statuses())).toContain("unknown");
    await eventually(async () => (await listGaps(db, {}))[0]?.endedAt != null, 10_000, "the gap closed at the link");
    const gaps = await listGaps(db, {});
    expect(gaps).toHaveLength(1);
    expect(gaps[0].reason).toBe("keepwatch was not running");
    // From the last write of the killed run (its broker state, every second) to the new link.
    expect(gaps[0].startedAt).toBeGreaterThan(killedAt - 2_500);
    expect(gaps[0].startedAt).toBeLessThanOrEqual(killedAt);
    expect(gaps[0].endedAt).toBeGreaterThanOrEqual(startedAt);
    expect(gaps[0].endedAt).toBeLessThan(startedAt + 15_000);
    // rp-leave left in the first test: offline before and after the gap, unknown inside it.
    const from = gaps[0].startedAt - 1_000;
    const q = parseUptimeQuery(`http://localhost/r?device=rp-leave&from=${new Date(from).toISOString()}`, {
      maxDays: 1,
      maxDevices: 10,
    });
    const [figures] = (await buildUptimeReport(db, q)).devices;
    console.log(`[replay] away ${gaps[0].endedAt! - gaps[0].startedAt} ms; rp-leave`, figures.statusSeconds);
    expect(figures.statusSeconds.unknown).toBeCloseTo((gaps[0].endedAt! - gaps[0].startedAt) / 1000, 1);
    expect(figures.statusSeconds.online).toBe(0);
  }, 60_000);
});
