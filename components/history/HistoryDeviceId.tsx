"use client";

import { useMemo } from "react";
import { DeviceIdText } from "@/components/fleet/DeviceId";
import { describeId } from "@/components/fleet/format";

/** A device id in history: text, not a link (see DeviceIdText). */
export function HistoryDeviceId({ id, name }: { id: string; name?: string | null }) {
  const title = useMemo(() => describeId(id).title, [id]);
  return (
    <span className="flex min-w-0 items-center gap-1.5 font-mono text-[12.5px] text-zinc-100" title={title}>
      <DeviceIdText id={id} name={name} nameClass="max-w-[14rem]" />
    </span>
  );
}
