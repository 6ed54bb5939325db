/**
 * The browser's one way to the HTTP API: `apiJson` sends and reads JSON, an
 * answer in the API's one error shape (`{ error: { code, message, fields? } }`)
 * becomes an ApiError; the hooks read through TanStack Query, keyed by the
 * url, so a page refetches or invalidates instead of counting versions.
 */
import { useCallback } from "react";
import { keepPreviousData, QueryClient, useQuery, useQueryClient, type UseQueryOptions } from "@tanstack/react-query";

/** An answer that is not a 2xx: the API's message, its status and code, and its per-field messages. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null = null,
    /** Per-field messages for a rejected body, e.g. { match: "…" } (empty when the API named none). */
    readonly fields: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  /** The error a failed response stands for, whatever its body (JSON in the API's shape, HTML from a proxy, nothing). */
  static async from(res: Response): Promise<ApiError> {
    const text = await res.text().catch(() => "");
    let error: { code?: unknown; message?: unknown; fields?: unknown } | undefined;
    try {
      error = (JSON.parse(text) as { error?: typeof error } | null)?.error;
    } catch {
      // not JSON: the status speaks
    }
    const message = typeof error?.message === "string" && error.message !== "" ? error.message : `HTTP ${res.status}`;
    const code = typeof error?.code === "string" ? error.code : null;
    const fields =
      typeof error?.fields === "object" && error.fields !== null && !Array.isArray(error.fields)
        ? (Object.fromEntries(Object.entries(error.fields).filter(([, v]) => typeof v === "string")) as Record<
            string,
            string
          >)
        : {};
    return new ApiError(message, res.status, code, fields);
  }
}

/** What a page shows for a failure: the API's message, or the thrown error's. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const NO_BODY_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD"]);

/**
 * One request to the API. A change (any method but GET/HEAD) is sent as
 * `Content-Type: application/json`, which the API's CSRF check asks for; a
 * 204 or an empty body answers undefined; nothing is cached by the browser.
 */
export async function apiJson<T>(method: string, url: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const upper = method.toUpperCase();
  const res = await fetch(url, {
    method: upper,
    headers: NO_BODY_METHODS.has(upper) ? undefined : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    cache: "no-store",
  });
  if (!res.ok) throw await ApiError.from(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  if (text === "") return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(`HTTP ${res.status}: the answer is not JSON`, res.status);
  }
}

/** Defaults that keep the pages as they were: no retry, no refetch on focus or reconnect, nothing fresh for long. */
export function newQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: false,
        staleTime: 0,
        refetchOnWindowFocus: false,
        refetchOnReconnect: false,
        refetchIntervalInBackground: false,
      },
      mutations: { retry: false },
    },
  });
}

export interface ApiQueryOptions<T> {
  /**
   * Fetch again every this many ms while the tab is visible (TanStack Query
   * skips the ticks of a hidden tab). Without it the url is fetched when it
   * changes and on refetch() (a page kept live by its stream).
   */
  pollMs?: number;
  /**
   * What the server already read for `url` while rendering the page: shown at
   * once and not fetched again on mount. Only for that url.
   */
  initial?: { url: string; data: T } | null;
  /**
   * While a new url loads, keep showing the last answer: of any url (true),
   * or only of a url of the same group (a timeline whose window moves).
   */
  keepPrevious?: boolean | string;
  /** A 404 answers null (a device never seen) instead of failing. */
  nullOn404?: boolean;
}

type Built<T> = UseQueryOptions<T, Error, T, readonly [string]>;

/** The useQuery options for one url (pure, so tests can read them). */
export function apiQueryOptions<T>(url: string | null, options: ApiQueryOptions<T> = {}): Built<T> {
  const { pollMs, initial, keepPrevious, nullOn404 } = options;
  const group = typeof keepPrevious === "string" ? keepPrevious : null;
  const seeded = initial !== null && initial !== undefined && initial.url === url;
  return {
    queryKey: [url ?? ""] as const,
    queryFn: async ({ signal }) => {
      try {
        return await apiJson<T>("GET", url as string, undefined, signal);
      } catch (err) {
        if (nullOn404 && err instanceof ApiError && err.status === 404) return null as T;
        throw err;
      }
    },
    enabled: url !== null,
    refetchInterval: pollMs ?? false,
    ...(seeded ? { initialData: initial.data, refetchOnMount: false } : {}),
    ...(group !== null
      ? {
          meta: { group },
          placeholderData: <P>(previous: P | undefined, previousQuery?: { meta?: Record<string, unknown> }) =>
            previousQuery?.meta?.group === group ? previous : undefined,
        }
      : keepPrevious
        ? { placeholderData: keepPreviousData }
        : {}),
  };
}

export interface ApiQuery<T> {
  /** The answer for the url (or the kept one of its group); undefined while loading or after a failure with none. */
  data: T | undefined;
  /** The last fetch's failure, as the page shows it (the last good data stays). */
  error: string | null;
  /** Loading for the first time: nothing to show yet. */
  loading: boolean;
  /** When the shown answer arrived (ms), 0 for none. */
  updatedAt: number;
  /** Fetch now (a fetch in flight is dropped). */
  refetch(): void;
}

/** GET `url` (null: nothing to fetch) through the page's query cache. */
export function useApi<T>(url: string | null, options: ApiQueryOptions<T> = {}): ApiQuery<T> {
  const query = useQuery(apiQueryOptions<T>(url, options));
  const { refetch } = query;
  const again = useCallback(() => void refetch(), [refetch]);
  return {
    data: query.data,
    error: query.error ? errorText(query.error) : null,
    loading: query.isPending && url !== null,
    updatedAt: query.dataUpdatedAt,
    refetch: again,
  };
}

/** After a change: every query whose url starts with `prefix` is stale, and those on screen fetch again. */
export function useInvalidate(): (prefix: string) => Promise<void> {
  const client = useQueryClient();
  return (prefix: string) =>
    client.invalidateQueries({
      predicate: (q) => typeof q.queryKey[0] === "string" && q.queryKey[0].startsWith(prefix),
    });
}
