"use client";

import { TopNav } from "@/components/nav/TopNav";
import { BrokerHealth, DbHealth, PingsVisibility } from "./HealthItems";
import { StreamIndicator } from "./StreamIndicator";

function Brand() {
  return (
    <div className="flex shrink-0 items-center gap-2">
      <svg
        aria-hidden="true"
        viewBox="0 0 24 24"
        className="size-5 text-emerald-400"
        fill="none"
        stroke="currentColor"
        strokeWidth="2.2"
        strokeLinecap="round"
        strokeLinejoin="round"
      >
        <path d="M2 12h4l2.5-6 4 12 3-8 1.5 2H22" />
      </svg>
      <span className="text-[15px] font-semibold tracking-tight text-zinc-50">keepwatch</span>
      <span className="text-xs text-zinc-500">fleet</span>
    </div>
  );
}

export function FleetHeader() {
  return (
    <header className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-zinc-800 bg-zinc-900/80 px-4 py-2">
      <Brand />
      <TopNav />
      <div className="flex min-w-0 flex-1 flex-wrap items-center gap-2" aria-label="Monitor health">
        <BrokerHealth />
        <DbHealth />
        <PingsVisibility />
      </div>
      <StreamIndicator />
    </header>
  );
}
