import { describe, expect, it } from "vitest";
import { DeadlineHeap } from "./deadlines";

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The naive model: a map, scanned in full. */
function naiveMin(model: Map<string, number>): number | undefined {
  let min: number | undefined;
  for (const at of model.values()) if (min === undefined || at < min) min = at;
  return min;
}

function naiveDue(model: Map<string, number>, now: number): string[] {
  const due = [...model.entries()].filter(([, at]) => at <= now);
  for (const [id] of due) model.delete(id);
  return due.map(([id]) => id).sort();
}

describe("DeadlineHeap", () => {
  it("starts empty", () => {
    const h = new DeadlineHeap();
    expect(h.size).toBe(0);
    expect(h.peek()).toBeUndefined();
    expect(h.popDue(Number.MAX_SAFE_INTEGER)).toEqual([]);
  });

  it("pops due entries earliest first and leaves the rest", () => {
    const h = new DeadlineHeap();
    h.set("c", 30);
    h.set("a", 10);
    h.set("d", 40);
    h.set("b", 20);
    expect(h.peek()).toEqual({ id: "a", at: 10 });
    expect(h.popDue(25)).toEqual(["a", "b"]);
    expect(h.size).toBe(2);
    expect(h.peek()).toEqual({ id: "c", at: 30 });
    expect(h.popDue(29)).toEqual([]);
    expect(h.popDue(30)).toEqual(["c"]);
  });

  it("updates an existing id in place, earlier and later, without growing", () => {
    const h = new DeadlineHeap();
    h.set("a", 10);
    h.set("b", 20);
    h.set("c", 30);
    h.set("c", 5); // moves up
    expect(h.size).toBe(3);
    expect(h.peek()).toEqual({ id: "c", at: 5 });
    h.set("c", 50); // moves down
    expect(h.size).toBe(3);
    expect(h.peek()).toEqual({ id: "a", at: 10 });
    expect(h.get("c")).toBe(50);
    for (let i = 0; i < 1000; i++) h.set("a", 1000 + i);
    expect(h.size).toBe(3);
    expect(h.popDue(10_000)).toEqual(["b", "c", "a"]);
  });

  it("deletes any entry, including the root and the last slot", () => {
    const h = new DeadlineHeap();
    for (const [id, at] of [
      ["a", 1],
      ["b", 2],
      ["c", 3],
      ["d", 4],
      ["e", 5],
    ] as const)
      h.set(id, at);
    expect(h.delete("a")).toBe(true);
    expect(h.delete("e")).toBe(true);
    expect(h.delete("zz")).toBe(false);
    expect(h.has("a")).toBe(false);
    expect(h.size).toBe(3);
    expect(h.popDue(100)).toEqual(["b", "c", "d"]);
  });

  it("keeps an id's slot across pops and deletes; forget frees it for another id", () => {
    const h = new DeadlineHeap();
    h.set("a", 1);
    h.set("b", 2);
    expect(h.popDue(1)).toEqual(["a"]);
    h.set("a", 5); // the popped id back, on its old slot
    expect(h.delete("b")).toBe(true);
    h.forget("a");
    expect(h.has("a")).toBe(false);
    expect(h.size).toBe(0);
    h.set("c", 3);
    h.set("d", 1);
    expect(h.peek()).toEqual({ id: "d", at: 1 });
    expect(h.popDue(10)).toEqual(["d", "c"]);
    h.forget("never-set");
    expect(h.size).toBe(0);
  });

  it("rejects non-finite deadlines", () => {
    const h = new DeadlineHeap();
    expect(() => h.set("a", Number.NaN)).toThrow(RangeError);
    expect(() => h.set("a", Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(h.size).toBe(0);
  });

  it("agrees with a naive model over 100k random operations", () => {
    const random = rng(20240611);
    const h = new DeadlineHeap();
    const model = new Map<string, number>();
    const ids = Array.from({ length: 2_000 }, (_, i) => `dev-${i}`);
    let now = 0;
    for (let op = 0; op < 100_000; op++) {
      const r = random();
      const id = ids[Math.floor(random() * ids.length)];
      if (r < 0.55) {
        const at = now + Math.floor(random() * 10_000);
        h.set(id, at);
        model.set(id, at);
      } else if (r < 0.7) {
        const [got, want] = [h.delete(id), model.delete(id)];
        if (got !== want) expect({ op, delete: id, got }).toEqual({ op, delete: id, got: want });
      } else if (r < 0.75) {
        // Forgotten: its slot goes to another id later.
        h.forget(id);
        model.delete(id);
        if (h.has(id) || h.get(id) !== undefined) expect({ op, forgotten: id }).toEqual({ op, gone: id });
      } else if (r < 0.95) {
        now += Math.floor(random() * 400);
        const got = h.popDue(now);
        const gotTimes = got.map((g) => model.get(g) as number);
        expect(gotTimes).toEqual([...gotTimes].sort((a, b) => a - b)); // earliest first
        expect(got.some((g) => h.has(g))).toBe(false); // really removed
        expect([...got].sort()).toEqual(naiveDue(model, now));
      } else if (h.peek()?.at !== naiveMin(model)) {
        expect({ op, peek: h.peek()?.at }).toEqual({ op, peek: naiveMin(model) });
      }
      if (h.size !== model.size) expect({ op, size: h.size }).toEqual({ op, size: model.size });
      if (h.get(id) !== model.get(id)) expect({ op, id, at: h.get(id) }).toEqual({ op, id, at: model.get(id) });
    }
    // Drain: everything comes out in non-decreasing time order and matches the model.
    const order: number[] = [];
    while (h.size > 0) {
      const top = h.peek()!;
      for (const id of h.popDue(top.at)) {
        expect(model.get(id)).toBe(top.at); // the minimum: nothing later may come out with it
        model.delete(id);
        order.push(top.at);
      }
    }
    expect(model.size).toBe(0);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });
});
