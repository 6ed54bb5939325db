"use client";

import { BROKER_DEADLINE_FACTOR, brokerDeadline } from "@/lib/keepalive";
import { useEffect, useMemo, useRef, useState } from "react";
import { CartesianGrid, ComposedChart, ReferenceArea, ReferenceLine, Scatter, Tooltip, XAxis, YAxis } from "recharts";
import type { ActivityDto } from "@/lib/api/activity";
import { buildTimeline, markerLabels, rangeOf, RANGES, type MarkerLabel, type RangeKey } from "./timeline";

const HEIGHT = 260;
/** Pixels per drawn point: the chart never holds more than width / 3 points. */
const PX_PER_POINT = 3;
/** Y axis (48) and right margin (16): what the chart's width holds besides the plot. */
const PLOT_INSET_PX = 64;

function useWidth<T extends HTMLElement>(): [React.RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width];
}

const tick = (span: number) => (ms: number) => {
  const d = new Date(ms);
  if (span > 2 * 86_400_000) return d.toISOString().slice(5, 10) + " " + d.toISOString().slice(11, 13) + "h";
  return d.toISOString().slice(11, span > 3_600_000 ? 16 : 19);
};

/**
 * The gap between consecutive activities over time, against the keepalive
 * and the broker's 1.5 × deadline; connected / disconnected bands and
 * disconnect markers labelled with their reason. Times in UTC.
 */
