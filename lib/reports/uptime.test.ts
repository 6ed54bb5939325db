import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buckets,
  combineUptime,
  complement,
  connectedIntervals,
  deviceUptime,
  mergeIntervals,
  uptimePercent,
  type SessionSpan,
} from "./uptime";

const S = 1000;
const T0 = Date.parse("2026-11-01T00:00:00Z");
const at = (s: number) => T0 + s * S;

describe("intervals", () => {
  it("merges overlapping, touching and duplicate intervals and drops empty ones", () => {
    expect(
      mergeIntervals([
        { start: 5, end: 7 },
        { start: 1, end: 3 },
        { start: 3, end: 4 },
        { start: 1, end: 3 },
        { start: 6, end: 9 },
        { start: 10, end: 10 },
        { start: 12, end: 11 },
      ]),
    ).toEqual([
      { start: 1, end: 4 },
      { start: 5, end: 9 },
    ]);
  });

  it("takes the complement inside a period", () => {
    expect(complement([{ start: 2, end: 4 }], 0, 10)).toEqual([
      { start: 0, end: 2 },
      { start: 4, end: 10 },
    ]);
    expect(complement([{ start: -5, end: 50 }], 0, 10)).toEqual([]);
  });

  it("slices a period into equal buckets, the last cut at the end", () => {
    expect(buckets(0, 10, 3)).toEqual([
      { start: 0, end: 4 },
      { start: 4, end: 8 },
      { start: 8, end: 10 },
    ]);
    expect(buckets(0, 0, 3)).toEqual([]);
  });
});

describe("connected time", () => {
  it("ends a session without a recorded end at the next connect, an open one at now", () => {
    const sessions: SessionSpan[] = [
      { connectedAt: at(0), disconnectedAt: null }, // never closed: ends at the next connect
      { connectedAt: at(10), disconnectedAt: at(20) },
      { connectedAt: at(30), disconnectedAt: null }, // still open
    ];
    expect(connectedIntervals(sessions, at(40))).toEqual([
      { start: at(0), end: at(20) },
      { start: at(30), end: at(40) },
    ]);
  });

  it("cuts a session at a next connect it knows only from the row (outside the rows given)", () => {
    expect(connectedIntervals([{ connectedAt: at(0), disconnectedAt: null, nextConnectedAt: at(5) }], at(100))).toEqual(
      [{ start: at(0), end: at(5) }],
    );
  });

  it("counts sessions open at the period's start and end only inside the period", () => {
    const sessions: SessionSpan[] = [
      { connectedAt: at(-50), disconnectedAt: at(10) },
      { connectedAt: at(90), disconnectedAt: null },
    ];
    // 10 s + 10 s of 100 s
    expect(uptimePercent(sessions, at(0), at(100), at(200))).toBe(20);
  });

  it("counts overlapping and duplicate sessions once", () => {
    const sessions: SessionSpan[] = [
      { connectedAt: at(0), disconnectedAt: at(50) },
      { connectedAt: at(0), disconnectedAt: at(50) },
      { connectedAt: at(20), disconnectedAt: at(60) },
    ];
    // The first is cut at the next connect (20), the second runs 20–60: 60 s of 100.
    expect(uptimePercent(sessions, at(0), at(100), at(100))).toBe(60);
  });

  it("has no uptime for an empty period", () => {
    expect(uptimePercent([], at(5), at(5), at(10))).toBeNull();
    expect(() => deviceUptime({ sessions: [], firstSeenAt: at(0), from: at(5), to: at(5), now: at(10) })).toThrow(
      RangeError,
    );
    expect(() => deviceUptime({ sessions: [], firstSeenAt: at(0), from: at(6), to: at(5), now: at(10) })).toThrow(
      RangeError,
    );
  });
});

