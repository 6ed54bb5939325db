/**
 * The fleet across restarts: a broker restart ends the sessions of its old
 * run; after a monitor-only gap, re-learning has a deadline where pings are
 * visible; nothing is closed by a gap alone.
 */
import { describe, expect, it } from "vitest";
import type { ActivityEvent } from "../ingest/events";
import { Fleet, forgettable, type FleetOptions } from "./fleet";
import { connect, disconnect, ofType, ping, publish, sec } from "./testing";
import type { FleetEffect } from "./types";

const on = <E extends ActivityEvent>(deviceId: string, ev: E): E => ({ ...ev, deviceId });

function harness(opts: Partial<FleetOptions> & { visible?: boolean } = {}) {
  const clock = { now: sec(0), relearnSince: null as number | null };
  const fleet = new Fleet({
    now: () => clock.now,
    pingsVisible: () => opts.visible ?? true,
    relearnSince: () => clock.relearnSince,
    relearnSlackMs: 6_000,
    ...opts,
  });
  const effects: FleetEffect[] = [];
  fleet.onEffects((fx) => effects.push(...fx));
  /** Moves the clock in 100 ms steps, firing deadlines as a ticker would. */
  const until = (n: number) => {
    while (clock.now < sec(n)) {
      clock.now = Math.min(sec(n), clock.now + 100);
      fleet.tick();
    }
  };
  return { fleet, clock, effects, until };
}

describe("broker restart", () => {
  it("closes every session of the old run at the stop, as broker_restart, uncounted; the next connect opens a new one", () => {
    const h = harness();
    h.fleet.applyBatch(["a", "b", "c"].map((id) => on(id, connect(sec(0), { keepaliveSeconds: 5 }))));
    h.until(3);
    for (const id of ["a", "b", "c"]) h.fleet.apply(on(id, ping(sec(3))));
    h.fleet.monitorGap(); // the link dropped with the broker
    h.clock.now = sec(8);
    const closed = h.fleet.brokerRestart({ downAt: sec(4), keepFrom: Infinity });
    expect(closed.sort()).toEqual(["a", "b", "c"]);
    for (const id of ["a", "b", "c"])
      expect(h.fleet.get(id)).toMatchObject({
        status: "offline",
        sessionOpen: false,
        lastDisconnectReason: "broker_restart",
        lastDisconnectAt: sec(4),
        disconnectCount: 0,
      });
    const closes = ofType(h.effects, "session-close");
    expect(closes.map((c) => [c.deviceId, c.disconnectedAt, c.reason, c.lastActivityAt])).toEqual([
      ["a", sec(4), "broker_restart", sec(3)],
      ["b", sec(4), "broker_restart", sec(3)],
      ["c", sec(4), "broker_restart", sec(3)],
    ]);
    // a comes back: a second session.
    h.fleet.apply(on("a", connect(sec(9), { keepaliveSeconds: 5 })));
    expect(h.fleet.get("a")).toMatchObject({ status: "online", sessionOpen: true, connectedAt: sec(9) });
    expect(ofType(h.effects, "session-open").filter((o) => o.session.deviceId === "a")).toHaveLength(2);
  });

  it("leaves a session opened by the new run alone, and keeps a device seen alive since the new start online", () => {
    const h = harness();
    h.fleet.applyBatch([on("old", connect(sec(0))), on("new", connect(sec(0))), on("pinger", connect(sec(0)))]);
    // The debug log, read during the gap: 'new' reconnected after the start line, 'pinger' pings (connect unseen).
    h.fleet.applyBatch([on("new", connect(sec(7))), on("pinger", ping(sec(7)))]);
    h.clock.now = sec(8);
    // Told by uptime after the link was back: what the log showed since the link dropped (6 s) is the new run's.
    const closed = h.fleet.brokerRestart({ downAt: sec(5), keepFrom: sec(6) });
    expect(closed.sort()).toEqual(["old", "pinger"]);
    expect(h.fleet.get("new")).toMatchObject({ status: "online", sessionOpen: true, connectedAt: sec(7) });
    expect(h.fleet.get("pinger")).toMatchObject({ status: "online", sessionOpen: false });
    expect(h.fleet.get("old")).toMatchObject({ status: "offline", lastDisconnectReason: "broker_restart" });
  });

  it("keeps a device that was offline before the restart offline with its own reason", () => {
    const h = harness();
    h.fleet.apply(connect(sec(0)));
    h.fleet.apply(disconnect(sec(2), "keepalive_timeout"));
    h.fleet.monitorGap();
    expect(h.fleet.get("dev-1")?.status).toBe("unknown");
    h.clock.now = sec(10);
    expect(h.fleet.brokerRestart({ downAt: sec(5), keepFrom: Infinity })).toEqual([]);
    expect(h.fleet.get("dev-1")).toMatchObject({
      status: "offline",
      lastDisconnectReason: "keepalive_timeout",
      lastDisconnectAt: sec(2),
      disconnectCount: 1,
    });
  });

  it("leaves a device known only from publishes about it alone; a client seen before goes offline", () => {
    const h = harness();
    h.fleet.apply(publish(sec(1)));
    h.fleet.apply(on("revived", connect(sec(0))));
    h.fleet.apply(on("revived", disconnect(sec(1), "connection_lost")));
    h.fleet.apply(on("revived", publish(sec(2)))); // alive again, its connect unseen
    h.clock.now = sec(10);
    h.fleet.brokerRestart({ downAt: sec(5), keepFrom: Infinity });
    expect(h.fleet.get("dev-1")).toMatchObject({ status: "online", lastDisconnectReason: null });
    expect(h.fleet.get("revived")).toMatchObject({ status: "offline", lastDisconnectReason: "broker_restart" });
  });
});

