import { describe, expect, it } from "vitest";
import type { ActivityEvent } from "../ingest/events";
import type { FleetEffect } from "../fleet/types";
import { downsampleMax } from "./downsample";
import { ActivityAccumulator, gapsOf, KIND_CODE, kindOfCode, minuteOf } from "./points";

const T = Date.parse("2026-11-22T10:00:00.000Z");
const ping = (deviceId: string, at: number, source: ActivityEvent["source"] = "aedes"): ActivityEvent => ({
  kind: "ping",
  deviceId,
  at,
  source,
});
const open = (deviceId: string, at: number): FleetEffect => ({
  type: "session-open",
  session: { deviceId, connectedAt: at, disconnectedAt: null, reason: null, keepaliveSeconds: 10, lastActivityAt: at },
});
const close = (
  deviceId: string,
  at: number,
  reason: "keepalive_timeout" | "taken_over" = "keepalive_timeout",
): FleetEffect => ({
  type: "session-close",
  deviceId,
  connectedAt: T,
  disconnectedAt: at,
  reason,
  lastActivityAt: null,
});

describe("ActivityAccumulator", () => {
  it("records connects and disconnects from fleet effects, activity from events", () => {
    const acc = new ActivityAccumulator();
    expect(acc.effects([open("d", T)])).toEqual([{ deviceId: "d", at: T, kind: "connect", reason: null }]);
    expect(
      acc
        .events([
          ping("d", T + 5_000),
          { kind: "publish", deviceId: "d", at: T + 7_000, source: "aedes", topic: "devices/d/t" },
          { kind: "packet", deviceId: "d", at: T + 8_000, source: "aedes", packet: "puback" },
          { kind: "status", deviceId: "d", at: T + 8_000, source: "device-topic", online: true, retained: false },
          { kind: "connect", deviceId: "d", at: T, source: "aedes", keepaliveSeconds: 10 },
        ])
        .map((p) => p.kind),
    ).toEqual(["pingreq", "publish", "packet"]);
    expect(acc.effects([close("d", T + 30_000, "taken_over")])).toEqual([
      { deviceId: "d", at: T + 30_000, kind: "disconnect", reason: "taken_over" },
    ]);
  });

  it("rolls minutes up with counts and the largest gap of the session, connect starting without a gap", () => {
    const acc = new ActivityAccumulator();
    acc.effects([open("d", T)]);
    acc.events([ping("d", T + 10_000), ping("d", T + 25_000), ping("d", T + 70_000)]);
    acc.effects([close("d", T + 100_000)]);
    acc.events([ping("d", T + 130_000)]); // after the session ended: no gap across the drop
    expect(acc.takeRollups(T + 180_000)).toEqual([
      { deviceId: "d", minute: T, count: 3, maxGapMs: 15_000 },
      { deviceId: "d", minute: T + 60_000, count: 1, maxGapMs: 45_000 },
      { deviceId: "d", minute: T + 120_000, count: 1, maxGapMs: null },
    ]);
    expect(acc.pendingRollupCount).toBe(0);
  });

  it("keeps the current minute until it has ended", () => {
    const acc = new ActivityAccumulator();
    acc.events([ping("d", T + 1_000), ping("d", T + 61_000)]);
    expect(acc.takeRollups(T + 61_500).map((r) => r.minute)).toEqual([T]);
    expect(acc.pendingRollups("d")).toEqual([{ deviceId: "d", minute: T + 60_000, count: 1, maxGapMs: 60_000 }]);
  });

  it("drops the same packet reported twice (same time, or two sources a few ms apart)", () => {
    const acc = new ActivityAccumulator();
    const points = acc.events([
      ping("d", T),
      ping("d", T),
      ping("d", T + 100, "mosquitto-debug"),
      { kind: "publish", deviceId: "d", at: T + 200, source: "mosquitto-debug", topic: "devices/d/x" },
      { kind: "publish", deviceId: "d", at: T + 230, source: "device-topic", topic: "devices/d/x" },
      { kind: "publish", deviceId: "d", at: T + 260, source: "mosquitto-debug", topic: "devices/d/x" },
    ]);
    expect(points.map((p) => [p.kind, p.at - T])).toEqual([
      ["pingreq", 0],
      ["publish", 200],
    ]);
    // Duplicates are not counted; the publish at +260 (same source: a second packet) is, though thinned.
    expect(acc.takeRollups(T + 60_000)).toEqual([{ deviceId: "d", minute: T, count: 3, maxGapMs: 200 }]);
  });

  it("keeps every device's memory when the rows grow past their first thousands", () => {
    const acc = new ActivityAccumulator();
    const ids = Array.from({ length: 5_000 }, (_, i) => `g-${i}`);
    expect(acc.events(ids.map((id) => ping(id, T)))).toHaveLength(5_000);
    // The same packets again: every row still knows its last one, so none is stored twice.
    expect(acc.events(ids.map((id) => ping(id, T)))).toEqual([]);
    const rollups = acc.takeRollups(T + 60_000);
    expect(rollups).toHaveLength(5_000);
    expect(rollups.every((r) => r.count === 1 && r.minute === T)).toBe(true);
  });

  it("ignores the monitor's own client and broker topics", () => {
    const acc = new ActivityAccumulator(new Set(["keepwatch-1"]));
    expect(acc.events([ping("keepwatch-1", T)])).toEqual([]);
    expect(acc.effects([open("keepwatch-1", T)])).toEqual([]);
    expect(acc.events([{ kind: "publish", deviceId: "d", at: T, source: "aedes", topic: "$SYS/x" }])).toEqual([]);
  });

  it("does not measure a gap backwards for an event that arrives out of order", () => {
    const acc = new ActivityAccumulator();
    acc.events([ping("d", T + 10_000), ping("d", T + 5_000), ping("d", T + 12_000)]);
    expect(acc.takeRollups(T + 60_000)).toEqual([{ deviceId: "d", minute: T, count: 3, maxGapMs: 2_000 }]);
  });
});

