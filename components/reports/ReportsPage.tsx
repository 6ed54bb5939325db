"use client";

import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useCallback, useEffect, useMemo, useState } from "react";
import type { UptimeDeviceDto, UptimeReportDto, UptimeTagDto } from "@/lib/api/reports";
import { useApi } from "@/components/api/client";
import { deviceHref, formatCount } from "@/components/fleet/format";
import { control, UtcRangeInputs } from "@/components/history/FilterBar";
import { formatPercent, formatSeconds, formatUtc } from "@/components/history/format";
import { Brand, TopNav } from "@/components/nav/TopNav";
import { PERIOD_PRESETS, parseView, reportQuery, viewToSearch, type ReportView } from "./period";
import { Sparkline } from "./Sparkline";

/** The definitions on the column headers; lib/reports/uptime.ts computes exactly these. */
const HELP = {
  uptime:
    "Share of the period with a session open (connect to disconnect, or to the next connect when no end was recorded; an open session counts until now). Time before the device was first seen counts as not up.",
  disconnects: "Sessions that ended inside the period, whatever the reason.",
  mtbd: "Mean time between disconnects: the period's length divided by the disconnects.",
  outage: "The longest unbroken offline stretch inside the period.",
  online: "Connected. Late spells are part of it: the monitor does not store when a device was late.",
  offline: "Seen before, not connected, while the monitor was listening.",
  unknown: "Before the device was first seen, or while the monitor could not hear the broker.",
} as const;

const th = "px-2 py-1.5 text-left font-medium whitespace-nowrap";
const td = "px-2 py-1.5 whitespace-nowrap tabular-nums";

function Figures({ f }: { f: UptimeDeviceDto | UptimeTagDto }) {
  return (
    <>
      <td className={td} data-testid="uptime" data-value={f.uptimePercent ?? ""}>
        {formatPercent(f.uptimePercent)}
      </td>
      <td className={td} data-testid="disconnects" data-value={f.disconnects}>
        {formatCount(f.disconnects)}
      </td>
      <td className={td}>{formatSeconds(f.meanSecondsBetweenDisconnects)}</td>
      <td className={td} data-testid="longest-outage" data-value={f.longestOutageSeconds}>
        {f.longestOutageSeconds === 0 ? "none" : formatSeconds(f.longestOutageSeconds)}
      </td>
      <td className={td}>{formatSeconds(f.statusSeconds.online)}</td>
      <td className={`${td} text-zinc-500`}>not stored</td>
      <td className={td}>{formatSeconds(f.statusSeconds.offline)}</td>
      <td className={td}>{formatSeconds(f.statusSeconds.unknown)}</td>
    </>
  );
}

function FigureHeaders() {
  return (
    <>
      <th scope="col" className={th} title={HELP.uptime}>
        Uptime
      </th>
      <th scope="col" className={th} title={HELP.disconnects}>
        Disconnects
      </th>
      <th scope="col" className={th} title={HELP.mtbd}>
        Mean between
      </th>
      <th scope="col" className={th} title={HELP.outage}>
        Longest outage
      </th>
      <th scope="col" className={th} title={HELP.online}>
        Online
      </th>
      <th scope="col" className={th} title="Not stored by the monitor">
        Late
      </th>
      <th scope="col" className={th} title={HELP.offline}>
        Offline
      </th>
      <th scope="col" className={th} title={HELP.unknown}>
        Unknown
      </th>
    </>
  );
}

function PeriodPicker({ view, onChange }: { view: ReportView; onChange(next: Partial<ReportView>): void }) {
  return (
    <div className="flex flex-wrap items-center gap-2">
      <div
        role="group"
        aria-label="Period"
        data-testid="period-presets"
        className="flex h-8 overflow-hidden rounded-md border border-zinc-700 text-[13px]"
      >
        {[...PERIOD_PRESETS, { key: "custom" as const, label: "custom", title: "choose the start and end (UTC)" }].map(
          (p) => (
            <button
              key={p.key}
              type="button"
              title={p.title}
              aria-pressed={view.period === p.key}
              onClick={() => onChange({ period: p.key })}
              className={`border-r border-zinc-700 px-2.5 outline-none last:border-r-0 focus-visible:bg-zinc-700 ${view.period === p.key ? "bg-zinc-700 text-zinc-50" : "bg-zinc-900 text-zinc-400 hover:bg-zinc-800 hover:text-zinc-200"}`}
            >
              {p.label}
            </button>
          ),
        )}
      </div>
      {view.period === "custom" && (
        <UtcRangeInputs from={view.from} to={view.to} onChange={onChange} testIdPrefix="report" />
      )}
    </div>
  );
}