describe("re-learning after a monitor-only gap", () => {
  it("with pings visible: offline 1.5 × k + slack after the monitor hears again; session closed at the last sign of life, inferred", () => {
    const h = harness();
    h.fleet.applyBatch([
      on("left", connect(sec(0), { keepaliveSeconds: 5 })),
      on("stays", connect(sec(0), { keepaliveSeconds: 5 })),
    ]);
    h.fleet.applyBatch([on("left", ping(sec(4))), on("stays", ping(sec(4)))]);
    h.fleet.monitorGap();
    h.until(60); // a long gap: nothing is decided while the monitor does not hear
    expect(h.fleet.get("left")?.status).toBe("unknown");
    h.clock.relearnSince = sec(60);
    h.fleet.refreshDeadlines();
    expect(h.fleet.nextDeadline()).toBe(sec(60 + 7.5 + 6));
    for (let t = 62; t <= 80; t += 5) {
      h.until(t);
      h.fleet.apply(on("stays", ping(sec(t))));
    }
    expect(h.fleet.get("stays")).toMatchObject({ status: "online", sessionOpen: true });
    expect(h.fleet.get("left")).toMatchObject({
      status: "offline",
      statusSince: sec(73.5),
      sessionOpen: false,
      lastDisconnectReason: "unknown",
      lastDisconnectAt: sec(4),
      disconnectCount: 1,
    });
    const close = ofType(h.effects, "session-close").find((c) => c.deviceId === "left");
    expect(close).toMatchObject({ disconnectedAt: sec(4), reason: "unknown", inferred: true });
  });

  it("closes nothing across a link blip when every device speaks in time", () => {
    const h = harness();
    h.fleet.applyBatch(["a", "b"].map((id) => on(id, connect(sec(0), { keepaliveSeconds: 2 }))));
    h.fleet.monitorGap();
    h.until(1);
    h.clock.relearnSince = sec(1);
    h.fleet.refreshDeadlines();
    for (let t = 2; t <= 30; t += 2) {
      h.until(t);
      h.fleet.applyBatch(["a", "b"].map((id) => on(id, ping(sec(t)))));
    }
    expect(ofType(h.effects, "session-close")).toEqual([]);
    expect([h.fleet.get("a")?.status, h.fleet.get("b")?.status]).toEqual(["online", "online"]);
  });

  it("stays unknown without a ping source, for keepalive 0, and without a known keepalive", () => {
    const blind = harness({ visible: false });
    blind.fleet.apply(connect(sec(0), { keepaliveSeconds: 5 }));
    const seeing = harness();
    seeing.fleet.applyBatch([on("k0", connect(sec(0), { keepaliveSeconds: 0 })), on("pub", publish(sec(0)))]);
    for (const h of [blind, seeing]) {
      h.fleet.monitorGap();
      h.clock.relearnSince = sec(1);
      h.fleet.refreshDeadlines();
      h.until(120);
    }
    expect(blind.fleet.get("dev-1")?.status).toBe("unknown");
    expect(seeing.fleet.get("k0")?.status).toBe("unknown");
    expect(seeing.fleet.get("pub")?.status).toBe("unknown");
  });

  it("sets a device restored after keepwatch's own restart offline by the same deadline", () => {
    const h = harness();
    h.fleet.restore(
      [
        {
          ...newState("gone"),
          status: "online",
          keepaliveSeconds: 5,
          connectedAt: sec(-100),
          sessionOpen: true,
          lastSeenAt: sec(-3),
          lastConfirmedAt: sec(-3),
        },
      ],
      [
        {
          deviceId: "gone",
          connectedAt: sec(-100),
          disconnectedAt: null,
          reason: null,
          keepaliveSeconds: 5,
          lastActivityAt: null,
        },
      ],
    );
    expect(h.fleet.get("gone")?.status).toBe("unknown");
    h.clock.relearnSince = sec(1);
    h.fleet.refreshDeadlines();
    h.until(20);
    expect(h.fleet.get("gone")).toMatchObject({ status: "offline", statusSince: sec(14.5), lastDisconnectAt: sec(-3) });
  });
});

