"use client";

import type { DeviceStatus } from "@/lib/fleet/types";
import { Ago } from "./Ago";
import { StatusDot } from "./StatusDot";
import { STATUS_STYLE } from "./status-style";

/** "offline · 3m 12s ago": the status in words, how long it has held, the exact time on hover. */
export function StatusBadge({ status, since }: { status: DeviceStatus; since: string }) {
  const style = STATUS_STYLE[status];
  return (
    <span
      data-testid="device-status"
      data-status={status}
      title={`${style.label} since ${since}`}
      className={`inline-flex max-w-full items-center gap-1.5 truncate rounded px-1.5 py-px text-xs ring-1 ring-inset ${style.badge}`}
    >
      <StatusDot status={status} />
      <span className="font-medium">{style.label}</span>{" "}
      <span className="opacity-75">
        {"· "}
        <Ago iso={since} withTitle={false} />
      </span>
    </span>
  );
}
