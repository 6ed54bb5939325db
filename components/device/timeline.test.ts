import { describe, expect, it } from "vitest";
import { reasonLabel } from "@/components/fleet/format";
import type { ActivityDto } from "@/lib/api/activity";
import fc from "fast-check";
import {
  activityQuery,
  buildTimeline,
  labelWidthPx,
  markerLabels,
  MAX_SESSIONS_DRAWN,
  silencesBeforeDrops,
} from "./timeline";

const T = Date.parse("2026-11-22T10:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();
const dto = (p: Partial<ActivityDto>): ActivityDto => ({
  from: iso(T),
  to: iso(T + 3_600_000),
  points: [],
  rollups: [],
  sessions: [],
  truncated: false,
  rawRetentionHours: 24,
  ...p,
});

describe("buildTimeline", () => {
  it("draws gaps of raw points, a connected band, a disconnect marker and the offline band after it", () => {
    const data = buildTimeline(
      dto({
        points: [
          { at: iso(T + 60_000), kind: "connect" },
          { at: iso(T + 62_000), kind: "pingreq" },
          { at: iso(T + 64_000), kind: "pingreq" },
          { at: iso(T + 79_000), kind: "disconnect", reason: "keepalive_timeout" },
        ],
        sessions: [
          {
            connectedAt: iso(T + 60_000),
            disconnectedAt: iso(T + 79_000),
            reason: "keepalive_timeout",
            keepaliveSeconds: 10,
          },
        ],
      }),
      true,
      2000,
      T + 3_600_000,
    );
    // two ping gaps, then the 15 s of silence that ended in the keepalive-timeout drop
    expect(data.gaps.map((g) => g.gap)).toEqual([2, 2, 15]);
    expect(data.markers).toEqual([{ at: T + 79_000, reason: "keepalive_timeout" }]);
    expect(data.bands).toEqual([
      { from: T, to: T + 60_000, connected: false },
      { from: T + 60_000, to: T + 79_000, connected: true },
      { from: T + 79_000, to: T + 3_600_000, connected: false },
    ]);
  });

  it("draws roll-up maxima for long ranges, never more points than buckets", () => {
    const rollups = Array.from({ length: 10_080 }, (_, i) => ({
      minute: iso(T + i * 60_000),
      count: 12,
      maxGapSeconds: i === 777 ? 14 : 5,
    }));
    const data = buildTimeline(
      dto({ from: iso(T), to: iso(T + 7 * 86_400_000), rollups }),
      false,
      400,
      T + 7 * 86_400_000,
    );
    expect(data.gaps.length).toBeLessThanOrEqual(400);
    expect(data.samples).toBe(10_080);
    expect(Math.max(...data.gaps.map((g) => g.gap))).toBe(14);
  });

  it("keeps an open session connected to the end of the range and caps the sessions drawn", () => {
    const open = buildTimeline(
      dto({ sessions: [{ connectedAt: iso(T - 5_000), disconnectedAt: null, reason: null, keepaliveSeconds: 5 }] }),
      true,
      10,
      T + 3_600_000,
    );
    expect(open.bands).toEqual([{ from: T, to: T + 3_600_000, connected: true }]);
    const many = Array.from({ length: MAX_SESSIONS_DRAWN + 50 }, (_, i) => ({
      connectedAt: iso(T + i * 10_000),
      disconnectedAt: iso(T + i * 10_000 + 5_000),
      reason: "connection_lost" as const,
      keepaliveSeconds: 5,
    }));
    const capped = buildTimeline(dto({ sessions: many }), true, 10, T + 3_600_000);
    expect(capped.markers).toHaveLength(MAX_SESSIONS_DRAWN);
    expect(capped.sessionsOmitted).toBe(50);
  });
});

describe("activityQuery", () => {
  it("asks for raw points on short ranges and only roll-ups and sessions on long ones", () => {
    expect(new URLSearchParams(activityQuery("15m", T)).get("kinds")).toBeNull();
    const week = new URLSearchParams(activityQuery("7d", T));
    expect(week.get("from")).toBe(iso(T - 7 * 86_400_000));
    expect(week.get("limit")).toBe("1");
    expect(week.get("bucketMinutes")).toBe("15");
  });
});

describe("silencesBeforeDrops", () => {
  it("draws the silence from the last activity to each drop, and nothing across a disconnected stretch", () => {
    const points = [
      { at: 0, kind: "connect" as const },
      { at: 1_000, kind: "publish" as const },
      { at: 16_000, kind: "disconnect" as const }, // 15 s of silence: a keepalive-10 timeout
      { at: 30_000, kind: "disconnect" as const }, // a repeated report with nothing before it
      { at: 40_000, kind: "connect" as const },
      { at: 41_500, kind: "disconnect" as const },
    ];
    expect(silencesBeforeDrops(points)).toEqual([
      { at: 16_000, value: 15 },
      { at: 41_500, value: 1.5 },
    ]);
  });
});

describe("buildTimeline before the device existed", () => {
  it("draws no disconnected band before the device was first seen, and one when it existed before the range", () => {
    const session = { connectedAt: iso(T + 600_000), disconnectedAt: null, reason: null, keepaliveSeconds: 30 };
    const firstSeen = T + 600_000;
    const fresh = buildTimeline(dto({ sessions: [session] }), true, 100, T + 3_600_000, firstSeen);
    expect(fresh.bands).toEqual([{ from: T + 600_000, to: T + 3_600_000, connected: true }]);
    const older = buildTimeline(dto({ sessions: [session] }), true, 100, T + 3_600_000, T - 86_400_000);
    expect(older.bands[0]).toEqual({ from: T, to: T + 600_000, connected: false });
  });
});

describe("markerLabels", () => {
  const at = (px: number) => T + px * 1000; // 1 px per second over a 1000 px plot
  const labels = (markers: Parameters<typeof markerLabels>[0]) => [
    ...markerLabels(markers, T, T + 1_000_000, 1000, 100).entries(),
  ];

  it("labels markers that have room, and folds close ones into one label at the first", () => {
    expect(labels([])).toEqual([]);
    expect(
      labels([
        { at: at(0), reason: "keepalive_timeout" },
        { at: at(40), reason: "keepalive_timeout" },
        { at: at(99), reason: "keepalive_timeout" },
        { at: at(300), reason: "connection_lost" },
        { at: at(310), reason: "clean" },
        { at: at(950), reason: null },
      ]),
    ).toEqual([
      [0, { text: "keepalive timeout ×3", side: "right" }],
      [3, { text: "2 drops", side: "right" }],
      // 50 px from the right edge: the text goes left of its line.
      [5, { text: reasonLabel(null), side: "left" }],
    ]);
  });

  it("folds a marker whose label would have to go left over the label before it", () => {
    expect(
      labels([
        { at: at(850), reason: "clean" },
        { at: at(960), reason: "admin" },
      ]),
    ).toEqual([[0, { text: "2 drops", side: "right" }]]);
    expect(
      labels([
        { at: at(600), reason: "clean" },
        { at: at(960), reason: "admin" },
      ]),
    ).toEqual([
      [0, { text: reasonLabel("clean"), side: "right" }],
      [1, { text: reasonLabel("admin"), side: "left" }],
    ]);
  });

  it("measures each cluster from its first marker, its room growing with its text, so a steady storm gets evenly spaced labels", () => {
    const storm = Array.from({ length: 50 }, (_, i) => ({ at: at(i * 20), reason: "connection_lost" as const }));
    const got = labels(storm);
    // "connection lost ×7" needs 124 px: seven markers 20 px apart share it
    expect(got.map(([i]) => i)).toEqual([0, 7, 14, 21, 28, 35, 42]);
    expect(got.slice(0, -1).every(([, label]) => label.text === "connection lost ×7")).toBe(true);
    expect(got[got.length - 1][1].text).toBe("connection lost ×8");
  });

  it("gives a folded label the room of its longer text: 'keepalive timeout ×15' does not run into the next", () => {
    const burst = Array.from({ length: 15 }, (_, i) => ({ at: at(i * 4), reason: "keepalive_timeout" as const }));
    const got = labels([...burst, { at: at(120), reason: "keepalive_timeout" }, { at: at(400), reason: "clean" }]);
    expect(got).toEqual([
      [0, { text: "keepalive timeout ×16", side: "right" }],
      [16, { text: reasonLabel("clean"), side: "right" }],
    ]);
  });

  it("never lets two labels' text overlap, whatever the markers (property)", () => {
    const reasons = ["keepalive_timeout", "connection_lost", "clean", "admin", "taken_over", null] as const;
    fc.assert(
      fc.property(
        fc.array(fc.record({ px: fc.integer({ min: 0, max: 1000 }), reason: fc.constantFrom(...reasons) }), {
          maxLength: 80,
        }),
        fc.integer({ min: 200, max: 1600 }),
        (raw, width) => {
          const markers = raw.map((m) => ({ at: T + m.px * 1000, reason: m.reason })).sort((a, b) => a.at - b.at);
          const got = [...markerLabels(markers, T, T + 1_000_000, width).entries()];
          const spans = got
            .map(([i, l]) => {
              const x = ((markers[i].at - T) / 1_000_000) * width;
              const w = labelWidthPx(l.text);
              return l.side === "right" ? [x, x + w] : [x - w, x];
            })
            .sort((a, b) => a[0] - b[0]);
          for (let k = 1; k < spans.length; k++) expect(spans[k][0]).toBeGreaterThanOrEqual(spans[k - 1][1]);
          // every cluster starts at a marker and the first marker always has a label
          if (markers.length > 0) expect(got[0][0]).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });
});