describe("ActivityAccumulator roll-ups in slices", () => {
  it("takes a minute's end a slice at a time: every roll-up once, none of the current minute", () => {
    const acc = new ActivityAccumulator();
    const ids = Array.from({ length: 25 }, (_, i) => `s${i}`);
    acc.events(ids.map((id, i) => ping(id, T + i)));
    acc.events([ping("s0", T + 60_500)]); // s0 spills its first minute, and has the current one inline
    const slices: number[] = [];
    const taken = [];
    for (;;) {
      const slice = acc.takeRollups(T + 60_000, 10);
      slices.push(slice.length);
      taken.push(...slice);
      if (slice.length < 10) break;
    }
    expect(slices).toEqual([10, 10, 5]);
    expect(taken.map((r) => r.deviceId).sort()).toEqual([...ids].sort());
    expect(taken.every((r) => r.minute === T && r.count === 1)).toBe(true);
    expect(acc.takeRollups(T + 60_000, 10)).toEqual([]);
    expect(acc.takeRollups(T + 120_000)).toEqual([{ deviceId: "s0", minute: T + 60_000, count: 1, maxGapMs: 60_500 }]);
  });
});

describe("ActivityAccumulator thinning", () => {
  const pub = (deviceId: string, at: number): ActivityEvent => ({
    kind: "publish",
    deviceId,
    at,
    source: "device-topic",
    topic: `devices/${deviceId}/t`,
  });

  it("stores at most one point per device, kind and second, and counts every one in the roll-ups", () => {
    const acc = new ActivityAccumulator();
    const events: ActivityEvent[] = [];
    for (let k = 0; k < 100; k++) events.push(pub("d", T + k * 30)); // 3 s of publishes, 33 a second
    events.push(ping("d", T + 15), ping("e", T + 15));
    const points = acc.events(events);
    expect(points.filter((p) => p.kind === "publish").map((p) => p.at - T)).toEqual([0, 1_020, 2_040]);
    // Other kinds and other devices have their own window.
    expect(points.filter((p) => p.kind === "pingreq").map((p) => [p.deviceId, p.at - T])).toEqual([
      ["d", 15],
      ["e", 15],
    ]);
    expect(acc.takeRollups(T + 60_000)).toEqual([
      { deviceId: "d", minute: T, count: 101, maxGapMs: 30 },
      { deviceId: "e", minute: T, count: 1, maxGapMs: null },
    ]);
  });

  it("always stores both ends of a gap, so gaps read from stored points stay exact", () => {
    const acc = new ActivityAccumulator();
    const burst = (from: number) => Array.from({ length: 10 }, (_, k) => pub("d", from + k * 50));
    const points = [
      ...acc.effects([open("d", T)]),
      ...acc.events(burst(T + 100)), // stored: +100; +550 thinned but held
      ...acc.events(burst(T + 20_000)), // the gap 550 → 20,000 ends: both ends stored
      ...acc.events([pub("d", T + 20_700)]), // within the window of +20,000: thinned, held
    ];
    expect(points.map((p) => p.at - T)).toEqual([0, 100, 550, 20_000]);
    const stored = points.map((p) => ({ at: p.at, kind: p.kind }));
    expect(Math.max(...gapsOf(stored).map((g) => g.gapMs))).toBe(19_450);
    expect(acc.takeRollups(T + 60_000)[0].maxGapMs).toBe(19_450);
    // The held point is stored when the session closes (the last sign of life before the disconnect).
    expect(acc.effects([close("d", T + 40_000)]).map((p) => [p.kind, p.at - T])).toEqual([
      ["publish", 20_700],
      ["disconnect", 40_000],
    ]);
  });

  it("stores the first activity after a silence even when it falls in the same second as the last stored one", () => {
    const acc = new ActivityAccumulator();
    // A ping at +0 and the next at +900: too close to be a gap that matters, so the second is only counted;
    // the next one, 5 s later, is stored with the +900 one that started its gap.
    const points = acc.events([ping("d", T), ping("d", T + 900), ping("d", T + 5_900)]);
    expect(points.map((p) => p.at - T)).toEqual([0, 900, 5_900]);
  });

  it("takes roll-ups minute by minute without losing late points or devices that moved on", () => {
    const acc = new ActivityAccumulator();
    acc.events([ping("a", T + 1_000), ping("b", T + 2_000), ping("a", T + 61_000)]);
    acc.events([ping("b", T + 3_000)]);
    expect(acc.pendingRollupCount).toBe(3);
    expect(acc.takeRollups(T + 60_000)).toEqual([
      { deviceId: "a", minute: T, count: 1, maxGapMs: null },
      { deviceId: "b", minute: T, count: 2, maxGapMs: 1_000 },
    ]);
    acc.events([ping("b", T + 4_000)]); // late, for a minute already taken
    expect(acc.pendingRollups("b")).toEqual([{ deviceId: "b", minute: T, count: 1, maxGapMs: 1_000 }]);
    expect(acc.takeRollups(T + 120_000)).toEqual([
      { deviceId: "a", minute: T + 60_000, count: 1, maxGapMs: 60_000 },
      { deviceId: "b", minute: T, count: 1, maxGapMs: 1_000 },
    ]);
    expect(acc.pendingRollupCount).toBe(0);
    acc.forgetIdleBefore(T + 3_600_000);
    expect(acc.deviceCount).toBe(0);
  });
});