export function KeepaliveTimeline({
  activity,
  range,
  onRange,
  keepaliveSeconds,
  firstSeenAt,
  error,
  now,
}: {
  now: number;
  activity: ActivityDto | null;
  range: RangeKey;
  onRange(r: RangeKey): void;
  keepaliveSeconds: number | null;
  /** When the device was first seen: no "disconnected" band before it. */
  firstSeenAt: number | null;
  error: string | null;
}) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const spec = rangeOf(range);
  const data = useMemo(
    () =>
      activity && width > 0
        ? buildTimeline(activity, spec.raw, Math.max(20, Math.floor(width / PX_PER_POINT)), now, firstSeenAt)
        : null,
    [activity, width, spec.raw, now, firstSeenAt],
  );
  const k = keepaliveSeconds && keepaliveSeconds > 0 ? keepaliveSeconds : null;
  const maxGap = data ? Math.max(0, ...data.gaps.map((g) => g.gap)) : 0;
  const yMax = Math.max(k ? brokerDeadline(k) * 1.15 : 1, maxGap * 1.1, 1);
  const span = data ? data.to - data.from : spec.ms;
  const labels = useMemo(
    () =>
      data ? markerLabels(data.markers, data.from, data.to, width - PLOT_INSET_PX) : new Map<number, MarkerLabel>(),
    [data, width],
  );

  return (
    <section aria-labelledby="timeline-heading" className="flex flex-col gap-2">
      <div className="flex flex-wrap items-center gap-3">
        <h2 id="timeline-heading" className="text-sm font-semibold text-zinc-200">
          Keepalive timeline
        </h2>
        <div role="group" aria-label="Range" className="flex gap-1">
          {RANGES.map((r) => (
            <button
              key={r.key}
              type="button"
              data-testid={`range-${r.key}`}
              aria-pressed={r.key === range}
              onClick={() => onRange(r.key)}
              className={`rounded px-2 py-0.5 text-xs ring-1 ring-inset ${r.key === range ? "bg-zinc-800 text-zinc-50 ring-zinc-600" : "text-zinc-400 ring-zinc-800 hover:text-zinc-200"}`}
            >
              {r.label}
            </button>
          ))}
        </div>
        <p className="text-xs text-zinc-500">
          {spec.raw ? "every gap between activities" : "largest gap per bucket of minute roll-ups"} · green: connected,
          red: disconnected · UTC
        </p>
      </div>
      <div
        ref={ref}
        data-testid="timeline"
        data-ready={data ? "true" : "false"}
        data-points={data?.gaps.length ?? 0}
        data-samples={data?.samples ?? 0}
        data-markers={data?.markers.length ?? 0}
        className="relative w-full rounded-md border border-zinc-800 bg-zinc-950"
        style={{ height: HEIGHT }}
      >
        {error && !data && <p className="p-3 text-xs text-red-300">Could not load activity: {error}</p>}
        {!error && !data && <p className="p-3 text-xs text-zinc-500">Loading activity…</p>}
        {data && width > 0 && (
          <ComposedChart width={width} height={HEIGHT} margin={{ top: 16, right: 16, bottom: 8, left: 0 }}>
            <CartesianGrid stroke="#27272a" strokeDasharray="3 3" />
            <XAxis
              dataKey="at"
              type="number"
              domain={[data.from, data.to]}
              allowDataOverflow
              tickFormatter={tick(span)}
              stroke="#71717a"
              fontSize={11}
            />
            <YAxis
              dataKey="gap"
              type="number"
              domain={[0, yMax]}
              allowDataOverflow
              stroke="#71717a"
              fontSize={11}
              width={48}
              tickFormatter={(v: number) => `${Math.round(v * 10) / 10}s`}
            />
            {data.bands.map((b, i) => (
              <ReferenceArea
                key={`b${i}`}
                x1={b.from}
                x2={b.to}
                y1={0}
                y2={yMax}
                fill={b.connected ? "#10b981" : "#ef4444"}
                fillOpacity={b.connected ? 0.06 : 0.1}
                strokeOpacity={0}
                ifOverflow="hidden"
              />
            ))}
            {k && (
              <ReferenceLine
                y={k}
                stroke="#a1a1aa"
                strokeDasharray="4 4"
                label={{ value: `keepalive ${k}s`, position: "insideTopRight", fill: "#a1a1aa", fontSize: 11 }}
              />
            )}
            {k && (
              <ReferenceLine
                y={brokerDeadline(k)}
                stroke="#f87171"
                strokeDasharray="6 3"
                label={{
                  value: `deadline ${BROKER_DEADLINE_FACTOR}× = ${brokerDeadline(k)}s`,
                  position: "insideTopRight",
                  fill: "#f87171",
                  fontSize: 11,
                }}
              />
            )}
            {data.markers.map((m, i) => (
              <ReferenceLine
                key={`m${i}`}
                x={m.at}
                stroke="#ef4444"
                strokeWidth={1}
                label={
                  labels.has(i)
                    ? {
                        value: labels.get(i)!.text,
                        position: labels.get(i)!.side === "left" ? "insideTopRight" : "insideTopLeft",
                        fill: "#fca5a5",
                        fontSize: 10,
                        angle: 0,
                      }
                    : undefined
                }
              />
            ))}
            <Tooltip
              cursor={false}
              isAnimationActive={false}
              contentStyle={{ background: "#18181b", border: "1px solid #3f3f46", fontSize: 12 }}
              labelFormatter={() => ""}
              formatter={(value, name) =>
                name === "gap"
                  ? [`${Number(value).toFixed(3)} s`, "gap"]
                  : [new Date(Number(value)).toISOString(), "at"]
              }
            />
            <Scatter data={data.gaps} fill="#38bdf8" isAnimationActive={false} shape="circle" />
          </ComposedChart>
        )}
      </div>
      {data && (
        <p data-testid="timeline-summary" className="text-xs text-zinc-500">
          {data.samples.toLocaleString("en")} {spec.raw ? "gaps" : "roll-up buckets"} drawn as{" "}
          {data.gaps.length.toLocaleString("en")} points
          {data.markers.length > 0 ? ` · ${data.markers.length} disconnect${data.markers.length === 1 ? "" : "s"}` : ""}
          {data.sessionsOmitted > 0 ? ` · ${data.sessionsOmitted} older sessions not drawn` : ""}
          {activity?.truncated ? " · only the newest points shown" : ""}
        </p>
      )}
    </section>
  );
}
