"use client";

import Link from "next/link";
import { useEffect, useMemo, useRef, useState } from "react";
import type { AlertDto, IncidentDto } from "@/lib/alerts/dto";
import { describeId, deviceHref } from "@/components/fleet/format";
import { Brand, TopNav } from "@/components/nav/TopNav";
import { canOperate, useMe, type Me } from "@/components/nav/me";
import { retainAlertFeed, useAlertFeed } from "./feed";
import { apiJson, errorText, useApi } from "@/components/api/client";
import { KIND_LABEL, KIND_STYLE, SOURCE_LABEL, shortTime } from "./format";
import { causeLabel, COLLAPSED_ROWS, groupAlerts, visibleRows, type AlertGroup } from "./groups";
import { MuteButtons } from "./MuteButtons";

/**
 * Firing alerts live from the event stream, grouped: system alerts, one group
 * per open incident, then by kind, each with its count (long groups collapse).
 * Recently resolved ones from the API, refreshed on every change.
 */
export function AlertsPage() {
  useEffect(() => retainAlertFeed(), []);
  const { firing, firingCount, graceUntil, incidents, version, connected } = useAlertFeed();
  const me = useMe();
  const recent = useApi<{ alerts: AlertDto[] }>("/api/alerts?state=resolved&limit=50");
  const resolved = recent.data?.alerts ?? null;
  const error = recent.error;
  const groups = useMemo(() => groupAlerts(firing, incidents), [firing, incidents]);

  // Every change the feed tells of may have resolved an alert: read the list again.
  const { refetch } = recent;
  const readAt = useRef(version);
  useEffect(() => {
    if (readAt.current === version) return;
    readAt.current = version;
    refetch();
  }, [version, refetch]);

  return (
    <div className="flex min-h-dvh flex-col">
      <header className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-zinc-800 bg-zinc-900/80 px-4 py-2">
        <Brand section="alerts" />
        <TopNav />
      </header>
      <main className="flex min-w-0 flex-1 flex-col gap-4 p-4">
        <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
          <h1 className="text-base font-semibold text-zinc-100">Alerts</h1>
          <p className="text-xs text-zinc-500">
            Live from the event stream{connected ? "" : " (reconnecting…)"}. Thresholds are set per device group on{" "}
            <Link
              className="text-sky-400 underline decoration-sky-400/50 underline-offset-2 hover:decoration-sky-400"
              href="/settings/alerts"
            >
              Alert rules
            </Link>
            ; mute devices for maintenance on{" "}
            <Link
              className="text-sky-400 underline decoration-sky-400/50 underline-offset-2 hover:decoration-sky-400"
              href="/alerts/silences"
              data-testid="silences-link"
            >
              Silences
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
        <section aria-labelledby="firing-h" className="flex flex-col gap-3">
          <h2 id="firing-h" className="text-sm font-medium text-zinc-200">
            Firing <span data-testid="firing-count">{firingCount ?? "…"}</span>
            {firingCount !== null && firing.length < firingCount && (
              <span className="ml-2 text-xs font-normal text-zinc-500">(the newest {firing.length} are listed)</span>
            )}
          </h2>
          {groups.length === 0 && <p className="text-xs text-zinc-500">Nothing is firing.</p>}
          {groups.map((g) => (
            <GroupSection key={g.key} group={g} me={me} />
          ))}
        </section>
        <section aria-labelledby="resolved-h" className="flex flex-col gap-2">
          <h2 id="resolved-h" className="text-sm font-medium text-zinc-200">
            Recently resolved
          </h2>
          {error && <p className="text-xs text-red-400">Could not load resolved alerts: {error}</p>}
          {resolved && resolved.length === 0 && <p className="text-xs text-zinc-500">None yet.</p>}
          {!resolved && !error && <p className="text-xs text-zinc-500">Loading…</p>}
          {resolved && resolved.length > 0 && (
            <AlertTable alerts={resolved} testId="resolved-alert" me={null} showResolved />
          )}
        </section>
      </main>
    </div>
  );
}

