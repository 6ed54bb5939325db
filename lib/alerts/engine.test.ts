/**
 * The alert engine on a simulated clock, fed by the real fleet driver (the
 * same listener output the runtime hands it), so every scenario runs through
 * the state machine's own verdicts.
 */
import { describe, expect, it } from "vitest";
import type { ActivityEvent, SignalSource } from "../ingest/events";
import { Fleet } from "../fleet/fleet";
import { T0, sec } from "../fleet/testing";
import { AlertEngine, type AlertDecision, type FiringAlert } from "./engine";
import { DEFAULT_RULE, type AlertRule } from "./rules";

const defaultRule: AlertRule = { ...DEFAULT_RULE, id: 1, isDefault: true };

function rule(id: number, fields: Partial<AlertRule>): AlertRule {
  return { ...DEFAULT_RULE, name: `rule ${id}`, id, isDefault: false, ...fields };
}

interface Harness {
  fleet: Fleet;
  engine: AlertEngine;
  decisions: AlertDecision[];
  now(): number;
  /** Moves the clock to `at` in 100 ms steps, ticking fleet and engine like the runtime does. */
  until(at: number): void;
  /** Applies an event at its own time (the clock moves there first). */
  send(ev: ActivityEvent): void;
  fired(kind?: string): AlertDecision[];
  resolved(kind?: string): AlertDecision[];
}

function harness(opts: {
  rules: AlertRule[];
  pingsVisible?: boolean;
  /** The ping source's state, for fleet and engine alike (default: always visible, always current). */
  pings?: { since?: () => number; observedUntil?: () => number; stalled?: () => boolean };
  restartWindowSeconds?: number;
  /** The engine reads states from the fleet (as the alert service wires it) instead of keeping its own. */
  shared?: boolean;
}): Harness {
  let now = T0;
  const pingsVisible = opts.pingsVisible ?? true;
  const fleet = new Fleet({
    now: () => now,
    pingsVisible: () => pingsVisible && !opts.pings?.stalled?.(),
    pingsVisibleSince: opts.pings?.since,
    observedUntil: opts.pings?.observedUntil,
    lateGraceMs: 500,
  });
  const engine = new AlertEngine({
    pingsVisible: () => pingsVisible && !opts.pings?.stalled?.(),
    pingsVisibleSince: opts.pings?.since,
    observedUntil: opts.pings?.observedUntil,
    pingsStalled: opts.pings?.stalled,
    restartWindowSeconds: opts.restartWindowSeconds,
    states: opts.shared ? fleet : undefined,
  });
  const decisions: AlertDecision[] = [];
  decisions.push(...engine.setRules(opts.rules, now));
  fleet.onEffects((effects, changed) => decisions.push(...engine.observe(effects, changed, now)));
  const until = (at: number) => {
    while (now < at) {
      now = Math.min(at, now + 100);
      fleet.tick();
      decisions.push(...engine.tick(now));
    }
  };
  const of = (type: string, kind?: string) =>
    decisions.filter((d) => d.type === type && (kind === undefined || d.kind === kind));
  return {
    fleet,
    engine,
    decisions,
    now: () => now,
    until,
    send(ev) {
      until(ev.at);
      fleet.apply(ev);
    },
    fired: (kind) => of("fire", kind),
    resolved: (kind) => of("resolve", kind),
  };
}

const src = (pingsVisible: boolean): SignalSource => (pingsVisible ? "aedes" : "mosquitto-log");
const connect = (id: string, at: number, keepaliveSeconds: number, source: SignalSource = "aedes"): ActivityEvent => ({
  kind: "connect",
  deviceId: id,
  at,
  source,
  keepaliveSeconds,
});
const ping = (id: string, at: number): ActivityEvent => ({ kind: "ping", deviceId: id, at, source: "aedes" });
const drop = (
  id: string,
  at: number,
  reason: "connection_lost" | "clean" | "taken_over" = "connection_lost",
): ActivityEvent => ({
  kind: "disconnect",
  deviceId: id,
  at,
  source: "aedes",
  reason,
});

