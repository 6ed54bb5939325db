"use client";

import type { StatusCounts } from "@/lib/api/dto";
import { DEVICE_STATUSES, type DeviceStatus } from "@/lib/fleet/types";
import { useFleet } from "./FleetStoreProvider";
import { formatCount } from "./format";
import type { StatusFilter } from "./select";
import { STATUS_STYLE } from "./status-style";

interface CardProps {
  filter: StatusFilter;
  label: string;
  count: number;
  total: number;
  active: boolean;
  onSelect: (filter: StatusFilter) => void;
}

function CountCard({ filter, label, count, total, active, onSelect }: CardProps) {
  const style = filter === "all" ? null : STATUS_STYLE[filter];
  const share = filter !== "all" && total > 0 ? `${((count / total) * 100).toFixed(1)}%` : null;
  return (
    <button
      type="button"
      data-testid={`count-${filter === "all" ? "total" : filter}`}
      data-count={count}
      aria-pressed={active}
      onClick={() => onSelect(filter)}
      title={filter === "all" ? "show every device" : `show only ${label} devices (click again for all)`}
      className={`relative flex min-w-0 flex-col gap-0.5 overflow-hidden rounded-md border border-zinc-800 bg-zinc-900 px-3 py-2 pl-4 text-left outline-none before:absolute before:inset-y-0 before:left-0 before:w-1 hover:border-zinc-700 hover:bg-zinc-800/70 focus-visible:ring-2 focus-visible:ring-sky-500 ${style ? style.accent : "before:bg-sky-500"} ${active ? (style ? `ring-2 ${style.activeRing}` : "ring-1 ring-sky-500/50") : ""}`}
    >
      <span className="flex items-center justify-between text-[11px] font-semibold tracking-wide text-zinc-400 uppercase">
        {label}
        {share && <span className="font-normal tracking-normal text-zinc-500 normal-case tabular-nums">{share}</span>}
      </span>
      <span
        className={`text-2xl leading-7 font-semibold tabular-nums ${style && count > 0 ? style.text : "text-zinc-100"}`}
      >
        {formatCount(count)}
      </span>
    </button>
  );
}

/** Fleet-wide counts from the server; each card filters the table to its status. */
export function StatusCards() {
  const counts: StatusCounts = useFleet((s) => s.counts);
  const status = useFleet((s) => s.view.status);
  const setView = useFleet((s) => s.setView);
  const select = (filter: StatusFilter) => setView({ status: filter === status ? "all" : filter });
  return (
    <section aria-label="Device counts by status" className="grid grid-cols-5 gap-3">
      {DEVICE_STATUSES.map((st: DeviceStatus) => (
        <CountCard
          key={st}
          filter={st}
          label={STATUS_STYLE[st].label}
          count={counts[st]}
          total={counts.total}
          active={status === st}
          onSelect={select}
        />
      ))}
      <CountCard
        filter="all"
        label="total"
        count={counts.total}
        total={counts.total}
        active={status === "all"}
        onSelect={select}
      />
    </section>
  );
}