function newState(id: string) {
  return {
    id,
    status: "unknown" as const,
    statusSince: sec(-200),
    keepaliveSeconds: null,
    lastSeenAt: null,
    lastPingAt: null,
    lastMessageAt: null,
    connectedAt: null,
    sessionOpen: false,
    lastDisconnectAt: null,
    lastDisconnectReason: null,
    disconnectCount: 0,
    address: null,
    protocol: null,
    cleanStart: null,
    sources: [],
    firstSeenAt: sec(-200),
  };
}

describe("bounded memory", () => {
  it("refuses new ids beyond maxDevices (counted) and keeps following the ones it holds", () => {
    const h = harness({ maxDevices: 2 });
    h.fleet.applyBatch([on("a", connect(sec(0))), on("b", connect(sec(0))), on("c", connect(sec(0)))]);
    expect([...h.fleet.all()].map((d) => d.id)).toEqual(["a", "b"]);
    expect(h.fleet.refusedNew).toBe(1);
    h.fleet.apply(on("a", disconnect(sec(1), "clean")));
    expect(h.fleet.get("a")?.status).toBe("offline");
    expect(h.fleet.counts()).toMatchObject({ total: 2, online: 1, offline: 1 });
  });

  it("forgets long-gone devices: offline or unknown, no open session, no sign of life since the cut-off", () => {
    const h = harness();
    h.fleet.applyBatch([on("gone", connect(sec(0))), on("here", connect(sec(0))), on("quiet-open", connect(sec(0)))]);
    h.fleet.apply(on("gone", disconnect(sec(1), "clean")));
    h.fleet.apply(on("here", disconnect(sec(1), "clean")));
    h.fleet.apply(on("here", connect(sec(50))));
    const before = sec(10);
    const ids = [...h.fleet.all()].filter((d) => forgettable(d, before)).map((d) => d.id);
    expect(ids).toEqual(["gone"]); // "here" came back, "quiet-open" has its session open
    expect(h.fleet.forget([...ids, "nobody"])).toEqual(["gone"]);
    expect(h.fleet.get("gone")).toBeUndefined();
    expect(h.fleet.counts()).toMatchObject({ total: 2, offline: 0 });
    // It may come back, as a new device.
    h.fleet.apply(on("gone", connect(sec(60))));
    expect(h.fleet.get("gone")).toMatchObject({ status: "online", disconnectCount: 0 });
  });
});
