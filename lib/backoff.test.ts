import { describe, expect, it } from "vitest";
import { backoffCeiling, backoffDelay, retryWithin } from "./backoff";

const P = { initialMs: 500, maxMs: 30_000 };

describe("backoff", () => {
  it("doubles from the initial delay up to the ceiling, 50–100 % of it with jitter", () => {
    expect(backoffDelay(0, P, () => 1)).toBe(500);
    expect(backoffDelay(0, P, () => 0)).toBe(250);
    expect(backoffDelay(3, P, () => 1)).toBe(4_000);
    expect(backoffDelay(10, P, () => 1)).toBe(30_000);
    expect(backoffDelay(10, P, () => 0)).toBe(15_000);
    // Huge attempt counts neither overflow nor exceed the ceiling.
    expect(backoffDelay(10_000, P, () => 0.5)).toBe(22_500);
    expect(backoffDelay(-1, P, () => 1)).toBe(500);
  });

  it("spreads retries with jitter, within the bounds", () => {
    const delays = Array.from({ length: 200 }, () => backoffDelay(4, P));
    expect(new Set(delays).size).toBeGreaterThan(20);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(4_000);
      expect(d).toBeLessThanOrEqual(8_000);
    }
  });

  it("without jitter waits the whole ceiling", () => {
    expect([0, 1, 2, 3, 6, 7, 50].map((a) => backoffCeiling(a, P))).toEqual([
      500, 1_000, 2_000, 4_000, 30_000, 30_000, 30_000,
    ]);
  });
});

describe("retryWithin", () => {
  const clock = () => {
    let t = 0;
    const waits: number[] = [];
    return { now: () => t, sleep: async (ms: number) => void (waits.push(ms), (t += ms)), waits };
  };

  it("retries with growing waits until the attempt succeeds", async () => {
    const c = clock();
    const errors: unknown[] = [];
    let n = 0;
    const ok = await retryWithin(
      async () => {
        if (++n < 4) throw new Error(`fail ${n}`);
      },
      { policy: { initialMs: 250, maxMs: 1_000 }, budgetMs: Infinity, onError: (e) => errors.push(e), ...c },
    );
    expect(ok).toBe(true);
    expect(c.waits).toEqual([250, 500, 1_000]);
    expect(errors.map((e) => (e as Error).message)).toEqual(["fail 1", "fail 2", "fail 3"]);
  });

  it("gives up when the next wait would end past the budget", async () => {
    const c = clock();
    let n = 0;
    const ok = await retryWithin(
      async () => {
        n++;
        throw new Error("down");
      },
      { policy: { initialMs: 250, maxMs: 5_000 }, budgetMs: 2_000, ...c },
    );
    expect(ok).toBe(false);
    // 250 + 500 + 1000 = 1750 waited; the next wait (2000) would end past 2000.
    expect(c.waits).toEqual([250, 500, 1_000]);
    expect(n).toBe(4);
  });
});
