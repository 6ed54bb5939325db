import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { rowRange, scrollFor } from "./useRowWindow";

const ROW = 30;
const HEADER = 32;

describe("rowRange", () => {
  it("shows the rows in view plus the overscan, clamped to the table", () => {
    expect(rowRange(0, 300, 1_000_000, ROW, HEADER, 0)).toEqual({ first: 0, last: 9 });
    expect(rowRange(0, 300, 1_000_000, ROW, HEADER, 5)).toEqual({ first: 0, last: 14 });
    expect(rowRange(HEADER + 30 * 500_000, 300, 1_000_000, ROW, HEADER, 5)).toEqual({ first: 499_995, last: 500_014 });
    expect(rowRange(HEADER + 30 * 999_990, 300, 1_000_000, ROW, HEADER, 5)).toEqual({ first: 999_985, last: 999_999 });
    expect(rowRange(0, 300, 3, ROW, HEADER, 5)).toEqual({ first: 0, last: 2 });
    expect(rowRange(0, 300, 0, ROW, HEADER, 5)).toEqual({ first: 0, last: -1 });
    // a scroll position left from a longer view
    expect(rowRange(HEADER + 30 * 5_000, 300, 10, ROW, HEADER, 5)).toEqual({ first: 9, last: 9 });
  });

  it("always covers every row at least partly in view (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2_000_000 }),
        fc.integer({ min: 0, max: 70_000_000 }),
        fc.integer({ min: 0, max: 2_000 }),
        fc.integer({ min: 0, max: 20 }),
        (count, top, height, overscan) => {
          const maxTop = Math.max(0, HEADER + count * ROW - height);
          const t = Math.min(top, maxTop);
          const { first, last } = rowRange(t, height, count, ROW, HEADER, overscan);
          expect(first).toBeGreaterThanOrEqual(0);
          expect(last).toBeLessThan(count);
          expect(last - first + 1).toBeLessThanOrEqual(Math.ceil(height / ROW) + 1 + 2 * overscan);
          // every row whose pixels meet the viewport's body part is in the range
          const bodyTop = Math.max(0, t - HEADER);
          for (let i = Math.floor(bodyTop / ROW); i * ROW < bodyTop + height && i < count; i++) {
            expect(i).toBeGreaterThanOrEqual(first);
            expect(i).toBeLessThanOrEqual(last);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("scrollFor", () => {
  it("scrolls only as far as needed to show the whole row below the sticky header", () => {
    // viewport 300 px at the top: rows 0…7 fully visible (the header takes 32 px)
    expect(scrollFor(0, 0, 300, ROW, HEADER)).toBeNull();
    expect(scrollFor(7, 0, 300, ROW, HEADER)).toBeNull();
    expect(scrollFor(8, 0, 300, ROW, HEADER)).toBe(HEADER + 9 * ROW - 300);
    // scrolled down: a row above goes just under the header
    expect(scrollFor(2, 1000, 300, ROW, HEADER)).toBe(2 * ROW);
    expect(scrollFor(999_999, 0, 300, ROW, HEADER)).toBe(HEADER + 1_000_000 * ROW - 300);
  });
});
