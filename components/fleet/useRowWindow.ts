"use client";

import { useCallback, useEffect, useState, type RefObject } from "react";

/**
 * Windowing for a table of fixed-height rows: which rows the scroll position
 * shows (plus `overscan` above and below), in O(rows shown) whatever the
 * count. A general virtualizer (@tanstack/virtual-core) keeps a measurement
 * object per row and rebuilds them all whenever the count or its options
 * change: at a million devices that was over half a second of the browser's
 * main thread for every new view. With one row height, a row's place is
 * arithmetic.
 *
 * Browsers cap an element's height (Chromium at about 33.5 million px,
 * Firefox at about 17.9 million): 30 px rows would end near 1.1 million. Past
 * MAX_BODY_PX the body stays that tall and the scroll position maps onto the
 * rows proportionally (`scale` row pixels per scrolled pixel): the wheel moves
 * faster, the keyboard still moves row by row, and every row is reachable.
 */

/** The tallest the table body gets (below every browser's cap). */
export const MAX_BODY_PX = 15_000_000;

/**
 * Row pixels per scrolled pixel for `count` rows in a container `height`
 * tall: 1 while the rows fit in MAX_BODY_PX, so that the last scroll position
 * shows the last row when they do not.
 */
export function bodyScale(count: number, rowHeight: number, height: number): number {
  const rows = count * rowHeight;
  if (rows <= MAX_BODY_PX) return 1;
  const h = Math.max(0, Math.min(height, MAX_BODY_PX / 2));
  return (rows - h) / (MAX_BODY_PX - h);
}

/** The body's height in pixels. */
export const bodySize = (count: number, rowHeight: number): number => Math.min(count * rowHeight, MAX_BODY_PX);

/**
 * Where the rows are scrolled to (`at`, row pixels) for a container `height`
 * tall scrolled to `top`, and the scale that maps one onto the other.
 */
function scrolledRows(
  top: number,
  height: number,
  count: number,
  rowHeight: number,
  headerHeight: number,
): { at: number; scale: number } {
  const scale = bodyScale(count, rowHeight, height);
  return { at: top <= headerHeight ? top : headerHeight + (top - headerHeight) * scale, scale };
}

/** The container's scroll position that puts the rows at `rowsAt` (the inverse of scrolledRows). */
function scrollTopFor(rowsAt: number, headerHeight: number, scale: number): number {
  return rowsAt <= headerHeight ? rowsAt : headerHeight + (rowsAt - headerHeight) / scale;
}

/** Where row `index` is drawn in the body (px from its top) with the container scrolled to `top`. */
export function rowOffset(
  index: number,
  top: number,
  height: number,
  count: number,
  rowHeight: number,
  headerHeight: number,
): number {
  return index * rowHeight - (scrolledRows(top, height, count, rowHeight, headerHeight).at - top);
}

export interface RowRange {
  /** First row in the DOM (inclusive). */
  first: number;
  /** Last row in the DOM (inclusive); first - 1 when there are none. */
  last: number;
}

/** Rows shown by a scroll container `height` tall scrolled to `top`, under a sticky header `headerHeight` tall. */
export function rowRange(
  top: number,
  height: number,
  count: number,
  rowHeight: number,
  headerHeight: number,
  overscan: number,
): RowRange {
  if (count <= 0) return { first: 0, last: -1 };
  const body = Math.max(0, scrolledRows(top, height, count, rowHeight, headerHeight).at - headerHeight);
  const first = Math.max(0, Math.floor(body / rowHeight) - overscan);
  const last = Math.min(count - 1, Math.ceil((body + Math.max(0, height)) / rowHeight) - 1 + overscan);
  return { first: Math.min(first, count - 1), last: Math.max(last, Math.min(first, count - 1)) };
}

/** The scroll position that brings row `index` fully into view, or null when it already is. */
export function scrollFor(
  index: number,
  top: number,
  height: number,
  count: number,
  rowHeight: number,
  headerHeight: number,
): number | null {
  const { at, scale } = scrolledRows(top, height, count, rowHeight, headerHeight);
  const rowTop = headerHeight + index * rowHeight;
  // The sticky header covers the container's top `headerHeight` pixels.
  if (rowTop < at + headerHeight) return scrollTopFor(rowTop - headerHeight, headerHeight, scale);
  if (rowTop + rowHeight > at + height) return scrollTopFor(rowTop + rowHeight - height, headerHeight, scale);
  return null;
}

export function useRowWindow(opts: {
  count: number;
  rowHeight: number;
  headerHeight: number;
  overscan: number;
  scrollRef: RefObject<HTMLElement | null>;
  /** Height assumed before the container is measured (server render, first paint). */
  initialHeight: number;
}): {
  range: RowRange;
  totalSize: number;
  /** Where row `index` is drawn in the body (px). */
  offsetOf(index: number): number;
  scrollToIndex(index: number): void;
} {
  const { count, rowHeight, headerHeight, overscan, scrollRef, initialHeight } = opts;
  const [view, setView] = useState({ top: 0, height: initialHeight });
  useEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const read = () =>
      setView((v) =>
        v.top === el.scrollTop && v.height === el.clientHeight ? v : { top: el.scrollTop, height: el.clientHeight },
      );
    read();
    el.addEventListener("scroll", read, { passive: true });
    const ro = new ResizeObserver(read);
    ro.observe(el);
    return () => {
      el.removeEventListener("scroll", read);
      ro.disconnect();
    };
  }, [scrollRef]);
  const scrollToIndex = useCallback(
    (index: number) => {
      const el = scrollRef.current;
      if (!el) return;
      const to = scrollFor(index, el.scrollTop, el.clientHeight, count, rowHeight, headerHeight);
      if (to !== null) el.scrollTop = to;
    },
    [scrollRef, count, rowHeight, headerHeight],
  );
  return {
    range: rowRange(view.top, view.height, count, rowHeight, headerHeight, overscan),
    totalSize: bodySize(count, rowHeight),
    offsetOf: (index) => rowOffset(index, view.top, view.height, count, rowHeight, headerHeight),
    scrollToIndex,
  };
}
