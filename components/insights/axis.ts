/** Axis arithmetic for the insights charts (pure). */

/** The smallest 1, 2 or 5 × 10^k at least `x` (x > 0). */
function niceStep(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

/**
 * Ticks for a count axis from 0 to at least `max`: whole numbers, at most
 * `most` + 1 of them, evenly spaced by 1, 2 or 5 × 10^k. The last tick is the
 * axis's top.
 */
export function countTicks(max: number, most = 4): number[] {
  const step = Math.max(1, niceStep(Math.max(1, max) / most));
  const top = Math.max(step, Math.ceil(max / step) * step);
  const ticks: number[] = [];
  for (let t = 0; t <= top; t += step) ticks.push(t);
  return ticks;
}

const DAY_FORMAT = new Intl.DateTimeFormat("en", { month: "short", day: "numeric", timeZone: "UTC" });

/**
 * Which hours of a chart get a label, and the label: every 3 hours ("03:00")
 * over a day or less, each midnight UTC ("Dec 4") over longer.
 */
export function hourLabels(hours: readonly string[]): Array<{ index: number; label: string }> {
  const daily = hours.length > 48;
  const out: Array<{ index: number; label: string }> = [];
  hours.forEach((iso, index) => {
    const d = new Date(iso);
    const h = d.getUTCHours();
    if (daily ? h === 0 : h % 3 === 0)
      out.push({ index, label: daily ? DAY_FORMAT.format(d) : `${iso.slice(11, 13)}:00` });
  });
  return out;
}

/** "Dec 4, 03:00–04:00 UTC" */
export function hourRange(iso: string): string {
  const start = new Date(iso);
  const end = new Date(start.getTime() + 3_600_000);
  const hh = (d: Date) => `${String(d.getUTCHours()).padStart(2, "0")}:00`;
  return `${DAY_FORMAT.format(start)}, ${hh(start)}–${hh(end)} UTC`;
}
