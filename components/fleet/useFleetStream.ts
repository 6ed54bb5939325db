"use client";

import { useEffect } from "react";
import { applyAlertFeedEvent, shareFleetStream } from "@/components/alerts/feed";
import { useFleetStoreApi } from "./FleetStoreProvider";
import { connectFleetStream } from "./stream";

/**
 * Keeps the page's fleet store fed by `GET /api/stream` while mounted. The same
 * connection feeds the alert feed (nav badge), so the tab holds one stream.
 */
export function useFleetStream(url = "/api/stream"): void {
  const store = useFleetStoreApi();
  useEffect(() => {
    const release = shareFleetStream();
    let close: () => void;
    try {
      close = connectFleetStream(store, { url, onAlerts: applyAlertFeedEvent });
    } catch (err) {
      release(); // the badge gets its own stream back
      throw err;
    }
    return () => {
      close();
      release();
    };
  }, [store, url]);
}
