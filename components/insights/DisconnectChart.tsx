"use client";

import Link from "next/link";
import { useState } from "react";
import type { InsightsDto } from "@/lib/api/insights";
import { DISCONNECT_REASONS, type DisconnectReason } from "@/lib/ingest/events";
import { reasonLabel } from "@/components/fleet/format";
import { countTicks, hourLabels, hourRange } from "./axis";

export const REASON_COLOR: Record<DisconnectReason, string> = {
  clean: "bg-zinc-400",
  keepalive_timeout: "bg-amber-400",
  connection_lost: "bg-red-500",
  taken_over: "bg-fuchsia-400",
  protocol_error: "bg-orange-500",
  not_authorized: "bg-rose-300",
  admin: "bg-sky-400",
  session_expired: "bg-teal-400",
  will: "bg-violet-400",
  broker_restart: "bg-indigo-400",
  unknown: "bg-zinc-600",
};

type Hour = InsightsDto["disconnects"][number];

const totalOf = (h: Hour) => Object.values(h.counts).reduce<number>((a, b) => a + (b ?? 0), 0);

/**
 * Disconnects per hour, stacked by reason: a count axis with grid lines, hour
 * labels below, and a tooltip for the hour under the pointer or the keyboard
 * focus. Each bar opens its hour in the history.
 */
export function DisconnectChart({ hours }: { hours: readonly Hour[] }) {
  const [active, setActive] = useState<number | null>(null);
  const totals = hours.map(totalOf);
  const ticks = countTicks(Math.max(0, ...totals));
  const top = ticks[ticks.length - 1];
  const labels = hourLabels(hours.map((h) => h.hour));
  const shown = active === null ? null : hours[active];

  return (
    <div className="grid grid-cols-[2.5rem_minmax(0,1fr)] gap-x-1" data-testid="disconnect-chart">
      <div className="relative h-40 text-right text-[10px] text-zinc-500 tabular-nums" aria-hidden="true">
        {ticks.map((t) => (
          <span
            key={t}
            data-testid="y-tick"
            className="absolute right-0 translate-y-1/2"
            style={{ bottom: `${(t / top) * 100}%` }}
          >
            {t.toLocaleString("en")}
          </span>
        ))}
      </div>
      <div className="relative h-40 border-b border-l border-zinc-700" onMouseLeave={() => setActive(null)}>
        {ticks.slice(1).map((t) => (
          <span
            key={t}
            aria-hidden="true"
            className="absolute inset-x-0 border-t border-dashed border-zinc-800"
            style={{ bottom: `${(t / top) * 100}%` }}
          />
        ))}
        <div className="absolute inset-0 flex items-end gap-px">
          {hours.map((h, i) => {
            const end = new Date(Date.parse(h.hour) + 3_600_000).toISOString();
            const parts = DISCONNECT_REASONS.filter((r) => h.counts[r]);
            return (
              <Link
                key={h.hour}
                href={`/history?from=${encodeURIComponent(h.hour)}&to=${encodeURIComponent(end)}`}
                aria-label={`${hourRange(h.hour)}: ${totals[i]} disconnects${parts
                  .map((r) => `, ${reasonLabel(r)} ${h.counts[r]}`)
                  .join("")}`}
                aria-describedby={active === i ? "hour-tooltip" : undefined}
                data-testid="hour-bar"
                data-count={totals[i]}
                onMouseEnter={() => setActive(i)}
                onFocus={() => setActive(i)}
                onBlur={() => setActive(null)}
                className={`flex h-full min-w-0 flex-1 flex-col-reverse ${active === i ? "bg-zinc-800/60" : ""}`}
              >
                <span className="flex flex-col-reverse" style={{ height: `${(totals[i] / top) * 100}%` }}>
                  {parts.map((r) => (
                    <span
                      key={r}
                      className={REASON_COLOR[r]}
                      style={{ height: `${((h.counts[r] ?? 0) / Math.max(1, totals[i])) * 100}%` }}
                    />
                  ))}
                </span>
              </Link>
            );
          })}
        </div>
        {shown && active !== null && (
          <div
            id="hour-tooltip"
            role="tooltip"
            data-testid="hour-tooltip"
            className="pointer-events-none absolute top-1 z-10 w-max max-w-56 rounded border border-zinc-700 bg-zinc-900 px-2 py-1 text-xs text-zinc-200 shadow-lg"
            style={
              (active + 0.5) / hours.length < 0.5
                ? { left: `${((active + 1) / hours.length) * 100}%` }
                : { right: `${(1 - active / hours.length) * 100}%` }
            }
          >
            <div className="font-medium">{hourRange(shown.hour)}</div>
            <div className="text-zinc-400">
              {totals[active].toLocaleString("en")} disconnect{totals[active] === 1 ? "" : "s"}
            </div>
            <ul>
              {DISCONNECT_REASONS.filter((r) => shown.counts[r]).map((r) => (
                <li key={r} className="flex items-center gap-1">
                  <span className={`inline-block size-2 rounded-sm ${REASON_COLOR[r]}`} />
                  {reasonLabel(r)}
                  <span className="ml-auto pl-3 tabular-nums">{shown.counts[r]}</span>
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
      <span className="pt-0.5 text-right text-[10px] text-zinc-500">UTC</span>
      <div className="relative h-4 text-[10px] text-zinc-500" aria-hidden="true">
        {labels.map((l) => {
          const at = l.index / Math.max(1, hours.length);
          // centred under its hour, but kept inside the chart at either end
          const shift = at < 0.06 ? "" : at > 0.94 ? "-translate-x-full" : "-translate-x-1/2";
          return (
            <span
              key={l.index}
              data-testid="x-label"
              className={`absolute whitespace-nowrap ${shift}`}
              style={{ left: `${at * 100}%` }}
            >
              {l.label}
            </span>
          );
        })}
      </div>
    </div>
  );
}
