import { describe, expect, it } from "vitest";
import { bucketRollups, mergeRollups, minuteOf, parseActivityQuery } from "./activity";
import { AppError } from "./errors";

const T = Date.parse("2026-11-22T10:00:00.000Z");
const url = (q: string) => `http://x/api/devices/d/activity?${q}`;

describe("parseActivityQuery", () => {
  it("defaults to the last hour and reads kinds, limit and bucketMinutes", () => {
    expect(parseActivityQuery(url(""), T)).toEqual({
      from: T - 3_600_000,
      to: T,
      kinds: undefined,
      limit: 50_000,
      bucketMinutes: 1,
    });
    expect(
      parseActivityQuery(url("from=2026-11-22T09:00:00Z&kinds=pingreq,disconnect&limit=10&bucketMinutes=15"), T),
    ).toEqual({
      from: T - 3_600_000,
      to: T,
      kinds: ["pingreq", "disconnect"],
      limit: 10,
      bucketMinutes: 15,
    });
  });
  it.each([
    ["from=2026-11-22T11:00:00Z&to=2026-11-22T10:00:00Z", /before/],
    ["from=2026-11-22T10:00:00Z&to=2026-11-22T10:00:00Z", /before/],
    ["from=nope", /ISO-8601/],
    ["from=2026-11-22T10:00:00", /time zone/],
    ["from=2026-01-01&to=2026-03-01", /35 days/],
    ["kinds=ping", /unknown kind/],
    ["limit=0", /limit/],
    ["bucketMinutes=2000", /bucketMinutes/],
    ["range=1h", /unknown parameter/],
  ])("rejects %s", (q, message) => {
    expect(() => parseActivityQuery(url(q), T)).toThrow(AppError);
    expect(() => parseActivityQuery(url(q), T)).toThrow(message);
  });
});

describe("roll-up merging", () => {
  const r = (minute: number, count: number, maxGapMs: number | null) => ({ deviceId: "d", minute, count, maxGapMs });
  it("adds the recorder's pending minutes to the stored ones", () => {
    expect(
      mergeRollups([r(T, 3, 2000)], [r(T, 1, 9000), r(T + 60_000, 2, null), r(T + 3_600_000, 1, 1)], T, T + 120_000),
    ).toEqual([r(T, 4, 9000), r(T + 60_000, 2, null)]);
  });
  it("merges minutes into buckets, keeping the largest gap", () => {
    expect(bucketRollups([r(T, 2, 1000), r(T + 60_000, 3, 5000), r(T + 15 * 60_000, 1, null)], 15)).toEqual([
      r(T, 5, 5000),
      r(T + 15 * 60_000, 1, null),
    ]);
  });
});

describe("minuteOf", () => {
  it("keeps the minute that began before the range's start, since it overlaps the range", () => {
    const from = Date.parse("2026-11-22T10:05:42.500Z");
    expect(new Date(minuteOf(from)).toISOString()).toBe("2026-11-22T10:05:00.000Z");
    expect(minuteOf(Date.parse("2026-11-22T10:05:00.000Z"))).toBe(Date.parse("2026-11-22T10:05:00.000Z"));
  });
});