function DeviceFilter({ value, onCommit }: { value: string; onCommit(v: string): void }) {
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
      data-testid="report-device"
      aria-label="Filter by device id glob"
      placeholder="device glob, e.g. pump-*"
      spellCheck={false}
      autoComplete="off"
      maxLength={256}
      value={draft}
      onChange={(e) => setDraft(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === "Enter") onCommit(draft);
      }}
      className={`${control} w-56 max-w-full px-2.5 font-mono placeholder:font-sans placeholder:text-zinc-500`}
    />
  );
}

/** Tags known to the fleet, those of the report's devices, and the one chosen. */
function TagFilter({ value, extra, onChange }: { value: string; extra: string[]; onChange(v: string): void }) {
  const tags = useApi<{ tags: Array<{ tag: string }> }>("/api/tags").data?.tags.map((t) => t.tag) ?? [];
  const options = [...new Set([...tags, ...extra, ...(value ? [value] : [])])].sort();
  return (
    <label className="flex items-center gap-1.5 text-xs text-zinc-500">
      tag
      <select
        data-testid="report-tag"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        className={`${control} max-w-48 px-2`}
      >
        <option value="">all devices</option>
        {options.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </select>
    </label>
  );
}

function TagTable({ tags }: { tags: UptimeTagDto[] }) {
  return (
    <section aria-labelledby="tags-heading" className="report-section flex flex-col gap-2">
      <h2 id="tags-heading" className="text-sm font-semibold text-zinc-100">
        Per tag
      </h2>
      {tags.length === 0 ? (
        <p className="text-xs text-zinc-500">No device in the report has a tag.</p>
      ) : (
        <div className="report-table max-w-full overflow-x-auto rounded-md border border-zinc-800">
          <table className="w-full text-[13px]" data-testid="tag-table">
            <thead className="bg-zinc-900 text-xs text-zinc-400">
              <tr>
                <th scope="col" className={th}>
                  Tag
                </th>
                <th scope="col" className={th}>
                  Devices
                </th>
                <FigureHeaders />
              </tr>
            </thead>
            <tbody>
              {tags.map((t) => (
                <tr key={t.tag} data-testid="tag-row" data-tag={t.tag} className="border-t border-zinc-800">
                  <th scope="row" className={`${th} font-mono text-zinc-200`}>
                    {t.tag}
                  </th>
                  <td className={td}>{formatCount(t.devices)}</td>
                  <Figures f={t} />
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function DeviceTable({ report }: { report: UptimeReportDto }) {
  return (
    <section aria-labelledby="devices-heading" className="report-section flex flex-col gap-2">
      <h2 id="devices-heading" className="text-sm font-semibold text-zinc-100">
        Per device
      </h2>
      {report.devices.length === 0 ? (
        <p className="text-xs text-zinc-500" data-testid="report-empty">
          No device matches, or none had been seen by the end of the period.
        </p>
      ) : (
        <div className="report-table max-w-full overflow-x-auto rounded-md border border-zinc-800">
          <table className="w-full text-[13px]" data-testid="device-table">
            <thead className="bg-zinc-900 text-xs text-zinc-400">
              <tr>
                <th scope="col" className={th}>
                  Device
                </th>
                <th scope="col" className={th} title={`Uptime per ${formatSeconds(report.bucketSeconds)}`}>
                  Over the period
                </th>
                <FigureHeaders />
              </tr>
            </thead>
            <tbody>
              {report.devices.map((d) => (
                <tr
                  key={d.deviceId}
                  data-testid="device-row"
                  data-device-id={d.deviceId}
                  className="border-t border-zinc-800"
                >
                  <th scope="row" className={`${th} max-w-64 truncate font-mono`}>
                    <Link
                      href={deviceHref(d.deviceId)}
                      title={d.deviceId}
                      className="text-sky-300 underline-offset-2 outline-none hover:underline focus-visible:ring-2 focus-visible:ring-sky-500"
                    >
                      {d.name ?? d.deviceId}
                    </Link>
                  </th>
                  <td className="px-2 py-1">
                    <Sparkline
                      values={d.sparkline}
                      label={`uptime of ${d.deviceId} over the period, ${formatSeconds(report.bucketSeconds)} per point`}
                    />
                  </td>
                  <Figures f={d} />
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Uptime per device and per tag for a period: on screen, as CSV, or printed. */
export function ReportsPage() {
  const params = useSearchParams();
  const view = useMemo(() => parseView(new URLSearchParams(params?.toString() ?? "")), [params]);
  const [now, setNow] = useState(() => Date.now());
  const query = useMemo(() => reportQuery(view, now), [view, now]);
  const answer = useApi<UptimeReportDto>(`/api/reports/uptime?${query}`);
  const state = { report: answer.data ?? null, error: answer.error };

  const change = useCallback(
    (next: Partial<ReportView>) => {
      const merged = { ...view, ...next };
      if (next.period === "custom" && view.period !== "custom" && state.report) {
        merged.from = state.report.period.from;
        merged.to = state.report.period.to;
      }
      const search = viewToSearch(merged);
      window.history.replaceState(null, "", search ? `?${search}` : window.location.pathname);
      setNow(Date.now());
    },
    [view, state.report],
  );
  const onDevice = useCallback((device: string) => change({ device }), [change]);
  const report = state.report;
  const reportTags = useMemo(() => report?.tags.map((t) => t.tag) ?? [], [report]);
  const loading = answer.loading;

  return (
    <div className="flex min-h-dvh flex-col">
      <header className="no-print flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-zinc-800 bg-zinc-900/80 px-4 py-2">
        <Brand section="reports" />
        <TopNav />
      </header>
      <main className="flex min-w-0 flex-1 flex-col gap-4 p-4">
        <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
          <h1 className="text-base font-semibold text-zinc-100">Uptime report</h1>
          {report && (
            <p className="text-xs text-zinc-400" data-testid="report-period">
              {formatUtc(report.period.from)} – {formatUtc(report.period.to)} UTC
              {view.tag ? ` · tag ${view.tag}` : ""}
              {view.device ? ` · devices ${view.device}` : ""}
            </p>
          )}
        </div>
        <form
          role="search"
          aria-label="Report filters"
          data-testid="report-filters"
          className="no-print flex flex-wrap items-center gap-2"
          onSubmit={(e) => e.preventDefault()}
        >
          <PeriodPicker view={view} onChange={change} />
          <DeviceFilter value={view.device} onCommit={onDevice} />
          <TagFilter value={view.tag} extra={reportTags} onChange={(tag) => change({ tag })} />
        </form>
        <div className="no-print flex flex-wrap items-center gap-2 text-[13px]">
          <a
            href={`/api/reports/uptime?${query}&format=csv`}
            download
            data-testid="report-csv"
            className="flex h-8 items-center rounded-md border border-emerald-600/60 bg-emerald-600/15 px-3 font-medium text-emerald-200 outline-none hover:bg-emerald-600/25 focus-visible:ring-2 focus-visible:ring-emerald-500"
          >
            ⤓ CSV
          </a>
          <button
            type="button"
            data-testid="report-print"
            onClick={() => window.print()}
            className="h-8 rounded-md border border-zinc-700 bg-zinc-900 px-3 text-zinc-200 outline-none hover:bg-zinc-800 focus-visible:ring-2 focus-visible:ring-sky-500"
          >
            Print
          </button>
          {loading && (
            <span role="status" className="text-xs text-zinc-500">
              Loading…
            </span>
          )}
        </div>
        {state.error && !loading && (
          <p role="alert" data-testid="report-error" className="text-sm text-red-300">
            {state.error}
          </p>
        )}
        {report && (
          <>
            {report.nextCursor && (
              <p role="status" className="text-xs text-amber-300">
                Only the first {formatCount(report.devices.length)} devices by id are shown
                (KEEPWATCH_REPORT_MAX_DEVICES); narrow the device or tag filter, or page through the API.
              </p>
            )}
            <TagTable tags={report.tags} />
            <DeviceTable report={report} />
            <p className="text-xs text-zinc-500">
              Late is not stored by the monitor, so its time counts as online. Times in UTC.
            </p>
          </>
        )}
      </main>
    </div>
  );
}
