"use client";

import { useEffect } from "react";
import { useFleetStoreApi } from "./FleetStoreProvider";
import { connectFleetStream } from "./stream";

/** Keeps the page's fleet store fed by `GET /api/stream` while mounted. */
export function useFleetStream(url = "/api/stream"): void {
  const store = useFleetStoreApi();
  useEffect(() => connectFleetStream(store, { url }), [store, url]);
}
