"use client";

import { useCallback, useEffect, useMemo, useState } from "react";
import { useApi } from "@/components/api/client";
import { DISCONNECT_REASONS, type DisconnectReason } from "@/lib/ingest/events";
import { DISCONNECT_REASON_LABELS } from "@/components/fleet/format";
import { inputToIso, isoToInput, RANGE_PRESETS, type HistoryFilters, type ResolvedRange } from "./filters";

export const control =
  "h-8 rounded-md border border-zinc-700 bg-zinc-900 text-[13px] text-zinc-200 outline-none focus-visible:border-sky-500 focus-visible:ring-1 focus-visible:ring-sky-500";

const GLOB_HELP =
  "Device id glob (case-sensitive): * any characters, ? one character, [abc] or [a-z] one of them, [!abc] none of them, \\* a literal star. Without wildcards: that exact id.";

interface Props {
  filters: HistoryFilters;
  range: ResolvedRange;
  onChange(next: Partial<HistoryFilters>): void;
}

function RangeControl({ filters, range, onChange }: Props) {
  return (
    <div
      role="group"
      aria-label="Time range"
      data-testid="range-presets"
      className="flex h-8 overflow-hidden rounded-md border border-zinc-700 text-[13px]"
    >
      {RANGE_PRESETS.map((p) => (
        <button
          key={p.key}
          type="button"
          title={p.title}
          aria-pressed={filters.range === p.key}
          onClick={() => onChange({ range: p.key, from: null, to: null })}
          className={`border-r border-zinc-700 px-2.5 outline-none focus-visible:bg-zinc-700 ${filters.range === p.key ? "bg-zinc-700 text-zinc-50" : "bg-zinc-900 text-zinc-400 hover:bg-zinc-800 hover:text-zinc-200"}`}
        >
          {p.label}
        </button>
      ))}
      <button
        type="button"
        title="choose the start and end (UTC)"
        aria-pressed={filters.range === "custom"}
        onClick={() =>
          onChange({
            range: "custom",
            from: range.from === null ? null : new Date(range.from).toISOString(),
            to: new Date(range.to).toISOString(),
          })
        }
        className={`px-2.5 outline-none focus-visible:bg-zinc-700 ${filters.range === "custom" ? "bg-zinc-700 text-zinc-50" : "bg-zinc-900 text-zinc-400 hover:bg-zinc-800 hover:text-zinc-200"}`}
      >
        custom
      </button>
    </div>
  );
}

/** From and to as UTC date-time inputs (the history's custom range, the reports' custom period). */
export function UtcRangeInputs({
  from,
  to,
  onChange,
  testIdPrefix,
}: {
  from: string | null;
  to: string | null;
  onChange(change: { from?: string | null; to?: string | null }): void;
  testIdPrefix: string;
}) {
  return (
    <div className="flex flex-wrap items-center gap-1.5 text-xs text-zinc-500">
      <label className="flex items-center gap-1.5">
        from
        <input
          type="datetime-local"
          step={1}
          data-testid={`${testIdPrefix}-from`}
          value={isoToInput(from)}
          onChange={(e) => onChange({ from: inputToIso(e.target.value) })}
          className={`${control} px-2 [color-scheme:dark]`}
        />
      </label>
      <label className="flex items-center gap-1.5">
        to
        <input
          type="datetime-local"
          step={1}
          data-testid={`${testIdPrefix}-to`}
          value={isoToInput(to)}
          onChange={(e) => onChange({ to: inputToIso(e.target.value) })}
          className={`${control} px-2 [color-scheme:dark]`}
        />
      </label>
      <span title="times are read and shown in UTC, as in the CSV">UTC</span>
    </div>
  );
}

