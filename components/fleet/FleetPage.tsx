"use client";

import { FleetStoreProvider } from "./FleetStoreProvider";
import { FleetView } from "./FleetView";
import { useFleetStream } from "./useFleetStream";

function LiveFleet() {
  useFleetStream();
  return <FleetView />;
}

/** The fleet page: a store of its own, fed by the live stream. */
export function FleetPage() {
  return (
    <FleetStoreProvider>
      <LiveFleet />
    </FleetStoreProvider>
  );
}