describe("silence measured from when pings became visible", () => {
  it("does not count the time before pings were visible: fires at since + threshold, not at once", () => {
    const h = harness({
      rules: [rule(1, { isDefault: true, match: "*", offlineSeconds: 3, offlineFactor: null, resolveAfterSeconds: 0 })],
      pings: { since: () => sec(20) },
    });
    h.send(connect("blind-1", sec(1), 60)); // connected while pings were not visible; silent since
    h.until(sec(22.9));
    expect(h.fired()).toEqual([]);
    h.until(sec(23.2));
    expect(h.fired()).toEqual([expect.objectContaining({ deviceId: "blind-1", kind: "offline" })]);
  });

  it("waits until the ping source has shown it watched past the threshold", () => {
    let observed = sec(2);
    const h = harness({
      rules: [rule(1, { isDefault: true, match: "*", offlineSeconds: 3, offlineFactor: null, resolveAfterSeconds: 0 })],
      pings: { observedUntil: () => observed },
    });
    h.send(connect("lagging-1", sec(1), 60));
    h.until(sec(10)); // due at 4 s, but the log's latest line is from 2 s
    expect(h.fired()).toEqual([]);
    observed = sec(10);
    h.until(sec(11.2));
    expect(h.fired()).toEqual([expect.objectContaining({ deviceId: "lagging-1", kind: "offline" })]);
  });

  it("neither resolves nor fires while the ping source is stalled, nor when it resumes with no sign of life", () => {
    let stalled = false;
    let since = sec(0);
    const h = harness({
      rules: [rule(1, { isDefault: true, match: "*", offlineSeconds: 3, offlineFactor: null, resolveAfterSeconds: 0 })],
      pings: { stalled: () => stalled, since: () => since },
    });
    h.send(connect("dead-1", sec(1), 60)); // silent from here on
    h.until(sec(4.2));
    expect(h.fired()).toHaveLength(1);
    stalled = true;
    h.engine.refresh(h.now());
    h.send(connect("fresh-1", sec(5), 60)); // connects during the stall: nothing can be said of its silence
    h.until(sec(20));
    stalled = false;
    since = sec(20);
    h.decisions.push(...h.engine.refresh(h.now()));
    h.until(sec(22.5)); // no sign of life from dead-1 since the log came back: not "back"
    expect(h.resolved()).toEqual([]);
    h.until(sec(23.2)); // 3 s after the log came back, still silent: fresh-1 fires now, dead-1 is still firing
    expect(h.fired().map((d) => d.deviceId)).toEqual(["dead-1", "fresh-1"]);
    expect(h.resolved()).toEqual([]);
  });
});

describe("offline by a fixed threshold shorter than the broker's deadline", () => {
  it("fires 3 s after the last sign of life of a keepalive-60 client, resolves after resolveAfterSeconds back", () => {
    const h = harness({
      rules: [defaultRule, rule(2, { match: "thr-*", offlineSeconds: 3, offlineFactor: null, resolveAfterSeconds: 5 })],
    });
    h.send(connect("thr-1", sec(1), 60));
    h.until(sec(3.9));
    expect(h.fired()).toEqual([]);
    h.until(sec(4.1));
    expect(h.fired()).toHaveLength(1);
    const [fire] = h.fired();
    expect(fire).toMatchObject({ type: "fire", deviceId: "thr-1", kind: "offline", ruleId: 2 });
    expect(fire.at - sec(1)).toBeGreaterThanOrEqual(3000);
    expect(fire.at - sec(1)).toBeLessThanOrEqual(3100);
    expect(fire.message).toMatch(/silent for 3\.0 s while connected \(threshold 3 s\)/);
    // The broker's own deadline (90 s) is far away: the fleet still calls it connected.
    expect(h.fleet.get("thr-1")?.status).toBe("online");

    // Back: a ping every second. The alert resolves 5 s after the first one, not before.
    for (let t = 10; t <= 20; t++) h.send(ping("thr-1", sec(t)));
    const [resolve] = h.resolved();
    expect(resolve).toMatchObject({ deviceId: "thr-1", kind: "offline", ruleId: 2 });
    expect(resolve.at).toBe(sec(15));
    expect(h.fired()).toHaveLength(1);
  });

  it("keeps one alert through a relapse inside the hysteresis, and resolves only after a full quiet period", () => {
    const h = harness({
      rules: [rule(1, { isDefault: true, match: "*", offlineSeconds: 3, offlineFactor: null, resolveAfterSeconds: 5 })],
    });
    h.send(connect("d", sec(0), 60));
    h.until(sec(4));
    h.send(ping("d", sec(10))); // back at 10 …
    h.until(sec(14)); // … silent again from 13 on: relapse before 15
    expect(h.resolved()).toEqual([]);
    for (let t = 20; t <= 30; t++) h.send(ping("d", sec(t)));
    expect(h.fired()).toHaveLength(1);
    expect(h.resolved().map((d) => d.at)).toEqual([sec(25)]);
  });

  it("does not fire from silence where pings are not visible; fires once the broker drops the client", () => {
    const h = harness({
      pingsVisible: false,
      rules: [rule(1, { isDefault: true, match: "*", offlineSeconds: 3, offlineFactor: null, resolveAfterSeconds: 0 })],
    });
    h.send(connect("d", sec(0), 60, src(false)));
    h.until(sec(60));
    expect(h.fired()).toEqual([]);
    h.send({ kind: "disconnect", deviceId: "d", at: sec(90), source: "mosquitto-log", reason: "keepalive_timeout" });
    h.until(sec(90.2));
    expect(h.fired().map((d) => d.kind)).toEqual(["offline"]);
  });

  it("uses 1.5 × keepalive by default, alerting when the broker's deadline passes", () => {
    const h = harness({ rules: [defaultRule] });
    h.send(connect("d", sec(0), 10));
    h.until(sec(14.9));
    expect(h.fired()).toEqual([]);
    h.until(sec(15.2));
    expect(h.fired().map((d) => [d.kind, d.at - sec(0) <= 15_100])).toEqual([["offline", true]]);
  });
});

