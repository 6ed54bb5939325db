"use client";

import type { DisconnectDto } from "@/lib/api/dto";
import { DISCONNECT_REASON_LABELS, formatCount, formatKeepalive, keepaliveHint } from "@/components/fleet/format";
import { HistoryDeviceId } from "./HistoryDeviceId";
import { formatSeconds, formatUtc, REASON_TONE } from "./format";
import type { PagedDisconnects } from "./useHistoryData";
import { PAGE_SIZE } from "./useHistoryData";

const th =
  "sticky top-0 z-10 bg-zinc-900 px-2.5 py-1.5 text-left text-[11px] font-semibold tracking-wide text-zinc-400 uppercase";
const td = "px-2.5 py-1 align-middle";

function Row({ d, index }: { d: DisconnectDto; index: number }) {
  return (
    <tr
      data-testid="disconnect-row"
      data-device-id={d.deviceId}
      data-reason={d.reason}
      className={`border-b border-zinc-800/60 text-[13px] ${index % 2 === 1 ? "bg-stripe" : ""} hover:bg-row-hover`}
    >
      <td
        className={`${td} font-mono text-[12.5px] whitespace-nowrap text-zinc-300 tabular-nums`}
        title={d.disconnectedAt}
      >
        {formatUtc(d.disconnectedAt)}
      </td>
      <td className={`${td} max-w-0`}>
        <HistoryDeviceId id={d.deviceId} name={d.deviceName} />
      </td>
      <td className={td}>
        <span
          data-testid="disconnect-reason"
          className={`inline-flex items-center rounded px-1.5 py-px text-xs whitespace-nowrap ring-1 ring-inset ${REASON_TONE[d.reason]}`}
        >
          {DISCONNECT_REASON_LABELS[d.reason]}
        </span>
      </td>
      <td
        className={`${td} text-right whitespace-nowrap text-zinc-300 tabular-nums`}
        title={keepaliveHint(d.keepaliveSeconds)}
      >
        {formatKeepalive(d.keepaliveSeconds)}
      </td>
      <td
        className={`${td} text-right whitespace-nowrap text-zinc-300 tabular-nums`}
        data-testid="silence"
        title={d.lastActivityAt ? `last sign of life ${d.lastActivityAt}` : "no sign of life recorded in this session"}
      >
        {formatSeconds(d.silenceSeconds)}
      </td>
      <td
        className={`${td} text-right whitespace-nowrap text-zinc-300 tabular-nums`}
        data-testid="session"
        title={`connected ${d.connectedAt}`}
      >
        {formatSeconds(d.sessionSeconds)}
      </td>
      <td
        className={`${td} text-right whitespace-nowrap tabular-nums`}
        data-testid="offline"
        title={d.reconnectedAt ? `reconnected ${d.reconnectedAt}` : "no later connect recorded"}
      >
        {d.offlineSeconds === null ? (
          <span className="text-zinc-500">not back</span>
        ) : (
          <span className="text-zinc-300">{formatSeconds(d.offlineSeconds)}</span>
        )}
      </td>
    </tr>
  );
}

function Pager({ paged, total }: { paged: PagedDisconnects; total: number | null }) {
  const first = paged.page * PAGE_SIZE + 1;
  const last = paged.page * PAGE_SIZE + paged.rows.length;
  const button =
    "h-7 rounded-md border border-zinc-700 px-2.5 text-xs text-zinc-200 outline-none enabled:hover:bg-zinc-800 disabled:opacity-40 focus-visible:ring-1 focus-visible:ring-sky-500";
  return (
    <div className="flex items-center gap-2 text-xs text-zinc-500">
      <span data-testid="page-range" className="tabular-nums">
        {paged.rows.length === 0
          ? "no rows"
          : `rows ${formatCount(first)}–${formatCount(last)}${total !== null ? ` of ${formatCount(total)}` : ""}`}
      </span>
      <span className="ml-auto flex gap-1.5">
        <button type="button" className={button} disabled={paged.page === 0 || paged.loading} onClick={paged.newest}>
          ⇤ Newest
        </button>
        <button
          type="button"
          data-testid="page-newer"
          className={button}
          disabled={paged.page === 0 || paged.loading}
          onClick={paged.newer}
        >
          ← Newer
        </button>
        <button
          type="button"
          data-testid="page-older"
          className={button}
          disabled={!paged.hasOlder || paged.loading}
          onClick={paged.older}
        >
          Older →
        </button>
      </span>
    </div>
  );
}

/** One page of disconnects, newest first, with what led to each drop and what followed. */
export function DisconnectTable({ paged, total }: { paged: PagedDisconnects; total: number | null }) {
  return (
    <section aria-label="Disconnects" className="flex min-h-0 flex-col gap-2">
      <Pager paged={paged} total={total} />
      {paged.error ? (
        <p
          role="alert"
          data-testid="table-error"
          className="rounded-md border border-red-500/50 bg-red-500/10 px-3 py-2 text-[13px] text-red-100"
        >
          {paged.error}
        </p>
      ) : (
        <div className="overflow-x-auto rounded-md border border-zinc-800">
          <table
            data-testid="disconnect-table"
            aria-busy={paged.loading}
            data-loading={String(paged.loading)}
            className={`w-full min-w-[56rem] table-fixed transition-opacity ${paged.loading ? "opacity-60" : ""}`}
          >
            <thead>
              <tr>
                <th className={`${th} w-44`} title="when the session ended (UTC)">
                  Disconnected (UTC)
                </th>
                <th className={`${th} w-auto`}>Device</th>
                <th className={`${th} w-48`}>Reason</th>
                <th className={`${th} w-24 text-right`} title="keepalive the client asked for in CONNECT">
                  Keepalive
                </th>
                <th className={`${th} w-28 text-right`} title="how long the device had been silent before the drop">
                  Silent
                </th>
                <th className={`${th} w-28 text-right`} title="how long the session had lasted">
                  Session
                </th>
                <th className={`${th} w-28 text-right`} title="how long until the device connected again">
                  Offline
                </th>
              </tr>
            </thead>
            <tbody>
              {paged.rows.map((d, i) => (
                <Row key={`${d.deviceId}\u0000${d.connectedAt}`} d={d} index={i} />
              ))}
            </tbody>
          </table>
          {!paged.loading && paged.rows.length === 0 && (
            <p data-testid="table-empty" className="px-6 py-12 text-center text-sm text-zinc-400">
              No disconnects match the filter in this period.
            </p>
          )}
        </div>
      )}
    </section>
  );
}
