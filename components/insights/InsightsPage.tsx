"use client";

import Link from "next/link";
import { useState } from "react";
import type { InsightsDto } from "@/lib/api/insights";
import { DISCONNECT_REASONS } from "@/lib/ingest/events";
import { Brand, TopNav } from "@/components/nav/TopNav";
import { describeId, deviceHref, reasonLabel } from "@/components/fleet/format";
import { useApi } from "@/components/api/client";
import { DisconnectChart, REASON_COLOR } from "./DisconnectChart";

/** The fleet at a glance: keepalive distribution and disconnect reasons over time, each leading to the devices behind it. */
export function InsightsPage() {
  const [range, setRange] = useState<"24h" | "7d">("24h");
  // Polled every 30 s while the tab is visible.
  const { data, error } = useApi<InsightsDto>(`/api/insights?range=${range}`, { pollMs: 30_000 });
  const [bucket, setBucket] = useState<string | null>(null);
  const selected = data?.keepalive.find((b) => b.key === bucket) ?? null;
  const maxBucket = Math.max(1, ...(data?.keepalive.map((b) => b.count) ?? [1]));

  return (
    <div className="flex min-h-dvh flex-col">
      <header className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-zinc-800 bg-zinc-900/80 px-4 py-2">
        <Brand section="insights" />
        <TopNav />
      </header>
      <main className="flex flex-1 flex-col gap-6 p-4">
        <h1 className="text-base font-semibold text-zinc-100">Fleet insights</h1>
        {error && <p className="text-xs text-red-300">Could not load insights: {error}</p>}
        <section aria-labelledby="ka-heading" className="flex flex-col gap-2" data-testid="keepalive-distribution">
          <h2 id="ka-heading" className="text-sm font-semibold text-zinc-200">
            Keepalive distribution
          </h2>
          <p className="text-xs text-zinc-500">
            Every device the monitor knows, by the keepalive its last CONNECT carried. Pick a bar for its devices.
          </p>
          <div className="flex flex-col gap-1">
            {data?.keepalive.map((b) => (
              <button
                key={b.key}
                type="button"
                data-testid="keepalive-bucket"
                data-bucket={b.key}
                data-count={b.count}
                aria-pressed={bucket === b.key}
                onClick={() => setBucket(bucket === b.key ? null : b.key)}
                disabled={b.count === 0}
                className="grid grid-cols-[7rem_1fr_4rem] items-center gap-2 rounded px-1 text-left text-xs text-zinc-300 hover:bg-zinc-800/50 disabled:opacity-50"
              >
                <span>{b.label}</span>
                <span
                  className="h-3 rounded-sm bg-sky-500/70"
                  style={{ width: `${(b.count / maxBucket) * 100}%`, minWidth: b.count ? 2 : 0 }}
                />
                <span className="text-right tabular-nums">{b.count.toLocaleString("en")}</span>
              </button>
            ))}
          </div>
          {selected && (
            <ul data-testid="bucket-devices" className="flex flex-wrap gap-x-3 gap-y-1 text-xs">
              {selected.devices.map((id) => (
                <li key={id}>
                  <Link
                    href={deviceHref(id)}
                    prefetch={false}
                    title={describeId(id).title}
                    className="font-mono text-sky-300 hover:underline"
                  >
                    <span dir="auto" className="[unicode-bidi:isolate]">
                      {describeId(id).text}
                    </span>
                  </Link>
                </li>
              ))}
              {selected.count > selected.devices.length && (
                <li className="text-zinc-500">… and {selected.count - selected.devices.length} more</li>
              )}
            </ul>
          )}
        </section>
        <section aria-labelledby="dr-heading" className="flex flex-col gap-2" data-testid="disconnect-reasons">
          <div className="flex items-center gap-3">
            <h2 id="dr-heading" className="text-sm font-semibold text-zinc-200">
              Disconnect reasons over time
            </h2>
            {(["24h", "7d"] as const).map((r) => (
              <button
                key={r}
                type="button"
                aria-pressed={range === r}
                onClick={() => setRange(r)}
                className={`rounded px-2 py-0.5 text-xs ring-1 ring-inset ${range === r ? "bg-zinc-800 text-zinc-50 ring-zinc-600" : "text-zinc-400 ring-zinc-800"}`}
              >
                {r}
              </button>
            ))}
          </div>
          <p className="text-xs text-zinc-500">
            Disconnects per hour (UTC) by reason; point at a bar for its figures, pick it to open that hour in the
            history.
          </p>
          <DisconnectChart hours={data?.disconnects ?? []} />
          <ul className="flex flex-wrap gap-3 text-xs text-zinc-400">
            {DISCONNECT_REASONS.map((r) => (
              <li key={r}>
                <Link
                  href={`/history?range=${range === "24h" ? "24h" : "7d"}&reason=${r}`}
                  className="inline-flex items-center gap-1 hover:text-zinc-200"
                >
                  <span className={`inline-block size-2 rounded-sm ${REASON_COLOR[r]}`} /> {reasonLabel(r)}
                </Link>
              </li>
            ))}
          </ul>
        </section>
      </main>
    </div>
  );
}
