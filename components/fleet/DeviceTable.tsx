"use client";

import { useVirtualizer } from "@tanstack/react-virtual";
import { useRef, type MouseEvent } from "react";
import { COLUMNS, HEADER_HEIGHT, ROW_HEIGHT, TABLE_MIN_WIDTH } from "./columns";
import { DeviceRow } from "./DeviceRow";
import { EmptyState } from "./EmptyState";
import { useFleet } from "./FleetStoreProvider";
import { TableHeader } from "./TableHeader";

/** Rows kept in the DOM beyond the visible ones, above and below. */
const OVERSCAN = 12;
/** Size assumed before the scroll container is measured (server render, first paint). */
const INITIAL_RECT = { width: 1280, height: 720 };

/**
 * A plain click anywhere on a row follows the row's device link, unless it
 * lands on a control or ends a text selection (ids and reasons stay copyable).
 * Keyboard users reach the same link by Tab.
 */
function followRowLink(e: MouseEvent<HTMLDivElement>): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  if (!(e.target instanceof Element) || e.target.closest("a, button, input, select")) return;
  const row = e.target.closest('[data-testid="device-row"]');
  if (row === null || (window.getSelection()?.toString() ?? "") !== "") return;
  row.querySelector<HTMLAnchorElement>("a[href]")?.click();
}

/**
 * The device table: ARIA table semantics on divs, fixed row height, only the
 * rows in view (plus overscan) in the DOM whatever the fleet size.
 */
export function DeviceTable() {
  const rows = useFleet((s) => s.rows);
  const scrollRef = useRef<HTMLDivElement>(null);
  // Not for the React Compiler to memoize (the project does not enable it); rows are memoized by hand.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    getItemKey: (i) => rows[i]?.id ?? i,
    overscan: OVERSCAN,
    scrollMargin: HEADER_HEIGHT,
    initialRect: INITIAL_RECT,
    useFlushSync: false,
  });

  return (
    <div
      ref={scrollRef}
      role="table"
      aria-label="Devices"
      aria-rowcount={rows.length + 1}
      aria-colcount={COLUMNS.length}
      data-testid="device-table"
      onClick={followRowLink}
      className="relative min-h-0 flex-1 overflow-auto rounded-md border border-zinc-800 bg-zinc-950 [overflow-anchor:none]"
    >
      <TableHeader />
      {rows.length === 0 ? (
        <div role="rowgroup">
          <EmptyState />
        </div>
      ) : (
        <div role="rowgroup" className={`relative ${TABLE_MIN_WIDTH}`} style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => {
            const device = rows[item.index];
            return device ? (
              <DeviceRow key={device.id} device={device} index={item.index} offset={item.start - HEADER_HEIGHT} />
            ) : null;
          })}
        </div>
      )}
    </div>
  );
}
