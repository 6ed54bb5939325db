/**
 * What the keepalive timeline draws, from an activity response: the gap
 * series (downsampled to the chart's width), the connected/disconnected bands
 * and the disconnect markers. Pure, so it is tested without a browser.
 *
 * Short ranges (15 min, 1 h) draw every gap from raw points; long ranges
 * (24 h, 7 d) draw the minute roll-ups' largest gaps. Either way at most one
 * point per `buckets` slice of the range reaches the SVG.
 */
import type { ActivityDto } from "@/lib/api/activity";
import { downsampleMax, type Bucketed } from "@/lib/activity/downsample";
import { gapsOf, type ActivityKind } from "@/lib/activity/points";
import type { DisconnectReason } from "@/lib/ingest/events";
import { reasonLabel } from "@/components/fleet/format";

export const RANGES = [
  { key: "15m", label: "15 min", ms: 15 * 60_000, raw: true, pollMs: 3_000 },
  { key: "1h", label: "1 h", ms: 3_600_000, raw: true, pollMs: 3_000 },
  { key: "24h", label: "24 h", ms: 86_400_000, raw: false, pollMs: 15_000, bucketMinutes: 2 },
  { key: "7d", label: "7 d", ms: 7 * 86_400_000, raw: false, pollMs: 30_000, bucketMinutes: 15 },
] as const;
export type RangeKey = (typeof RANGES)[number]["key"];
export const rangeOf = (key: string) => RANGES.find((r) => r.key === key) ?? RANGES[1];

/** Most bands and markers drawn; a storm over a week is summarized by the newest. */
export const MAX_SESSIONS_DRAWN = 300;

export interface Band {
  from: number;
  to: number;
  connected: boolean;
}

export interface Marker {
  at: number;
  reason: DisconnectReason | null;
}

export interface TimelineData {
  from: number;
  to: number;
  /** Gap in seconds at the time it ended (the bucket's largest). */
  gaps: Array<{ at: number; gap: number; n: number }>;
  bands: Band[];
  markers: Marker[];
  /** Samples behind the drawn points. */
  samples: number;
  sessionsOmitted: number;
}

/** The activity query for a range ending at `now`. */
export function activityQuery(key: RangeKey, now: number): string {
  const range = rangeOf(key);
  const params = new URLSearchParams({
    from: new Date(now - range.ms).toISOString(),
    to: new Date(now + 1_000).toISOString(),
  });
  // Long ranges draw roll-ups and sessions: no raw points needed.
  if (!range.raw) {
    params.set("kinds", "disconnect");
    params.set("limit", "1");
    // Roll-ups pre-merged on the server: about 700 rows whatever the range.
    if ("bucketMinutes" in range) params.set("bucketMinutes", String(range.bucketMinutes));
  }
  return params.toString();
}

/**
 * The silence that ended in each disconnect (last activity → drop): the gap an
 * operator looks for when a device is dropped for keepalive timeout, drawn
 * against the keepalive and deadline lines like every other gap.
 */
export function silencesBeforeDrops(
  points: readonly { at: number; kind: ActivityKind }[],
): Array<{ at: number; value: number }> {
  const out: Array<{ at: number; value: number }> = [];
  let lastAt: number | null = null;
  for (const p of points) {
    if (p.kind === "disconnect") {
      if (lastAt !== null && p.at >= lastAt) out.push({ at: p.at, value: (p.at - lastAt) / 1000 });
      lastAt = null;
    } else if (lastAt === null || p.at > lastAt) lastAt = p.at;
  }
  return out;
}

/**
 * `firstSeenAt`: when the device was first heard of. Before it the device did
 * not exist for keepwatch, so no "disconnected" band is drawn there.
 */