describe("keepalive 0", () => {
  it("is watched by offlineSeconds alone, from its publishes, even without a ping-visible source", () => {
    const h = harness({
      pingsVisible: false,
      rules: [
        defaultRule,
        rule(2, { match: "sleepy-*", offlineSeconds: 30, offlineFactor: null, resolveAfterSeconds: 0 }),
      ],
    });
    h.send(connect("sleepy-1", sec(0), 0, "mosquitto-log"));
    for (const t of [10, 20, 30])
      h.send({
        kind: "publish",
        deviceId: "sleepy-1",
        at: sec(t),
        source: "device-topic",
        topic: "devices/sleepy-1/t",
      });
    h.until(sec(59.9));
    expect(h.fired()).toEqual([]);
    h.until(sec(60.2));
    expect(h.fired().map((d) => d.deviceId)).toEqual(["sleepy-1"]);
  });

  it("is not alerted on by a keepalive factor: coming and going is its nature", () => {
    const h = harness({ rules: [defaultRule] });
    h.send(connect("k0", sec(0), 0));
    h.send(drop("k0", sec(5), "clean"));
    h.until(sec(600));
    expect(h.fired()).toEqual([]);
  });
});

describe("flapping", () => {
  const flapRule = rule(2, { match: "flap-*", flapDisconnects: 5, flapWindowSeconds: 60, resolveAfterSeconds: 10 });

  it("raises exactly one alert for five reconnects within a minute, and resolves once it calms down", () => {
    const h = harness({ rules: [defaultRule, flapRule] });
    for (let i = 0; i < 8; i++) {
      h.send(connect("flap-1", sec(i * 6), 30));
      h.send(drop("flap-1", sec(i * 6 + 3)));
    }
    h.send(connect("flap-1", sec(50), 30));
    const fires = h.fired("flapping");
    expect(fires).toHaveLength(1);
    expect(fires[0].at).toBe(sec(4 * 6 + 3)); // the fifth disconnect
    expect(fires[0].message).toMatch(/5 disconnects within 60 s/);
    for (let t = 60; t <= 200; t += 10) h.send(ping("flap-1", sec(t)));
    // Disconnects at 3, 9, …, 45 s: fewer than 5 remain once the one at 21 s leaves the window (81 s), + 10 s.
    const [resolve] = h.resolved("flapping");
    expect(resolve.at).toBe(sec(21 + 60 + 10));
    expect(h.fired("flapping")).toHaveLength(1);
  });

  it("does not count takeovers (the id never went offline)", () => {
    const h = harness({ rules: [defaultRule, flapRule] });
    h.send(connect("flap-2", sec(0), 30));
    for (let i = 1; i <= 6; i++) {
      h.send({ kind: "takeover", deviceId: "flap-2", at: sec(i), source: "aedes" });
      h.send(connect("flap-2", sec(i), 30));
    }
    h.until(sec(10));
    expect(h.fired("flapping")).toEqual([]);
  });

  it("EMQX order: a takeover reported after the new connect does not count; a drop reported so does", () => {
    const reconnects = (id: string, reason: "taken_over" | "connection_lost") => {
      const h = harness({ rules: [defaultRule, flapRule] });
      h.send({ kind: "connect", deviceId: id, at: sec(0), source: "emqx", keepaliveSeconds: 30 });
      for (let i = 1; i <= 6; i++) {
        // The new connection first (the old session is closed as `unknown`), then how the old one ended.
        h.send({ kind: "connect", deviceId: id, at: sec(i * 5), source: "emqx", keepaliveSeconds: 30 });
        h.send({
          kind: "disconnect",
          deviceId: id,
          at: sec(i * 5) + 200,
          source: "emqx",
          reason,
          sessionConnectedAt: sec((i - 1) * 5),
        });
      }
      h.until(sec(40));
      return h.fired("flapping").map((d) => d.at);
    };
    expect(reconnects("flap-3", "taken_over")).toEqual([]);
    expect(reconnects("flap-4", "connection_lost")).toHaveLength(1);
  });
});

