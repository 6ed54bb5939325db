"use client";

import type { ReactNode } from "react";
import { useFleet } from "./FleetStoreProvider";
import { isStreamStale } from "./store";

function Message({ title, detail, action }: { title: string; detail?: string; action?: ReactNode }) {
  return (
    <div role="row" data-testid="table-empty" className="flex justify-center px-6 py-16">
      <div role="cell" className="max-w-xl text-center break-words">
        <p className="text-sm font-medium text-zinc-200">{title}</p>
        {detail && <p className="mt-1 text-xs text-zinc-500">{detail}</p>}
        {action && <div className="mt-3">{action}</div>}
      </div>
    </div>
  );
}

/** What the table says when it has no rows: not connected yet, no devices yet, or nothing matches. */
export function EmptyState() {
  const hasSnapshot = useFleet((s) => s.hasSnapshot);
  const total = useFleet((s) => s.counts.total);
  const stale = useFleet((s) => isStreamStale(s.connection, s.nowMs));
  const view = useFleet((s) => s.view);
  const setView = useFleet((s) => s.setView);

  if (!hasSnapshot) {
    return stale ? (
      <Message
        title="The live stream cannot be reached."
        detail="Retrying in the background; devices appear as soon as it answers."
      />
    ) : (
      <Message title="Connecting to the live stream…" />
    );
  }
  if (total === 0) {
    return (
      <Message
        title="Waiting for the broker to report clients…"
        detail="Devices appear on their first connect, ping, publish or status message seen by the monitor."
      />
    );
  }
  const filters = [
    view.status !== "all" ? `status ${view.status}` : null,
    view.search.trim() ? `id containing “${view.search.trim()}”` : null,
  ]
    .filter(Boolean)
    .join(" and ");
  return (
    <Message
      title="No devices match the filter."
      detail={filters ? `Nothing with ${filters}.` : undefined}
      action={
        <button
          type="button"
          onClick={() => setView({ status: "all", search: "" })}
          className="rounded border border-zinc-700 px-2.5 py-1 text-xs text-zinc-200 hover:bg-zinc-800"
        >
          Clear filters
        </button>
      }
    />
  );
}
