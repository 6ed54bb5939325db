import { EventEmitter } from "node:events";
import { afterEach, describe, expect, it, vi } from "vitest";
import { stopOnSignals, type SignalTarget } from "./signals";

function fakeProcess() {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  const target: SignalTarget = {
    listeners: (s) => emitter.listeners(s) as ((...args: never[]) => unknown)[],
    removeListener: (s, l) => emitter.removeListener(s, l),
    on: (s, l) => emitter.on(s, l),
    exit: (code) => void exits.push(code),
  };
  return { emitter, target, exits };
}

const settle = () => new Promise((r) => setImmediate(r));

describe("stopOnSignals", () => {
  afterEach(() => vi.useRealTimers());

  it("stops the runtime once, then exits 143 on SIGTERM when nobody else listens", async () => {
    const p = fakeProcess();
    const stop = vi.fn(async () => {});
    stopOnSignals({ stop }, p.target);
    p.emitter.emit("SIGTERM", "SIGTERM");
    p.emitter.emit("SIGTERM", "SIGTERM");
    await settle();
    expect(stop).toHaveBeenCalledTimes(1);
    expect(p.exits).toEqual([143, 143]);
  });

  it("exits 130 on SIGINT", async () => {
    const p = fakeProcess();
    stopOnSignals({ stop: async () => {} }, p.target);
    p.emitter.emit("SIGINT", "SIGINT");
    await settle();
    expect(p.exits).toEqual([130]);
  });

  it("runs the listeners registered before it after the stop, instead of exiting", async () => {
    const p = fakeProcess();
    const order: string[] = [];
    p.emitter.on("SIGTERM", (s) => order.push(`next ${s}`));
    stopOnSignals(
      {
        stop: async () => {
          order.push("stop");
        },
      },
      p.target,
    );
    expect(p.emitter.listenerCount("SIGTERM")).toBe(1);
    p.emitter.emit("SIGTERM", "SIGTERM");
    await settle();
    expect(order).toEqual(["stop", "next SIGTERM"]);
    expect(p.exits).toEqual([]);
  });

  it("gives a hanging stop up after the timeout, and a failing one is logged", async () => {
    vi.useFakeTimers();
    const p = fakeProcess();
    stopOnSignals({ stop: () => new Promise<void>(() => {}) }, p.target, 10_000);
    p.emitter.emit("SIGTERM", "SIGTERM");
    await vi.advanceTimersByTimeAsync(9_999);
    expect(p.exits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(p.exits).toEqual([143]);

    const q = fakeProcess();
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    stopOnSignals({ stop: async () => Promise.reject(new Error("boom")) }, q.target);
    q.emitter.emit("SIGINT", "SIGINT");
    await vi.advanceTimersByTimeAsync(0);
    expect(q.exits).toEqual([130]);
    expect(error).toHaveBeenCalledWith("[keepwatch] stop failed", expect.any(Error));
    error.mockRestore();
  });
});
