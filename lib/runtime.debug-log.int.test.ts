/**
 * Mosquitto's debug log going quiet while the broker keeps running (logging
 * moved, disk full, rotated without reopening). A real Mosquitto reports
 * connects on $SYS; the debug log is a file this test writes, so it can stop.
 * Without the log no PINGREQ is visible: silence verdicts must stop rather
 * than call every device late and then offline, and when the log moves again
 * silence is measured afresh.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "./config";
import { Runtime } from "./runtime";
import { createTestDatabase, type TestDatabase } from "./store/testing";
import { eventually } from "./testing/clients";
import { startMosquitto, type TestBroker } from "./testing/mosquitto";

const STALL_MS = 1_000;
let dir: string;
let logFile: string;
let broker: TestBroker;
let database: TestDatabase;
let runtime: Runtime;
let client: MqttClient | null = null;

const stamp = () => Math.floor(Date.now() / 1000);
/** A debug line of another client (never the device under test). */
const logLine = () => appendFileSync(logFile, `${stamp()}: Received PINGREQ from dbg-other\n`);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "kw-stall-"));
  logFile = path.join(dir, "debug.log");
  writeFileSync(logFile, "");
  broker = await startMosquitto();
  database = await createTestDatabase();
  runtime = new Runtime(
    loadConfig({ MQTT_URL: broker.url, DATABASE_URL: database.url, MOSQUITTO_LOG_FILE: logFile, PORT: "3993" }),
    { debugLogStallMs: STALL_MS },
  );
  await runtime.start();
  await eventually(() => runtime.health().broker.connected, 10_000, "broker link");
}, 60_000);

afterAll(async () => {
  await client?.endAsync();
  await runtime?.stop();
  await broker?.stop();
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe("a stalled Mosquitto debug log", () => {
  it("suspends silence verdicts while stalled, and measures silence afresh when it moves again", async () => {
    // The log moves: PINGREQs are visible.
    const mover = setInterval(logLine, 200);
    try {
      await eventually(() => runtime.pingsVisible, 5_000, "pings visible");
      // A device whose pings the log never shows: late at 10 s + 1 s grace, offline at 15 s.
      client = await mqtt.connectAsync(broker.url, { clientId: "dbg-1", keepalive: 10, reconnectPeriod: 0 });
      const device = () => runtime.fleet.get("dbg-1");
      await eventually(() => device()?.status === "online", 3_000, "online");
      await eventually(() => device()?.status === "late", 13_000, "late while the log moves");
    } finally {
      clearInterval(mover);
    }

    // The log stops: stalled after STALL_MS, and the late verdict cannot stand without it.
    const health = await eventually(
      () => runtime.health().monitor.debugLog?.stalled && runtime.health(),
      4_000,
      "stall",
    );
    expect(health.monitor).toMatchObject({
      pingsVisible: false,
      debugLog: { file: logFile, seen: true, stalled: true },
    });
    expect(runtime.fleet.get("dbg-1")?.status).toBe("online");

    // Past the 15 s offline deadline: still online, the broker has not dropped it (it pings; nobody sees it).
    const connectedAt = runtime.fleet.get("dbg-1")!.connectedAt!;
    await new Promise((r) => setTimeout(r, Math.max(0, connectedAt + 16_000 - Date.now())));
    expect(runtime.fleet.get("dbg-1")).toMatchObject({ status: "online", disconnectCount: 0 });

    // The log moves again: visible, and the silence clock starts now, not at the connect 16 s ago.
    logLine();
    await eventually(() => runtime.pingsVisible, 3_000, "visible again");
    expect(runtime.health().monitor.debugLog?.stalled).toBe(false);
    await new Promise((r) => setTimeout(r, 500));
    expect(runtime.fleet.get("dbg-1")?.status).toBe("online");
  }, 40_000);
});
