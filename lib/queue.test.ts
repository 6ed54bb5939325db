import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { Queue } from "./queue";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

describe("Queue", () => {
  it("reads, takes and drops from the front in order, across compactions", () => {
    const q = new Queue<number>();
    for (let i = 0; i < 20_000; i++) q.push(i);
    expect(q.front(3)).toEqual([0, 1, 2]);
    expect(q.length).toBe(20_000); // front() leaves them
    expect(q.take(5_000)).toHaveLength(5_000);
    q.drop(6_000); // compacts: the head passed half of the array
    expect(q.peek()).toBe(11_000);
    expect(q.front(2)).toEqual([11_000, 11_001]);
    q.push(20_000);
    expect(q.shift()).toBe(11_000);
    q.restore([-2, -1]);
    expect(q.front(3)).toEqual([-2, -1, 11_001]);
    q.drop(Number.MAX_SAFE_INTEGER);
    expect(q.length).toBe(0);
    expect(q.peek()).toBeUndefined();
    expect(q.front(10)).toEqual([]);
  });

  it("lets go of what it handed out: a taken item is not kept alive behind the head", async () => {
    const q = new Queue<{ n: number }>();
    const refs: WeakRef<{ n: number }>[] = [];
    for (let n = 0; n < 100; n++) {
      const item = { n };
      refs.push(new WeakRef(item));
      q.push(item);
    }
    q.shift();
    q.take(10);
    q.drop(10);
    // A WeakRef keeps its target alive until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(refs.slice(0, 21).filter((r) => r.deref() !== undefined)).toEqual([]);
    expect(refs.slice(21).every((r) => r.deref() !== undefined)).toBe(true);
    expect(q.peek()?.n).toBe(21);
  });
});
