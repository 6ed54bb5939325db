"use client";

import { Brand, TopNav } from "@/components/nav/TopNav";
import { BrokerHealth, ClusterRole, DbHealth, PingsVisibility } from "./HealthItems";
import { StreamIndicator } from "./StreamIndicator";

export function FleetHeader() {
  return (
    <header className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-zinc-800 bg-zinc-900/80 px-4 py-2">
      <Brand section="fleet" />
      <TopNav />
      <div className="flex min-w-[20rem] flex-1 flex-wrap items-center gap-2" aria-label="Monitor health">
        <BrokerHealth />
        <DbHealth />
        <PingsVisibility />
        <ClusterRole />
      </div>
      <StreamIndicator />
    </header>
  );
}
