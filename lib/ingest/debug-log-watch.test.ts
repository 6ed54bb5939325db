import { describe, expect, it } from "vitest";
import { DebugLogWatch } from "./debug-log-watch";

describe("DebugLogWatch", () => {
  it("is not visible until a debug line shows, and visible from that line's time", () => {
    const w = new DebugLogWatch(12_000);
    w.started(1_000);
    expect(w.read(2_000, 2_000)).toBe(false);
    expect(w.visible).toBe(false);
    expect(w.debugLine(2_000)).toBe(true);
    expect(w.debugLine(3_000)).toBe(false);
    expect(w).toMatchObject({ seen: true, stalled: false, visibleSince: 2_000, lastLineAt: 2_000 });
    expect(w.visible).toBe(true);
  });

  it("never stalls before it has shown a debug line", () => {
    const w = new DebugLogWatch(1_000);
    w.started(0);
    expect(w.check(60_000, true)).toBeNull();
    expect(w.stalled).toBe(false);
  });

  it("stalls only past stallMs of quiet, and only with the link up", () => {
    const w = new DebugLogWatch(12_000);
    w.started(0);
    w.read(1_000, 1_000);
    w.debugLine(1_000);
    expect(w.check(13_000, true)).toBeNull(); // exactly stallMs: not yet
    expect(w.check(20_000, false)).toBeNull(); // link down: the log was not expected to move
    expect(w.check(13_001, true)).toBe(12_001);
    expect(w.visible).toBe(false);
    expect(w.stalledAfterSeen).toBe(true);
    expect(w.check(14_000, true)).toBeNull(); // said once
  });

  it("moves again with the next line, and silence counts from then", () => {
    const w = new DebugLogWatch(1_000);
    w.debugLine(0);
    w.read(0, 0);
    expect(w.check(5_000, true)).toBe(5_000);
    expect(w.read(6_000, 6_050)).toBe(true);
    expect(w).toMatchObject({ stalled: false, visibleSince: 6_050, lastLineAt: 6_000 });
    expect(w.visible).toBe(true);
    expect(w.read(6_500, 6_500)).toBe(false);
    expect(w.visibleSince).toBe(6_050);
  });

  it("counts quiet time from the link coming back, never backwards", () => {
    const w = new DebugLogWatch(1_000);
    w.debugLine(0);
    w.read(0, 0);
    w.linkUp(10_000);
    expect(w.check(10_500, true)).toBeNull();
    w.linkUp(5_000);
    expect(w.lastLineAt).toBe(10_000);
    expect(w.check(11_001, true)).toBe(1_001);
  });
});