export function buildTimeline(
  dto: ActivityDto,
  raw: boolean,
  buckets: number,
  now: number,
  firstSeenAt: number | null = null,
): TimelineData {
  const from = Date.parse(dto.from);
  const to = Math.min(Date.parse(dto.to), now);
  let samples: Array<{ at: number; value: number }>;
  if (raw) {
    const points = dto.points.map((p) => ({ at: Date.parse(p.at), kind: p.kind as ActivityKind }));
    samples = [...gapsOf(points).map((g) => ({ at: g.at, value: g.gapMs / 1000 })), ...silencesBeforeDrops(points)];
    samples.sort((a, b) => a.at - b.at);
  } else {
    samples = [];
    for (const r of dto.rollups) {
      if (r.maxGapSeconds !== null) samples.push({ at: Date.parse(r.minute), value: r.maxGapSeconds });
    }
  }
  const drawn: Bucketed[] = downsampleMax(samples, from, to, buckets);
  const sessions = [...dto.sessions]
    .map((s) => ({
      connectedAt: Date.parse(s.connectedAt),
      disconnectedAt: s.disconnectedAt === null ? null : Date.parse(s.disconnectedAt),
      reason: s.reason,
    }))
    .sort((a, b) => b.connectedAt - a.connectedAt);
  const kept = sessions.slice(0, MAX_SESSIONS_DRAWN).reverse();
  const bands: Band[] = [];
  const markers: Marker[] = [];
  const known = Math.max(from, firstSeenAt ?? from);
  if (kept.length > 0 && kept[0].connectedAt > known && sessions.length <= MAX_SESSIONS_DRAWN) {
    bands.push({ from: known, to: kept[0].connectedAt, connected: false });
  }
  for (let i = 0; i < kept.length; i++) {
    const s = kept[i];
    const start = Math.max(from, s.connectedAt);
    const end = Math.min(to, s.disconnectedAt ?? to);
    if (end > start) bands.push({ from: start, to: end, connected: true });
    if (s.disconnectedAt !== null && s.disconnectedAt >= from && s.disconnectedAt <= to) {
      markers.push({ at: s.disconnectedAt, reason: s.reason });
      const next = kept[i + 1]?.connectedAt ?? to;
      const offEnd = Math.min(to, next);
      if (offEnd > s.disconnectedAt) bands.push({ from: s.disconnectedAt, to: offEnd, connected: false });
    }
  }
  return {
    from,
    to,
    gaps: drawn.map((b) => ({ at: b.at, gap: b.value, n: b.n })),
    bands,
    markers,
    samples: samples.length,
    sessionsOmitted: Math.max(0, sessions.length - kept.length),
  };
}

/** The least horizontal room a drop label takes (px). */
export const MARKER_LABEL_PX = 110;

/**
 * Room a label's text takes at 10 px type: a generous 6.2 px a character
 * (wider than any lowercase letter, digit or "×" in the UI's sans-serif),
 * plus recharts' 5 px inset and a gap to the next label.
 */
export const labelWidthPx = (text: string, minPx = MARKER_LABEL_PX): number =>
  Math.max(minPx, Math.ceil(text.length * 6.2) + 12);

export interface MarkerLabel {
  text: string;
  /** Which side of its line the text goes: left near the plot's right edge, so it is not cut off. */
  side: "right" | "left";
}

/**
 * Labels for the disconnect markers that fit side by side. A label takes the
 * room of its own text (at least `minPx`) to the right of its line, or to the
 * left near the plot's right edge; a marker whose label would overlap the one
 * before joins that label instead ("keepalive timeout ×3" when they agree,
 * "5 drops" otherwise), and the joined label's room grows with its text.
 * Returns the labels by the index of each cluster's first marker; the other
 * markers are still drawn as lines. `markers` are in time order.
 */
export function markerLabels(
  markers: readonly Marker[],
  from: number,
  to: number,
  plotWidthPx: number,
  minPx = MARKER_LABEL_PX,
): Map<number, MarkerLabel> {
  const labels = new Map<number, MarkerLabel>();
  if (markers.length === 0 || to <= from || plotWidthPx <= 0) return labels;
  const x = (at: number) => ((at - from) / (to - from)) * plotWidthPx;
  interface Cluster {
    first: number;
    /** Where the first marker's line is (px). */
    at: number;
    reasons: Set<Marker["reason"]>;
    count: number;
    side: MarkerLabel["side"];
  }
  const textOf = (c: Cluster) => {
    const one = reasonLabel(markers[c.first].reason);
    return c.count === 1 ? one : c.reasons.size === 1 ? `${one} ×${c.count}` : `${c.count} drops`;
  };
  const spanOf = (c: Cluster): [number, number] => {
    const w = labelWidthPx(textOf(c), minPx);
    return c.side === "right" ? [c.at, c.at + w] : [c.at - w, c.at];
  };
  // Clusters in time order, their labels side by side: a new marker's label that
  // overlaps the one before joins it, and a label that grew left over its
  // neighbour joins that one in turn.
  const clusters: Cluster[] = [];
  markers.forEach((m, i) => {
    const at = x(m.at);
    const side = at + labelWidthPx(reasonLabel(m.reason), minPx) <= plotWidthPx ? "right" : "left";
    clusters.push({ first: i, at, reasons: new Set([m.reason]), count: 1, side });
    while (
      clusters.length >= 2 &&
      spanOf(clusters[clusters.length - 1])[0] < spanOf(clusters[clusters.length - 2])[1]
    ) {
      const last = clusters.pop()!;
      const before = clusters[clusters.length - 1];
      before.count += last.count;
      for (const r of last.reasons) before.reasons.add(r);
    }
  });
  for (const c of clusters) labels.set(c.first, { text: textOf(c), side: c.side });
  return labels;
}
