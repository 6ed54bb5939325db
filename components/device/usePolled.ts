"use client";

import { useCallback, useEffect, useState } from "react";

type Polled<T> = { key: string; group: string; data: T | null; error: string | null; at: number };

async function errorText(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    return body.error?.message ?? `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

/**
 * Fetches `url` now and every `intervalMs` while the tab is visible, or only
 * when the url changes and on `refresh()` for `intervalMs` null (a page kept
 * live by its stream). What it returns
 * always belongs to the current url, or to the same `group` (a timeline
 * whose window moves keeps showing the last answer until the next arrives);
 * the last good data stays while a refresh fails. `refresh()` fetches at
 * once (after a change the page made itself).
 */
export function usePolled<T>(
  url: string | null,
  intervalMs: number | null,
  group: string = url ?? "",
  /**
   * What the server already fetched for this url while rendering the page:
   * shown at once, refreshed later; `data` null means the server found
   * nothing there (a 404).
   */
  initial: { url: string; data: T | null } | null = null,
): { data: T | null; error: string | null; status: number | null; refresh(): void } {
  const [state, setState] = useState<Polled<T> & { status: number | null }>(() =>
    initial && initial.url === url
      ? { key: url, group, data: initial.data, error: null, at: Date.now(), status: initial.data === null ? 404 : 200 }
      : { key: "", group: "", data: null, error: null, at: 0, status: null },
  );
  const [initialUrl] = useState(() => initial?.url ?? null);
  // Bumped by refresh(): the poll starts over with a fetch now.
  const [round, setRound] = useState(0);
  const refresh = useCallback(() => setRound((r) => r + 1), []);
  useEffect(() => {
    if (url === null) return;
    let stopped = false;
    let controller: AbortController | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const run = async () => {
      controller = new AbortController();
      try {
        const res = await fetch(url, { signal: controller.signal, cache: "no-store" });
        if (!res.ok) {
          const error = await errorText(res);
          if (!stopped)
            setState((s) => ({
              key: url,
              group,
              data: s.group === group ? s.data : null,
              error,
              at: Date.now(),
              status: res.status,
            }));
        } else {
          const data = (await res.json()) as T;
          if (!stopped) setState({ key: url, group, data, error: null, at: Date.now(), status: res.status });
        }
      } catch (err) {
        if (stopped || (err instanceof DOMException && err.name === "AbortError")) return;
        const error = err instanceof Error ? err.message : String(err);
        setState((s) => ({
          key: url,
          group,
          data: s.group === group ? s.data : null,
          error,
          at: Date.now(),
          status: null,
        }));
      }
      if (!stopped && intervalMs !== null) timer = setTimeout(tick, intervalMs);
    };
    const tick = () => {
      if (document.visibilityState === "hidden" && intervalMs !== null) timer = setTimeout(tick, intervalMs);
      else void run();
    };
    // Data the server rendered with is fresh: the first fetch waits one interval.
    const fresh =
      round === 0 && url === initialUrl && state.key === url && (state.data !== null || state.status === 404);
    if (fresh && (intervalMs === null || Date.now() - state.at < intervalMs)) {
      if (intervalMs !== null) timer = setTimeout(tick, intervalMs);
    } else void run();
    return () => {
      stopped = true;
      controller?.abort();
      if (timer) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `state` is read once, when the url changes
  }, [url, intervalMs, group, round]);
  if (state.key !== url && state.group !== group) return { data: null, error: null, status: null, refresh };
  return { data: state.data, error: state.error, status: state.status, refresh };
}
