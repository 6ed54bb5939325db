"use client";

import { useFleet } from "./FleetStoreProvider";
import { COLUMNS, GRID_COLUMNS, HEADER_HEIGHT, TABLE_MIN_WIDTH, type Column } from "./columns";
import { DEFAULT_SORT_DIR } from "./select";

function HeaderCell({ column, sticky }: { column: Column; sticky: boolean }) {
  const view = useFleet((s) => s.view);
  const setView = useFleet((s) => s.setView);
  const align = `${column.align === "right" ? "justify-end text-right" : ""} ${sticky ? "sticky left-0 z-[1] h-full items-center border-r border-zinc-800/70 bg-zinc-900" : ""}`;
  if (column.sortKey === undefined) {
    return (
      <div role="columnheader" title={column.hint} className={`flex truncate px-3 ${align}`}>
        {column.label}
      </div>
    );
  }
  const key = column.sortKey;
  const active = view.sortKey === key;
  const onClick = () =>
    setView(
      active ? { sortDir: view.sortDir === "asc" ? "desc" : "asc" } : { sortKey: key, sortDir: DEFAULT_SORT_DIR[key] },
    );
  return (
    <div
      role="columnheader"
      aria-sort={active ? (view.sortDir === "asc" ? "ascending" : "descending") : "none"}
      className={`flex px-3 ${align}`}
    >
      <button
        type="button"
        onClick={onClick}
        title={column.hint ? `${column.hint} — click to sort` : "click to sort"}
        className={`inline-flex items-center gap-1 rounded-sm whitespace-nowrap uppercase outline-none hover:text-zinc-100 focus-visible:ring-2 focus-visible:ring-sky-500 ${active ? "text-zinc-100" : ""}`}
      >
        {column.label}
        <span aria-hidden="true" className={active ? "text-sky-400" : "text-zinc-600"}>
          {active ? (view.sortDir === "asc" ? "▲" : "▼") : "↕"}
        </span>
      </button>
    </div>
  );
}

export function TableHeader() {
  return (
    <div role="rowgroup" className="sticky top-0 z-10">
      <div
        role="row"
        aria-rowindex={1}
        className={`grid items-center border-b border-zinc-700 bg-zinc-900 text-[11px] font-semibold tracking-wide text-zinc-400 uppercase ${GRID_COLUMNS} ${TABLE_MIN_WIDTH}`}
        style={{ height: HEADER_HEIGHT }}
      >
        {COLUMNS.map((c, i) => (
          <HeaderCell key={c.key} column={c} sticky={i === 0} />
        ))}
      </div>
    </div>
  );
}
