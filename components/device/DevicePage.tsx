"use client";

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import Link from "next/link";
import type { ActivityDto } from "@/lib/api/activity";
import type { DeviceDto } from "@/lib/api/dto";
import type { DeviceDetail } from "@/lib/api/devices";
import { useApi } from "@/components/api/client";
import { Brand, TopNav } from "@/components/nav/TopNav";
import { DeviceHeader } from "./DeviceHeader";
import { DiagnosisPanel } from "./DiagnosisPanel";
import { KeepaliveTimeline } from "./KeepaliveTimeline";
import { mergeLive, type LivePoint } from "./live";
import { activityQuery, RANGES, type RangeKey } from "./timeline";
import { useDeviceStream } from "./useDeviceStream";

/** A change of these is a new session or verdict: sessions and diagnosis are fetched again. */
const REFETCH_ON: readonly (keyof DeviceDto)[] = [
  "status",
  "sessionOpen",
  "connectedAt",
  "lastDisconnectAt",
  "disconnectCount",
  "name",
  "tags",
];
const NO_POINTS: LivePoint[] = [];
/** Changes this close together are one refetch. */
const REFETCH_SETTLE_MS = 300;

/**
 * One device: what the monitor believes (header), why it drops (diagnosis)
 * and its keepalive timeline, kept live by the page's stream
 * (`/api/stream?device=`): its state and activity points arrive as they
 * happen and the timeline's window moves with the clock, with no polling.
 * Sessions and the diagnosis are fetched again when a session or verdict
 * changes, and everything once more after the stream was broken.
 */
export interface DevicePageProps {
  id: string;
  initialRange: string | null;
  /** Fetched by the server while rendering, so the first paint needs no round trip. */
  initial?: { now: number; device?: DeviceDetail | null; activity: ActivityDto | null };
}

export function DevicePage({ id, initialRange, initial }: DevicePageProps) {
  // From the server's view of the URL, so the first render (server and browser alike) already has the range.
  const [range, setRange] = useState<RangeKey>(() =>
    RANGES.some((x) => x.key === initialRange) ? (initialRange as RangeKey) : "1h",
  );
  const base = `/api/devices/${encodeURIComponent(id.toWellFormed())}`;
  // The server already read the device (null: never seen, shown as such until the stream says otherwise).
  // No polling: fetched again on refresh() (the stream tells when); a 404 is null, a device never seen.
  const device = useApi<DeviceDetail | null>(base, {
    nullOn404: true,
    initial: initial && initial.device !== undefined ? { url: base, data: initial.device } : null,
  });
  const notFound = device.data === null;
  const found = device.data ?? null;
  // The clock the timeline's window moves with (a render a second, no request).
  const [now, setNow] = useState(() => initial?.now ?? Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(t);
  }, []);
  // The activity answer is fetched when the range changes (or after a break); the stream's points go on top.
  const [fetchedAt, setFetchedAt] = useState(() => initial?.now ?? Date.now());
  const activityUrl = `${base}/activity?${activityQuery(range, fetchedAt)}`;
  const initialActivityUrl = initial ? `${base}/activity?${activityQuery(range, initial.now)}` : "";
  const activity = useApi<ActivityDto>(
    // A device never seen has no activity to read.
    notFound ? null : activityUrl,
    {
      // A window moved by a reconnect keeps showing the last answer until the next arrives; a new range does not.
      keepPrevious: `${base}|${range}`,
      initial: initial?.activity ? { url: initialActivityUrl, data: initial.activity } : null,
    },
  );
  const [live, setLive] = useState<{ url: string; points: LivePoint[] }>({ url: "", points: [] });
  const [state, setState] = useState<DeviceDto | null>(null);
  const points = live.url === activityUrl ? live.points : NO_POINTS;
  const shown = useMemo(
    () => (activity.data ? mergeLive(activity.data, points, range, now, state) : null),
    [activity.data, points, range, now, state],
  );
  const lastState = useRef<DeviceDto | null>(null);
  const refetchTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const refreshDevice = device.refetch;
  const refetchSoon = useCallback(() => {
    if (refetchTimer.current) clearTimeout(refetchTimer.current);
    refetchTimer.current = setTimeout(refreshDevice, REFETCH_SETTLE_MS);
  }, [refreshDevice]);
  useEffect(() => () => void (refetchTimer.current && clearTimeout(refetchTimer.current)), []);
  useDeviceStream(id, {
    onDevice: (next) => {
      const held = lastState.current ?? found;
      const changed =
        next === null || held === null
          ? next !== held
          : REFETCH_ON.some((k) => JSON.stringify(held[k]) !== JSON.stringify(next[k]));
      if (changed) refetchSoon();
      lastState.current = next;
      setState(next);
    },
    onActivity: (points) =>
      setLive((l) => ({ url: activityUrl, points: l.url === activityUrl ? [...l.points, ...points] : points })),
    onReconnected: () => {
      refetchSoon();
      setFetchedAt(Date.now());
    },
  });
  const detail = useMemo(() => {
    if (!found || !state || state.id !== found.id) return found;
    // The last PINGREQ and publish are not part of the live state: the stream's points tell them.
    const newest = (kind: LivePoint["kind"], held: string | null) =>
      points.reduce<string | null>((at, p) => (p.kind === kind && (at === null || p.at > at) ? p.at : at), held);
    return {
      ...found,
      ...state,
      lastPingAt: newest("pingreq", found.lastPingAt),
      lastMessageAt: newest("publish", found.lastMessageAt),
    };
  }, [found, state, points]);

  const changeRange = (r: RangeKey) => {
    setRange(r);
    setFetchedAt(Date.now());
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
        {notFound ? (
          <div data-testid="device-not-found" className="flex flex-col gap-2">
            <DeviceHeader id={id} device={null} now={now} />
            <p className="text-sm text-zinc-400">
              No device with this id has been seen.{" "}
              <Link
                className="text-sky-300 underline decoration-sky-300/50 underline-offset-2 hover:decoration-sky-300"
                href="/"
              >
                Back to the fleet
              </Link>
            </p>
          </div>
        ) : (
          <>
            <DeviceHeader id={id} device={detail} now={now} onChanged={device.refetch} />
            {device.error && <p className="text-xs text-amber-300">Could not refresh the device: {device.error}</p>}
            <DiagnosisPanel findings={found?.diagnosis ?? null} />
            <KeepaliveTimeline
              activity={shown}
              now={now}
              range={range}
              onRange={changeRange}
              keepaliveSeconds={detail?.keepaliveSeconds ?? null}
              firstSeenAt={found ? Date.parse(found.firstSeenAt) : null}
              error={activity.error}
            />
          </>
        )}
      </main>
    </div>
  );
}
