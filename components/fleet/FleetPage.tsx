"use client";

import { useState } from "react";
import { FleetStoreProvider } from "./FleetStoreProvider";
import { FleetView } from "./FleetView";
import { createFleetStore } from "./store";
import { useFleetStream } from "./useFleetStream";

function LiveFleet() {
  useFleetStream();
  return <FleetView />;
}

/** The fleet page: a store of its own, fed by the live stream; the tag filter starts from the URL (`?tag=`). */
export function FleetPage({ initialTag = "" }: { initialTag?: string }) {
  const [store] = useState(() => createFleetStore({ view: { tag: initialTag } }));
  return (
    <FleetStoreProvider store={store}>
      <LiveFleet />
    </FleetStoreProvider>
  );
}
