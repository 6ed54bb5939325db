"use client";

import { useFleet } from "./FleetStoreProvider";
import { formatCount } from "./format";
import { isStreamStale } from "./store";

/**
 * Puts the problems in the tab title, for operators who keep the page in a
 * background tab. Rendered as a <title> element (React hoists it into the
 * head), so it is not overwritten by the layout's metadata.
 */
export function DocumentTitle() {
  const offline = useFleet((s) => s.counts.offline);
  const late = useFleet((s) => s.counts.late);
  const stale = useFleet((s) => s.hasSnapshot && isStreamStale(s.connection, s.nowMs));
  const parts = [
    stale ? "stale" : null,
    offline > 0 ? `${formatCount(offline)} offline` : null,
    late > 0 ? `${formatCount(late)} late` : null,
  ].filter(Boolean);
  return <title>{parts.length > 0 ? `(${parts.join(", ")}) keepwatch` : "keepwatch"}</title>;
}