describe("grace is per device", () => {
  const offline3 = rule(1, {
    isDefault: true,
    match: "*",
    offlineSeconds: 3,
    offlineFactor: null,
    resolveAfterSeconds: 0,
  });

  it("judges a device first seen right after start at once on its normal thresholds", () => {
    const h = harness({ rules: [offline3] });
    h.send(connect("fresh", sec(0.5), 60));
    h.until(sec(5));
    expect(h.fired().map((d) => [d.deviceId, d.at])).toEqual([["fresh", sec(3.5)]]);
  });

  it("gives devices a broker restart dropped a reconnect window of max(30 s, 2 × keepalive), then fires for those still out", () => {
    const h = harness({ rules: [offline3], restartWindowSeconds: 30 });
    h.send(connect("back", sec(0), 10));
    h.send(connect("gone", sec(0), 10));
    h.send(connect("slow", sec(0), 60));
    for (const id of ["back", "gone", "slow"]) h.send(ping(id, sec(1)));
    h.fleet.brokerRestart({ downAt: sec(2), keepFrom: Infinity });
    h.decisions.push(...h.engine.brokerRestarted(sec(5), h.now()));
    expect(h.fleet.get("gone")).toMatchObject({ status: "offline", lastDisconnectReason: "broker_restart" });
    h.until(sec(20));
    h.send(connect("back", sec(20), 10));
    for (let t = 21; t <= 200; t++) {
      h.until(sec(t));
      h.send(ping("back", sec(t)));
    }
    // 'gone' at 5 + 30 s; 'slow' (keepalive 60) at 5 + 120 s; 'back' never.
    expect(h.fired().map((d) => [d.deviceId, d.at])).toEqual([
      ["gone", sec(35)],
      ["slow", sec(125)],
    ]);
  });

  it("does not hold a device that dropped for its own reasons after the restart", () => {
    const h = harness({ rules: [offline3], restartWindowSeconds: 30 });
    h.send(connect("d", sec(0), 10));
    h.fleet.brokerRestart({ downAt: sec(1), keepFrom: Infinity });
    h.decisions.push(...h.engine.brokerRestarted(sec(2), h.now()));
    h.send(connect("d", sec(3), 10));
    h.send({ kind: "disconnect", deviceId: "d", at: sec(4), source: "aedes", reason: "connection_lost" });
    h.until(sec(10));
    // Its last sign of life was the connect at 3 s: 3 s of silence.
    expect(h.fired().map((d) => [d.deviceId, d.at])).toEqual([["d", sec(6)]]);
  });

  it("does not count a broker restart toward flapping", () => {
    const flap = rule(1, { isDefault: true, match: "*", flapDisconnects: 2, flapWindowSeconds: 600 });
    const h = harness({ rules: [flap] });
    for (let i = 0; i < 4; i++) {
      h.send(connect("d", sec(i * 10), 10));
      h.fleet.brokerRestart({ downAt: sec(i * 10 + 5), keepFrom: Infinity });
    }
    h.until(sec(50));
    expect(h.fired("flapping")).toEqual([]);
  });

  it("still lets resolutions through (they need fresh evidence)", () => {
    const h = harness({
      rules: [rule(1, { isDefault: true, match: "*", offlineSeconds: 3, offlineFactor: null, resolveAfterSeconds: 2 })],
    });
    h.send(connect("d", sec(0), 60));
    h.until(sec(4));
    expect(h.fired()).toHaveLength(1);
    h.decisions.push(...h.engine.brokerRestarted(h.now(), h.now()));
    for (let t = 5; t <= 10; t++) h.send(ping("d", sec(t)));
    expect(h.resolved().map((d) => d.at)).toEqual([sec(7)]);
  });
});

