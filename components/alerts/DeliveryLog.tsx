"use client";

import { useState } from "react";
import type { ChannelDto, DeliveryDto, DeliveryOutcome } from "@/lib/notify/dto";
import { canOperate, useMe } from "@/components/nav/me";
import { apiJson, errorText, useApi } from "@/components/api/client";
import { shortTime } from "./format";

const OUTCOMES: Array<{ value: "" | DeliveryOutcome; label: string }> = [
  { value: "", label: "any outcome" },
  { value: "ok", label: "delivered" },
  { value: "failed", label: "failed attempts" },
  { value: "dead", label: "dead letters" },
];

/**
 * The delivery log: every attempt on every channel, newest first, filtered by
 * channel and outcome; a dead-lettered notification can be sent again now.
 */
export function DeliveryLog({ channels }: { channels: ChannelDto[] | null }) {
  const [channel, setChannel] = useState("");
  const [outcome, setOutcome] = useState<"" | DeliveryOutcome>("");
  const [retrying, setRetrying] = useState<string | null>(null);
  const operator = canOperate(useMe());
  const q = new URLSearchParams({ limit: "50" });
  if (channel) q.set("channel", channel);
  if (outcome) q.set("outcome", outcome);
  // Polled every 10 s while the tab is visible; a new filter shows the last rows until its own arrive.
  const deliveries = useApi<{ deliveries: DeliveryDto[] }>(`/api/alerts/deliveries?${q}`, {
    pollMs: 10_000,
    keepPrevious: true,
  });
  const rows = deliveries.data?.deliveries ?? null;
  // A failed retry is said until the next retry; else the log's own failure.
  const [actionError, setActionError] = useState<string | null>(null);
  const error = actionError ?? deliveries.error;

  const retry = async (notificationId: string) => {
    setRetrying(notificationId);
    try {
      await apiJson("POST", `/api/notifications/${notificationId}/retry`);
      setActionError(null);
    } catch (e) {
      setActionError(errorText(e));
    } finally {
      setRetrying(null);
      deliveries.refetch();
    }
  };

  const select =
    "rounded border border-zinc-700 bg-zinc-950 px-1.5 py-0.5 text-xs text-zinc-200 outline-none focus-visible:ring-2 focus-visible:ring-sky-500";
  return (
    <section aria-labelledby="deliveries-h" className="flex flex-col gap-2">
      <div className="flex flex-wrap items-center gap-3">
        <h2 id="deliveries-h" className="text-sm font-medium text-zinc-200">
          Deliveries
        </h2>
        <label className="flex items-center gap-1 text-xs text-zinc-400">
          Channel
          <select
            data-testid="delivery-channel"
            value={channel}
            onChange={(e) => setChannel(e.target.value)}
            className={select}
          >
            <option value="">all</option>
            {channels?.map((c) => (
              <option key={c.id} value={String(c.id)}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label className="flex items-center gap-1 text-xs text-zinc-400">
          Outcome
          <select
            data-testid="delivery-outcome"
            value={outcome}
            onChange={(e) => setOutcome(e.target.value as "" | DeliveryOutcome)}
            className={select}
          >
            {OUTCOMES.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={deliveries.refetch} className="text-xs text-sky-400 hover:underline">
          Refresh
        </button>
      </div>
      {error && (
        <p role="alert" className="text-xs text-red-400">
          {error}
        </p>
      )}
      {rows && rows.length === 0 && (
        <p className="text-xs text-zinc-500">
          {channel || outcome ? "No delivery matches." : "Nothing has been sent yet."}
        </p>
      )}
      {rows && rows.length > 0 && (
        <div className="max-w-full overflow-x-auto">
          <table className="w-full text-left text-[13px]">
            <thead className="text-xs text-zinc-500">
              <tr>
                <th className="py-1 pr-3 font-normal">Time</th>
                <th className="py-1 pr-3 font-normal">Channel</th>
                <th className="py-1 pr-3 font-normal">About</th>
                <th className="py-1 pr-3 font-normal">Event</th>
                <th className="py-1 pr-3 font-normal">Attempt</th>
                <th className="py-1 pr-3 font-normal">Result</th>
                <th className="py-1 pr-3 font-normal">Took</th>
                <th className="py-1 font-normal">To</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr
                  key={d.id}
                  data-testid="delivery-row"
                  data-outcome={d.ok ? "ok" : d.dead ? "dead" : "failed"}
                  className="border-t border-zinc-800/70"
                >
                  <td className="py-1 pr-3 whitespace-nowrap text-zinc-400">{shortTime(d.at)}</td>
                  <td className="py-1 pr-3 text-zinc-300">
                    {d.channelName ?? "(deleted)"} <span className="text-zinc-500">{d.channelType}</span>
                  </td>
                  <td className="py-1 pr-3 font-mono text-zinc-300">
                    {d.deviceId ? `${d.deviceId} · ${d.kind ?? "?"}` : d.incidentId ? "incident" : (d.kind ?? "—")}
                  </td>
                  <td className="py-1 pr-3">
                    {d.event}
                    {d.digest && (
                      <span className="ml-1 rounded bg-zinc-800 px-1 text-[11px] text-zinc-400">digest</span>
                    )}
                  </td>
                  <td className="py-1 pr-3 tabular-nums">{d.attempt}</td>
                  <td className={`py-1 pr-3 ${d.ok ? "text-emerald-400" : "text-red-400"}`}>
                    {d.ok ? `ok${d.statusCode ? ` ${d.statusCode}` : ""}` : (d.error ?? `HTTP ${d.statusCode}`)}
                    {d.dead && d.final && operator && (
                      <>
                        {" · dead letter "}
                        <button
                          type="button"
                          data-testid="retry-now"
                          disabled={retrying === d.notificationId}
                          onClick={() => d.notificationId && void retry(d.notificationId)}
                          className="rounded bg-zinc-800 px-1.5 text-xs text-sky-300 hover:bg-zinc-700 disabled:opacity-50"
                        >
                          Retry now
                        </button>
                      </>
                    )}
                  </td>
                  <td className="py-1 pr-3 tabular-nums text-zinc-400">{Math.round(d.durationMs)} ms</td>
                  <td className="max-w-xs truncate py-1 text-zinc-500" title={d.url}>
                    {d.url}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