describe("deviceUptime", () => {
  it("splits a period into online, offline and unknown for a device first seen inside it", () => {
    // Period 0–100 s; first seen at 20; sessions 20–40 and 60–open; a monitoring gap 45–50; now 100.
    const f = deviceUptime({
      sessions: [
        { connectedAt: at(20), disconnectedAt: at(40) },
        { connectedAt: at(60), disconnectedAt: null },
      ],
      firstSeenAt: at(20),
      gaps: [{ start: at(45), end: at(50) }],
      from: at(0),
      to: at(100),
      now: at(100),
      buckets: 4,
    });
    expect(f.statusMs).toEqual({ online: 60 * S, late: null, offline: 15 * S, unknown: 25 * S });
    expect(f.uptimePercent).toBe(60);
    expect(f.disconnects).toBe(1);
    expect(f.meanMsBetweenDisconnects).toBe(100 * S);
    // Offline 40–45 and 50–60: the gap breaks the outage.
    expect(f.longestOutageMs).toBe(10 * S);
    // Online share of 0–25, 25–50, 50–75, 75–100.
    expect(f.sparkline).toEqual([20, 60, 60, 100]);
  });

  it("reports a never-seen device as unknown, not offline", () => {
    const f = deviceUptime({ sessions: [], firstSeenAt: null, from: at(0), to: at(10), now: at(10) });
    expect(f.statusMs).toEqual({ online: 0, late: null, offline: 0, unknown: 10 * S });
    expect(f.uptimePercent).toBe(0);
    expect(f.longestOutageMs).toBe(0);
    expect(f.meanMsBetweenDisconnects).toBeNull();
  });

  it("combines devices of a tag: times add up, uptime over the summed periods", () => {
    const a = deviceUptime({
      sessions: [{ connectedAt: at(0), disconnectedAt: at(10) }],
      firstSeenAt: at(0),
      from: at(0),
      to: at(20),
      now: at(20),
    });
    const b = deviceUptime({
      sessions: [{ connectedAt: at(0), disconnectedAt: null }],
      firstSeenAt: at(0),
      from: at(0),
      to: at(20),
      now: at(20),
    });
    expect(combineUptime([a, b])).toEqual({
      devices: 2,
      uptimePercent: 75,
      disconnects: 1,
      meanMsBetweenDisconnects: 40 * S,
      longestOutageMs: 10 * S,
      statusMs: { online: 30 * S, late: null, offline: 10 * S, unknown: 0 },
    });
  });
});

/** The same figures second by second, straight from the definition. */
function bruteForce(
  sessions: SessionSpan[],
  firstSeen: number | null,
  gaps: { start: number; end: number | null }[],
  from: number,
  to: number,
  now: number,
) {
  const endOf = (s: SessionSpan) => {
    let end = s.disconnectedAt ?? now;
    if (s.nextConnectedAt != null && s.nextConnectedAt > s.connectedAt) end = Math.min(end, s.nextConnectedAt);
    for (const o of sessions) if (o.connectedAt > s.connectedAt) end = Math.min(end, o.connectedAt);
    return end;
  };
  let online = 0;
  let offline = 0;
  let unknown = 0;
  let run = 0;
  let longest = 0;
  for (let t = from; t < to; t += S) {
    const connected = sessions.some((s) => s.connectedAt <= t && t < endOf(s));
    const unseen = firstSeen === null || t < firstSeen;
    const inGap = gaps.some((g) => g.start <= t && t < (g.end ?? now));
    if (connected) online += S;
    else if (unseen || inGap) unknown += S;
    else offline += S;
    run = !connected && !unseen && !inGap ? run + S : 0;
    longest = Math.max(longest, run);
  }
  const disconnects = new Set(
    sessions
      .filter((s) => s.disconnectedAt !== null && s.disconnectedAt >= from && s.disconnectedAt < to)
      .map((s) => s.connectedAt),
  ).size;
  return { online, offline, unknown, longest, disconnects };
}

describe("property: agrees with a per-second count", () => {
  const sec = fc.integer({ min: -20, max: 80 }).map(at);
  const session = fc.record({
    connectedAt: sec,
    disconnectedAt: fc.option(sec, { nil: null }),
    nextConnectedAt: fc.option(sec, { nil: null }),
  });
  const gap = fc.record({ start: sec, end: fc.option(sec, { nil: null }) });

  it("online, offline, unknown, longest outage, disconnects and uptime", () => {
    fc.assert(
      fc.property(
        fc.array(session, { maxLength: 8 }),
        fc.option(sec, { nil: null }),
        fc.array(gap, { maxLength: 3 }),
        fc.integer({ min: -10, max: 50 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 90 }),
        (sessions, firstSeen, gaps, fromS, lengthS, nowS) => {
          const from = at(fromS);
          const to = at(fromS + lengthS);
          const now = at(nowS);
          const f = deviceUptime({ sessions, firstSeenAt: firstSeen, gaps, from, to, now });
          const b = bruteForce(sessions, firstSeen, gaps, from, to, now);
          expect(f.statusMs).toEqual({ online: b.online, late: null, offline: b.offline, unknown: b.unknown });
          expect(f.longestOutageMs).toBe(b.longest);
          expect(f.disconnects).toBe(b.disconnects);
          expect(f.uptimePercent).toBeCloseTo((b.online / (to - from)) * 100, 9);
          expect(uptimePercent(sessions, from, to, now)).toBeCloseTo((b.online / (to - from)) * 100, 9);
        },
      ),
      { numRuns: 500 },
    );
  });
});
