"use client";

import { useSearchParams } from "next/navigation";
import { useCallback, useMemo, useState } from "react";
import type { DisconnectReason } from "@/lib/ingest/events";
import { Brand, TopNav } from "@/components/nav/TopNav";
import { DisconnectTable } from "./DisconnectTable";
import { ExportButton } from "./ExportButton";
import { FilterBar } from "./FilterBar";
import { apiQuery, escapeGlob, filtersToSearch, parseFilters, resolveRange, type HistoryFilters } from "./filters";
import { SummaryPanel } from "./SummaryPanel";
import { usePagedDisconnects, useSummary } from "./useHistoryData";

/**
 * The disconnect history: filters in the URL (shareable), a summary of the
 * filter, the disconnects page by page, and the export of exactly that view.
 */
export function HistoryPage() {
  const params = useSearchParams();
  const filters = useMemo(() => parseFilters(new URLSearchParams(params?.toString() ?? "")), [params]);
  // The instant presets are measured back from; moves on every change of filter and on Refresh.
  const [now, setNow] = useState(() => Date.now());
  const range = useMemo(() => resolveRange(filters, now), [filters, now]);
  const query = useMemo(() => apiQuery(filters, range), [filters, range]);

  const summary = useSummary(query);
  const paged = usePagedDisconnects(query);

  const change = useCallback(
    (next: Partial<HistoryFilters>) => {
      const search = filtersToSearch({ ...filters, ...next });
      window.history.replaceState(null, "", search ? `?${search}` : window.location.pathname);
      setNow(Date.now());
    },
    [filters],
  );
  const refresh = useCallback(() => setNow(Date.now()), []);
  const onReason = useCallback(
    (r: DisconnectReason) => change({ reasons: filters.reasons.length === 1 && filters.reasons[0] === r ? [] : [r] }),
    [change, filters.reasons],
  );
  const onDevice = useCallback((id: string) => change({ device: escapeGlob(id) }), [change]);
  const total = summary.data?.total ?? null;

  return (
    <div className="flex min-h-dvh flex-col">
      <header className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-zinc-800 bg-zinc-900/80 px-4 py-2">
        <Brand section="history" />
        <TopNav />
      </header>
      <main className="flex flex-1 flex-col gap-3 p-4">
        <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
          <h1 className="text-base font-semibold text-zinc-100">Disconnect history</h1>
          <p className="text-xs text-zinc-500">
            Every session end: when, why, how long the device had been silent, how long the session lasted and how long
            until it came back. Times in UTC.
          </p>
        </div>
        <FilterBar filters={filters} range={range} onChange={change} onRefresh={refresh} />
        <ExportButton query={query} total={total} />
        <SummaryPanel
          summary={summary.data}
          loading={summary.loading}
          error={summary.error}
          selectedReasons={filters.reasons}
          onReason={onReason}
          onDevice={onDevice}
        />
        <DisconnectTable paged={paged} total={total} />
      </main>
    </div>
  );
}
