"use client";

import type { DisconnectSummaryDto } from "@/lib/api/dto";
import type { DisconnectReason } from "@/lib/ingest/events";
import { DISCONNECT_REASON_LABELS, formatCount } from "@/components/fleet/format";
import { HistoryDeviceId } from "./HistoryDeviceId";
import { formatPercent, formatSeconds, formatUtcMinute, REASON_BAR } from "./format";

/** The definitions shown on the column headers; lib/reports/uptime.ts computes exactly these. */
export const METRIC_HELP = {
  disconnects: "Disconnects of this device in the period that match the filter (any session end, takeovers included).",
  uptime:
    "Uptime: the share of the period the device had a session open, as the monitor recorded it — the sum of its sessions (connect to disconnect; a session still open counts until now) clipped to the period, divided by the period's length. Every session counts, whatever the reason filter; time before the device was first seen counts as not connected.",
  mtbd: "Mean time between disconnects: the period's length divided by this device's disconnects in the period.",
} as const;

function Stat({
  label,
  count,
  testId,
  title,
}: {
  label: string;
  count: number | null;
  testId: string;
  title?: string;
}) {
  return (
    <div
      className="flex min-w-0 flex-col gap-0.5 rounded-md border border-zinc-800 bg-zinc-900 px-3 py-2"
      title={title}
    >
      <span className="text-[11px] font-semibold tracking-wide text-zinc-400 uppercase">{label}</span>
      <span
        data-testid={testId}
        data-count={count ?? undefined}
        className="text-2xl leading-7 font-semibold text-zinc-100 tabular-nums"
      >
        {count === null ? "…" : formatCount(count)}
      </span>
    </div>
  );
}

