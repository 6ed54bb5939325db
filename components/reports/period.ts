/**
 * The reports page's view in the URL (shareable, bookmarkable): the period
 * (a preset counted back from now, or a custom from–to) and the device and
 * tag filters. Pure; the page drives it.
 */

export const PERIOD_PRESETS = [
  { key: "24h", label: "24 h", ms: 86_400_000, title: "the last 24 hours" },
  { key: "7d", label: "7 d", ms: 7 * 86_400_000, title: "the last 7 days" },
  { key: "30d", label: "30 d", ms: 30 * 86_400_000, title: "the last 30 days" },
] as const;

export type PeriodKey = (typeof PERIOD_PRESETS)[number]["key"] | "custom";

export interface ReportView {
  period: PeriodKey;
  /** ISO times, for a custom period only. */
  from: string | null;
  to: string | null;
  device: string;
  tag: string;
}

const KEYS: ReadonlySet<string> = new Set(["24h", "7d", "30d", "custom"]);

export function parseView(params: URLSearchParams): ReportView {
  const period = params.get("period") ?? "";
  return {
    period: KEYS.has(period) ? (period as PeriodKey) : "24h",
    from: params.get("from") || null,
    to: params.get("to") || null,
    device: params.get("device") ?? "",
    tag: params.get("tag") ?? "",
  };
}

export function viewToSearch(v: ReportView): string {
  const p = new URLSearchParams();
  if (v.period !== "24h") p.set("period", v.period);
  if (v.period === "custom") {
    if (v.from) p.set("from", v.from);
    if (v.to) p.set("to", v.to);
  }
  if (v.device) p.set("device", v.device);
  if (v.tag) p.set("tag", v.tag);
  return p.toString();
}

/** The API query for the view; a preset is measured back from `now`. */
export function reportQuery(v: ReportView, now: number): string {
  const p = new URLSearchParams();
  const preset = PERIOD_PRESETS.find((x) => x.key === v.period);
  if (preset) {
    p.set("from", new Date(now - preset.ms).toISOString());
    p.set("to", new Date(now).toISOString());
  } else {
    if (v.from) p.set("from", v.from);
    if (v.to) p.set("to", v.to);
  }
  if (v.device) p.set("device", v.device);
  if (v.tag) p.set("tag", v.tag);
  return p.toString();
}