function GroupSection({ group, me }: { group: AlertGroup; me: Me | null }) {
  const [expanded, setExpanded] = useState(false);
  const { shown, hidden } = visibleRows(group.alerts, expanded);
  const title =
    group.type === "system" ? "keepwatch itself" : group.type === "incident" ? "Incident" : KIND_LABEL[group.kind];
  return (
    <div
      data-testid="alert-group"
      data-group={group.key}
      data-count={group.alerts.length}
      className="flex flex-col gap-1.5 rounded-md border border-zinc-800 bg-zinc-900/40 p-2.5"
    >
      {group.type === "incident" ? (
        <IncidentHeader incident={group.incident} count={group.alerts.length} me={me} />
      ) : (
        <h3 className="flex items-center gap-2 text-[13px] text-zinc-300">
          <span
            className={`rounded px-1.5 py-px text-xs ring-1 ring-inset ${KIND_STYLE[group.type === "system" ? "system" : group.kind]}`}
          >
            {title}
          </span>
          <span data-testid="group-count" className="text-zinc-400">
            {group.alerts.length}
          </span>
        </h3>
      )}
      {shown.length > 0 && <AlertTable alerts={shown} testId="firing-alert" me={me} />}
      {hidden > 0 && (
        <button
          type="button"
          data-testid="show-more"
          onClick={() => setExpanded(true)}
          className="self-start text-xs text-sky-400 hover:underline"
        >
          show {hidden} more
        </button>
      )}
      {expanded && group.alerts.length > COLLAPSED_ROWS && (
        <button
          type="button"
          onClick={() => setExpanded(false)}
          className="self-start text-xs text-zinc-500 hover:underline"
        >
          show fewer
        </button>
      )}
    </div>
  );
}

function IncidentHeader({ incident, count, me }: { incident: IncidentDto; count: number; me: Me | null }) {
  const [error, setError] = useState<string | null>(null);
  const acked = incident.acknowledgedAt !== null;
  async function toggle() {
    try {
      setError(null);
      await apiJson(acked ? "DELETE" : "POST", `/api/incidents/${incident.id}/ack`, acked ? undefined : {});
    } catch (e) {
      setError(errorText(e));
    }
  }
  return (
    <div
      data-testid="incident"
      data-incident-id={incident.id}
      className="flex flex-wrap items-center gap-2 text-[13px]"
    >
      <span className={`rounded px-1.5 py-px text-xs ring-1 ring-inset ${KIND_STYLE.offline}`}>incident</span>
      <span data-testid="group-count" title="firing alerts listed in this incident" className="text-zinc-400">
        {count}
      </span>
      <span className="font-medium text-zinc-100">{incident.message}</span>
      <span data-testid="incident-cause" className="rounded bg-zinc-800 px-1.5 text-xs text-zinc-300">
        {causeLabel(incident.cause)}
      </span>
      <span data-testid="incident-still" className="text-xs text-zinc-400">
        {incident.stillOffline} of {incident.deviceCount} still offline · opened {shortTime(incident.openedAt)}
      </span>
      {acked && (
        <span data-testid="incident-acked" className="text-xs text-emerald-300">
          acknowledged by {incident.acknowledgedBy} at {shortTime(incident.acknowledgedAt)}
          {incident.ackComment ? `: ${incident.ackComment}` : ""}
        </span>
      )}
      {canOperate(me) && (
        <button
          type="button"
          onClick={() => void toggle()}
          className="rounded border border-zinc-700 px-1.5 text-xs text-zinc-300 hover:bg-zinc-800"
        >
          {acked ? "Unack" : "Ack"}
        </button>
      )}
      {error && <span className="text-xs text-red-400">{error}</span>}
    </div>
  );
}

