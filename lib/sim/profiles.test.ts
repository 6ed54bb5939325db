import { describe, expect, it } from "vitest";
import { mixCounts, planFleet } from "./fleet";
import { hashSeed, mulberry32, rngFor } from "./prng";
import {
  firstSessions,
  MIX_WEIGHTS,
  PROFILES,
  type ConnectionPlan,
  type DevicePlan,
  type ProfileName,
  type SimAction,
} from "./profiles";

const fleet200 = () => planFleet({ devices: 200, profile: "mix", seed: 1, prefix: "sim" });
const only = (profile: ProfileName, devices = 20, seed = 3): DevicePlan[] =>
  planFleet({ devices, profile, seed, prefix: "t" });
const gaps = (xs: number[]) => xs.slice(1).map((x, i) => x - xs[i]);
const times = (actions: SimAction[], kind: SimAction["do"]) => actions.filter((a) => a.do === kind).map((a) => a.at);

describe("seeded randomness", () => {
  it("mulberry32 gives the same stream for the same seed, in [0, 1)", () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1000 }, a);
    expect(Array.from({ length: 1000 }, b)).toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(mulberry32(43)()).not.toBe(mulberry32(42)());
  });

  it("names streams by their parts", () => {
    expect(hashSeed(1, "sim-umqtt-00")).toBe(hashSeed(1, "sim-umqtt-00"));
    expect(hashSeed(1, "sim-umqtt-00")).not.toBe(hashSeed(2, "sim-umqtt-00"));
    expect(hashSeed("a", "bc")).not.toBe(hashSeed("ab", "c"));
    expect(rngFor(5, "x")()).toBe(rngFor(5, "x")());
  });
});

describe("the mix", () => {
  it("splits 200 devices exactly by the weights", () => {
    expect(mixCounts(200)).toEqual({
      healthy: 60,
      telemetry: 30,
      umqtt: 24,
      late: 16,
      sleepy: 16,
      flapping: 16,
      backoff: 16,
      storm: 8,
      duplicate: 14,
    });
    expect(Object.values(MIX_WEIGHTS).reduce((a, b) => a + b, 0)).toBe(100);
  });

  it("adds up to the requested count for any size, largest remainders first", () => {
    for (const n of [1, 2, 7, 13, 99, 101, 1000, 1234]) {
      const counts = mixCounts(n);
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(n);
    }
    expect(mixCounts(1)).toMatchObject({ healthy: 1, telemetry: 0 });
    // shares 3, 1.5, 1.2, 0.8 ×4, 0.4, 0.7: the five largest remainders (0.8 ×4, 0.7) get the 5 left over
    expect(mixCounts(10)).toEqual({
      healthy: 3,
      telemetry: 1,
      umqtt: 1,
      late: 1,
      sleepy: 1,
      flapping: 1,
      backoff: 1,
      storm: 0,
      duplicate: 1,
    });
  });

  it("is the same fleet for the same seed, and another for another seed", () => {
    const a = fleet200();
    expect(JSON.stringify(fleet200())).toBe(JSON.stringify(a));
    const b = planFleet({ devices: 200, profile: "mix", seed: 2, prefix: "sim" });
    expect(b.map((d) => d.id)).toEqual(a.map((d) => d.id)); // same ids...
    expect(JSON.stringify(b)).not.toBe(JSON.stringify(a)); // ...other traits and start times
  });

  it("names devices by profile, spreads their start over the ramp, and makes one id per device", () => {
    const plans = fleet200();
    expect(plans).toHaveLength(200);
    expect(plans[0].id).toBe("sim-healthy-000");
    expect(plans.find((d) => d.profile === "umqtt")!.id).toBe("sim-umqtt-000");
    expect(new Set(plans.map((d) => d.id)).size).toBe(200);
    const starts = plans.filter((d) => d.profile !== "umqtt").map((d) => d.connections[0].startDelayMs);
    expect(Math.min(...starts)).toBeLessThan(50);
    // 20 ms per device: 200 devices connect over 4 s
    expect(Math.max(...starts)).toBeGreaterThan(3_900);
    expect(Math.max(...starts)).toBeLessThanOrEqual(4_010);
    // Every profile starts early and late: not all telemetry devices at once.
    const telemetry = plans.filter((d) => d.profile === "telemetry").map((d) => d.connections[0].startDelayMs);
    expect(Math.min(...telemetry)).toBeLessThan(1_000);
    expect(Math.max(...telemetry)).toBeGreaterThan(2_500);
    // umqtt devices boot over a whole 20 s cycle, so some are late at any time.
    const umqtt = plans.filter((d) => d.profile === "umqtt").map((d) => d.connections[0].startDelayMs);
    expect(Math.max(...umqtt) - Math.min(...umqtt)).toBeGreaterThan(15_000);
    expect(Math.max(...umqtt)).toBeLessThanOrEqual(24_010);
    expect(plans.reduce((n, d) => n + d.connections.length, 0)).toBe(214); // 14 duplicate pairs
  });

  it("a single profile gives that profile only", () => {
    const plans = only("storm", 12);
    expect(new Set(plans.map((p) => p.profile))).toEqual(new Set(["storm"]));
    expect(plans.map((p) => p.id)).toContain("t-storm-11");
  });

  it("the same plan always yields the same sessions", () => {
    for (const profile of PROFILES) {
      const [a] = only(profile, 1, 9);
      const [b] = only(profile, 1, 9);
      expect(firstSessions(b.connections[0], 30)).toEqual(firstSessions(a.connections[0], 30));
    }
  });
});

