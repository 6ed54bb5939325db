import { describe, expect, it, vi } from "vitest";
import type { ActivityEvent } from "../ingest/events";
import { Fleet, type FleetCounts, type FleetOptions } from "./fleet";
import { onDeadline } from "./machine";
import { connect, disconnect, ping, publish, sec, sessionTable, status, takeover } from "./testing";
import type { DeviceState, DeviceStatus, FleetEffect, SessionRecord } from "./types";

const on = <E extends ActivityEvent>(deviceId: string, ev: E): E => ({ ...ev, deviceId });

interface Call {
  effects: FleetEffect[];
  changed: string[];
}

/** A fleet on a simulated clock, recording every listener call. */
function harness(opts: Partial<FleetOptions> = {}) {
  const clock = { now: sec(0) };
  const fleet = new Fleet({ now: () => clock.now, pingsVisible: () => true, ...opts });
  const calls: Call[] = [];
  fleet.onEffects((effects, changed) => calls.push({ effects: [...effects], changed: changed.map((d) => d.id) }));
  const at = (n: number) => {
    clock.now = sec(n);
  };
  return { fleet, clock, calls, at };
}

function recount(fleet: Fleet): FleetCounts {
  const c: FleetCounts = { online: 0, late: 0, offline: 0, unknown: 0, total: 0 };
  for (const d of fleet.all()) {
    c[d.status] += 1;
    c.total += 1;
  }
  return c;
}

const statuses = (fleet: Fleet): Record<string, DeviceStatus> =>
  Object.fromEntries([...fleet.all()].map((d) => [d.id, d.status]));