function ByReason({
  summary,
  selected,
  onReason,
}: {
  summary: DisconnectSummaryDto;
  selected: DisconnectReason[];
  onReason(r: DisconnectReason): void;
}) {
  const max = Math.max(1, ...summary.byReason.map((r) => r.count));
  return (
    <div className="rounded-md border border-zinc-800 bg-zinc-900 px-3 py-2">
      <h2 className="mb-1.5 text-[11px] font-semibold tracking-wide text-zinc-400 uppercase">By reason</h2>
      {summary.byReason.length === 0 ? (
        <p className="text-xs text-zinc-500">No disconnects.</p>
      ) : (
        <ul data-testid="summary-by-reason" className="flex flex-col gap-1">
          {summary.byReason.map((r) => (
            <li key={r.reason} data-reason={r.reason} data-count={r.count}>
              <button
                type="button"
                onClick={() => onReason(r.reason)}
                title={
                  selected.length === 1 && selected[0] === r.reason
                    ? "show every reason again"
                    : `show only ${DISCONNECT_REASON_LABELS[r.reason]}`
                }
                className="grid w-full grid-cols-[10.5rem_1fr_4.5rem] items-center gap-2 rounded px-1 py-0.5 text-left text-xs outline-none hover:bg-zinc-800 focus-visible:ring-1 focus-visible:ring-sky-500"
              >
                <span className="truncate text-zinc-300">{DISCONNECT_REASON_LABELS[r.reason]}</span>
                <span className="h-2 overflow-hidden rounded-sm bg-zinc-800">
                  <span
                    className={`block h-full ${REASON_BAR[r.reason]}`}
                    style={{ width: `${Math.max(1.5, (r.count / max) * 100)}%` }}
                  />
                </span>
                <span className="text-right text-zinc-200 tabular-nums">
                  {formatCount(r.count)}{" "}
                  <span className="text-zinc-500">{((r.count / Math.max(1, summary.total)) * 100).toFixed(0)}%</span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function TopDevices({ summary, onDevice }: { summary: DisconnectSummaryDto; onDevice(id: string): void }) {
  const th = "px-2 py-1 text-left font-medium text-zinc-400";
  return (
    <div className="min-w-0 rounded-md border border-zinc-800 bg-zinc-900 px-3 py-2">
      <h2 className="mb-1.5 text-[11px] font-semibold tracking-wide text-zinc-400 uppercase">
        Devices that dropped most
      </h2>
      {summary.topDevices.length === 0 ? (
        <p className="text-xs text-zinc-500">No disconnects.</p>
      ) : (
        <table data-testid="summary-top-devices" className="w-full table-fixed text-xs">
          <thead>
            <tr className="border-b border-zinc-800">
              <th className={`${th} w-auto`}>Device</th>
              <th className={`${th} w-20 text-right`} title={METRIC_HELP.disconnects}>
                <span className="cursor-help underline decoration-zinc-600 decoration-dotted underline-offset-2">
                  Drops
                </span>
              </th>
              <th className={`${th} w-24 text-right`} title={METRIC_HELP.uptime}>
                <span className="cursor-help underline decoration-zinc-600 decoration-dotted underline-offset-2">
                  Uptime
                </span>
              </th>
              <th className={`${th} w-28 text-right`} title={METRIC_HELP.mtbd}>
                <span className="cursor-help underline decoration-zinc-600 decoration-dotted underline-offset-2">
                  MTBD
                </span>
              </th>
            </tr>
          </thead>
          <tbody>
            {summary.topDevices.map((d) => (
              <tr
                key={d.deviceId}
                data-testid="top-device"
                data-device-id={d.deviceId}
                data-disconnects={d.disconnects}
                className="border-b border-zinc-800/60 last:border-b-0"
              >
                <td className="min-w-0 px-2 py-1">
                  <button
                    type="button"
                    onClick={() => onDevice(d.deviceId)}
                    title="show only this device"
                    className="block w-full min-w-0 text-left outline-none hover:text-sky-300 focus-visible:ring-1 focus-visible:ring-sky-500"
                  >
                    <HistoryDeviceId id={d.deviceId} name={d.deviceName} />
                  </button>
                </td>
                <td className="px-2 py-1 text-right text-zinc-100 tabular-nums">{formatCount(d.disconnects)}</td>
                <td className="px-2 py-1 text-right text-zinc-300 tabular-nums" title={METRIC_HELP.uptime}>
                  {formatPercent(d.uptimePercent)}
                </td>
                <td className="px-2 py-1 text-right text-zinc-300 tabular-nums" title={METRIC_HELP.mtbd}>
                  {formatSeconds(d.meanSecondsBetweenDisconnects)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function SummaryPanel({
  summary,
  loading,
  error,
  selectedReasons,
  onReason,
  onDevice,
}: {
  summary: DisconnectSummaryDto | null;
  loading: boolean;
  error: string | null;
  selectedReasons: DisconnectReason[];
  onReason(r: DisconnectReason): void;
  onDevice(id: string): void;
}) {
  if (error) {
    return (
      <p
        role="alert"
        data-testid="summary-error"
        className="rounded-md border border-red-500/50 bg-red-500/10 px-3 py-2 text-[13px] text-red-100"
      >
        Summary unavailable: {error}
      </p>
    );
  }
  const period = summary
    ? `${summary.period.from ? formatUtcMinute(Date.parse(summary.period.from)) : "first record"} → ${formatUtcMinute(Date.parse(summary.period.to))} UTC`
    : "…";
  return (
    <section
      aria-label="Summary"
      aria-busy={loading}
      data-testid="summary"
      data-loading={String(loading)}
      className={`grid grid-cols-1 gap-3 transition-opacity lg:grid-cols-[12rem_minmax(0,1fr)_minmax(0,1.4fr)] ${loading ? "opacity-60" : ""}`}
    >
      <div className="flex flex-col gap-3">
        <Stat
          label="Disconnects"
          testId="summary-total"
          count={summary ? summary.total : null}
          title="every session end in the period matching the filter"
        />
        <Stat
          label="Devices"
          testId="summary-devices"
          count={summary ? summary.devices : null}
          title="devices with at least one of these disconnects"
        />
        <p data-testid="summary-period" className="px-1 text-[11px] text-zinc-500 tabular-nums">
          {period}
        </p>
      </div>
      {summary && <ByReason summary={summary} selected={selectedReasons} onReason={onReason} />}
      {summary && <TopDevices summary={summary} onDevice={onDevice} />}
    </section>
  );
}