describe("profiles", () => {
  const conn = (profile: ProfileName, i = 0): ConnectionPlan => only(profile)[i].connections[0];

  it("healthy: MQTT.js with keepalive 30-60 that pings by itself and never drops", () => {
    const plans = only("healthy", 50).map((d) => d.connections[0]);
    for (const c of plans) {
      expect(c.library).toBe("mqttjs");
      expect(c.keepaliveSeconds).toBeGreaterThanOrEqual(30);
      expect(c.keepaliveSeconds).toBeLessThanOrEqual(60);
      expect(c.will).toBeNull();
      const sessions = firstSessions(c, 3);
      expect(sessions.map((s) => s.actions)).toEqual([[], [], []]);
      expect(sessions.slice(1).map((s) => s.waitMs)).toEqual([1_000, 1_000]);
    }
    expect(new Set(plans.map((c) => c.keepaliveSeconds)).size).toBeGreaterThan(5);
  });

  it("umqtt: keepalive 10, never pings, publishes every 20 s, reconnects 4-6 s after the drop", () => {
    const c = conn("umqtt");
    expect(c).toMatchObject({ library: "raw", keepaliveSeconds: 10, will: null });
    const sessions = firstSessions(c, 10, 4);
    for (const s of sessions) {
      expect(times(s.actions, "ping")).toEqual([]);
      expect(times(s.actions, "publish")).toEqual([0, 20_000, 40_000, 60_000]);
      expect(s.actions.every((a) => a.do === "publish" && a.topic === `devices/${c.deviceId}/telemetry`)).toBe(true);
    }
    for (const s of sessions.slice(1)) {
      expect(s.waitMs).toBeGreaterThanOrEqual(4_000);
      expect(s.waitMs).toBeLessThanOrEqual(6_000);
    }
  });

  it("late: pings at 0.95 × keepalive (±1 %), so always within the keepalive", () => {
    for (const d of only("late", 20)) {
      const c = d.connections[0];
      expect([20, 30, 45, 60]).toContain(c.keepaliveSeconds);
      const pings = times(firstSessions(c, 1, 40)[0].actions, "ping");
      expect(pings).toHaveLength(40);
      const k = c.keepaliveSeconds * 1000;
      for (const g of [pings[0], ...gaps(pings)]) {
        expect(g).toBeGreaterThanOrEqual(Math.floor(0.95 * k * 0.99));
        expect(g).toBeLessThanOrEqual(Math.ceil(0.95 * k * 1.01));
        expect(g).toBeLessThan(k);
      }
    }
  });

  it("sleepy: keepalive 0 with a retained last will; wakes, says online, sleeps 30-90 s", () => {
    const c = conn("sleepy");
    expect(c).toMatchObject({
      library: "mqttjs",
      keepaliveSeconds: 0,
      clean: false,
      will: { topic: `devices/${c.deviceId}/status`, payload: "offline", retain: true },
    });
    const sessions = firstSessions(c, 200);
    for (const s of sessions) {
      expect(s.actions[0]).toEqual({
        at: 0,
        do: "publish",
        topic: `devices/${c.deviceId}/status`,
        payload: "online",
        retain: true,
      });
      const last = s.actions.at(-1)!;
      expect(["disconnect", "drop"]).toContain(last.do);
      expect(last.at).toBeGreaterThanOrEqual(2_000);
      expect(last.at).toBeLessThanOrEqual(8_000);
    }
    for (const s of sessions.slice(1)) {
      expect(s.waitMs).toBeGreaterThanOrEqual(30_000);
      expect(s.waitMs).toBeLessThanOrEqual(90_000);
    }
    const crashes = sessions.filter((s) => s.actions.at(-1)!.do === "drop").length;
    expect(crashes).toBeGreaterThan(5); // ~10 %: some power off without DISCONNECT (their will fires)
    expect(crashes).toBeLessThan(40);
  });

  it("flapping: drops every 5-20 s and is back 1-4 s later: several times a minute", () => {
    const sessions = firstSessions(conn("flapping"), 60, 100);
    let total = 0;
    for (const [i, s] of sessions.entries()) {
      const end = s.actions.at(-1)!;
      expect(end.do).toBe("drop");
      expect(end.at).toBeGreaterThanOrEqual(5_000);
      expect(end.at).toBeLessThanOrEqual(20_000);
      if (i > 0) {
        expect(s.waitMs).toBeGreaterThanOrEqual(1_000);
        expect(s.waitMs).toBeLessThanOrEqual(4_000);
      }
      total += s.waitMs + end.at;
    }
    const perMinute = sessions.length / (total / 60_000);
    expect(perMinute).toBeGreaterThan(2.5);
    expect(perMinute).toBeLessThan(10);
  });

  it("backoff: after a stable stretch, a flaky spell retried with exponential backoff and full jitter", () => {
    const sessions = firstSessions(conn("backoff"), 40, 200);
    const stable = sessions[0].actions.at(-1)!;
    expect(stable).toMatchObject({ do: "drop" });
    expect(stable.at).toBeGreaterThanOrEqual(40_000);
    expect(stable.at).toBeLessThanOrEqual(120_000);
    // The spell: short sessions; the n-th reconnect waits [0.5, 1] × min(30 s, 1 s × 2^n).
    let attempt = 0;
    let spells = 0;
    for (const s of sessions.slice(1)) {
      const life = s.actions.at(-1)!.at;
      const ceiling = Math.min(30_000, 1_000 * 2 ** attempt);
      expect(s.waitMs).toBeGreaterThanOrEqual(Math.floor(ceiling * 0.5));
      expect(s.waitMs).toBeLessThanOrEqual(ceiling);
      if (life >= 40_000) {
        attempt = 0; // a stable session again
        spells++;
      } else {
        expect(life).toBeLessThanOrEqual(2_000);
        attempt++;
        expect(attempt).toBeLessThanOrEqual(4);
      }
    }
    expect(spells).toBeGreaterThan(3);
  });

  it("storm: the same spells, 5-15 failures, each retried within 100 ms", () => {
    const sessions = firstSessions(conn("storm"), 60, 200);
    let run = 0;
    const runs: number[] = [];
    for (const s of sessions.slice(1)) {
      expect(s.waitMs).toBeLessThanOrEqual(100);
      if (s.actions.at(-1)!.at >= 40_000) {
        runs.push(run);
        run = 0;
      } else run++;
    }
    expect(runs.length).toBeGreaterThan(2);
    for (const r of runs) {
      expect(r).toBeGreaterThanOrEqual(5);
      expect(r).toBeLessThanOrEqual(15);
    }
  });

  it("duplicate: two MQTT.js connections with one client id, the second 2-5 s later, each on a fixed period", () => {
    for (const d of only("duplicate", 10)) {
      const [a, b] = d.connections;
      expect(d.connections).toHaveLength(2);
      expect(a.clientId).toBe(d.id);
      expect(b.clientId).toBe(d.id);
      expect([a.library, b.library]).toEqual(["mqttjs", "mqttjs"]);
      expect(b.startDelayMs - a.startDelayMs).toBeGreaterThanOrEqual(2_000);
      expect(b.startDelayMs - a.startDelayMs).toBeLessThanOrEqual(5_000);
      for (const c of [a, b]) {
        const waits = firstSessions(c, 5).map((s) => s.waitMs);
        expect(waits[0]).toBe(c.startDelayMs);
        expect(new Set(waits.slice(1)).size).toBe(1);
        expect(waits[1]).toBeGreaterThanOrEqual(3_000);
        expect(waits[1]).toBeLessThanOrEqual(8_000);
      }
    }
  });

  it("telemetry: says online (retained) on connect, then publishes every 5-15 s; last will offline", () => {
    const c = conn("telemetry");
    expect(c).toMatchObject({ library: "mqttjs", keepaliveSeconds: 60 });
    expect(c.will).toEqual({ topic: `devices/${c.deviceId}/status`, payload: "offline", retain: true });
    const [s] = firstSessions(c, 1, 30);
    expect(s.actions[0]).toMatchObject({ at: 0, do: "publish", payload: "online", retain: true });
    const readings = s.actions.slice(1);
    expect(readings.every((a) => a.do === "publish" && a.topic === `devices/${c.deviceId}/telemetry`)).toBe(true);
    const g = gaps(readings.map((a) => a.at));
    const period = g[0] / 1; // jittered ±10 % around one period per session
    for (const x of g) {
      expect(x).toBeGreaterThanOrEqual(4_500 - 1);
      expect(x).toBeLessThanOrEqual(16_500 + 1);
      expect(Math.abs(x - period)).toBeLessThanOrEqual(period * 0.25);
    }
    expect(JSON.parse((readings[0] as { payload: string }).payload)).toEqual({
      t: expect.any(Number),
      rssi: expect.any(Number),
    });
  });
});
