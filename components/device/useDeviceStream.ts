"use client";

import { useEffect, useRef } from "react";
import { applyAlertFeedEvent, shareFleetStream } from "@/components/alerts/feed";
import { RECONNECT } from "@/components/fleet/stream";
import type { ActivityEventMessage, DeviceDto, DeviceEventMessage } from "@/lib/api/dto";
import { backoffDelay } from "@/lib/backoff";
import type { LivePoint } from "./live";

export interface DeviceStreamHandlers {
  /** The device's live state: on every (re)connection, then whenever it changes. */
  onDevice(device: DeviceDto | null): void;
  onActivity(points: LivePoint[]): void;
  /** The stream came back after a break: what happened meanwhile must be fetched again. */
  onReconnected(): void;
}

/**
 * Keeps the device page live over the page's one stream
 * (`GET /api/stream?device=<id>`): the device's state and its activity points
 * as they happen, and the alert feed for the navigation. EventSource retries
 * a dropped connection by itself; when it gives up (an HTTP error) the stream
 * is reopened with backoff and jitter (lib/backoff.ts).
 */
export function useDeviceStream(id: string, handlers: DeviceStreamHandlers): void {
  const current = useRef(handlers);
  useEffect(() => {
    current.current = handlers;
  });
  useEffect(() => {
    const release = shareFleetStream();
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let attempt = 0;
    let connections = 0;
    const open = () => {
      const es = new EventSource(`/api/stream?device=${encodeURIComponent(id.toWellFormed())}`);
      source = es;
      es.onopen = () => {
        attempt = 0;
        if (connections++ > 0) current.current.onReconnected();
      };
      es.addEventListener("device", (ev) =>
        current.current.onDevice((JSON.parse(ev.data) as DeviceEventMessage).device),
      );
      es.addEventListener("activity", (ev) =>
        current.current.onActivity((JSON.parse(ev.data) as ActivityEventMessage).points),
      );
      es.addEventListener("alerts", (ev) => applyAlertFeedEvent(ev.data));
      es.onerror = () => {
        if (es.readyState !== EventSource.CLOSED || source !== es) return;
        retry = setTimeout(open, backoffDelay(attempt++, RECONNECT));
      };
    };
    open();
    return () => {
      if (retry) clearTimeout(retry);
      source?.close();
      source = null;
      release();
    };
  }, [id]);
}
