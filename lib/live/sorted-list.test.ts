import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SortedList } from "./sorted-list";

const byNumber = (a: number, b: number) => a - b;

describe("SortedList", () => {
  it("agrees with a sorted array under any sequence of adds and deletes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 400 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3000 })), { maxLength: 3000 }),
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 0, max: 600 }),
        (initial, ops, offset, limit) => {
          const model = [...new Set(initial)].sort(byNumber);
          const list = SortedList.fromSorted(model, byNumber);
          for (const [add, x] of ops) {
            const i = model.indexOf(x);
            if (add && i < 0) {
              list.add(x);
              model.push(x);
              model.sort(byNumber);
            } else if (!add) {
              expect(list.delete(x)).toBe(i >= 0);
              if (i >= 0) model.splice(i, 1);
            }
          }
          expect(list.size).toBe(model.length);
          expect([...list]).toEqual(model);
          expect(list.slice(offset, limit)).toEqual(model.slice(offset, offset + limit));
          const probe = offset;
          expect(list.rank(probe)).toBe(model.filter((m) => m < probe).length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("keeps chunks bounded when a million elements arrive in order and most leave", () => {
    const list = new SortedList(byNumber);
    for (let i = 0; i < 1_000_000; i++) list.add(i);
    expect(list.size).toBe(1_000_000);
    expect(list.slice(999_998, 5)).toEqual([999_998, 999_999]);
    for (let i = 0; i < 1_000_000; i += 2) list.delete(i);
    expect(list.size).toBe(500_000);
    expect(list.slice(0, 3)).toEqual([1, 3, 5]);
    expect(list.rank(500_001)).toBe(250_000);
  });
});
