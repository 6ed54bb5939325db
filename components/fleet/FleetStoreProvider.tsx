"use client";

import { createContext, useContext, useState, type ReactNode } from "react";
import { useStore } from "zustand";
import { createFleetStore, serverNow, type FleetState, type FleetStore } from "./store";

const FleetStoreContext = createContext<FleetStore | null>(null);

/** One fleet store per page; pass `store` to render prepared data (tests, previews). */
export function FleetStoreProvider({ store, children }: { store?: FleetStore; children: ReactNode }) {
  const [value] = useState(() => store ?? createFleetStore());
  return <FleetStoreContext.Provider value={value}>{children}</FleetStoreContext.Provider>;
}

export function useFleetStoreApi(): FleetStore {
  const store = useContext(FleetStoreContext);
  if (store === null) throw new Error("fleet components must be rendered inside <FleetStoreProvider>");
  return store;
}

/** Subscribes to one slice; return primitives or references held by the store. */
export function useFleet<T>(selector: (s: FleetState) => T): T {
  return useStore(useFleetStoreApi(), selector);
}

/** Server-corrected "now", advancing once a second. */
export function useServerNow(): number {
  return useFleet(serverNow);
}
