"use client";

import { useEffect } from "react";
import { retainAlertFeed, useAlertFeed } from "./feed";

/** The number of firing alerts, live; nothing while there are none. */
export function AlertBadge() {
  useEffect(() => retainAlertFeed(), []);
  const count = useAlertFeed((s) => s.firingCount);
  if (!count) return null;
  return (
    <span
      data-testid="alert-badge"
      data-count={count}
      aria-label={`${count} firing alert${count === 1 ? "" : "s"}`}
      className="ml-1 inline-flex min-w-5 items-center justify-center rounded-full bg-red-600 px-1.5 text-[11px] font-semibold leading-5 text-white tabular-nums"
    >
      {count > 999 ? "999+" : count}
    </span>
  );
}
