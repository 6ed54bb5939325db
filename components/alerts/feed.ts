/**
 * The live alert feed in the browser: `alerts` events of the event stream,
 * parsed and checked, kept in a small zustand store that the nav badge and the
 * alerts page read. On the fleet page they come on the fleet's own stream;
 * elsewhere on `/api/stream?only=alerts` (the same stream without the fleet
 * snapshot). EventSource reconnects by itself; the server sends the current
 * feed on every (re)connect, so nothing is lost across a drop or a switch.
 */
import { create } from "zustand";
import type { AlertDto, AlertFeedMessage, IncidentDto } from "@/lib/alerts/dto";
import { ALERT_KINDS } from "@/lib/alerts/kinds";

export interface AlertFeedState {
  connected: boolean;
  firingCount: number | null;
  firing: AlertDto[];
  graceUntil: string | null;
  /** Open incidents, newest first. */
  incidents: IncidentDto[];
  /** Bumped on every feed message, so pages can refetch what the feed does not carry (resolved alerts). */
  version: number;
  apply(msg: AlertFeedMessage): void;
  setConnected(connected: boolean): void;
}

export const useAlertFeed = create<AlertFeedState>((set) => ({
  connected: false,
  firingCount: null,
  firing: [],
  graceUntil: null,
  incidents: [],
  version: 0,
  apply: (msg) =>
    set((s) => ({
      firingCount: msg.firingCount,
      firing: msg.firing,
      graceUntil: msg.graceUntil,
      incidents: msg.incidents ?? [],
      version: s.version + 1,
    })),
  setConnected: (connected) => set({ connected }),
}));

const KINDS: ReadonlySet<unknown> = new Set([...ALERT_KINDS, "system"]);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function isAlert(v: unknown): v is AlertDto {
  return (
    isObject(v) &&
    typeof v.id === "string" &&
    (typeof v.deviceId === "string" || (v.deviceId === null && typeof v.source === "string")) &&
    (v.ruleId === null || typeof v.ruleId === "number") &&
    KINDS.has(v.kind) &&
    (v.state === "firing" || v.state === "resolved") &&
    typeof v.firedAt === "string" &&
    (v.resolvedAt === null || typeof v.resolvedAt === "string") &&
    typeof v.message === "string"
  );
}

function isIncident(v: unknown): v is IncidentDto {
  return (
    isObject(v) &&
    typeof v.id === "string" &&
    (v.state === "open" || v.state === "resolved") &&
    typeof v.openedAt === "string" &&
    isObject(v.cause) &&
    typeof v.deviceCount === "number" &&
    typeof v.stillOffline === "number" &&
    typeof v.message === "string"
  );
}

/** A feed message, or null when it breaks the contract (then it is ignored whole). */
export function parseAlertFeed(data: string): AlertFeedMessage | null {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(v) || typeof v.serverTime !== "string" || typeof v.firingCount !== "number") return null;
  if (!Array.isArray(v.firing) || !v.firing.every(isAlert)) return null;
  if (v.graceUntil !== null && typeof v.graceUntil !== "string") return null;
  if (v.incidents !== undefined && !(Array.isArray(v.incidents) && v.incidents.every(isIncident))) return null;
  return v as unknown as AlertFeedMessage;
}

/** The part of EventSource the feed uses. */
export interface FeedEventSource {
  onopen: ((ev: Event) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
  addEventListener(type: "alerts", listener: (ev: MessageEvent<string>) => void): void;
  close(): void;
}

const FEED_URL = "/api/stream?only=alerts";
let createSource: (url: string) => FeedEventSource = (url) => new EventSource(url);
let users = 0;
let fleetStreams = 0;
let source: FeedEventSource | null = null;
let syncQueued = false;

/** Applies one `alerts` event's data, from whichever stream carried it. */
export function applyAlertFeedEvent(data: string): void {
  const msg = parseAlertFeed(data);
  if (!msg) return;
  const feed = useAlertFeed.getState();
  feed.apply(msg);
  if (!feed.connected) feed.setConnected(true);
}

/**
 * One SSE connection per tab: browsers allow six connections per host over
 * HTTP/1.1 and a stream holds one for good, so two streams per tab would let
 * three open tabs stall every other request. The feed's own alerts-only
 * stream is open only while someone uses the feed and no fleet stream (which
 * carries the same `alerts` events) is open. Decided after the current
 * commit's effects have all run, so mounting a page with both never opens the
 * feed's stream just to close it again.
 */
function scheduleSync(): void {
  if (syncQueued) return;
  syncQueued = true;
  queueMicrotask(() => {
    syncQueued = false;
    const wanted = users > 0 && fleetStreams === 0;
    if (wanted && !source) {
      const es = createSource(FEED_URL);
      source = es;
      es.addEventListener("alerts", (ev) => applyAlertFeedEvent(ev.data));
      es.onopen = () => useAlertFeed.getState().setConnected(true);
      es.onerror = () => useAlertFeed.getState().setConnected(false);
    } else if (!wanted && source) {
      source.close();
      source = null;
      if (users === 0 || fleetStreams === 0) useAlertFeed.getState().setConnected(false);
    }
  });
}

/** Keeps the feed live while at least one component uses it; returns the release function. */
export function retainAlertFeed(): () => void {
  users++;
  scheduleSync();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    users--;
    scheduleSync();
  };
}

/**
 * A fleet stream is open and will pass its `alerts` events to
 * applyAlertFeedEvent: the feed's own stream closes meanwhile. Returns the
 * release function (call it when that stream closes for good).
 */
export function shareFleetStream(): () => void {
  fleetStreams++;
  // Closed now, before the fleet stream opens: never two at once.
  source?.close();
  source = null;
  scheduleSync();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    fleetStreams--;
    if (fleetStreams === 0) useAlertFeed.getState().setConnected(false);
    scheduleSync();
  };
}

/** Tests: a fake EventSource factory (returns the previous one). */
export function setFeedEventSourceFactory(factory: (url: string) => FeedEventSource): (url: string) => FeedEventSource {
  const previous = createSource;
  createSource = factory;
  return previous;
}
