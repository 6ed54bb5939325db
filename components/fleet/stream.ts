/**
 * Feeds a fleet store from the SSE stream (`GET /api/stream`): `snapshot`
 * replaces everything, `delta` updates devices. EventSource retries a dropped
 * connection by itself; when it gives up (readyState CLOSED, e.g. an HTTP
 * error) or a message breaks the contract, the stream is reopened here with
 * backoff and jitter, and the fresh snapshot puts the page right again.
 */
import { backoffDelay } from "@/lib/backoff";
import { parseStreamMessage } from "./messages";
import type { FleetStore } from "./store";

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
  url?: string;
  createEventSource?: (url: string) => EventSourceLike;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
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

/** Reopening a failed stream: 1 s doubling to 30 s, with jitter (lib/backoff.ts). */
export const RECONNECT = { initialMs: RETRY_BASE_MS, maxMs: RETRY_MAX_MS };

/** Opens the stream; returns the function that closes it for good. */
export function connectFleetStream(store: FleetStore, options: StreamOptions = {}): () => void {
  const {
    url = "/api/stream",
    createEventSource = (u: string) => new EventSource(u),
    setTimer = (fn: () => void, ms: number) => setTimeout(fn, ms),
    clearTimer = (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>),
    random = Math.random,
    onAlerts,
  } = options;

  let current: EventSourceLike | null = null;
  let retryTimer: unknown = null;
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

  const open = (): void => {
    if (stopped) return;
    const source = createEventSource(url);
    current = source;

    source.addEventListener("snapshot", (ev) => {
      if (source !== current) return;
      const parsed = parseStreamMessage(ev.data);
      if (!parsed.ok) return reopenLater(`bad snapshot: ${parsed.error}`);
      attempt = 0;
      armStall();
      const s = store.getState();
      s.applySnapshot(parsed.message);
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

  open();
  return () => {
    stopped = true;
    disarmStall();
    if (retryTimer !== null) clearTimer(retryTimer);
    current?.close();
    current = null;
  };
}
