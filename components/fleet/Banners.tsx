"use client";

import type { ReactNode } from "react";
import { Ago } from "./Ago";
import { useFleet } from "./FleetStoreProvider";
import { formatDuration } from "./format";
import { isStreamStale } from "./store";

function Banner({ tone, testId, children }: { tone: "warn" | "bad"; testId: string; children: ReactNode }) {
  const style =
    tone === "bad"
      ? "border-red-500/50 bg-red-500/10 text-red-100"
      : "border-amber-500/50 bg-amber-500/10 text-amber-100";
  return (
    <div data-testid={testId} role="alert" className={`border-b px-4 py-1.5 text-[13px] ${style}`}>
      {children}
    </div>
  );
}

/** The stream has been down past the stale threshold: what is on screen may no longer be true. */
function StaleStreamBanner() {
  const connection = useFleet((s) => s.connection);
  const nowMs = useFleet((s) => s.nowMs);
  const hasSnapshot = useFleet((s) => s.hasSnapshot);
  if (!hasSnapshot || !isStreamStale(connection, nowMs)) return null;
  const last = connection.lastMessageAt;
  return (
    <Banner tone="bad" testId="stale-banner">
      <strong className="font-semibold">Live stream down for {formatDuration(nowMs - connection.since)}</strong> — the
      data shown may be stale
      {last !== null && <> (last update {formatDuration(nowMs - last)} ago)</>}. Reconnecting…
    </Banner>
  );
}

/** The monitor itself lost the broker: statuses are unknown, not offline. */
function MonitorGapBanner() {
  const gapSince = useFleet((s) => s.health?.monitor.gapSince ?? null);
  if (gapSince === null) return null;
  return (
    <Banner tone="warn" testId="monitor-gap">
      <strong className="font-semibold">Monitoring gap</strong> since <Ago iso={gapSince} /> ({gapSince}): devices shown
      as unknown, not offline. The monitor is not hearing the broker; each device is confirmed again by its next sign of
      life.
    </Banner>
  );
}

/** Mosquitto's debug log stopped moving: without it no PINGREQ is seen, so silence verdicts are off. */
function DebugLogStalledBanner() {
  const debugLog = useFleet((s) => s.health?.monitor.debugLog ?? null);
  if (!debugLog?.stalled) return null;
  return (
    <Banner tone="warn" testId="debug-log-stalled">
      <strong className="font-semibold">Mosquitto&apos;s debug log has stopped</strong>
      {debugLog.lastLineAt && (
        <>
          {" "}
          (last line <Ago iso={debugLog.lastLineAt} />)
        </>
      )}
      : <code className="text-[12px]">{debugLog.file}</code> gets no new lines, so PINGREQs are not visible. No device
      is called late or offline for silence until it moves again; the broker&apos;s own disconnects still count.
    </Banner>
  );
}

export function Banners() {
  return (
    <>
      <StaleStreamBanner />
      <MonitorGapBanner />
      <DebugLogStalledBanner />
    </>
  );
}
