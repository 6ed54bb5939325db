/**
 * The history page's filters and their URL form, so a view can be shared:
 *
 *   /history?range=24h&device=sensor-*&reason=keepalive_timeout,connection_lost&tag=site:north
 *   /history?from=2026-11-01T00:00:00.000Z&to=2026-11-02T00:00:00.000Z
 *
 * A preset range (`range=8h`) stays relative in the URL and is resolved to
 * absolute times when the page loads or is refreshed; the table, the summary
 * and the export then all use the same resolved [from, to). Values the page
 * cannot read fall back to the defaults; the API reports what it rejects.
 */
import { DISCONNECT_REASONS, type DisconnectReason } from "@/lib/ingest/events";

const HOUR = 3_600_000;

export const RANGE_PRESETS = [
  { key: "1h", label: "1 h", title: "the last hour", ms: HOUR },
  { key: "8h", label: "8 h", title: "the last 8 hours (a shift)", ms: 8 * HOUR },
  { key: "24h", label: "24 h", title: "the last 24 hours", ms: 24 * HOUR },
  { key: "7d", label: "7 d", title: "the last 7 days", ms: 7 * 24 * HOUR },
  { key: "30d", label: "30 d", title: "the last 30 days", ms: 30 * 24 * HOUR },
  { key: "all", label: "all", title: "everything recorded", ms: null },
] as const;

export type PresetKey = (typeof RANGE_PRESETS)[number]["key"];
export type RangeKey = PresetKey | "custom";

export const DEFAULT_RANGE: PresetKey = "24h";

export interface HistoryFilters {
  range: RangeKey;
  /** ISO times of a custom range (null: open end). */
  from: string | null;
  to: string | null;
  /** Device id glob, as typed. */
  device: string;
  reasons: DisconnectReason[];
  /** Only devices with this tag (the operator's inventory); "" for any. */
  tag: string;
}

export const DEFAULT_FILTERS: HistoryFilters = {
  range: DEFAULT_RANGE,
  from: null,
  to: null,
  device: "",
  reasons: [],
  tag: "",
};

/** A range resolved to times (epoch ms), as sent to the API. */
export interface ResolvedRange {
  from: number | null;
  to: number;
}

const PRESET_KEYS: ReadonlySet<string> = new Set(RANGE_PRESETS.map((p) => p.key));
const REASONS: ReadonlySet<string> = new Set(DISCONNECT_REASONS);

const isoOrNull = (value: string | null): string | null => {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
};

export function parseFilters(params: URLSearchParams): HistoryFilters {
  const from = isoOrNull(params.get("from"));
  const to = isoOrNull(params.get("to"));
  const rangeParam = params.get("range") ?? "";
  const range: RangeKey =
    rangeParam === "custom" || (!PRESET_KEYS.has(rangeParam) && (from !== null || to !== null))
      ? "custom"
      : PRESET_KEYS.has(rangeParam)
        ? (rangeParam as PresetKey)
        : DEFAULT_RANGE;
  const reasons = (params.get("reason") ?? "")
    .split(",")
    .map((r) => r.trim())
    .filter((r, i, all): r is DisconnectReason => REASONS.has(r) && all.indexOf(r) === i);
  return {
    range,
    from: range === "custom" ? from : null,
    to: range === "custom" ? to : null,
    device: params.get("device") ?? "",
    reasons,
    tag: params.get("tag") ?? "",
  };
}

/** The URL query string of a view (defaults left out), without the leading "?". */
export function filtersToSearch(f: HistoryFilters): string {
  const p = new URLSearchParams();
  if (f.range === "custom") {
    if (f.from) p.set("from", f.from);
    if (f.to) p.set("to", f.to);
    if (!f.from && !f.to) p.set("range", "custom");
  } else if (f.range !== DEFAULT_RANGE) p.set("range", f.range);
  if (f.device) p.set("device", f.device);
  if (f.reasons.length > 0) p.set("reason", f.reasons.join(","));
  if (f.tag) p.set("tag", f.tag);
  return p.toString();
}

/** [from, to) for a preset relative to `now` (rounded up to the next second), or the custom times. */
export function resolveRange(f: HistoryFilters, now: number): ResolvedRange {
  const to = Math.ceil(now / 1000) * 1000;
  if (f.range === "custom") {
    const from = f.from === null ? null : Date.parse(f.from);
    return { from, to: f.to === null ? to : Date.parse(f.to) };
  }
  const preset = RANGE_PRESETS.find((p) => p.key === f.range)!;
  return { from: preset.ms === null ? null : to - preset.ms, to };
}

/** The API query string (no cursor) for a view: the same for the table, the summary and the export. */
export function apiQuery(f: HistoryFilters, range: ResolvedRange): string {
  const p = new URLSearchParams();
  if (range.from !== null) p.set("from", new Date(range.from).toISOString());
  p.set("to", new Date(range.to).toISOString());
  if (f.device) p.set("device", f.device);
  if (f.reasons.length > 0) p.set("reason", f.reasons.join(","));
  if (f.tag) p.set("tag", f.tag);
  return p.toString();
}

/** A glob that matches exactly this id (wildcards and backslashes escaped). */
export function escapeGlob(id: string): string {
  return id.replace(/[*?[\]\\]/g, "\\$&");
}

/** ISO time → the value of an `<input type="datetime-local">` read as UTC ("2026-11-01T08:30:00"). */
export function isoToInput(iso: string | null): string {
  if (iso === null) return "";
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? "" : new Date(ms).toISOString().slice(0, 19);
}

/** The value of a datetime-local input (UTC) → ISO, null when empty or unreadable. */
export function inputToIso(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(value)) return null;
  const ms = Date.parse(`${value}Z`);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}
