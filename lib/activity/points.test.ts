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
      ["publish", 260],
    ]);
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
