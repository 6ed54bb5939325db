"use client";

import { useEffect } from "react";
import { useFleetStoreApi } from "./FleetStoreProvider";

/** The page's single one-second clock: only components showing relative times re-render on it. */
export function ClockTicker() {
  const store = useFleetStoreApi();
  useEffect(() => {
    const tick = () => store.getState().tick();
    tick();
    const handle = setInterval(tick, 1_000);
    return () => clearInterval(handle);
  }, [store]);
  return null;
}
