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
 */

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
  const body = Math.max(0, top - headerHeight);
  const first = Math.max(0, Math.floor(body / rowHeight) - overscan);
  const last = Math.min(count - 1, Math.ceil((body + Math.max(0, height)) / rowHeight) - 1 + overscan);
  return { first: Math.min(first, count - 1), last: Math.max(last, Math.min(first, count - 1)) };
}

/** The scroll position that brings row `index` fully into view, or null when it already is. */
export function scrollFor(
  index: number,
  top: number,
  height: number,
  rowHeight: number,
  headerHeight: number,
): number | null {
  const rowTop = headerHeight + index * rowHeight;
  // The sticky header covers the container's top `headerHeight` pixels.
  if (rowTop < top + headerHeight) return rowTop - headerHeight;
  if (rowTop + rowHeight > top + height) return rowTop + rowHeight - height;
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
}): { range: RowRange; totalSize: number; scrollToIndex(index: number): void } {
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
      const to = scrollFor(index, el.scrollTop, el.clientHeight, rowHeight, headerHeight);
      if (to !== null) el.scrollTop = to;
    },
    [scrollRef, rowHeight, headerHeight],
  );
  return {
    range: rowRange(view.top, view.height, count, rowHeight, headerHeight, overscan),
    totalSize: count * rowHeight,
    scrollToIndex,
  };
}
