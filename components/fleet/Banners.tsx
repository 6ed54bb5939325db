"use client";

import Link from "next/link";
import type { ReactNode } from "react";
import { RESTART_STOP_MATCH_MS } from "@/lib/fleet/types";
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

/** "14:03:07" in the browser's time zone. */
const clock = (iso: string) => new Date(iso).toLocaleTimeString("en-GB", { hour12: false });

/** Where the history shows the drops of a restart: reason broker_restart around its stop. */
export function restartHistoryHref(downAt: string, upAt: string): string {
  const from = new Date(Date.parse(downAt) - RESTART_STOP_MATCH_MS).toISOString();
  const to = new Date(Math.max(Date.parse(upAt), Date.parse(downAt)) + 1_000).toISOString();
  return `/history?${new URLSearchParams({ from, to, reason: "broker_restart" })}`;
}

/** The broker restarted: every session open at it ended; how many devices have not come back. */
function BrokerRestartBanner() {
  const restart = useFleet((s) => s.health?.broker.lastRestart ?? null);
  if (restart === null || restart.devices === 0) return null;
  const back = restart.notBack === 0;
  return (
    <Banner tone={back ? "warn" : "bad"} testId="broker-restart">
      <strong className="font-semibold">
        Broker restarted at <time dateTime={restart.downAt}>{clock(restart.downAt)}</time>
      </strong>
      {back ? (
        <>
          ; {restart.devices === 1 ? "the device it dropped is" : `all ${restart.devices} devices it dropped are`} back.
        </>
      ) : (
        <>
          ; <span data-testid="restart-not-back">{restart.notBack}</span> of {restart.devices} devices have not come
          back.
        </>
      )}{" "}
      <Link className="underline underline-offset-2" href={restartHistoryHref(restart.downAt, restart.upAt)}>
        Disconnects at the restart
      </Link>
    </Banner>
  );
}

/** After a gap or a start: devices still unknown while they are confirmed again. */
function RelearningBanner() {
  const relearning = useFleet((s) => s.health?.monitor.relearning ?? null);
  const pingsVisible = useFleet((s) => s.health?.monitor.pingsVisible ?? false);
  if (relearning === null) return null;
  return (
    <Banner tone="warn" testId="relearning">
      <strong className="font-semibold">
        Re-learning <span data-testid="relearning-count">{relearning.devices}</span>{" "}
        {relearning.devices === 1 ? "device" : "devices"}
      </strong>{" "}
      since <Ago iso={relearning.since} /> ({relearning.since}): they are unknown until their next sign of life
      {pingsVisible
        ? "; one that shows none within 1.5 × its keepalive (plus the broker's check interval) is offline."
        : ". Without a source that sees PINGREQs, a device that only pings is confirmed by its next message or reconnect."}
    </Banner>
  );
}

/** The fleet holds MAX_DEVICES: new ids are being refused. */
function DeviceLimitBanner() {
  const ingest = useFleet((s) => s.health?.ingest ?? null);
  const refused = ingest?.rejected.max_devices ?? 0;
  if (refused === 0) return null;
  return (
    <Banner tone="bad" testId="device-limit">
      <strong className="font-semibold">Device limit reached</strong>: keepwatch holds {ingest?.maxDevices ?? "its"}{" "}
      devices (MAX_DEVICES) and refused {refused} events of new ids since start. A flood of made-up client ids, or a
      fleet larger than the limit: raise MAX_DEVICES, or find the client.
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
      <BrokerRestartBanner />
      <RelearningBanner />
      <DeviceLimitBanner />
      <DebugLogStalledBanner />
    </>
  );
}