describe("rules changing at run time", () => {
  it("re-evaluates at once: a stricter threshold fires immediately, a removed kind resolves immediately", () => {
    const h = harness({ rules: [defaultRule] });
    h.send(connect("pump-1", sec(0), 60));
    h.until(sec(20));
    expect(h.fired()).toEqual([]);
    const strict = rule(2, { match: "pump-*", offlineSeconds: 10, offlineFactor: null, lateFactor: 1.2 });
    const now = h.now();
    const out = h.engine.setRules([defaultRule, strict], now);
    expect(out.map((d) => [d.type, d.kind, d.ruleId, d.at])).toEqual([["fire", "offline", 2, now]]);
    h.until(sec(73));
    expect(h.fired("late").map((d) => d.at)).toEqual([sec(72)]);
    const out2 = h.engine.setRules([defaultRule, { ...strict, lateFactor: null }], h.now());
    expect(out2.map((d) => [d.type, d.kind])).toEqual([["resolve", "late"]]);
    expect(out2[0].message).toMatch(/no late threshold/);
  });

  it("applies the most specific rule, and skips disabled ones", () => {
    const e = new AlertEngine({ pingsVisible: () => true });
    e.setRules(
      [
        defaultRule,
        rule(2, { match: "pump-*" }),
        rule(3, { match: "pump-7*" }),
        rule(4, { match: "pump-77", enabled: false }),
      ],
      T0,
    );
    expect(e.ruleFor("pump-77")?.id).toBe(3);
    expect(e.ruleFor("pump-1")?.id).toBe(2);
    expect(e.ruleFor("valve-1")?.id).toBe(1);
  });
});

describe("near-miss", () => {
  it("fires on a gap above nearMissRatio × keepalive and resolves after two clean intervals", () => {
    const h = harness({
      rules: [rule(1, { isDefault: true, match: "*", nearMissRatio: 0.8, resolveAfterSeconds: 0 })],
    });
    h.send(connect("nm", sec(0), 10));
    h.send(ping("nm", sec(5)));
    h.send(ping("nm", sec(10)));
    expect(h.fired()).toEqual([]);
    h.send(ping("nm", sec(19))); // 9 s gap: 90 % of keepalive
    const [fire] = h.fired("near-miss");
    expect(fire.at).toBe(sec(19));
    expect(fire.message).toMatch(/9\.0 s between signs of life, 90 % of keepalive 10 s/);
    for (let t = 24; t <= 60; t += 5) h.send(ping("nm", sec(t)));
    expect(h.fired("near-miss")).toHaveLength(1);
    expect(h.resolved("near-miss").map((d) => d.at)).toEqual([sec(39)]);
  });
});

describe("reading states from the fleet", () => {
  /** Device states the engine keeps itself. */
  const ownStates = (engine: AlertEngine) => (engine as unknown as { states: Map<string, unknown> }).states.size;

  it("decides as with its own copy, and keeps no copy while no rule watches near misses", () => {
    const h = harness({
      rules: [defaultRule, rule(2, { match: "thr-*", offlineSeconds: 3, offlineFactor: null, resolveAfterSeconds: 5 })],
      shared: true,
    });
    h.send(connect("thr-1", sec(1), 60));
    h.send(connect("other", sec(1), 60));
    h.until(sec(3.9));
    expect(h.fired()).toEqual([]);
    h.until(sec(4.1));
    expect(h.fired().map((d) => [d.deviceId, d.kind, d.ruleId])).toEqual([["thr-1", "offline", 2]]);
    for (let t = 10; t <= 20; t++) h.send(ping("thr-1", sec(t)));
    expect(h.resolved().map((d) => d.at)).toEqual([sec(15)]);
    expect(ownStates(h.engine)).toBe(0);
  });

  it("keeps each device's previous state while a near-miss rule needs it", () => {
    const h = harness({
      rules: [rule(1, { isDefault: true, match: "*", nearMissRatio: 0.8, resolveAfterSeconds: 0 })],
      shared: true,
    });
    h.send(connect("nm", sec(0), 10));
    h.send(ping("nm", sec(5)));
    h.send(ping("nm", sec(10)));
    h.send(ping("nm", sec(19))); // 9 s gap: 90 % of keepalive
    expect(h.fired("near-miss").map((d) => d.at)).toEqual([sec(19)]);
    expect(ownStates(h.engine)).toBe(1);
    h.engine.setRules([defaultRule], h.now());
    expect(ownStates(h.engine)).toBe(0);
  });
});

