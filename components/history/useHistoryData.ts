"use client";

import { useState } from "react";
import type { DisconnectDto, DisconnectListDto, DisconnectSummaryDto } from "@/lib/api/dto";
import { useApi } from "@/components/api/client";

export const PAGE_SIZE = 100;

/** `url`'s answer; what is returned always belongs to the current url (else loading). */
function useFetched<T>(url: string): { data: T | null; error: string | null; loading: boolean } {
  const { data, error, loading } = useApi<T>(url);
  return { data: data ?? null, error, loading };
}

export function useSummary(query: string) {
  return useFetched<DisconnectSummaryDto>(`/api/disconnects/summary?${query}`);
}

export interface PagedDisconnects {
  rows: DisconnectDto[];
  /** 0-based page index. */
  page: number;
  loading: boolean;
  error: string | null;
  hasOlder: boolean;
  older(): void;
  newer(): void;
  newest(): void;
}

/**
 * One page of the disconnect list at a time, newest first, moving by the
 * API's cursors; the cursors of the pages passed are kept to go back. A new
 * query starts again at the newest page.
 */
export function usePagedDisconnects(query: string): PagedDisconnects {
  const [pager, setPager] = useState<{ query: string; cursors: Array<string | null> }>({ query, cursors: [null] });
  const cursors = pager.query === query ? pager.cursors : [null];
  const cursor = cursors[cursors.length - 1];
  const url = `/api/disconnects?${query}&limit=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
  const { data, error, loading } = useFetched<DisconnectListDto>(url);
  return {
    rows: data?.disconnects ?? [],
    page: cursors.length - 1,
    loading,
    error,
    hasOlder: Boolean(data?.nextCursor),
    older: () => {
      if (data?.nextCursor) setPager({ query, cursors: [...cursors, data.nextCursor] });
    },
    newer: () => setPager({ query, cursors: cursors.length > 1 ? cursors.slice(0, -1) : [null] }),
    newest: () => setPager({ query, cursors: [null] }),
  };
}
