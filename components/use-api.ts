/**
 * A GET of the API for a page: fetched again whenever `version` changes (a
 * page bumps it after a change), the request in flight abandoned when the
 * page moves on; an API error becomes its message.
 */
import { useEffect, useState } from "react";
import { getJson } from "@/components/alerts/format";

export function useApiGet<T>(
  url: string,
  version: number,
): { data: T | null; error: string | null; setError(e: string | null): void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    getJson<T>(url, ctl.signal).then(
      (body) => {
        setData(body);
        setError(null);
      },
      (e: unknown) => {
        if (!ctl.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      },
    );
    return () => ctl.abort();
  }, [url, version]);
  return { data, error, setError };
}
