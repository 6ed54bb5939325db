import { describe, expect, it } from "vitest";
import type { ActivityDto } from "@/lib/api/activity";
import { mergeLive } from "./live";

const T = Date.parse("2026-12-01T12:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

function dto(patch: Partial<ActivityDto> = {}): ActivityDto {
  return {
    from: iso(T - 3_600_000),
    to: iso(T + 1_000),
    points: [],
    rollups: [],
    sessions: [],
    truncated: false,
    rawRetentionHours: 24,
    ...patch,
  };
}

describe("mergeLive", () => {
  it("appends points to a raw range and moves its window, dropping what fell out of it", () => {
    const base = dto({
      points: [
        { at: iso(T - 3_599_000), kind: "pingreq" },
        { at: iso(T - 5_000), kind: "pingreq" },
      ],
    });
    const points = [
      { at: iso(T - 5_000), kind: "pingreq" as const }, // already in the answer
      { at: iso(T + 4_000), kind: "pingreq" as const },
    ];
    const out = mergeLive(base, points, "1h", T + 5_000);
    expect(out.points.map((p) => p.at)).toEqual([iso(T - 5_000), iso(T + 4_000)]);
    expect(out.from).toBe(iso(T + 5_000 - 3_600_000));
    expect(out.to).toBe(iso(T + 6_000));
    expect(base.points).toHaveLength(2); // the answer itself is left alone
  });

  it("counts points into roll-up buckets with the gaps they end, and opens and closes session bands", () => {
    const bucket = Math.floor(T / 120_000) * 120_000;
    const base = dto({
      rollups: [{ minute: iso(bucket), count: 3, maxGapSeconds: 5 }],
      sessions: [{ connectedAt: iso(T - 60_000), disconnectedAt: null, reason: null, keepaliveSeconds: 10 }],
    });
    const out = mergeLive(
      base,
      [
        { at: iso(bucket + 1_000), kind: "pingreq" }, // no previous activity known: counted, no gap
        { at: iso(bucket + 13_000), kind: "pingreq" }, // a 12 s gap
        { at: iso(bucket + 20_000), kind: "disconnect", reason: "keepalive_timeout" },
        { at: iso(bucket + 130_000), kind: "connect" },
      ],
      "24h",
      bucket + 131_000,
    );
    expect(out.rollups).toEqual([
      { minute: iso(bucket), count: 5, maxGapSeconds: 12 },
      { minute: iso(bucket + 120_000), count: 1, maxGapSeconds: null },
    ]);
    expect(out.points).toEqual([]);
    expect(out.sessions).toEqual([
      {
        connectedAt: iso(T - 60_000),
        disconnectedAt: iso(bucket + 20_000),
        reason: "keepalive_timeout",
        keepaliveSeconds: 10,
      },
      { connectedAt: iso(bucket + 130_000), disconnectedAt: null, reason: null, keepaliveSeconds: null },
    ]);
  });

  it("settles the current session from the device's live state when the answer does not hold it yet", () => {
    const connectedAt = iso(T - 30_000);
    const open = {
      connectedAt,
      sessionOpen: true,
      lastDisconnectAt: null,
      lastDisconnectReason: null,
      keepaliveSeconds: 10,
    };
    const merged = mergeLive(dto(), [{ at: iso(T - 20_000), kind: "pingreq" }], "1h", T, open);
    expect(merged.sessions).toEqual([{ connectedAt, disconnectedAt: null, reason: null, keepaliveSeconds: 10 }]);
    // Its connect too, so the first PINGREQ has a gap to draw.
    expect(merged.points).toEqual([
      { at: connectedAt, kind: "connect" },
      { at: iso(T - 20_000), kind: "pingreq" },
    ]);
    const closed = {
      ...open,
      sessionOpen: false,
      lastDisconnectAt: iso(T - 1_000),
      lastDisconnectReason: "clean" as const,
    };
    const withOpen = dto({ sessions: [{ connectedAt, disconnectedAt: null, reason: null, keepaliveSeconds: 10 }] });
    expect(mergeLive(withOpen, [], "1h", T, closed).sessions).toEqual([
      { connectedAt, disconnectedAt: iso(T - 1_000), reason: "clean", keepaliveSeconds: 10 },
    ]);
    // A connect point of a session the answer has is not a second session.
    expect(mergeLive(withOpen, [{ at: connectedAt, kind: "connect" }], "1h", T, open).sessions).toHaveLength(1);
  });
});
