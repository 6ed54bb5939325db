import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FlushLoop } from "./flush-loop";

/** A writer's buffer: `drain` writes it, or fails while `down`. */
function harness(opts: { intervalMs?: number; maxRetryDelayMs?: number; maxBatch?: number } = {}) {
  const state = { buffered: 0, written: 0, drains: [] as number[], down: false, running: 0, overlaps: 0 };
  const loop = new FlushLoop({
    intervalMs: opts.intervalMs ?? 100,
    maxRetryDelayMs: opts.maxRetryDelayMs ?? 1_000,
    full: () => state.buffered >= (opts.maxBatch ?? 10),
    drain: async () => {
      state.drains.push(Date.now());
      if (state.running > 0) state.overlaps++;
      state.running++;
      await new Promise((r) => setTimeout(r, 5));
      state.running--;
      if (state.down) throw new Error("database down");
      const n = Math.min(state.buffered, opts.maxBatch ?? 10);
      state.buffered -= n;
      state.written += n;
    },
  });
  return { loop, state };
}

describe("FlushLoop", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => vi.useRealTimers());

  it("writes every interval once started, and not after a pause", async () => {
    const { loop, state } = harness();
    await vi.advanceTimersByTimeAsync(500);
    expect(state.drains).toEqual([]);
    loop.start();
    state.buffered = 3;
    await vi.advanceTimersByTimeAsync(110);
    expect(state.written).toBe(3);
    await vi.advanceTimersByTimeAsync(300);
    expect(state.drains).toEqual([600, 705, 810]); // started at 500; each write takes 5 ms, the next comes an interval later
    loop.pause();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(state.drains.length).toBe(3);
    expect(loop.running).toBe(false);
  });

  it("writes a full batch at once (nudge) and keeps going while batches stay full", async () => {
    const { loop, state } = harness({ intervalMs: 1_000 });
    loop.start();
    state.buffered = 25;
    loop.nudge();
    await vi.advanceTimersByTimeAsync(20);
    expect(state.written).toBe(20); // two full batches back to back, not one a second
    expect(state.overlaps).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(state.written).toBe(25); // the rest at the interval
  });

  it("does not nudge a loop that is not started or is retrying", async () => {
    const { loop, state } = harness({ intervalMs: 1_000 });
    state.buffered = 25;
    loop.nudge();
    await vi.advanceTimersByTimeAsync(50);
    expect(state.drains).toEqual([]);
    loop.start();
    state.down = true;
    await vi.advanceTimersByTimeAsync(1_010);
    expect(loop.failures).toBe(1);
    loop.nudge();
    await vi.advanceTimersByTimeAsync(50);
    expect(state.drains.length).toBe(1);
  });

  it("backs off while the database fails, keeps the data, and resets on success", async () => {
    const { loop, state } = harness({ intervalMs: 100, maxRetryDelayMs: 400 });
    state.buffered = 5;
    state.down = true;
    loop.start();
    await vi.advanceTimersByTimeAsync(3_000);
    const gaps = state.drains.slice(1).map((t, i) => t - state.drains[i] - 5);
    // the ceiling doubles from the interval, capped (equal jitter: between half the ceiling and the ceiling)
    expect(gaps[0]).toBeLessThanOrEqual(100);
    for (const g of gaps) expect(g).toBeLessThanOrEqual(400);
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(200);
    expect(state.buffered).toBe(5);
    state.down = false;
    await vi.advanceTimersByTimeAsync(500);
    expect(state.written).toBe(5);
    expect(loop.failures).toBe(0);
  });

  it("runs a flush and any chained step one at a time, in order", async () => {
    const { loop, state } = harness();
    const order: string[] = [];
    state.buffered = 3;
    const a = loop.flush().then(() => order.push("flush"));
    const b = loop
      .chained(async () => {
        expect(state.running).toBe(0);
        order.push("step");
      })
      .then(() => order.push("step done"));
    const c = loop.flush(async () => {
      order.push("custom drain");
    });
    await vi.advanceTimersByTimeAsync(50);
    await Promise.all([a, b, c]);
    expect(order).toEqual(["flush", "step", "step done", "custom drain"]);
    expect(state.overlaps).toBe(0);
  });

  it("a failed flush rejects with the database's error", async () => {
    const { loop, state } = harness();
    state.down = true;
    const run = loop.flush();
    const caught = run.catch((e: Error) => e.message);
    await vi.advanceTimersByTimeAsync(10);
    expect(await caught).toBe("database down");
    expect(loop.failures).toBe(1);
    expect(loop.retryDelay(1)).toBe(100);
  });
});
