/**
 * Feeds a fleet store from the SSE stream (`GET /api/stream?…`, the store's
 * view and window in the address): `snapshot` replaces the window, `delta`
 * updates it. When the operator filters, sorts or scrolls past the window,
 * the stream is reopened for the new window: at once, and then at most once
 * per WINDOW_SETTLE_MS, so a burst of changes (a held key, a scroll) opens
 * one stream per period, for where the burst has got to, not one per key or
 * frame.
 * EventSource retries a dropped connection by itself; when it gives up
 * (readyState CLOSED, e.g. an HTTP error) or a message breaks the contract,
 * the stream is reopened here with backoff and jitter, and the fresh snapshot
 * puts the page right again.
 */
import { backoffDelay } from "@/lib/backoff";
import { parseStreamMessage } from "./messages";
import { streamUrl } from "./select";
import type { FleetState, FleetStore } from "./store";

/** The part of EventSource used here. */
export interface EventSourceLike {
  readonly readyState: number;
  onerror: ((ev: Event) => unknown) | null;
  addEventListener(
    type: "snapshot" | "delta" | "heartbeat" | "alerts",
    listener: (ev: MessageEvent<string>) => void,
  ): void;
  close(): void;
}

export interface StreamOptions {
  /** The stream's path; the view and window are added as its query. */
  url?: string;
  createEventSource?: (url: string) => EventSourceLike;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** Clock of the settle period (ms). */
  now?: () => number;
  random?: () => number;
  /** The stream's `alerts` events (raw data), for the alert feed that shares this connection. */
  onAlerts?: (data: string) => void;
}

const CLOSED = 2;
const RETRY_BASE_MS = 1_000;
const RETRY_MAX_MS = 30_000;
/**
 * The server sends a named `heartbeat` every 15 s. A stream that is open but
 * silent for longer than two of them is stalled (a proxy or a half-open TCP
 * connection): reopen it rather than show frozen data as live.
 */
export const STALL_MS = 40_000;

/** The stream moves to a new view or window at most once per this period (the first change at once). */
export const WINDOW_SETTLE_MS = 50;

/** Reopening a failed stream: 1 s doubling to 30 s, with jitter (lib/backoff.ts). */
export const RECONNECT = { initialMs: RETRY_BASE_MS, maxMs: RETRY_MAX_MS };

/** Opens the stream; returns the function that closes it for good. */
export function connectFleetStream(store: FleetStore, options: StreamOptions = {}): () => void {
  const {
    url = "/api/stream",
    createEventSource = (u: string) => new EventSource(u),
    setTimer = (fn: () => void, ms: number) => setTimeout(fn, ms),
    clearTimer = (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>),
    now = () => Date.now(),
    random = Math.random,
    onAlerts,
  } = options;

  let current: EventSourceLike | null = null;
  let currentUrl = "";
  let retryTimer: unknown = null;
  let settleTimer: unknown = null;
  /** When the stream last moved for a view or window change. */
  let movedAt = -Infinity;
  let stallTimer: unknown = null;
  let attempt = 0;
  let stopped = false;

  const disarmStall = (): void => {
    if (stallTimer !== null) clearTimer(stallTimer);
    stallTimer = null;
  };

  /** Every message from the server proves the stream is alive. */
  const armStall = (): void => {
    disarmStall();
    stallTimer = setTimer(() => {
      stallTimer = null;
      reopenLater(`no data from the server for ${STALL_MS / 1000} s`);
    }, STALL_MS);
  };

  const reopenLater = (error: string): void => {
    disarmStall();
    current?.close();
    current = null;
    store.getState().setConnection("reconnecting", { error });
    retryTimer = setTimer(
      () => {
        retryTimer = null;
        open();
      },
      backoffDelay(attempt++, RECONNECT, random),
    );
  };

  const addressOf = (s: FleetState): string => streamUrl(s.view, s.want, url);

  const open = (): void => {
    if (stopped) return;
    currentUrl = addressOf(store.getState());
    const source = createEventSource(currentUrl);
    current = source;

    source.addEventListener("snapshot", (ev) => {
      if (source !== current) return;
      const parsed = parseStreamMessage(ev.data);
      if (!parsed.ok || !parsed.message.window)
        return reopenLater(`bad snapshot: ${parsed.ok ? "window missing" : parsed.error}`);
      attempt = 0;
      armStall();
      const s = store.getState();
      s.applySnapshot({ ...parsed.message, window: parsed.message.window });
      s.setConnection("live");
    });

    source.addEventListener("delta", (ev) => {
      if (source !== current) return;
      const parsed = parseStreamMessage(ev.data);
      if (!parsed.ok) return reopenLater(`bad delta: ${parsed.error}`);
      armStall();
      store.getState().applyDelta(parsed.message);
    });

    source.addEventListener("heartbeat", () => {
      if (source === current) armStall();
    });

    source.addEventListener("alerts", (ev) => {
      if (source !== current) return;
      armStall();
      onAlerts?.(ev.data);
    });

    source.onerror = () => {
      if (source !== current) return;
      if (source.readyState === CLOSED) reopenLater("stream closed");
      else store.getState().setConnection("reconnecting", { error: "connection lost" });
    };
  };

  /**
   * The view or window changed: the stream moves to the new address at once
   * (after the current turn, so changes made together move it once) for a
   * click (status, tag, sort) or the first change after a quiet period; a
   * change while typing or scrolling goes on waits for the rest of the
   * period, and the move then takes whatever the address has become.
   */
  const unsubscribe = store.subscribe((s, prev) => {
    if (stopped || addressOf(s) === currentUrl || settleTimer !== null) return;
    const clicked = s.view !== prev.view && s.view.search === prev.view.search;
    settleTimer = setTimer(
      () => {
        settleTimer = null;
        // A stream waiting to be retried picks the new address up when it reopens.
        if (stopped || retryTimer !== null || addressOf(store.getState()) === currentUrl) return;
        movedAt = now();
        disarmStall();
        current?.close();
        current = null;
        open();
      },
      clicked ? 0 : Math.max(0, movedAt + WINDOW_SETTLE_MS - now()),
    );
  });

  open();
  return () => {
    stopped = true;
    unsubscribe();
    disarmStall();
    if (settleTimer !== null) clearTimer(settleTimer);
    if (retryTimer !== null) clearTimer(retryTimer);
    current?.close();
    current = null;
  };
}
