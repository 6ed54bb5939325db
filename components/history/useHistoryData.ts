"use client";

import { useEffect, useState } from "react";
import type { DisconnectDto, DisconnectListDto, DisconnectSummaryDto } from "@/lib/api/dto";
import { errorMessage } from "./download";

export const PAGE_SIZE = 100;

type Loaded<T> = { key: string; data: T; error: null } | { key: string; data: null; error: string };

async function getJson<T>(url: string, signal: AbortSignal): Promise<T> {
  const res = await fetch(url, { signal, cache: "no-store" });
  if (!res.ok) throw new Error(await errorMessage(res));
  return (await res.json()) as T;
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));
const aborted = (err: unknown) => err instanceof DOMException && err.name === "AbortError";

/** Fetches `url` whenever it changes; what is returned always belongs to the current url (else loading). */
function useFetched<T>(url: string): { data: T | null; error: string | null; loading: boolean } {
  const [loaded, setLoaded] = useState<Loaded<T> | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    getJson<T>(url, controller.signal).then(
      (data) => setLoaded({ key: url, data, error: null }),
      (err: unknown) => {
        if (!aborted(err)) setLoaded({ key: url, data: null, error: messageOf(err) });
      },
    );
    return () => controller.abort();
  }, [url]);
  if (loaded === null || loaded.key !== url) return { data: null, error: null, loading: true };
  return { data: loaded.data, error: loaded.error, loading: false };
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