describe("gapsOf", () => {
  it("measures gaps inside sessions only", () => {
    const pts = [
      { at: 0, kind: "connect" as const },
      { at: 2_000, kind: "pingreq" as const },
      { at: 4_100, kind: "pingreq" as const },
      { at: 19_000, kind: "disconnect" as const },
      { at: 25_000, kind: "pingreq" as const },
      { at: 26_000, kind: "connect" as const },
      { at: 36_000, kind: "publish" as const },
    ];
    expect(gapsOf(pts)).toEqual([
      { at: 2_000, gapMs: 2_000, kind: "pingreq" },
      { at: 4_100, gapMs: 2_100, kind: "pingreq" },
      { at: 36_000, gapMs: 10_000, kind: "publish" },
    ]);
  });
});

describe("kind codes", () => {
  it("round-trip", () => {
    for (const [kind, code] of Object.entries(KIND_CODE)) expect(kindOfCode(code)).toBe(kind);
    expect(kindOfCode(9)).toBeNull();
    expect(minuteOf(T + 59_999)).toBe(T);
  });
});

describe("downsampleMax", () => {
  it("keeps at most one point per bucket, the largest, and never thousands", () => {
    const week = 7 * 86_400_000;
    const samples = Array.from({ length: 120_960 }, (_, i) => ({ at: i * 5_000, value: i === 50_000 ? 99 : 5 }));
    const out = downsampleMax(samples, 0, week, 600);
    expect(out.length).toBeLessThanOrEqual(600);
    expect(out.length).toBeGreaterThan(590);
    expect(out.reduce((n, b) => n + b.n, 0)).toBe(120_960);
    expect(out.find((b) => b.value === 99)?.at).toBe(50_000 * 5_000);
  });
  it("drops samples outside the range and handles an empty range", () => {
    expect(downsampleMax([{ at: 5, value: 1 }], 10, 20, 4)).toEqual([]);
    expect(downsampleMax([{ at: 5, value: 1 }], 10, 10, 4)).toEqual([]);
  });
});
