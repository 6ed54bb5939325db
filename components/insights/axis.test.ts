import { describe, expect, it } from "vitest";
import { countTicks, hourLabels, hourRange } from "./axis";

describe("count axis", () => {
  it("starts at 0, reaches the maximum, in whole 1-2-5 steps", () => {
    expect(countTicks(0)).toEqual([0, 1]);
    expect(countTicks(1)).toEqual([0, 1]);
    expect(countTicks(3)).toEqual([0, 1, 2, 3]);
    expect(countTicks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(countTicks(10)).toEqual([0, 5, 10]);
    expect(countTicks(37)).toEqual([0, 10, 20, 30, 40]);
    expect(countTicks(1234)).toEqual([0, 500, 1000, 1500]);
  });

  it("never has more than five ticks and always covers the maximum", () => {
    for (let max = 0; max < 5000; max += 7) {
      const t = countTicks(max);
      expect(t.length).toBeLessThanOrEqual(5);
      expect(t[t.length - 1]).toBeGreaterThanOrEqual(max);
      expect(t.every((x) => Number.isInteger(x))).toBe(true);
    }
  });
});

describe("hour labels", () => {
  const day = Array.from({ length: 24 }, (_, i) => new Date(Date.UTC(2026, 11, 3, 10 + i)).toISOString());
  const week = Array.from({ length: 168 }, (_, i) => new Date(Date.UTC(2026, 11, 3, 10 + i)).toISOString());

  it("labels every third hour over a day", () => {
    const labels = hourLabels(day);
    expect(labels.map((l) => l.label)).toEqual([
      "12:00",
      "15:00",
      "18:00",
      "21:00",
      "00:00",
      "03:00",
      "06:00",
      "09:00",
    ]);
    expect(labels[0].index).toBe(2);
  });

  it("labels each midnight over a week", () => {
    expect(hourLabels(week).map((l) => l.label)).toEqual([
      "Dec 4",
      "Dec 5",
      "Dec 6",
      "Dec 7",
      "Dec 8",
      "Dec 9",
      "Dec 10",
    ]);
  });

  it("names an hour's span", () => {
    expect(hourRange("2026-12-04T23:00:00.000Z")).toBe("Dec 4, 23:00–00:00 UTC");
  });
});