describe("restart", () => {
  it("continues firing alerts loaded from the database: no second fire, resolution once the device is back", () => {
    const h = harness({
      rules: [rule(1, { isDefault: true, match: "*", offlineSeconds: 3, offlineFactor: null, resolveAfterSeconds: 2 })],
    });
    // What a restart restores: the device (unknown) and its firing alert.
    h.fleet.restore(
      [
        {
          id: "d",
          status: "online",
          statusSince: sec(-100),
          keepaliveSeconds: 60,
          lastSeenAt: sec(-100),
          lastPingAt: null,
          lastMessageAt: null,
          connectedAt: sec(-200),
          sessionOpen: true,
          lastDisconnectAt: null,
          lastDisconnectReason: null,
          disconnectCount: 0,
          address: null,
          protocol: null,
          cleanStart: null,
          sources: ["aedes"],
          firstSeenAt: sec(-200),
        },
      ],
      [],
    );
    h.engine.restoreFiring(
      [{ deviceId: "d", kind: "offline", ruleId: 1, firedAt: sec(-90), message: "old", lastNotifiedAt: sec(-90) }],
      h.now(),
    );
    h.until(sec(20));
    expect(h.decisions).toEqual([]);
    h.send(connect("d", sec(21), 60)); // re-learned: it reconnects
    for (let t = 22; t <= 25; t++) h.send(ping("d", sec(t)));
    expect(h.fired()).toEqual([]);
    expect(h.resolved().map((d) => d.at)).toEqual([sec(23)]);
  });
});

