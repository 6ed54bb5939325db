"use client";

import { memo, type ReactNode } from "react";
import type { DeviceDto } from "@/lib/api/dto";
import { Ago } from "./Ago";
import { DeviceId } from "./DeviceId";
import { GRID_COLUMNS, ROW_HEIGHT, TABLE_MIN_WIDTH } from "./columns";
import { formatKeepalive, keepaliveHint, reasonLabel, SOURCE_LABELS, sourcesTitle } from "./format";
import { StatusBadge } from "./StatusBadge";
import { TagChips } from "./TagChips";

interface CellProps {
  children: ReactNode;
  right?: boolean;
  /** Stays in view when the table scrolls sideways (takes the row's background). */
  sticky?: boolean;
  title?: string;
}

function Cell({ children, right = false, sticky = false, title }: CellProps) {
  const place = sticky ? "sticky left-0 z-[1] flex h-full items-center border-r border-zinc-800/70 bg-inherit" : "";
  return (
    <div
      role="cell"
      title={title}
      className={`min-w-0 truncate px-3 ${right ? "text-right tabular-nums" : ""} ${place}`}
    >
      {children}
    </div>
  );
}

const Muted = ({ children }: { children: ReactNode }) => <span className="text-zinc-500">{children}</span>;

/** Shown while a session is open (also during a monitoring gap); otherwise the start belongs to an old session. */
function ConnectedSince({ device }: { device: DeviceDto }) {
  if (device.sessionOpen && device.connectedAt !== null) return <Ago iso={device.connectedAt} />;
  return <Muted>—</Muted>;
}

function LastDisconnect({ device }: { device: DeviceDto }) {
  if (device.lastDisconnectReason === null && device.lastDisconnectAt === null) return <Muted>—</Muted>;
  return (
    <>
      <span className={device.lastDisconnectReason === "clean" ? "text-zinc-400" : "text-zinc-200"}>
        {reasonLabel(device.lastDisconnectReason)}
      </span>
      <span className="text-zinc-500"> · </span>
      <span className="text-zinc-400">
        <Ago iso={device.lastDisconnectAt} />
      </span>
    </>
  );
}

function Sources({ device }: { device: DeviceDto }) {
  if (device.sources.length === 0) return <Muted>none</Muted>;
  return <span className="text-zinc-400">{device.sources.map((s) => SOURCE_LABELS[s]?.short ?? s).join(" · ")}</span>;
}

export interface DeviceRowProps {
  device: DeviceDto;
  /** Position in the filtered list (0-based). */
  index: number;
  /** Offset of the row inside the table body (px). */
  offset: number;
}

/** One device; re-renders when its DTO is replaced, while its relative times follow the page clock. */
export const DeviceRow = memo(function DeviceRow({ device, index, offset }: DeviceRowProps) {
  const closedSessionTitle =
    device.connectedAt !== null && !device.sessionOpen
      ? `no open session; the last one started ${device.connectedAt}`
      : undefined;
  return (
    <div
      role="row"
      aria-rowindex={index + 2}
      data-testid="device-row"
      data-device-id={device.id}
      data-status={device.status}
      className={`absolute top-0 left-0 grid w-full cursor-pointer items-center border-b border-zinc-800/60 text-[13px] text-zinc-300 ${GRID_COLUMNS} ${TABLE_MIN_WIDTH} ${index % 2 === 1 ? "bg-stripe" : "bg-zinc-950"} hover:bg-row-hover`}
      style={{ height: ROW_HEIGHT, transform: `translateY(${offset}px)` }}
    >
      <Cell sticky>
        <DeviceId id={device.id} name={device.name} />
        {device.tags.length > 0 && <TagChips tags={device.tags} />}
      </Cell>
      <Cell>
        <StatusBadge status={device.status} since={device.statusSince} />
        {device.expected && (
          <span
            data-testid="never-seen"
            title="imported as expected; it has never connected"
            className="ml-1.5 shrink-0 rounded bg-zinc-700/60 px-1 text-[10.5px] text-zinc-300"
          >
            never seen
          </span>
        )}
        {device.muted && (
          <span
            data-testid="muted-badge"
            title="a silence mutes this device: its alerts are recorded, not sent"
            className="ml-1.5 shrink-0 rounded bg-zinc-700/60 px-1 text-[10.5px] text-zinc-300"
          >
            🔕 muted
          </span>
        )}
      </Cell>
      <Cell right title={keepaliveHint(device.keepaliveSeconds)}>
        {device.keepaliveSeconds === null ? <Muted>—</Muted> : formatKeepalive(device.keepaliveSeconds)}
      </Cell>
      <Cell>
        <span className={device.status === "late" ? "text-amber-300" : undefined}>
          <Ago iso={device.lastSeenAt} never="never" />
        </span>
      </Cell>
      <Cell title={closedSessionTitle}>
        <ConnectedSince device={device} />
      </Cell>
      <Cell>
        <LastDisconnect device={device} />
      </Cell>
      <Cell right>{device.disconnectCount.toLocaleString("en")}</Cell>
      <Cell title={sourcesTitle(device.sources)}>
        <Sources device={device} />
      </Cell>
    </div>
  );
});
