import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { JobRegistry, toJobDto } from "./registry";

describe("JobRegistry", () => {
  let jobs: JobRegistry;
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse("2026-01-01T00:00:00Z") });
    jobs = new JobRegistry();
  });
  afterEach(async () => {
    await jobs.stopAll();
    vi.useRealTimers();
  });

  it("runs a job once per interval, and not before the first one", () => {
    const run = vi.fn();
    jobs.register({ name: "a", intervalMs: 1_000, run });
    vi.advanceTimersByTime(999);
    expect(run).toHaveBeenCalledTimes(0);
    vi.advanceTimersByTime(1);
    expect(run).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(4_000);
    expect(run).toHaveBeenCalledTimes(5);
    const [s] = jobs.list();
    expect(s).toMatchObject({ name: "a", intervalMs: 1_000, running: false, runs: 5, overlaps: 0, lastError: null });
    expect(s.lastStartedAt).toBe(Date.parse("2026-01-01T00:00:05Z"));
    expect(s.lastSuccessAt).toBe(Date.parse("2026-01-01T00:00:05Z"));
  });

  it("runs at registration with immediate", () => {
    const run = vi.fn();
    jobs.register({ name: "a", intervalMs: 1_000, run, immediate: true });
    expect(run).toHaveBeenCalledTimes(1);
  });

  it("never runs a job twice at once: an interval during a run is skipped and counted", async () => {
    let release!: () => void;
    let active = 0;
    let most = 0;
    const run = vi.fn(async () => {
      active += 1;
      most = Math.max(most, active);
      await new Promise<void>((r) => (release = r));
      active -= 1;
    });
    jobs.register({ name: "slow", intervalMs: 100, run });
    await vi.advanceTimersByTimeAsync(100);
    expect(jobs.list()[0].running).toBe(true);
    await vi.advanceTimersByTimeAsync(350);
    expect(run).toHaveBeenCalledTimes(1);
    expect(jobs.list()[0].overlaps).toBe(3);
    release();
    await vi.advanceTimersByTimeAsync(0);
    const s = jobs.list()[0];
    expect(s).toMatchObject({ running: false, runs: 1, overlaps: 3 });
    expect(s.lastDurationMs).toBe(350);
    await vi.advanceTimersByTimeAsync(50);
    expect(run).toHaveBeenCalledTimes(2);
    expect(most).toBe(1);
    release();
  });

  it("records an error by its message and runs again at the next interval", async () => {
    let calls = 0;
    jobs.register({
      name: "flaky",
      intervalMs: 1_000,
      run: async () => {
        calls += 1;
        if (calls === 1) throw new Error("database unreachable");
      },
    });
    await vi.advanceTimersByTimeAsync(1_000);
    let s = jobs.list()[0];
    expect(s.lastError).toBe("database unreachable");
    expect(s.lastSuccessAt).toBeNull();
    await vi.advanceTimersByTimeAsync(1_000);
    s = jobs.list()[0];
    expect(calls).toBe(2);
    expect(s.runs).toBe(2);
    expect(s.lastSuccessAt).toBe(Date.parse("2026-01-01T00:00:02Z"));
    // The last error stays for the operator to see; the success after it is newer.
    expect(s.lastError).toBe("database unreachable");
  });

  it("records a synchronous throw too, without its stack", () => {
    jobs.register({
      name: "sync",
      intervalMs: 10,
      run: () => {
        throw new TypeError("boom");
      },
    });
    vi.advanceTimersByTime(10);
    const s = jobs.list()[0];
    expect(s.lastError).toBe("boom");
    expect(s.running).toBe(false);
    vi.advanceTimersByTime(10);
    expect(jobs.list()[0].runs).toBe(2);
  });

  it("trigger runs now, or once more right after a run under way", async () => {
    let release: (() => void) | null = null;
    const run = vi.fn(() => new Promise<void>((r) => (release = r)));
    jobs.register({ name: "t", intervalMs: 60_000, run });
    jobs.trigger("t");
    expect(run).toHaveBeenCalledTimes(1);
    jobs.trigger("t");
    jobs.trigger("t");
    expect(run).toHaveBeenCalledTimes(1);
    release!();
    await vi.advanceTimersByTimeAsync(0);
    expect(run).toHaveBeenCalledTimes(2);
    release!();
    await vi.advanceTimersByTimeAsync(0);
    expect(run).toHaveBeenCalledTimes(2);
  });

  it("refuses a name already registered", () => {
    jobs.register({ name: "a", intervalMs: 10, run: () => {} });
    expect(() => jobs.register({ name: "a", intervalMs: 10, run: () => {} })).toThrow(/already registered/);
  });

  it("stopAll clears every timer and waits for the runs under way", async () => {
    let release!: () => void;
    let finished = false;
    const a = vi.fn(async () => {
      await new Promise<void>((r) => (release = r));
      finished = true;
    });
    const b = vi.fn();
    jobs.register({ name: "a", intervalMs: 100, run: a });
    jobs.register({ name: "b", intervalMs: 100, run: b });
    await vi.advanceTimersByTimeAsync(100);
    let stopped = false;
    const stopping = jobs.stopAll().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(finished).toBe(true);
    expect(jobs.list()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(a).toHaveBeenCalledTimes(1);
    expect(b).toHaveBeenCalledTimes(1);
    // A name is free again once its job stopped.
    jobs.register({ name: "a", intervalMs: 100, run: () => {} });
    expect(jobs.has("a")).toBe(true);
  });

  it("gives health ISO times", () => {
    jobs.register({ name: "a", intervalMs: 1_000, run: () => {} });
    vi.advanceTimersByTime(1_000);
    expect(toJobDto(jobs.list()[0])).toEqual({
      name: "a",
      intervalMs: 1_000,
      running: false,
      lastStartedAt: "2026-01-01T00:00:01.000Z",
      lastDurationMs: 0,
      lastSuccessAt: "2026-01-01T00:00:01.000Z",
      lastError: null,
      runs: 1,
      overlaps: 0,
    });
  });
});
