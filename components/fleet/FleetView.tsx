"use client";

import type { ReactNode } from "react";
import { Banners } from "./Banners";
import { ClockTicker } from "./ClockTicker";
import { DeviceTable } from "./DeviceTable";
import { DocumentTitle } from "./DocumentTitle";
import { FleetHeader } from "./FleetHeader";
import { useFleet } from "./FleetStoreProvider";
import { StatusCards } from "./StatusCards";
import { isStreamStale } from "./store";
import { Toolbar } from "./Toolbar";

/** Dims what may no longer be true while the stream is down (re-renders only when that flips). */
function FleetMain({ children }: { children: ReactNode }) {
  const stale = useFleet((s) => s.hasSnapshot && isStreamStale(s.connection, s.nowMs));
  return (
    <main
      data-stale={String(stale)}
      className={`flex min-h-0 flex-1 flex-col gap-3 p-4 transition-opacity ${stale ? "opacity-60" : ""}`}
    >
      {children}
    </main>
  );
}

/** The fleet page's content, rendered from the fleet store alone. */
export function FleetView() {
  return (
    <div className="flex h-dvh min-h-0 flex-col">
      <ClockTicker />
      <DocumentTitle />
      <FleetHeader />
      <Banners />
      <FleetMain>
        <h1 className="sr-only">Fleet</h1>
        <StatusCards />
        <Toolbar />
        <DeviceTable />
      </FleetMain>
    </div>
  );
}
