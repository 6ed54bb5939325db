import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bodyScale, bodySize, MAX_BODY_PX, rowOffset, rowRange, scrollFor } from "./useRowWindow";

const ROW = 30;
const HEADER = 32;

describe("rowRange", () => {
  it("shows the rows in view plus the overscan, clamped to the table", () => {
    expect(rowRange(0, 300, 400_000, ROW, HEADER, 0)).toEqual({ first: 0, last: 9 });
    expect(rowRange(0, 300, 400_000, ROW, HEADER, 5)).toEqual({ first: 0, last: 14 });
    expect(rowRange(HEADER + 30 * 200_000, 300, 400_000, ROW, HEADER, 5)).toEqual({ first: 199_995, last: 200_014 });
    expect(rowRange(HEADER + 30 * 399_990, 300, 400_000, ROW, HEADER, 5)).toEqual({ first: 399_985, last: 399_999 });
    expect(rowRange(0, 300, 3, ROW, HEADER, 5)).toEqual({ first: 0, last: 2 });
    expect(rowRange(0, 300, 0, ROW, HEADER, 5)).toEqual({ first: 0, last: -1 });
    // a scroll position left from a longer view
    expect(rowRange(HEADER + 30 * 5_000, 300, 10, ROW, HEADER, 5)).toEqual({ first: 9, last: 9 });
  });

  it("always covers every row at least partly in view, up to millions of rows (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5_000_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 2_000 }),
        fc.integer({ min: 0, max: 20 }),
        (count, where, height, overscan) => {
          // Any scroll position the container allows: its content is the header and the body.
          const maxTop = Math.max(0, HEADER + bodySize(count, ROW) - height);
          const t = Math.round(where * maxTop);
          const { first, last } = rowRange(t, height, count, ROW, HEADER, overscan);
          expect(first).toBeGreaterThanOrEqual(0);
          expect(last).toBeLessThan(count);
          expect(last - first + 1).toBeLessThanOrEqual(Math.ceil(height / ROW) + 1 + 2 * overscan);
          // Every row drawn where the viewport shows the body (below the sticky header) is in the range:
          // a row drawn at `offset` in the body sits at HEADER + offset in the container's content.
          const offset = (i: number) => rowOffset(i, t, height, count, ROW, HEADER);
          const shown = (i: number) => HEADER + offset(i) + ROW > t + HEADER && HEADER + offset(i) < t + height;
          const guess = Math.min(count - 1, Math.max(0, Math.floor(-offset(0) / ROW)));
          for (let i = Math.max(0, guess - 3); i < count && i <= guess + Math.ceil(height / ROW) + 3; i++)
            if (shown(i)) {
              expect(i).toBeGreaterThanOrEqual(first);
              expect(i).toBeLessThanOrEqual(last);
            }
          // The body never outgrows the browsers' cap.
          expect(bodySize(count, ROW)).toBeLessThanOrEqual(MAX_BODY_PX);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("past the browsers' height cap, the first scroll position shows the first row and the last one the last", () => {
    const count = 3_000_000;
    const height = 600;
    expect(bodyScale(count, ROW, height)).toBeGreaterThan(5);
    expect(bodyScale(400_000, ROW, height)).toBe(1);
    expect(rowRange(0, height, count, ROW, HEADER, 0).first).toBe(0);
    const end = HEADER + bodySize(count, ROW) - height;
    const { last } = rowRange(end, height, count, ROW, HEADER, 0);
    expect(last).toBe(count - 1);
    // drawn flush with the container's bottom
    expect(HEADER + rowOffset(count - 1, end, height, count, ROW, HEADER) + ROW).toBeCloseTo(end + height, 6);
  });
});

describe("scrollFor", () => {
  it("scrolls only as far as needed to show the whole row below the sticky header", () => {
    // viewport 300 px at the top: rows 0…7 fully visible (the header takes 32 px)
    const n = 400_000;
    expect(scrollFor(0, 0, 300, n, ROW, HEADER)).toBeNull();
    expect(scrollFor(7, 0, 300, n, ROW, HEADER)).toBeNull();
    expect(scrollFor(8, 0, 300, n, ROW, HEADER)).toBe(HEADER + 9 * ROW - 300);
    // scrolled down: a row above goes just under the header
    expect(scrollFor(2, 1000, 300, n, ROW, HEADER)).toBe(2 * ROW);
    expect(scrollFor(n - 1, 0, 300, n, ROW, HEADER)).toBe(HEADER + n * ROW - 300);
  });

  it("brings any row of any fleet fully into view below the header, scaled or not (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5_000_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 3 * ROW + HEADER, max: 2_000 }),
        (count, where, which, height) => {
          const maxTop = Math.max(0, HEADER + bodySize(count, ROW) - height);
          const top = Math.round(where * maxTop);
          const index = Math.min(count - 1, Math.floor(which * count));
          const to = scrollFor(index, top, height, count, ROW, HEADER) ?? top;
          // A browser keeps the position within the content and may round it to a whole pixel.
          for (const t of [Math.min(Math.max(0, to), maxTop), Math.min(Math.round(Math.max(0, to)), maxTop)]) {
            const y = HEADER + rowOffset(index, t, height, count, ROW, HEADER);
            const slack = bodyScale(count, ROW, height) + 1e-6; // one scrolled pixel moves the rows this far
            expect(y).toBeGreaterThanOrEqual(t + HEADER - slack);
            expect(y + ROW).toBeLessThanOrEqual(t + height + slack);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