describe("a standby's engine and the leader it becomes", () => {
  /** The leader's engine on the standby's fleet, from `at`: the stored alerts, and the standby's memory or none. */
  function takeOver(h: Harness, rules: AlertRule[], firing: FiringAlert[], memory: boolean) {
    const engine = new AlertEngine({ pingsVisible: () => true, states: h.fleet });
    const decisions: AlertDecision[] = [];
    if (memory) engine.restoreMemory(h.engine.memory());
    engine.restoreFiring(firing, h.now());
    decisions.push(...engine.setRules(rules, h.now()));
    h.fleet.onEffects((effects, changed) => decisions.push(...engine.observe(effects, changed, h.now())));
    const resolvedAt = () => decisions.filter((d) => d.type === "resolve").map((d) => d.at);
    return {
      decisions,
      resolvedAt,
      /** Pings every `every` s up to `to` s, ticking this engine as the harness does. */
      pingUntil(id: string, to: number, every: number) {
        let next = h.now() + every * 1000;
        while (h.now() < sec(to)) {
          h.until(Math.min(sec(to), h.now() + 100));
          decisions.push(...engine.tick(h.now()));
          if (h.now() >= next) {
            h.fleet.apply(ping(id, h.now()));
            next += every * 1000;
          }
        }
      },
    };
  }
  const stored = (deviceId: string, kind: FiringAlert["kind"], firedAt: number): FiringAlert => ({
    deviceId,
    kind,
    ruleId: 1,
    firedAt,
    message: "stored",
    lastNotifiedAt: firedAt,
  });

  it("decides nothing while following, yet knows how long a stored alert has been fine: the leader resolves on time", () => {
    const rules = [
      rule(1, {
        isDefault: true,
        match: "*",
        offlineSeconds: 3,
        offlineFactor: null,
        resolveAfterSeconds: 20,
        repeatIntervalSeconds: 5,
      }),
    ];
    const run = (memory: boolean) => {
      const h = harness({ rules, shared: true });
      h.engine.mirrorFiring([], h.now());
      h.send(connect("d", sec(0), 60));
      h.until(sec(8)); // silent past 3 s: the leader fires, this engine does not
      h.engine.mirrorFiring([stored("d", "offline", sec(3))], h.now()); // what the leader stored
      for (let t = 10; t <= 34; t += 2) h.send(ping("d", sec(t))); // fine since 10 s: due at 30 s
      expect(h.decisions).toEqual([]); // no fire, no repeat, no resolution while following
      const leader = takeOver(h, rules, [stored("d", "offline", sec(3))], memory);
      leader.pingUntil("d", 60, 2);
      return leader.resolvedAt();
    };
    expect(run(true)).toEqual([sec(34)]); // at the takeover: fine for 24 s already
    expect(run(false)).toEqual([sec(54)]); // without the memory: 20 s after the takeover
  });

  it("hands over near misses: the leader keeps the stored alert for 2 × keepalive after the gap", () => {
    const rules = [rule(1, { isDefault: true, match: "*", nearMissRatio: 0.8, resolveAfterSeconds: 0 })];
    const run = (memory: boolean) => {
      const h = harness({ rules, shared: true });
      h.engine.mirrorFiring([], h.now());
      h.send(connect("nm", sec(0), 10));
      h.send(ping("nm", sec(5)));
      h.send(ping("nm", sec(10)));
      h.send(ping("nm", sec(19))); // 9 s gap: the leader fires near-miss
      h.engine.mirrorFiring([stored("nm", "near-miss", sec(19))], sec(19));
      h.send(ping("nm", sec(24)));
      expect(h.decisions).toEqual([]);
      const leader = takeOver(h, rules, [stored("nm", "near-miss", sec(19))], memory);
      leader.pingUntil("nm", 60, 5);
      return leader.resolvedAt();
    };
    expect(run(true)).toEqual([sec(39)]); // as an engine that never stopped: two clean intervals after the gap
    expect(run(false)[0]).toBeLessThan(sec(30)); // without the memory: at the first look
  });

  it("judges a device again when the stored alerts change, and forgets how long a resolved one was fine", () => {
    const rules = [
      rule(1, { isDefault: true, match: "*", offlineSeconds: 3, offlineFactor: null, resolveAfterSeconds: 5 }),
    ];
    const h = harness({ rules, shared: true });
    h.engine.mirrorFiring([], h.now());
    h.send(connect("d", sec(0), 60));
    h.until(sec(4));
    h.engine.mirrorFiring([stored("d", "offline", sec(3))], h.now());
    for (let t = 5; t <= 12; t++) h.send(ping("d", sec(t)));
    expect(h.engine.memory().devices.get("d")?.okSince).toEqual({ offline: sec(5) });
    h.engine.mirrorFiring([], h.now()); // the leader resolved it
    h.until(sec(13));
    expect(h.engine.memory().devices.has("d")).toBe(false);
    expect(h.engine.firingCount).toBe(0);
    expect(h.decisions).toEqual([]);
  });

  it("follows what changed: a resolution ends the alert it names, not one fired after it", () => {
    const rules = [rule(1, { isDefault: true, match: "*", offlineSeconds: 3, offlineFactor: null })];
    const h = harness({ rules, shared: true });
    h.engine.mirrorFiring([stored("a", "offline", sec(1)), stored("b", "offline", sec(1))], h.now());
    // Read in one go: a's alert resolved and fired again; b's repeated; c's fired.
    h.engine.mirrorChanges(
      [
        { alert: stored("a", "offline", sec(5)), firing: true },
        { alert: stored("a", "offline", sec(1)), firing: false },
        { alert: { ...stored("b", "offline", sec(1)), lastNotifiedAt: sec(6) }, firing: true },
        { alert: stored("c", "offline", sec(6)), firing: true },
      ],
      h.now(),
    );
    const byDevice = () => new Map(h.engine.firing().map((a) => [a.deviceId, [a.firedAt, a.lastNotifiedAt]]));
    expect(byDevice()).toEqual(
      new Map([
        ["a", [sec(5), sec(5)]],
        ["b", [sec(1), sec(6)]],
        ["c", [sec(6), sec(6)]],
      ]),
    );
    // Read again (a transaction still running at the last read): the same rows change nothing.
    h.engine.mirrorChanges([{ alert: stored("a", "offline", sec(1)), firing: false }], h.now());
    expect(h.engine.firingCount).toBe(3);
    h.engine.mirrorChanges([{ alert: stored("c", "offline", sec(6)), firing: false }], h.now());
    expect([...byDevice().keys()].sort()).toEqual(["a", "b"]);
    expect(h.decisions).toEqual([]);
  });
});

