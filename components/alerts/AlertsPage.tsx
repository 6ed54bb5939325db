"use client";

import Link from "next/link";
import { useEffect, useState } from "react";
import type { AlertDto } from "@/lib/alerts/dto";
import { Brand, TopNav } from "@/components/nav/TopNav";
import { retainAlertFeed, useAlertFeed } from "./feed";
import { deviceHref, KIND_LABEL, KIND_STYLE, shortTime } from "./format";

/** Firing alerts live from the event stream; recently resolved ones from the API, refreshed on every change. */
export function AlertsPage() {
  useEffect(() => retainAlertFeed(), []);
  const { firing, firingCount, graceUntil, version, connected } = useAlertFeed();
  const [resolved, setResolved] = useState<AlertDto[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const ctl = new AbortController();
    fetch("/api/alerts?state=resolved&limit=50", { signal: ctl.signal })
      .then(async (r) => {
        const body = await r.json();
        if (!r.ok) throw new Error(body?.error?.message ?? `HTTP ${r.status}`);
        setResolved(body.alerts);
        setError(null);
      })
      .catch((e) => {
        if (!ctl.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      });
    return () => ctl.abort();
  }, [version]);

  return (
    <div className="flex min-h-dvh flex-col">
      <header className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-zinc-800 bg-zinc-900/80 px-4 py-2">
        <Brand section="alerts" />
        <TopNav />
      </header>
      <main className="flex flex-1 flex-col gap-4 p-4">
        <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
          <h1 className="text-base font-semibold text-zinc-100">Alerts</h1>
          <p className="text-xs text-zinc-500">
            Live from the event stream{connected ? "" : " (reconnecting…)"}. Thresholds are set per device group on{" "}
            <Link className="text-sky-400 hover:underline" href="/settings/alerts">
              Alert rules
            </Link>
            . Times in UTC.
          </p>
        </div>
        {graceUntil && (
          <p
            data-testid="alert-grace"
            className="rounded border border-sky-800 bg-sky-950/40 px-3 py-2 text-xs text-sky-200"
          >
            The broker restarted: devices it dropped have until {shortTime(graceUntil)} (or twice their keepalive after
            the restart, where that is longer) to reconnect before their offline alert fires.
          </p>
        )}
        <section aria-labelledby="firing-h" className="flex flex-col gap-2">
          <h2 id="firing-h" className="text-sm font-medium text-zinc-200">
            Firing <span data-testid="firing-count">{firingCount ?? "…"}</span>
          </h2>
          <AlertTable alerts={firing} empty="Nothing is firing." testId="firing-alert" />
        </section>
        <section aria-labelledby="resolved-h" className="flex flex-col gap-2">
          <h2 id="resolved-h" className="text-sm font-medium text-zinc-200">
            Recently resolved
          </h2>
          {error && <p className="text-xs text-red-400">Could not load resolved alerts: {error}</p>}
          <AlertTable alerts={resolved ?? []} empty={resolved ? "None yet." : "Loading…"} testId="resolved-alert" />
        </section>
      </main>
    </div>
  );
}

function AlertTable({ alerts, empty, testId }: { alerts: AlertDto[]; empty: string; testId: string }) {
  if (alerts.length === 0) return <p className="text-xs text-zinc-500">{empty}</p>;
  return (
    <table className="w-full text-left text-[13px]">
      <thead className="text-xs text-zinc-500">
        <tr>
          <th className="py-1 pr-3 font-normal">Device</th>
          <th className="py-1 pr-3 font-normal">Kind</th>
          <th className="py-1 pr-3 font-normal">Fired</th>
          <th className="py-1 pr-3 font-normal">Resolved</th>
          <th className="py-1 font-normal">Message</th>
        </tr>
      </thead>
      <tbody>
        {alerts.map((a) => (
          <tr
            key={a.id}
            data-testid={testId}
            data-device-id={a.deviceId}
            data-kind={a.kind}
            className="border-t border-zinc-800/70"
          >
            <td className="py-1 pr-3 font-mono">
              <Link href={deviceHref(a.deviceId)} className="text-sky-400 hover:underline" title="this device's page">
                {a.deviceId}
              </Link>
            </td>
            <td className="py-1 pr-3">
              <span className={`rounded px-1.5 py-px text-xs ring-1 ring-inset ${KIND_STYLE[a.kind]}`}>
                {KIND_LABEL[a.kind]}
              </span>
            </td>
            <td className="py-1 pr-3 whitespace-nowrap text-zinc-300">{shortTime(a.firedAt)}</td>
            <td className="py-1 pr-3 whitespace-nowrap text-zinc-400">{shortTime(a.resolvedAt)}</td>
            <td className="py-1 text-zinc-400">{a.message}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
