"use client";

import { useEffect, useRef, type KeyboardEvent, type MouseEvent } from "react";
import { COLUMNS, GRID_COLUMNS, HEADER_HEIGHT, ROW_HEIGHT, TABLE_MIN_WIDTH } from "./columns";
import { DeviceRow } from "./DeviceRow";
import { EmptyState } from "./EmptyState";
import { useFleet } from "./FleetStoreProvider";
import { TableHeader } from "./TableHeader";
import { useRowWindow } from "./useRowWindow";

/** Rows kept in the DOM beyond the visible ones, above and below. */
const OVERSCAN = 12;
/** How long a row moved to by keyboard may take to arrive and still take the focus (ms). */
const FOCUS_WAIT_MS = 3_000;
/** Height assumed before the scroll container is measured (server render, first paint). */
const INITIAL_HEIGHT = 720;

/**
 * A plain click anywhere on a row follows the row's device link, unless it
 * lands on a control or ends a text selection (ids and reasons stay copyable).
 * Keyboard users reach the same link by Tab, and move between rows' links
 * with the arrow keys (see DeviceTable).
 */
function followRowLink(e: MouseEvent<HTMLDivElement>): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  if (!(e.target instanceof Element) || e.target.closest("a, button, input, select")) return;
  const row = e.target.closest('[data-testid="device-row"]');
  if (row === null || (window.getSelection()?.toString() ?? "") !== "") return;
  row.querySelector<HTMLAnchorElement>("a[href]")?.click();
}

/** A row of the view the window does not hold yet (scrolled to; the stream is moving there). */
function PendingRow({ index, offset }: { index: number; offset: number }) {
  return (
    <div
      role="row"
      aria-rowindex={index + 2}
      aria-busy="true"
      data-testid="device-row-pending"
      className={`absolute top-0 left-0 grid w-full items-center ${GRID_COLUMNS} ${TABLE_MIN_WIDTH}`}
      style={{ height: ROW_HEIGHT, transform: `translateY(${offset}px)` }}
    >
      <div role="cell" className="mx-3 h-2 w-32 rounded bg-zinc-800/70" />
    </div>
  );
}

/**
 * The device table: ARIA table semantics on divs, fixed row height, only the
 * rows in view (plus overscan) in the DOM whatever the fleet size. It is as
 * tall as the whole view (`window.total` rows); the store holds only the
 * window's rows, and scrolling tells it which rows are on screen so the
 * stream moves the window along.
 */
export function DeviceTable() {
  const rows = useFleet((s) => s.rows);
  const first = useFleet((s) => s.window.offset);
  const total = useFleet((s) => s.window.total);
  const showRange = useFleet((s) => s.showRange);
  const view = useFleet((s) => s.view);
  const scrollRef = useRef<HTMLDivElement>(null);
  // A new filter or order starts at the top, where its window starts.
  useEffect(() => {
    scrollRef.current?.scrollTo({ top: 0 });
  }, [view]);
  const rowAt = (i: number) => rows[i - first];
  const { range, totalSize, offsetOf, scrollToIndex } = useRowWindow({
    count: total,
    rowHeight: ROW_HEIGHT,
    headerHeight: HEADER_HEIGHT,
    overscan: OVERSCAN,
    scrollRef,
    initialHeight: INITIAL_HEIGHT,
  });
  const firstShown = range.first;
  const lastShown = Math.max(range.first, range.last);
  useEffect(() => {
    showRange(firstShown, lastShown);
  }, [showRange, firstShown, lastShown]);

  // Arrow keys, Page Up/Down, Home and End move the focus from one row's device link to another's.
  // The row may not be rendered (or in the window) yet: it is scrolled to, and focused once it arrives,
  // unless that takes so long that the focus would jump under the operator's hands.
  const focusWanted = useRef<{ index: number; until: number } | null>(null);
  const focusRow = () => {
    if (focusWanted.current === null) return;
    const { index, until } = focusWanted.current;
    if (Date.now() > until) {
      focusWanted.current = null;
      return;
    }
    const link = scrollRef.current?.querySelector<HTMLAnchorElement>(
      `[data-testid="device-row"][aria-rowindex="${index + 2}"] a[href]`,
    );
    if (!link) return;
    focusWanted.current = null;
    link.focus();
  };
  useEffect(focusRow);
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey || !(e.target instanceof Element)) return;
    const row = e.target.closest('[data-testid="device-row"]');
    if (row === null) return;
    const index = Number(row.getAttribute("aria-rowindex")) - 2;
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? ROW_HEIGHT) / ROW_HEIGHT) - 1);
    const steps: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    const next = e.key === "Home" ? 0 : e.key === "End" ? total - 1 : e.key in steps ? index + steps[e.key] : null;
    if (next === null || total === 0) return;
    e.preventDefault();
    const target = Math.min(total - 1, Math.max(0, next));
    focusWanted.current = { index: target, until: Date.now() + FOCUS_WAIT_MS };
    scrollToIndex(target);
    focusRow();
  };

  return (
    <div
      ref={scrollRef}
      role="table"
      aria-label="Devices"
      aria-rowcount={total + 1}
      aria-colcount={COLUMNS.length}
      data-testid="device-table"
      onClick={followRowLink}
      onKeyDown={onKeyDown}
      className="relative min-h-0 flex-1 overflow-auto rounded-md border border-zinc-800 bg-zinc-950 [overflow-anchor:none]"
    >
      <TableHeader />
      {total === 0 ? (
        <div role="rowgroup">
          <EmptyState />
        </div>
      ) : (
        <div role="rowgroup" className={`relative ${TABLE_MIN_WIDTH}`} style={{ height: totalSize }}>
          {Array.from({ length: range.last - range.first + 1 }, (_, k) => {
            const index = range.first + k;
            const device = rowAt(index);
            const offset = offsetOf(index);
            return device ? (
              <DeviceRow key={device.id} device={device} index={index} offset={offset} />
            ) : (
              <PendingRow key={`pending-${index}`} index={index} offset={offset} />
            );
          })}
        </div>
      )}
    </div>
  );
}