describe("Fleet scenario on a simulated clock", () => {
  it("connect, ping, silence → late → offline, takeover, gap, restore", () => {
    const { fleet, calls, at } = harness({ ignoreClientIds: new Set(["keepwatch-1"]) });
    const step = (check: () => void) => {
      check();
      expect(fleet.counts()).toEqual(recount(fleet));
    };

    // t=0: three devices connect in one batch (c has keepalive 0: never timed by silence). The monitor's own client is ignored.
    fleet.applyBatch([
      on("a", connect(sec(0))),
      on("b", connect(sec(0))),
      on("c", connect(sec(0), { keepaliveSeconds: 0 })),
      on("keepwatch-1", connect(sec(0))),
    ]);
    step(() => {
      expect(calls).toHaveLength(1);
      expect(calls[0].changed).toEqual(["a", "b", "c"]);
      expect(calls[0].effects.filter((e) => e.type === "session-open")).toHaveLength(3);
      expect(fleet.get("keepwatch-1")).toBeUndefined();
      expect(fleet.counts()).toEqual({ online: 3, late: 0, offline: 0, unknown: 0, total: 3 });
      expect(fleet.nextDeadline()).toBe(sec(10));
    });

    // t=4: a pings; its deadline moves, b's is now the earliest.
    at(4);
    fleet.apply(on("a", ping(sec(4))));
    step(() => expect(fleet.nextDeadline()).toBe(sec(10)));

    // t=10: b is late.
    at(10);
    fleet.tick();
    step(() => {
      expect(calls.at(-1)).toEqual({
        effects: [{ type: "status-change", deviceId: "b", from: "online", to: "late", at: sec(10) }],
        changed: ["b"],
      });
      expect(fleet.counts()).toEqual({ online: 2, late: 1, offline: 0, unknown: 0, total: 3 });
    });

    // t=11: b pings and is back.
    at(11);
    fleet.apply(on("b", ping(sec(11))));
    step(() => expect(statuses(fleet)).toEqual({ a: "online", b: "online", c: "online" }));

    // t=14 late, t=19 offline for a (silent since 4).
    at(14);
    fleet.tick();
    step(() => expect(fleet.get("a")?.status).toBe("late"));
    at(19);
    const before = calls.length;
    fleet.tick();
    step(() => {
      expect(calls).toHaveLength(before + 1);
      expect(calls.at(-1)?.effects).toEqual([
        {
          type: "session-close",
          deviceId: "a",
          connectedAt: sec(0),
          disconnectedAt: sec(19),
          reason: "keepalive_timeout",
          lastActivityAt: sec(4),
        },
        { type: "status-change", deviceId: "a", from: "late", to: "offline", at: sec(19) },
      ]);
      expect(fleet.counts()).toEqual({ online: 2, late: 0, offline: 1, unknown: 0, total: 3 });
      expect(fleet.nextDeadline()).toBe(sec(21)); // b: 11 + 10
    });

    // t=20: a second client takes over c's id: taken_over, c stays online.
    at(20);
    fleet.applyBatch([
      on("c", takeover(sec(20))),
      on("c", connect(sec(20), { keepaliveSeconds: 0, address: "10.0.0.9:1" })),
    ]);
    step(() => {
      expect(calls.at(-1)?.effects).toEqual([
        {
          type: "session-close",
          deviceId: "c",
          connectedAt: sec(0),
          disconnectedAt: sec(20),
          reason: "taken_over",
          lastActivityAt: sec(0),
        },
        {
          type: "session-open",
          session: {
            deviceId: "c",
            connectedAt: sec(20),
            disconnectedAt: null,
            reason: null,
            keepaliveSeconds: 0,
            lastActivityAt: sec(20),
          },
        },
      ]);
      expect(fleet.get("c")).toMatchObject({ status: "online", statusSince: sec(0), disconnectCount: 0 });
    });

    // t=21: the monitor loses the broker: everyone unknown, nothing closed, no deadlines.
    at(21);
    fleet.monitorGap();
    step(() => {
      const effects = calls.at(-1)?.effects ?? [];
      expect(effects.every((e) => e.type === "status-change" && e.to === "unknown" && e.at === sec(21))).toBe(true);
      expect(effects).toHaveLength(3);
      expect(fleet.counts()).toEqual({ online: 0, late: 0, offline: 0, unknown: 3, total: 3 });
      expect(fleet.nextDeadline()).toBeNull();
      expect(fleet.get("b")).toMatchObject({ sessionOpen: true, disconnectCount: 0 });
      expect(fleet.get("a")).toMatchObject({ lastDisconnectReason: "keepalive_timeout", disconnectCount: 1 });
    });

    // t=25: signs of life rebuild the picture.
    at(25);
    fleet.applyBatch([on("b", ping(sec(25))), on("a", connect(sec(25)))]);
    step(() => {
      expect(statuses(fleet)).toEqual({ a: "online", b: "online", c: "unknown" });
      expect(fleet.nextDeadline()).toBe(sec(35));
    });

    // t=30: restart. A new fleet restored from the states and open sessions persisted so far.
    const table = sessionTable(
      calls.flatMap((c) => c.effects),
      "a",
    );
    expect([...table.values()]).toEqual(["keepalive_timeout", null]);
    const openRows: SessionRecord[] = [...fleet.all()]
      .filter((d) => d.sessionOpen)
      .map((d) => ({
        deviceId: d.id,
        connectedAt: d.connectedAt as number,
        disconnectedAt: null,
        reason: null,
        keepaliveSeconds: d.keepaliveSeconds,
        lastActivityAt: d.lastSeenAt,
      }));
    const next = harness();
    next.at(30);
    next.fleet.restore([...fleet.all()], openRows);
    expect(next.fleet.counts()).toEqual({ online: 0, late: 0, offline: 0, unknown: 3, total: 3 });
    expect(next.fleet.get("a")).toMatchObject({ sessionOpen: true, connectedAt: sec(25), disconnectCount: 1 });
    expect(next.fleet.nextDeadline()).toBeNull();
    expect(next.calls).toHaveLength(1);
    expect(next.calls[0].effects).toEqual([
      { type: "status-change", deviceId: "a", from: "online", to: "unknown", at: sec(30) },
      { type: "status-change", deviceId: "b", from: "online", to: "unknown", at: sec(30) },
    ]);
  });
});

