import { describe, expect, it } from "vitest";
import { SystemWatch } from "./system";

describe("SystemWatch", () => {
  it("fires once a condition held for its threshold, resolves at once when over", () => {
    const w = new SystemWatch({ broker: 30_000 });
    expect(w.set("broker", 1_000, "unreachable", 1_000)).toEqual([]);
    // The first time it went wrong is kept while it stays wrong.
    expect(w.set("broker", 5_000, "still unreachable", 5_000)).toEqual([]);
    expect(w.nextDeadline()).toBe(31_000);
    expect(w.tick(30_999)).toEqual([]);
    expect(w.tick(31_000)).toEqual([{ type: "fire", source: "broker", at: 31_000, message: "still unreachable" }]);
    expect(w.tick(60_000)).toEqual([]);
    expect(w.isFiring("broker")).toBe(true);
    expect(w.set("broker", null, "reachable again", 61_000)).toEqual([
      { type: "resolve", source: "broker", at: 61_000, message: "reachable again" },
    ]);
    expect(w.set("broker", null, "reachable again", 62_000)).toEqual([]);
  });

  it("a blip shorter than the threshold never fires", () => {
    const w = new SystemWatch({ database: 30_000 });
    w.set("database", 0, "down", 0);
    expect(w.set("database", null, "up", 29_000)).toEqual([]);
    expect(w.tick(40_000)).toEqual([]);
    expect(w.nextDeadline()).toBeNull();
  });

  it("without a threshold a condition fires at once (a stalled log was already waited for)", () => {
    const w = new SystemWatch({});
    expect(w.set("debug_log", 0, "stalled", 12_000)).toEqual([
      { type: "fire", source: "debug_log", at: 12_000, message: "stalled" },
    ]);
  });

  it("an event fires and resolves at once; restored alerts are not fired again", () => {
    const w = new SystemWatch({ broker: 30_000 });
    expect(w.event("broker_restart", "restarted", 5)).toEqual([
      { type: "fire", source: "broker_restart", at: 5, message: "restarted", event: true },
      { type: "resolve", source: "broker_restart", at: 5, message: "an event: resolved when it fired", event: true },
    ]);
    w.restore(["broker"]);
    expect(w.set("broker", 0, "down", 100_000)).toEqual([]);
    expect(w.set("broker", null, "up", 100_001)).toHaveLength(1);
  });
});
