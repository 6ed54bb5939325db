"use client";

import { useEffect, useMemo, useRef } from "react";
import { useApi } from "@/components/api/client";
import { DEVICE_STATUSES } from "@/lib/fleet/types";
import { useFleet } from "./FleetStoreProvider";
import { formatCount } from "./format";
import { hrefWithTag, SORT_KEYS, type SortKey, type StatusFilter } from "./select";

const SORT_LABELS: Record<SortKey, string> = {
  id: "Device id",
  status: "Status (problems first)",
  lastSeen: "Last seen",
  disconnectCount: "Drops",
  keepalive: "Keepalive",
};

const FILTERS: readonly StatusFilter[] = ["all", ...DEVICE_STATUSES];

const control =
  "h-8 rounded-md border border-zinc-700 bg-zinc-900 text-[13px] text-zinc-200 outline-none focus-visible:border-sky-500 focus-visible:ring-1 focus-visible:ring-sky-500";

const isEditable = (t: EventTarget | null): boolean =>
  t instanceof HTMLElement && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));

/** Search by id; "/" anywhere on the page jumps here, Escape clears it. */
function SearchBox() {
  const search = useFleet((s) => s.view.search);
  const setView = useFleet((s) => s.setView);
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey || isEditable(e.target)) return;
      e.preventDefault();
      ref.current?.focus();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  return (
    <div className="relative">
      <input
        ref={ref}
        type="search"
        data-testid="device-search"
        aria-label="Search devices by id or name"
        placeholder="Search device id or name…"
        spellCheck={false}
        autoComplete="off"
        value={search}
        onChange={(e) => setView({ search: e.target.value })}
        onKeyDown={(e) => {
          if (e.key === "Escape") setView({ search: "" });
        }}
        className={`${control} w-72 pr-8 pl-2.5 placeholder:text-zinc-500`}
      />
      {search === "" && (
        <kbd
          aria-hidden="true"
          className="pointer-events-none absolute top-1/2 right-2 -translate-y-1/2 rounded border border-zinc-700 px-1.5 font-sans text-[11px] leading-4 text-zinc-500"
        >
          /
        </kbd>
      )}
    </div>
  );
}

function StatusFilterControl() {
  const status = useFleet((s) => s.view.status);
  const setView = useFleet((s) => s.setView);
  return (
    <div
      role="group"
      aria-label="Filter by status"
      data-testid="status-filter"
      className="flex h-8 overflow-hidden rounded-md border border-zinc-700 text-[13px]"
    >
      {FILTERS.map((f) => (
        <button
          key={f}
          type="button"
          aria-pressed={status === f}
          onClick={() => setView({ status: f })}
          className={`border-r border-zinc-700 px-2.5 capitalize outline-none last:border-r-0 focus-visible:bg-zinc-700 ${status === f ? "bg-zinc-700 text-zinc-50" : "bg-zinc-900 text-zinc-400 hover:bg-zinc-800 hover:text-zinc-200"}`}
        >
          {f}
        </button>
      ))}
    </div>
  );
}

/**
 * Tag filter: the tags in use (GET /api/tags), kept in the URL (`?tag=`) so a
 * filtered view can be shared or bookmarked (the page starts from it, see
 * FleetPage).
 */
function TagFilter() {
  const tag = useFleet((s) => s.view.tag);
  const setView = useFleet((s) => s.setView);
  // Without the list (loading, or the API failed) only a tag already chosen is shown.
  const listed = useApi<{ tags: { tag: string; counts: { total: number } }[] }>("/api/tags").data;
  const tags = useMemo(() => listed?.tags.map((t) => ({ tag: t.tag, total: t.counts.total })) ?? [], [listed]);
  const choose = (next: string) => {
    setView({ tag: next });
    window.history.replaceState(window.history.state, "", hrefWithTag(window.location.href, next));
  };
  if (tags.length === 0 && tag === "") return null;
  const options = tag && !tags.some((t) => t.tag === tag) ? [{ tag, total: 0 }, ...tags] : tags;
  return (
    <div role="group" aria-label="Filter by tag" data-testid="tag-filter" className="flex flex-wrap items-center gap-1">
      {options.map((t) => (
        <button
          key={t.tag}
          type="button"
          data-tag={t.tag}
          aria-pressed={tag === t.tag}
          title={tag === t.tag ? "show every tag again" : `only devices tagged ${t.tag}`}
          onClick={() => choose(tag === t.tag ? "" : t.tag)}
          className={`rounded px-1.5 py-0.5 text-xs ${tag === t.tag ? "bg-indigo-500/40 text-indigo-100" : "bg-indigo-500/10 text-indigo-300 hover:bg-indigo-500/20"}`}
        >
          {t.tag} <span className="text-indigo-400/70">{t.total}</span>
        </button>
      ))}
    </div>
  );
}

function SortControl() {
  const sortKey = useFleet((s) => s.view.sortKey);
  const sortDir = useFleet((s) => s.view.sortDir);
  const setView = useFleet((s) => s.setView);
  return (
    <div className="flex items-center gap-1.5">
      <label htmlFor="fleet-sort" className="text-xs text-zinc-500">
        Sort
      </label>
      <select
        id="fleet-sort"
        data-testid="sort-key"
        value={sortKey}
        onChange={(e) => {
          const key = SORT_KEYS.find((k) => k === e.target.value);
          if (key) setView({ sortKey: key });
        }}
        className={`${control} px-2`}
      >
        {SORT_KEYS.map((k) => (
          <option key={k} value={k}>
            {SORT_LABELS[k]}
          </option>
        ))}
      </select>
      <button
        type="button"
        data-testid="sort-dir"
        title={`sort direction: ${sortDir === "asc" ? "ascending" : "descending"}`}
        onClick={() => setView({ sortDir: sortDir === "asc" ? "desc" : "asc" })}
        className={`${control} w-16 px-2 hover:bg-zinc-800`}
      >
        {sortDir === "asc" ? "▲ asc" : "▼ desc"}
      </button>
    </div>
  );
}

function RowCount() {
  const shown = useFleet((s) => s.window.total);
  const total = useFleet((s) => s.counts.total);
  return (
    <p data-testid="row-count" className="ml-auto text-xs text-zinc-500 tabular-nums">
      {shown === total ? `${formatCount(total)} devices` : `${formatCount(shown)} of ${formatCount(total)} devices`}
    </p>
  );
}

export function Toolbar() {
  return (
    <div className="flex flex-wrap items-center gap-3">
      <SearchBox />
      <StatusFilterControl />
      <TagFilter />
      <SortControl />
      <RowCount />
    </div>
  );
}