describe("Fleet", () => {
  it("calls listeners once per batch, and not at all when nothing changed", () => {
    const { fleet, calls } = harness();
    fleet.applyBatch([connect(sec(0)), ping(sec(0) + 10), publish(sec(0) + 20)]);
    expect(calls).toHaveLength(1);
    expect(calls[0].changed).toEqual(["dev-1"]);
    fleet.apply(connect(sec(0))); // exact duplicate
    fleet.tick(); // nothing due
    expect(calls).toHaveLength(1);
  });

  it("hands listeners each changed device once, in its final state", () => {
    const fleet = new Fleet({ now: () => sec(5), pingsVisible: () => false });
    const seen: DeviceState[][] = [];
    fleet.onEffects((_e, changed) => seen.push(changed));
    fleet.applyBatch([connect(sec(0)), disconnect(sec(5), "clean")]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toHaveLength(1);
    expect(seen[0][0]).toBe(fleet.get("dev-1"));
    expect(seen[0][0].status).toBe("offline");
  });

  it("stops calling a listener after unsubscribe", () => {
    const { fleet } = harness();
    const listener = vi.fn();
    const off = fleet.onEffects(listener);
    fleet.apply(connect(sec(0)));
    off();
    fleet.apply(disconnect(sec(1), "clean"));
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it("keeps calling the other listeners when one throws", () => {
    const errors: unknown[] = [];
    const { fleet } = harness({ onListenerError: (e) => errors.push(e) });
    const boom = new Error("store down");
    fleet.onEffects(() => {
      throw boom;
    });
    const after = vi.fn();
    fleet.onEffects(after);
    fleet.apply(connect(sec(0)));
    expect(after).toHaveBeenCalledTimes(1);
    expect(errors).toEqual([boom]);
  });

  it("drops events of ignored client ids entirely", () => {
    const { fleet, calls } = harness({ ignoreClientIds: new Set(["dev-1"]) });
    fleet.applyBatch([connect(sec(0)), ping(sec(1))]);
    expect(fleet.size).toBe(0);
    expect(calls).toEqual([]);
  });

  it("tick looks only at due devices", () => {
    const pingsVisible = vi.fn(() => true);
    const { fleet, at } = harness({ pingsVisible });
    // 200 devices; device i has keepalive 10 + i, so at t=10.5 exactly one is due.
    fleet.applyBatch(Array.from({ length: 200 }, (_, i) => on(`d${i}`, connect(sec(0), { keepaliveSeconds: 10 + i }))));
    pingsVisible.mockClear();
    at(10.5);
    fleet.tick();
    expect(pingsVisible).toHaveBeenCalledTimes(1);
    expect(pingsVisible).toHaveBeenCalledWith("d0");
    expect(fleet.counts()).toMatchObject({ online: 199, late: 1 });
    expect(fleet.nextDeadline()).toBe(sec(11));
  });

  it("a tick before the earliest deadline does nothing", () => {
    const { fleet, calls, at } = harness();
    fleet.apply(connect(sec(0)));
    at(9.999);
    fleet.tick();
    expect(calls).toHaveLength(1);
    expect(fleet.nextDeadline()).toBe(sec(10));
  });

  it("has no deadlines without a ping-visible source; refreshDeadlines picks up a change", () => {
    let visible = false;
    const { fleet, at } = harness({ pingsVisible: () => visible });
    fleet.apply(connect(sec(0)));
    expect(fleet.nextDeadline()).toBeNull();
    at(3);
    visible = true;
    fleet.refreshDeadlines();
    expect(fleet.nextDeadline()).toBe(sec(10));
    at(20); // already past both thresholds: the refresh applies them
    fleet.refreshDeadlines();
    expect(fleet.get("dev-1")).toMatchObject({ status: "offline", lastDisconnectReason: "keepalive_timeout" });
    expect(fleet.nextDeadline()).toBeNull();
  });

  it("passes lateGraceMs to the machine", () => {
    const { fleet } = harness({ lateGraceMs: 1500 });
    fleet.apply(connect(sec(0)));
    expect(fleet.nextDeadline()).toBe(sec(11.5));
  });

  it("a gap is silent for devices already unknown", () => {
    const { fleet, calls } = harness();
    fleet.apply(connect(sec(0)));
    fleet.monitorGap();
    fleet.monitorGap();
    expect(calls).toHaveLength(2);
  });
});

describe("Fleet.restore", () => {
  const device = (id: string, over: Partial<DeviceState> = {}): DeviceState => ({
    id,
    status: "online",
    statusSince: sec(0),
    keepaliveSeconds: 10,
    lastSeenAt: sec(90),
    lastPingAt: null,
    lastMessageAt: null,
    connectedAt: sec(80),
    sessionOpen: true,
    lastDisconnectAt: sec(40),
    lastDisconnectReason: "clean",
    disconnectCount: 2,
    address: null,
    protocol: null,
    cleanStart: null,
    sources: ["mosquitto-log"],
    firstSeenAt: sec(0),
    connectReportedAt: sec(80),
    lastConfirmedAt: sec(90),
    lastClosed: null,
    takeoverCount: 0,
    takeoverWillPending: false,
    ...over,
  });
  const row = (deviceId: string, connectedAt: number): SessionRecord => ({
    deviceId,
    connectedAt,
    disconnectedAt: null,
    reason: null,
    keepaliveSeconds: 20,
    lastActivityAt: connectedAt + 5000,
  });

  it("aligns devices with their open session rows", () => {
    const { fleet, calls, at } = harness({ ignoreClientIds: new Set(["keepwatch-1"]) });
    at(100);
    fleet.restore(
      [
        device("kept"), // open row matches
        device("no-row"), // says open, but no row: closed
        device("two-rows"), // a stale older open row as well
        device("offline", { status: "offline", sessionOpen: false }),
        device("keepwatch-1"),
      ],
      [row("kept", sec(80)), row("two-rows", sec(50)), row("two-rows", sec(80)), row("orphan-row", sec(60))],
    );
    expect(fleet.counts()).toEqual({ online: 0, late: 0, offline: 0, unknown: 5, total: 5 });
    expect(fleet.get("kept")).toMatchObject({
      status: "unknown",
      sessionOpen: true,
      connectedAt: sec(80),
      keepaliveSeconds: 20,
    });
    expect(fleet.get("no-row")).toMatchObject({ sessionOpen: false, disconnectCount: 2 });
    expect(fleet.get("two-rows")).toMatchObject({ sessionOpen: true, connectedAt: sec(80) });
    expect(fleet.get("orphan-row")).toMatchObject({ status: "unknown", sessionOpen: true, connectedAt: sec(60) });
    expect(fleet.get("keepwatch-1")).toBeUndefined();
    expect(calls).toHaveLength(1);
    expect(calls[0].effects.filter((e) => e.type === "session-close")).toEqual([
      {
        type: "session-close",
        deviceId: "two-rows",
        connectedAt: sec(50),
        disconnectedAt: sec(80),
        reason: "unknown",
        lastActivityAt: sec(55),
      },
    ]);
    expect(
      calls[0].effects.filter((e) => e.type === "status-change").map((e) => e.type === "status-change" && e.from),
    ).toEqual(["online", "online", "online", "offline"]);
  });

  it("closes an open row older than the session the device row already moved on to", () => {
    const { fleet, calls } = harness();
    fleet.restore([device("d", { connectedAt: sec(80), sessionOpen: false, status: "offline" })], [row("d", sec(50))]);
    expect(fleet.get("d")).toMatchObject({ sessionOpen: false, connectedAt: sec(80) });
    expect(calls[0].effects[0]).toEqual({
      type: "session-close",
      deviceId: "d",
      connectedAt: sec(50),
      disconnectedAt: sec(80),
      reason: "unknown",
      lastActivityAt: sec(55),
    });
  });

  it("replaces devices already held and keeps the counters right", () => {
    const { fleet } = harness();
    fleet.apply(on("kept", connect(sec(0))));
    expect(fleet.counts()).toMatchObject({ online: 1, unknown: 0 });
    fleet.restore([device("kept")], [row("kept", sec(80))]);
    expect(fleet.counts()).toEqual({ online: 0, late: 0, offline: 0, unknown: 1, total: 1 });
  });

  it("returns the devices whose rows need nothing but the new status, and hands only the others over as changed", () => {
    const { fleet, calls } = harness();
    const unchanged = fleet.restore(
      [
        device("as-stored", { connectedAt: sec(80), sessionOpen: true }),
        device("row-moved-on", { connectedAt: sec(80), sessionOpen: false, status: "offline" }),
      ],
      [row("as-stored", sec(80)), row("row-moved-on", sec(50)), row("no-device-row", sec(60))],
    );
    expect(unchanged).toEqual(["as-stored"]);
    expect(fleet.get("as-stored")?.status).toBe("unknown");
    expect(calls.flatMap((c) => c.changed).sort()).toEqual(["no-device-row", "row-moved-on"]);
  });

  it("adopts a leader's statuses as they are", () => {
    const { fleet } = harness();
    const unchanged = fleet.restore([device("d", { status: "offline", sessionOpen: false })], [], { adopt: true });
    expect(unchanged).toEqual(["d"]);
    expect(fleet.get("d")?.status).toBe("offline");
  });
});

describe("Fleet bookkeeping under random traffic", () => {
  it("counters equal a recount and the heap holds each device's own deadline", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const visible = new Set<string>();
    const { fleet, clock } = harness({ pingsVisible: (id) => visible.has(id) });
    const ids = Array.from({ length: 25 }, (_, i) => `d${i}`);
    for (const id of ids) if (random() < 0.7) visible.add(id);
    const reasons = ["clean", "keepalive_timeout", "connection_lost", "taken_over"] as const;
    for (let op = 0; op < 4000; op++) {
      clock.now += Math.floor(random() * 1500);
      const id = ids[Math.floor(random() * ids.length)];
      const at = clock.now - Math.floor(random() * 2000);
      const r = random();
      if (r < 0.05) fleet.monitorGap();
      else if (r < 0.25) fleet.apply(on(id, connect(at, { keepaliveSeconds: 2 + Math.floor(random() * 6) })));
      else if (r < 0.35) fleet.apply(on(id, disconnect(at, reasons[Math.floor(random() * reasons.length)])));
      else if (r < 0.38) fleet.apply(on(id, takeover(at)));
      else if (r < 0.7) fleet.apply(on(id, ping(at)));
      else if (r < 0.8) fleet.apply(on(id, status(at, random() < 0.5, { retained: random() < 0.3 })));
      fleet.tick();
      const [counts, truth] = [fleet.counts(), recount(fleet)];
      if (JSON.stringify(counts) !== JSON.stringify(truth)) expect({ op, counts }).toEqual({ op, counts: truth });
      // After a tick nothing is overdue, and the earliest heap entry is the earliest device deadline.
      let earliest: number | null = null;
      for (const d of fleet.all()) {
        const t = onDeadline(d, { now: clock.now, pingsVisible: visible.has(d.id) });
        if (t.state !== d) expect({ op, overdue: d.id }).toEqual({ op, overdue: null });
        if (t.deadline !== null && (earliest === null || t.deadline < earliest)) earliest = t.deadline;
      }
      if (fleet.nextDeadline() !== earliest) expect({ op, next: fleet.nextDeadline() }).toEqual({ op, next: earliest });
    }
    expect(fleet.size).toBe(25);
    expect(fleet.counts().offline).toBeGreaterThan(0); // the traffic reached every kind of state
    expect(fleet.counts().online + fleet.counts().late).toBeGreaterThan(0);
  });
});

describe("Fleet.tick in slices", () => {
  it("judges at most `limit` due devices per call, earliest first, and says whether more are due", () => {
    const { fleet, at } = harness();
    fleet.applyBatch(Array.from({ length: 5 }, (_, i) => on(`d${i}`, connect(sec(i), { keepaliveSeconds: 10 }))));
    at(60);
    const late = () => [...fleet.all()].filter((d) => d.status !== "online").map((d) => d.id);
    expect(fleet.tick(2)).toBe(true);
    expect(late()).toEqual(["d0", "d1"]);
    // A ping that arrives between slices is applied before its device is judged.
    fleet.apply(on("d4", ping(sec(60))));
    expect(fleet.tick(2)).toBe(false);
    expect(late()).toEqual(["d0", "d1", "d2", "d3"]);
    expect(fleet.get("d4")?.status).toBe("online");
  });
});