describe("repeat notifications", () => {
  it("repeats every repeatIntervalSeconds while firing, and stops when resolved", () => {
    const h = harness({
      rules: [
        rule(1, {
          isDefault: true,
          match: "*",
          offlineSeconds: 3,
          offlineFactor: null,
          resolveAfterSeconds: 0,
          repeatIntervalSeconds: 60,
        }),
      ],
    });
    h.send(connect("d", sec(0), 600));
    h.until(sec(130));
    expect(h.decisions.filter((d) => d.type === "repeat").map((d) => d.at)).toEqual([sec(63), sec(123)]);
    for (let t = 130; t <= 300; t += 2) h.send(ping("d", sec(t)));
    expect(h.decisions.filter((d) => d.type === "repeat")).toHaveLength(2);
    expect(h.resolved()).toHaveLength(1);
  });

  it("is off by default", () => {
    const h = harness({ rules: [rule(1, { isDefault: true, match: "*", offlineSeconds: 3, offlineFactor: null })] });
    h.send(connect("d", sec(0), 600));
    h.until(sec(1000));
    expect(h.decisions.map((d) => d.type)).toEqual(["fire"]);
  });
});

describe("never_seen (devices the inventory expects)", () => {
  it("fires once the grace is over for a device never seen, not for one that showed up; resolves when it shows up", () => {
    let now = T0;
    const fleet = new Fleet({ now: () => now, pingsVisible: () => true });
    const expected = new Map([
      ["exp-a", T0],
      ["exp-b", T0],
    ]);
    const engine = new AlertEngine({
      pingsVisible: () => true,
      states: fleet,
      expectedSince: (id) => expected.get(id) ?? null,
      expectedGraceMs: sec(60) - T0,
    });
    const decisions: AlertDecision[] = [];
    fleet.onEffects((effects, changed) => decisions.push(...engine.observe(effects, changed, now)));
    decisions.push(...engine.setRules([defaultRule], now));
    fleet.expect(["exp-a", "exp-b"], T0);
    decisions.push(...engine.relabel(["exp-a", "exp-b"], now));
    expect(engine.nextDeadline()).toBe(sec(60));
    now = sec(30);
    fleet.applyBatch([connect("exp-b", sec(30), 60)]);
    now = sec(59.9);
    decisions.push(...engine.tick(now));
    expect(decisions.filter((d) => d.kind === "never_seen")).toEqual([]);
    now = sec(60);
    decisions.push(...engine.tick(now));
    expect(decisions.filter((d) => d.kind === "never_seen").map((d) => [d.type, d.deviceId, d.ruleId])).toEqual([
      ["fire", "exp-a", 1],
    ]);
    now = sec(100);
    fleet.applyBatch([connect("exp-a", sec(100), 60)]);
    expect(decisions.filter((d) => d.kind === "never_seen").map((d) => [d.type, d.deviceId])).toEqual([
      ["fire", "exp-a"],
      ["resolve", "exp-a"],
    ]);
  });
});

describe("the engine's tick in slices", () => {
  it("evaluates `limit` devices per tick, nextDeadline() says more are due, and every alert fires once", () => {
    let now = T0;
    const fleet = new Fleet({ now: () => now, pingsVisible: () => true, lateGraceMs: 500 });
    const engine = new AlertEngine({ pingsVisible: () => true, states: fleet });
    const decisions: AlertDecision[] = [];
    decisions.push(...engine.setRules([rule(1, { match: "*", offlineFactor: null, offlineSeconds: 5 })], now));
    fleet.onEffects((effects, changed) => decisions.push(...engine.observe(effects, changed, now)));
    const ids = Array.from({ length: 25 }, (_, i) => `slice-${i}`);
    for (const id of ids)
      fleet.apply({ kind: "connect", deviceId: id, at: now, source: "aedes", keepaliveSeconds: 60 });
    now += 1_000;
    for (const id of ids)
      fleet.apply({ kind: "disconnect", deviceId: id, at: now, source: "aedes", reason: "connection_lost" });
    expect(decisions.filter((d) => d.type === "fire")).toEqual([]);
    now += 10_000;
    const slices: number[] = [];
    const fired: string[] = [];
    while ((engine.nextDeadline() ?? Infinity) <= now) {
      const out = engine.tick(now, 10).filter((d) => d.type === "fire");
      slices.push(out.length);
      fired.push(...out.map((d) => d.deviceId));
    }
    expect(slices).toEqual([10, 10, 5]);
    expect(fired.sort()).toEqual([...ids].sort());
  });
});
