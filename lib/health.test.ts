import { describe, expect, it } from "vitest";
import { clusterDto, composeHealth, DatabaseCondition, restartDto, type HealthParts } from "./health";
import type { StoreWriterHealth } from "./store/writer";

const writer = (over: Partial<StoreWriterHealth> = {}): StoreWriterHealth => ({
  ok: true,
  pendingWrites: 0,
  droppedWrites: 0,
  rejectedRows: 0,
  lastError: null,
  lastFlushAt: 1_000,
  ...over,
});

const T0 = Date.parse("2026-01-01T00:00:00Z");

function parts(over: Partial<HealthParts> = {}): HealthParts {
  return {
    broker: {
      connected: true,
      kind: "mosquitto",
      version: "2.0",
      url: "mqtt://b",
      since: T0,
      lastError: null,
      stats: {},
    },
    lastRestart: null,
    writer: writer(),
    database: new DatabaseCondition(),
    dbKind: "postgres",
    ingest: { rejected: {}, forgottenDevices: 0, maxDevices: 10 },
    cluster: clusterDto({ instanceId: "a", clustered: false, role: "single", startedAt: T0, leadership: null }),
    notifications: null,
    monitor: {
      startedAt: T0,
      gapSince: null,
      pingsVisible: false,
      deviceTopics: [],
      relearnSince: null,
      unknownDevices: 0,
      debugLog: null,
    },
    ...over,
  };
}

describe("DatabaseCondition", () => {
  it("an error outside the writer counts until a batch is written after it", () => {
    const db = new DatabaseCondition();
    db.noteError(new Error("connection refused"), 2_000);
    expect(db.status(writer({ lastFlushAt: 1_000 }))).toEqual({ ok: false, lastError: "connection refused" });
    expect(db.status(writer({ lastFlushAt: 2_000 }))).toEqual({ ok: true, lastError: null });
    db.clear();
    expect(db.status(writer({ lastFlushAt: null }))).toEqual({ ok: true, lastError: null });
  });

  it("is not ok without a writer, and shows the writer's own error first", () => {
    const db = new DatabaseCondition();
    expect(db.status(undefined).ok).toBe(false);
    db.noteError("other", 5);
    expect(db.status(writer({ ok: false, lastError: "writer's" })).lastError).toBe("writer's");
  });

  it("reports failing writes each check from when they began, and their end once", () => {
    const db = new DatabaseCondition();
    expect(db.check(writer(), 10_000)).toBeNull();
    db.noteError(new Error("prisma says\nECONNREFUSED"), 9_000);
    const failing = db.check(writer({ lastFlushAt: 5_000, pendingWrites: 3 }), 10_000);
    expect(failing).toEqual({
      since: 9_000,
      message: `database writes failing since ${new Date(9_000).toISOString()}: ECONNREFUSED; 3 writes waiting`,
    });
    expect(db.check(writer({ lastFlushAt: 5_000 }), 11_000)?.since).toBe(9_000);
    expect(db.check(writer({ lastFlushAt: 12_000 }), 12_000)).toEqual({
      since: null,
      message: "database writes succeed again",
    });
    expect(db.check(writer({ lastFlushAt: 13_000 }), 13_000)).toBeNull();
    expect(db.check(undefined, 14_000)).toBeNull();
  });
});

describe("restartDto", () => {
  it("counts the dropped devices that are not online or late now", () => {
    const statuses: Record<string, "online" | "late" | "offline"> = { a: "online", b: "late", c: "offline" };
    const dto = restartDto(
      {
        detectedAt: T0,
        downAt: T0 - 2_000,
        upAt: T0 - 1_000,
        keepFrom: null,
        evidence: ["uptime"],
        devices: ["a", "b", "c", "d"],
      } as never,
      (id) => statuses[id],
    );
    expect(dto).toMatchObject({ devices: 4, notBack: 2, downAt: new Date(T0 - 2_000).toISOString() });
    expect(restartDto(null, () => undefined)).toBeNull();
  });
});

describe("clusterDto", () => {
  it("names itself leader when single, and lists only the peers when clustered", () => {
    expect(clusterDto({ instanceId: "a", clustered: false, role: "single", startedAt: T0, leadership: null })).toEqual({
      instanceId: "a",
      role: "single",
      epoch: null,
      leaderId: "a",
      leaderSince: new Date(T0).toISOString(),
      peers: [],
    });
    const dto = clusterDto({
      instanceId: "a",
      clustered: true,
      role: "standby",
      startedAt: T0,
      leadership: {
        role: "standby",
        epoch: 4,
        leaderId: "b",
        leaderSince: T0,
        members: [
          { instanceId: "a", role: "standby", lastSeenAt: T0 },
          { instanceId: "b", role: "leader", lastSeenAt: T0 },
        ],
      },
    });
    expect(dto.epoch).toBeNull();
    expect(dto.peers).toEqual([{ instanceId: "b", role: "leader", lastSeenAt: new Date(T0).toISOString() }]);
  });
});

describe("composeHealth", () => {
  it("is ok only with the broker connected and the database fine", () => {
    expect(composeHealth(parts()).ok).toBe(true);
    expect(composeHealth(parts({ broker: { ...parts().broker, connected: false } })).ok).toBe(false);
    expect(composeHealth(parts({ writer: writer({ ok: false }) })).ok).toBe(false);
  });

  it("says relearning only while devices are unknown after the broker came back", () => {
    const m = parts().monitor;
    expect(
      composeHealth(parts({ monitor: { ...m, relearnSince: T0, unknownDevices: 0 } })).monitor.relearning,
    ).toBeNull();
    expect(composeHealth(parts({ monitor: { ...m, relearnSince: T0, unknownDevices: 3 } })).monitor.relearning).toEqual(
      {
        since: new Date(T0).toISOString(),
        devices: 3,
      },
    );
  });

  it("shows the debug log only when followed, and jobs only when asked for", () => {
    const m = parts().monitor;
    const h = composeHealth(
      parts({
        monitor: {
          ...m,
          debugLog: {
            file: "/l",
            seen: true,
            stalled: false,
            lastLineAt: 0,
            readOn: { reading: false, offset: 120, bytes: 938, reason: null },
          },
        },
        jobs: [
          {
            name: "x",
            intervalMs: 1_000,
            running: false,
            lastStartedAt: T0,
            lastDurationMs: 3,
            lastSuccessAt: T0 + 3,
            lastError: null,
            runs: 1,
            overlaps: 0,
          },
        ],
      }),
    );
    expect(h.monitor.debugLog).toEqual({
      file: "/l",
      seen: true,
      stalled: false,
      lastLineAt: null,
      readOn: { reading: false, offset: 120, bytes: 938, reason: null },
    });
    expect(h.jobs?.[0]).toMatchObject({ name: "x", lastStartedAt: new Date(T0).toISOString() });
    const plain = composeHealth(parts());
    expect("debugLog" in plain.monitor).toBe(false);
    expect("jobs" in plain).toBe(false);
    expect(plain.notifications).toEqual({ pending: 0, dead: 0, oldestPendingSeconds: null, lastError: null });
  });
});