function AlertTable({
  alerts,
  testId,
  me,
  showResolved = false,
}: {
  alerts: readonly AlertDto[];
  testId: string;
  me: Me | null;
  showResolved?: boolean;
}) {
  return (
    <div className="max-w-full overflow-x-auto">
      <table className="w-full text-left text-[13px]">
        <thead className="text-xs text-zinc-500">
          <tr>
            <th className="py-1 pr-3 font-normal">Device</th>
            <th className="py-1 pr-3 font-normal">Kind</th>
            <th className="py-1 pr-3 font-normal">Fired</th>
            {showResolved && <th className="py-1 pr-3 font-normal">Resolved</th>}
            <th className="py-1 pr-3 font-normal">Message</th>
            {!showResolved && <th className="py-1 font-normal" />}
          </tr>
        </thead>
        <tbody>
          {alerts.map((a) => (
            <AlertRow key={a.id} alert={a} testId={testId} me={me} showResolved={showResolved} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function AlertRow({
  alert: a,
  testId,
  me,
  showResolved,
}: {
  alert: AlertDto;
  testId: string;
  me: Me | null;
  showResolved: boolean;
}) {
  const [error, setError] = useState<string | null>(null);
  const [comment, setComment] = useState("");
  const acked = a.acknowledgedAt !== null;
  async function toggleAck() {
    try {
      setError(null);
      const text = comment.trim();
      await apiJson(
        acked ? "DELETE" : "POST",
        `/api/alerts/${a.id}/ack`,
        acked ? undefined : text ? { comment: text } : {},
      );
      setComment("");
    } catch (e) {
      setError(errorText(e));
    }
  }
  return (
    <tr
      data-testid={testId}
      data-device-id={a.deviceId ?? ""}
      data-kind={a.kind}
      data-silenced={a.silenced ? "true" : "false"}
      className="border-t border-zinc-800/70 align-top"
    >
      <td className="py-1 pr-3">
        {a.deviceId === null ? (
          <span className="text-orange-200">{SOURCE_LABEL[a.source ?? ""] ?? a.source}</span>
        ) : (
          <Link href={deviceHref(a.deviceId)} className="hover:underline" title="this device's page">
            {a.deviceName && (
              <span data-testid="device-name" dir="auto" className="mr-1.5 font-semibold text-zinc-100">
                {a.deviceName}
              </span>
            )}
            <span
              dir="auto"
              className={`font-mono [unicode-bidi:isolate] ${a.deviceName ? "text-zinc-400" : "text-sky-400"}`}
            >
              {describeId(a.deviceId).text}
            </span>
          </Link>
        )}
      </td>
      <td className="py-1 pr-3 whitespace-nowrap">
        <span className={`rounded px-1.5 py-px text-xs ring-1 ring-inset ${KIND_STYLE[a.kind]}`}>
          {KIND_LABEL[a.kind]}
        </span>
        {a.silenced && (
          <span
            data-testid="muted-badge"
            title="a silence covered the device when it fired: recorded, not sent"
            className="ml-1 rounded bg-zinc-700/60 px-1.5 py-px text-xs text-zinc-300"
          >
            muted
          </span>
        )}
      </td>
      <td className="py-1 pr-3 whitespace-nowrap text-zinc-300">{shortTime(a.firedAt)}</td>
      {showResolved && <td className="py-1 pr-3 whitespace-nowrap text-zinc-400">{shortTime(a.resolvedAt)}</td>}
      <td className="py-1 pr-3 text-zinc-400">
        {a.message}
        {acked && (
          <div data-testid="acked" className="text-xs text-emerald-300">
            acknowledged by {a.acknowledgedBy} at {shortTime(a.acknowledgedAt)}
            {a.ackComment ? `: ${a.ackComment}` : ""}
          </div>
        )}
        {error && <div className="text-xs text-red-400">{error}</div>}
      </td>
      {!showResolved && (
        <td className="py-1 whitespace-nowrap">
          {canOperate(me) && (
            <div className="flex flex-wrap items-center justify-end gap-1">
              {!acked && (
                <input
                  type="text"
                  aria-label="acknowledgement comment"
                  placeholder="comment"
                  maxLength={1000}
                  value={comment}
                  onChange={(e) => setComment(e.target.value)}
                  className="h-6 w-28 rounded border border-zinc-700 bg-zinc-900 px-1.5 text-xs text-zinc-200"
                />
              )}
              <button
                type="button"
                data-testid="ack"
                onClick={() => void toggleAck()}
                className="rounded border border-zinc-700 px-1.5 text-xs text-zinc-300 hover:bg-zinc-800"
              >
                {acked ? "Unack" : "Ack"}
              </button>
              {a.deviceId !== null && (
                <MuteButtons deviceId={a.deviceId} me={me} from="alerts page" onError={setError} />
              )}
            </div>
          )}
        </td>
      )}
    </tr>
  );
}
