/** Uptime per bucket as a small bar strip (inline SVG): a full bar is 100 %, an empty slot 0 %. */
export function Sparkline({ values, label }: { values: ReadonlyArray<number | null>; label: string }) {
  const w = 96;
  const h = 20;
  const step = values.length > 0 ? w / values.length : w;
  return (
    <svg
      role="img"
      aria-label={label}
      width={w}
      height={h}
      viewBox={`0 0 ${w} ${h}`}
      data-testid="sparkline"
      data-values={values.map((v) => (v === null ? "" : String(v))).join(",")}
      className="sparkline block"
    >
      <rect x={0} y={0} width={w} height={h} className="fill-zinc-800" />
      {values.map((v, i) =>
        v === null || v <= 0 ? null : (
          <rect
            key={i}
            x={i * step}
            y={h - (h * Math.min(100, v)) / 100}
            width={Math.max(1, step - 0.5)}
            height={(h * Math.min(100, v)) / 100}
            className={v >= 99.9 ? "fill-emerald-500" : "fill-amber-400"}
          />
        ),
      )}
    </svg>
  );
}
