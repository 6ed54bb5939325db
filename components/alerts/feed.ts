/**
 * The live alert feed in the browser: one EventSource per page on
 * `/api/stream?only=alerts` (the same event stream as the fleet page, without
 * the fleet snapshot), `alerts` events parsed and checked, kept in a small
 * zustand store that the nav badge and the alerts page read. EventSource
 * reconnects by itself; the server sends the current feed on every
 * (re)connect, so nothing is lost across a drop.
 */
import { create } from "zustand";
import type { AlertDto, AlertFeedMessage } from "@/lib/alerts/dto";
import { ALERT_KINDS } from "@/lib/alerts/rules";

export interface AlertFeedState {
  connected: boolean;
  firingCount: number | null;
  firing: AlertDto[];
  graceUntil: string | null;
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
  version: 0,
  apply: (msg) =>
    set((s) => ({
      firingCount: msg.firingCount,
      firing: msg.firing,
      graceUntil: msg.graceUntil,
      version: s.version + 1,
    })),
  setConnected: (connected) => set({ connected }),
}));

const KINDS: ReadonlySet<unknown> = new Set(ALERT_KINDS);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function isAlert(v: unknown): v is AlertDto {
  return (
    isObject(v) &&
    typeof v.id === "string" &&
    typeof v.deviceId === "string" &&
    (v.ruleId === null || typeof v.ruleId === "number") &&
    KINDS.has(v.kind) &&
    (v.state === "firing" || v.state === "resolved") &&
    typeof v.firedAt === "string" &&
    (v.resolvedAt === null || typeof v.resolvedAt === "string") &&
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
  return v as unknown as AlertFeedMessage;
}

let users = 0;
let source: EventSource | null = null;

/** Opens the feed while at least one component uses it; returns the release function. */
export function retainAlertFeed(url = "/api/stream?only=alerts"): () => void {
  users++;
  if (!source) {
    const es = new EventSource(url);
    source = es;
    es.addEventListener("alerts", (ev) => {
      const msg = parseAlertFeed((ev as MessageEvent<string>).data);
      if (msg) useAlertFeed.getState().apply(msg);
    });
    es.onopen = () => useAlertFeed.getState().setConnected(true);
    es.onerror = () => useAlertFeed.getState().setConnected(false);
  }
  return () => {
    users--;
    if (users === 0 && source) {
      source.close();
      source = null;
      useAlertFeed.getState().setConnected(false);
    }
  };
}
