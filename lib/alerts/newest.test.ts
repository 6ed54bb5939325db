import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { newest } from "./service";

describe("newest", () => {
  it("is the first k of a full sort, in order", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 })), fc.integer({ min: 1, max: 20 }), (xs, k) => {
        const order = (a: number, b: number) => b - a;
        expect(newest(xs, k, order)).toEqual([...xs].sort(order).slice(0, k));
      }),
    );
  });
});