/** Typing filters after a short pause; Enter applies at once. An outside change (a click in the summary) replaces the text. */
function DeviceGlob({ value, onCommit }: { value: string; onCommit(v: string): void }) {
  const [draft, setDraft] = useState(value);
  const [shown, setShown] = useState(value);
  if (value !== shown) {
    setShown(value);
    setDraft(value);
  }
  useEffect(() => {
    if (draft === value) return;
    const t = setTimeout(() => onCommit(draft), 400);
    return () => clearTimeout(t);
  }, [draft, value, onCommit]);
  return (
    <input
      type="search"
      data-testid="device-glob"
      aria-label="Filter by device id glob"
      placeholder="device glob, e.g. sensor-*"
      title={GLOB_HELP}
      spellCheck={false}
      autoComplete="off"
      maxLength={256}
      value={draft}
      onChange={(e) => setDraft(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === "Enter") onCommit(draft);
        if (e.key === "Escape") {
          setDraft("");
          onCommit("");
        }
      }}
      className={`${control} w-60 px-2.5 font-mono placeholder:font-sans placeholder:text-zinc-500`}
    />
  );
}

function ReasonFilter({ reasons, onChange }: { reasons: DisconnectReason[]; onChange(r: DisconnectReason[]): void }) {
  const toggle = (r: DisconnectReason) =>
    onChange(
      reasons.includes(r)
        ? reasons.filter((x) => x !== r)
        : DISCONNECT_REASONS.filter((x) => x === r || reasons.includes(x)),
    );
  return (
    <div
      role="group"
      aria-label="Filter by reason"
      data-testid="reason-filter"
      className="flex flex-wrap items-center gap-1"
    >
      {DISCONNECT_REASONS.map((r) => {
        const on = reasons.includes(r);
        return (
          <button
            key={r}
            type="button"
            aria-pressed={on}
            data-reason={r}
            title={on ? `showing ${DISCONNECT_REASON_LABELS[r]} (click to remove)` : `show only chosen reasons`}
            onClick={() => toggle(r)}
            className={`h-6 rounded-full border px-2 text-[11.5px] outline-none focus-visible:ring-1 focus-visible:ring-sky-500 ${on ? "border-sky-500/60 bg-sky-500/15 text-sky-200" : "border-zinc-700 text-zinc-400 hover:border-zinc-600 hover:text-zinc-200"}`}
          >
            {DISCONNECT_REASON_LABELS[r]}
          </button>
        );
      })}
      {reasons.length > 0 && (
        <button
          type="button"
          onClick={() => onChange([])}
          className="h-6 px-1.5 text-[11.5px] text-zinc-500 underline-offset-2 hover:text-zinc-300 hover:underline"
        >
          all reasons
        </button>
      )}
    </div>
  );
}

/** The tags in use (GET /api/tags), to pick one; the current one stays listed even when no device has it. */
function TagFilter({ value, onChange }: { value: string; onChange(tag: string): void }) {
  // Without the list (loading, or the API failed) the current tag alone is offered.
  const listed = useApi<{ tags: { tag: string }[] }>("/api/tags").data;
  const tags = useMemo(() => listed?.tags.map((t) => t.tag) ?? [], [listed]);
  const options = value && !tags.includes(value) ? [value, ...tags] : tags;
  return (
    <select
      data-testid="tag-filter"
      aria-label="Filter by tag"
      value={value}
      onChange={(e) => onChange(e.target.value)}
      className={`${control} px-2`}
    >
      <option value="">any tag</option>
      {options.map((t) => (
        <option key={t} value={t}>
          {t}
        </option>
      ))}
    </select>
  );
}

export function FilterBar({ filters, range, onChange, onRefresh }: Props & { onRefresh(): void }) {
  const commitDevice = useCallback((device: string) => onChange({ device }), [onChange]);
  return (
    <section aria-label="Filters" className="flex flex-col gap-2">
      <div className="flex flex-wrap items-center gap-3">
        <RangeControl filters={filters} range={range} onChange={onChange} />
        {filters.range === "custom" && (
          <UtcRangeInputs from={filters.from} to={filters.to} onChange={onChange} testIdPrefix="range" />
        )}
        <DeviceGlob value={filters.device} onCommit={commitDevice} />
        <TagFilter value={filters.tag} onChange={(tag) => onChange({ tag })} />
        <button
          type="button"
          data-testid="refresh"
          onClick={onRefresh}
          title="read again; a preset range moves to end now"
          className={`${control} px-2.5 hover:bg-zinc-800`}
        >
          ↻ Refresh
        </button>
      </div>
      <ReasonFilter reasons={filters.reasons} onChange={(reasons) => onChange({ reasons })} />
    </section>
  );
}
