"use client";

import { useState } from "react";
import type { SnapshotMessage } from "@/lib/api/dto";
import { FleetStoreProvider } from "./FleetStoreProvider";
import { FleetView } from "./FleetView";
import { createFleetStore } from "./store";
import { useFleetStream } from "./useFleetStream";

function LiveFleet() {
  useFleetStream();
  return <FleetView />;
}

/**
 * The fleet page: a store of its own, fed by the live stream; the tag filter
 * starts from the URL (`?tag=`). `initial`, the first window as the server
 * rendered it, is shown until the stream's own snapshot replaces it; its
 * server time is the clock of the first render on both sides.
 */
export function FleetPage({ initialTag = "", initial }: { initialTag?: string; initial?: SnapshotMessage }) {
  const [store] = useState(() =>
    createFleetStore({
      view: { tag: initialTag },
      snapshot: initial,
      initialNow: initial && Date.parse(initial.serverTime),
    }),
  );
  return (
    <FleetStoreProvider store={store}>
      <LiveFleet />
    </FleetStoreProvider>
  );
}
