"use client";

import { useMemo, useState } from "react";
import type { DeviceDetail } from "@/lib/api/devices";
import {
  describeId,
  formatAgo,
  formatKeepalive,
  keepaliveHint,
  reasonLabel,
  SOURCE_LABELS,
  sourcesTitle,
} from "@/components/fleet/format";
import { STATUS_STYLE } from "@/components/fleet/status-style";
import { TagChips } from "@/components/fleet/TagChips";
import { MuteButtons } from "@/components/alerts/MuteButtons";
import { canOperate, useMe } from "@/components/nav/me";
import { LabelsEditor } from "./LabelsEditor";

function When({ iso, now, testId }: { iso: string | null; now: number; testId: string }) {
  if (iso === null)
    return (
      <span data-testid={testId} className="text-zinc-500">
        —
      </span>
    );
  return (
    <time data-testid={testId} dateTime={iso} title={iso}>
      {formatAgo(iso, now)}
    </time>
  );
}

function Item({ label, children, title }: { label: string; children: React.ReactNode; title?: string }) {
  return (
    <div className="flex min-w-0 flex-col" title={title}>
      <dt className="text-[11px] uppercase tracking-wide text-zinc-500">{label}</dt>
      <dd className="truncate text-[13px] text-zinc-100">{children}</dd>
    </div>
  );
}

/** Who the device is and what the monitor believes about it, with the sources behind the verdict. */
export function DeviceHeader({
  id,
  device,
  now,
  onChanged,
}: {
  id: string;
  device: DeviceDetail | null;
  /** The page's clock (the server's at the first render, so both render alike), once a second. */
  now: number;
  /** The page changed the device (labels saved, muted): read it again now. */
  onChanged?(): void;
}) {
  const me = useMe();
  const [editing, setEditing] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const shown = useMemo(() => describeId(id), [id]);
  const style = device ? STATUS_STYLE[device.status] : null;
  return (
    <section className="flex flex-col gap-3" aria-label="Device">
      {device?.name && (
        <p data-testid="device-name" dir="auto" className="-mb-2 text-lg font-semibold text-zinc-50">
          {device.name}
        </p>
      )}
      <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
        <h1
          data-testid="device-id"
          dir="auto"
          title={shown.title}
          className="max-w-full truncate font-mono text-base font-semibold text-zinc-50 [unicode-bidi:isolate]"
        >
          {shown.text}
        </h1>
        {device && style && (
          <span
            data-testid="device-status"
            data-status={device.status}
            className={`rounded px-1.5 py-px text-xs font-medium ring-1 ring-inset ${style.badge}`}
          >
            {style.label} <span className="opacity-75">since </span>
            <When iso={device.statusSince} now={now} testId="status-since" />
          </span>
        )}
        {device?.lastDisconnectReason && device.status === "offline" && (
          <span className="text-xs text-zinc-400">({reasonLabel(device.lastDisconnectReason)})</span>
        )}
        {device?.expected && (
          <span data-testid="never-seen" className="rounded bg-zinc-700/60 px-1.5 text-xs text-zinc-300">
            never seen (imported as expected)
          </span>
        )}
        {device?.muted && (
          <span
            data-testid="muted-badge"
            title="a silence mutes this device: its alerts are recorded, not sent"
            className="rounded bg-zinc-700/60 px-1.5 text-xs text-zinc-300"
          >
            🔕 muted
          </span>
        )}
        {device && device.tags.length > 0 && <TagChips tags={device.tags} max={32} />}
        {device && canOperate(me) && (
          <span className="ml-auto flex items-center gap-1">
            <button
              type="button"
              data-testid="edit-labels"
              onClick={() => setEditing((v) => !v)}
              className="rounded border border-zinc-700 px-1.5 text-xs text-zinc-300 hover:bg-zinc-800"
            >
              Edit name, tags, notes…
            </button>
            <MuteButtons
              deviceId={device.id}
              me={me}
              from="device page"
              onError={setActionError}
              onMuted={() => onChanged?.()}
            />
          </span>
        )}
      </div>
      {actionError && <p className="text-xs text-red-400">{actionError}</p>}
      {device?.notes && (
        <p data-testid="device-notes" className="text-xs whitespace-pre-wrap text-zinc-400">
          {device.notes}
        </p>
      )}
      {device && editing && (
        <LabelsEditor
          device={device}
          onClose={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            onChanged?.();
          }}
        />
      )}
      {device && (
        <dl className="grid grid-cols-2 gap-x-6 gap-y-2 sm:grid-cols-4 lg:grid-cols-8">
          <Item label="keepalive" title={keepaliveHint(device.keepaliveSeconds)}>
            <span data-testid="keepalive">{formatKeepalive(device.keepaliveSeconds)}</span>
          </Item>
          <Item
            label="last PINGREQ"
            title={device.pingsVisible ? undefined : "PINGREQs are not visible from this broker's source"}
          >
            {device.pingsVisible ? (
              <When iso={device.lastPingAt} now={now} testId="last-ping" />
            ) : (
              <span className="text-zinc-500">not visible</span>
            )}
          </Item>
          <Item label="last message">
            <When iso={device.lastMessageAt} now={now} testId="last-message" />
          </Item>
          <Item label="connected since">
            {device.sessionOpen ? (
              <When iso={device.connectedAt} now={now} testId="connected-since" />
            ) : (
              <span className="text-zinc-500">not connected</span>
            )}
          </Item>
          <Item label="client address">{device.address ?? <span className="text-zinc-500">—</span>}</Item>
          <Item label="protocol">
            {device.protocol ? `MQTT ${device.protocol}` : <span className="text-zinc-500">—</span>}
          </Item>
          <Item label="clean start">
            {device.cleanStart === null ? <span className="text-zinc-500">—</span> : device.cleanStart ? "yes" : "no"}
          </Item>
          <Item label="sources" title={sourcesTitle(device.sources)}>
            <span data-testid="sources">
              {device.sources.map((s) => SOURCE_LABELS[s]?.short ?? s).join(", ") || "—"}
            </span>
          </Item>
        </dl>
      )}
      {device && (
        <p className="text-xs text-zinc-500">
          {device.disconnectCount} disconnect{device.disconnectCount === 1 ? "" : "s"}
          {device.takeoverCount > 0
            ? `, ${device.takeoverCount} takeover${device.takeoverCount === 1 ? "" : "s"}`
            : ""}{" "}
          ·{" "}
          {device.pingsVisible
            ? "silence verdicts backed by a source that sees every PINGREQ"
            : "no source sees PINGREQs here: liveness comes from connects, disconnects and publishes"}
        </p>
      )}
    </section>
  );
}
