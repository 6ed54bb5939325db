"use client";

import { useEffect, useMemo, useState } from "react";
import Link from "next/link";
import type { ActivityDto } from "@/lib/api/activity";
import type { DeviceDetail } from "@/lib/api/devices";
import { Brand, TopNav } from "@/components/nav/TopNav";
import { DeviceHeader } from "./DeviceHeader";
import { DiagnosisPanel } from "./DiagnosisPanel";
import { KeepaliveTimeline } from "./KeepaliveTimeline";
import { activityQuery, rangeOf, RANGES, type RangeKey } from "./timeline";
import { usePolled } from "./usePolled";

const DEVICE_POLL_MS = 2_000;

/**
 * One device: what the monitor believes (header), why it drops (diagnosis)
 * and its keepalive timeline. Polls the device every 2 s and the timeline
 * every few seconds (less often for long ranges).
 */
export interface DevicePageProps {
  id: string;
  initialRange: string | null;
  /** Fetched by the server while rendering, so the first paint needs no round trip. */
  initial?: { now: number; device: DeviceDetail | null; activity: ActivityDto | null };
}

export function DevicePage({ id, initialRange, initial }: DevicePageProps) {
  // From the server's view of the URL, so the first render (server and browser alike) already has the range.
  const [range, setRange] = useState<RangeKey>(() =>
    RANGES.some((x) => x.key === initialRange) ? (initialRange as RangeKey) : "1h",
  );
  const base = `/api/devices/${encodeURIComponent(id.toWellFormed())}`;
  const device = usePolled<DeviceDetail>(
    base,
    DEVICE_POLL_MS,
    base,
    initial?.device ? { url: base, data: initial.device } : null,
  );
  // The query's time window moves with each poll: the URL is rebuilt on a clock.
  const [now, setNow] = useState(() => initial?.now ?? Date.now());
  const spec = rangeOf(range);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), spec.pollMs);
    return () => clearInterval(t);
  }, [spec.pollMs]);
  const activityUrl = useMemo(() => `${base}/activity?${activityQuery(range, now)}`, [base, range, now]);
  // Grouped by range: while the window moves, the last timeline stays until the next one arrives.
  const initialActivityUrl = initial ? `${base}/activity?${activityQuery(range, initial.now)}` : "";
  const activity = usePolled<ActivityDto>(
    activityUrl,
    3_600_000,
    `${base}|${range}`,
    initial?.activity ? { url: initialActivityUrl, data: initial.activity } : null,
  );

  const changeRange = (r: RangeKey) => {
    setRange(r);
    setNow(Date.now());
    const params = new URLSearchParams(window.location.search);
    params.set("range", r);
    window.history.replaceState(null, "", `?${params.toString()}`);
  };

  return (
    <div className="flex min-h-dvh flex-col">
      <header className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-zinc-800 bg-zinc-900/80 px-4 py-2">
        <Brand section="device" />
        <TopNav />
      </header>
      <main className="flex flex-1 flex-col gap-5 p-4">
        {device.status === 404 ? (
          <div data-testid="device-not-found" className="flex flex-col gap-2">
            <DeviceHeader id={id} device={null} />
            <p className="text-sm text-zinc-400">
              No device with this id has been seen.{" "}
              <Link className="text-sky-300 hover:underline" href="/">
                Back to the fleet
              </Link>
            </p>
          </div>
        ) : (
          <>
            <DeviceHeader id={id} device={device.data} onChanged={device.refresh} />
            {device.error && <p className="text-xs text-amber-300">Could not refresh the device: {device.error}</p>}
            <DiagnosisPanel findings={device.data?.diagnosis ?? null} />
            <KeepaliveTimeline
              activity={activity.data}
              now={now}
              range={range}
              onRange={changeRange}
              keepaliveSeconds={device.data?.keepaliveSeconds ?? null}
              firstSeenAt={device.data ? Date.parse(device.data.firstSeenAt) : null}
              error={activity.error}
            />
          </>
        )}
      </main>
    </div>
  );
}
