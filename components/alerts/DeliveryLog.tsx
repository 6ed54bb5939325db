"use client";

import { useEffect, useState } from "react";
import type { DeliveryDto } from "@/lib/alerts/dto";
import { getJson, shortTime } from "./format";

/** The webhook delivery log: every attempt, newest first. */
export function DeliveryLog() {
  const [rows, setRows] = useState<DeliveryDto[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    getJson<{ deliveries: DeliveryDto[] }>("/api/alerts/deliveries?limit=50", ctl.signal).then(
      (body) => {
        setRows(body.deliveries);
        setError(null);
      },
      (e: unknown) => {
        if (!ctl.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      },
    );
    return () => ctl.abort();
  }, [tick]);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), 10_000);
    return () => clearInterval(t);
  }, []);

  return (
    <section aria-labelledby="deliveries-h" className="flex flex-col gap-2">
      <div className="flex items-center gap-3">
        <h2 id="deliveries-h" className="text-sm font-medium text-zinc-200">
          Webhook deliveries
        </h2>
        <button type="button" onClick={() => setTick((n) => n + 1)} className="text-xs text-sky-400 hover:underline">
          Refresh
        </button>
      </div>
      {error && <p className="text-xs text-red-400">{error}</p>}
      {rows && rows.length === 0 && <p className="text-xs text-zinc-500">No webhook has been called yet.</p>}
      {rows && rows.length > 0 && (
        <table className="w-full text-left text-[13px]">
          <thead className="text-xs text-zinc-500">
            <tr>
              <th className="py-1 pr-3 font-normal">Time</th>
              <th className="py-1 pr-3 font-normal">Alert</th>
              <th className="py-1 pr-3 font-normal">Event</th>
              <th className="py-1 pr-3 font-normal">Attempt</th>
              <th className="py-1 pr-3 font-normal">Result</th>
              <th className="py-1 pr-3 font-normal">Took</th>
              <th className="py-1 font-normal">URL</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.id} data-testid="delivery-row" className="border-t border-zinc-800/70">
                <td className="py-1 pr-3 whitespace-nowrap text-zinc-400">{shortTime(d.at)}</td>
                <td className="py-1 pr-3 font-mono text-zinc-300">
                  {d.deviceId ?? "?"} · {d.kind ?? "?"}
                </td>
                <td className="py-1 pr-3">{d.event}</td>
                <td className="py-1 pr-3 tabular-nums">{d.attempt}</td>
                <td className={`py-1 pr-3 ${d.ok ? "text-emerald-400" : "text-red-400"}`}>
                  {d.ok ? `ok ${d.statusCode}` : (d.error ?? `HTTP ${d.statusCode}`)}
                </td>
                <td className="py-1 pr-3 tabular-nums text-zinc-400">{d.durationMs} ms</td>
                <td className="max-w-xs truncate py-1 text-zinc-500" title={d.url}>
                  {d.url}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
