/**
 * Read queries for restart recovery and history, on rows written by the
 * StoreWriter: what goes in as DeviceState/SessionRecord comes back equal.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceState } from "../fleet/types";
import { newDevice } from "../fleet/machine";
import { createDb, type Db } from "./db";
import { getDevice, loadFleet } from "./devices";
import { getOpenGap, listGaps } from "./gaps";
import { getDeviceSessions } from "./sessions";
import { createTestDatabase, type TestDatabase } from "./testing";
import { StoreWriter } from "./writer";

const T0 = Date.parse("2026-05-10T08:30:00.123Z");

const full: DeviceState = {
  id: "sensor-α/1",
  status: "late",
  statusSince: T0 + 45_001,
  keepaliveSeconds: 30,
  lastSeenAt: T0 + 15_002,
  lastPingAt: T0 + 15_002,
  lastMessageAt: T0 + 9_003,
  connectedAt: T0,
  sessionOpen: true,
  lastDisconnectAt: T0 - 60_000,
  lastDisconnectReason: "keepalive_timeout",
  disconnectCount: 7,
  address: "192.168.1.20:51234",
  protocol: "3.1.1",
  cleanStart: false,
  sources: ["device-topic", "mosquitto-debug", "mosquitto-log"],
  firstSeenAt: T0 - 86_400_000,
  connectReportedAt: T0 - 1,
  lastConfirmedAt: T0 + 15_002,
  lastClosed: null,
  takeoverCount: 3,
  takeoverWillPending: false,
};

/** Nothing known but the id: every nullable field null (newDevice's shape is pinned in machine.test.ts). */
const sparse: DeviceState = newDevice("sparse", T0);

let testDb: TestDatabase;
let db: Db;

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = createDb({ connectionString: testDb.url });
  const w = new StoreWriter({ db });
  w.enqueue(
    [
      {
        type: "session-open",
        session: {
          deviceId: full.id,
          connectedAt: T0 - 120_000,
          disconnectedAt: null,
          reason: null,
          keepaliveSeconds: 30,
          lastActivityAt: null,
        },
      },
      {
        type: "session-close",
        deviceId: full.id,
        connectedAt: T0 - 120_000,
        disconnectedAt: T0 - 60_000,
        reason: "keepalive_timeout",
        lastActivityAt: T0 - 105_000,
      },
      {
        type: "session-open",
        session: {
          deviceId: full.id,
          connectedAt: T0,
          disconnectedAt: null,
          reason: null,
          keepaliveSeconds: 30,
          lastActivityAt: T0 + 15_002,
        },
      },
      {
        type: "session-open",
        session: {
          deviceId: full.id,
          connectedAt: T0 - 300_000,
          disconnectedAt: T0 - 200_000,
          reason: "clean",
          keepaliveSeconds: 60,
          lastActivityAt: T0 - 200_001,
        },
      },
    ],
    [full, sparse],
  );
  w.openGap(T0 - 500_000, "broker connection lost");
  w.closeGap(T0 - 400_000);
  w.openGap(T0 + 100_000, "broker unreachable");
  await w.flush();
});

afterAll(async () => {
  await db?.$disconnect();
  await testDb?.drop();
});

describe("store read queries", () => {
  it("loadFleet returns the device states exactly as written, and the open sessions", async () => {
    const saved = await loadFleet(db);
    expect(saved.devices).toEqual([sparse, full].sort((a, b) => (a.id < b.id ? -1 : 1)));
    expect(saved.openSessions).toEqual([
      {
        deviceId: full.id,
        connectedAt: T0,
        disconnectedAt: null,
        reason: null,
        keepaliveSeconds: 30,
        lastActivityAt: T0 + 15_002,
      },
    ]);
  });

  it("does not store the state machine's transient fields", async () => {
    const w = new StoreWriter({ db });
    const transient: DeviceState = {
      ...sparse,
      id: "transient",
      lastClosed: {
        connectedAt: T0,
        connectReportedAt: T0,
        disconnectedAt: T0 + 1,
        reason: "will",
        counted: true,
        reportedEndAt: null,
      },
      takeoverWillPending: true,
    };
    w.enqueue([], [transient]);
    await w.flush();
    try {
      expect(await getDevice(db, "transient")).toEqual({ ...transient, lastClosed: null, takeoverWillPending: false });
    } finally {
      await db.$executeRaw`DELETE FROM "devices" WHERE "id" = 'transient'`;
    }
  });

  it("getDevice finds one device, or null", async () => {
    expect(await getDevice(db, full.id)).toEqual(full);
    expect(await getDevice(db, "nobody")).toBeNull();
  });

  it("getDeviceSessions lists newest first, up to the limit", async () => {
    const all = await getDeviceSessions(db, full.id, 10);
    expect(all.map((s) => s.connectedAt - T0)).toEqual([0, -120_000, -300_000]);
    expect(all[1]).toEqual({
      deviceId: full.id,
      connectedAt: T0 - 120_000,
      disconnectedAt: T0 - 60_000,
      reason: "keepalive_timeout",
      keepaliveSeconds: 30,
      lastActivityAt: T0 - 105_000,
    });
    expect((await getDeviceSessions(db, full.id, 2)).map((s) => s.connectedAt - T0)).toEqual([0, -120_000]);
    expect(await getDeviceSessions(db, "nobody", 10)).toEqual([]);
  });

  it("reads values outside the fleet's vocabulary as unknown", async () => {
    await db.$executeRaw`UPDATE "devices" SET "status" = 'hibernating', "last_disconnect_reason" = 'cosmic_ray' WHERE "id" = 'sparse'`;
    try {
      expect(await getDevice(db, "sparse")).toMatchObject({ status: "unknown", lastDisconnectReason: "unknown" });
    } finally {
      await db.$executeRaw`UPDATE "devices" SET "status" = 'unknown', "last_disconnect_reason" = NULL WHERE "id" = 'sparse'`;
    }
  });

  it("finds the open monitoring gap and lists gaps overlapping a period", async () => {
    expect(await getOpenGap(db)).toMatchObject({
      startedAt: T0 + 100_000,
      endedAt: null,
      reason: "broker unreachable",
    });
    const overlapping = await listGaps(db, { from: T0 - 450_000, to: T0 });
    expect(overlapping.map((g) => [g.startedAt - T0, g.endedAt! - T0])).toEqual([[-500_000, -400_000]]);
    expect((await listGaps(db)).map((g) => g.reason)).toEqual(["broker unreachable", "broker connection lost"]);
  });
});
