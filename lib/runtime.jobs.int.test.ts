/**
 * The background jobs as GET /api/health shows them, on the real runtime
 * against a real Mosquitto (with its debug log followed) and a real Postgres.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET } from "../app/api/health/route";
import type { HealthDto } from "./api/dto";
import { startRuntime, type Runtime } from "./runtime";
import { createTestDatabase, type TestDatabase } from "./store/testing";
import { eventually } from "./testing/clients";
import { startMosquitto, type TestBroker } from "./testing/mosquitto";

let dir: string;
let broker: TestBroker;
let database: TestDatabase;
let runtime: Runtime;
let stopped = false;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "kw-jobs-"));
  const logFile = path.join(dir, "debug.log");
  writeFileSync(logFile, "");
  broker = await startMosquitto();
  database = await createTestDatabase();
  runtime = await startRuntime({
    MQTT_URL: broker.url,
    DATABASE_URL: database.url,
    MOSQUITTO_LOG_FILE: logFile,
    KEEPWATCH_ANONYMOUS_ROLE: "viewer",
    PORT: "3992",
  });
  await eventually(() => runtime.health().broker.connected, 10_000, "broker link");
}, 60_000);

afterAll(async () => {
  if (!stopped) await runtime?.stop();
  await broker?.stop();
  await database?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const health = async (): Promise<HealthDto> => {
  const res = await GET(new Request("http://127.0.0.1:3992/api/health"));
  expect(res.status).toBe(200);
  return res.json();
};

describe("GET /api/health jobs", () => {
  it("lists every background job, and the frequent ones have run", async () => {
    const frequent = [
      "broker-state",
      "database-check",
      "live-publish",
      "debug-log-stall",
      "debug-log-touch",
      "activity-packing",
      "activity-retention",
      "notification-outbox",
    ];
    const body = await eventually(
      async () => {
        const h = await health();
        const ran = new Set(h.jobs?.filter((j) => j.runs > 0).map((j) => j.name));
        return frequent.every((n) => ran.has(n)) && h;
      },
      10_000,
      "jobs ran",
    );
    const jobs = new Map(body.jobs!.map((j) => [j.name, j]));
    expect([...jobs.keys()].sort()).toEqual([...frequent, "forget-devices", "live-heartbeat"].sort());
    for (const name of frequent) {
      const j = jobs.get(name)!;
      expect(j.runs, name).toBeGreaterThan(0);
      expect(j.lastError, name).toBeNull();
      expect(Date.parse(j.lastStartedAt!), name).toBeGreaterThan(runtime.startedAt - 1);
      expect(j.lastSuccessAt, name).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(j.lastDurationMs, name).toBeGreaterThanOrEqual(0);
    }
    expect(jobs.get("broker-state")).toMatchObject({ intervalMs: 1_000, overlaps: 0 });
    expect(jobs.get("forget-devices")).toMatchObject({ intervalMs: 3_600_000, runs: 0, lastStartedAt: null });
    // The live streams' health leaves the jobs out: their figures move every second.
    expect(runtime.health({ jobs: false }).jobs).toBeUndefined();
  });

  it("stops them all with the runtime", async () => {
    stopped = true;
    await runtime.stop();
    expect(runtime.jobs.list()).toEqual([]);
  });
});
