/**
 * The fleet view a request asks for (`GET /api/stream`, `GET /api/devices`):
 * status, search, tag and order as query parameters, validated once here.
 */
import { z } from "../zod";
import { DEVICE_STATUSES } from "../fleet/types";
import { DEFAULT_SORT_DIR, DEFAULT_VIEW, SORT_KEYS, type ViewQuery } from "../live/views";

export const SEARCH_MAX = 1024;

export const viewParams = {
  status: z.enum(DEVICE_STATUSES, { error: `status must be one of ${DEVICE_STATUSES.join(", ")}` }).optional(),
  q: z.string().max(SEARCH_MAX, `q must be at most ${SEARCH_MAX} characters`).optional(),
  tag: z.string().max(64, "tag must be at most 64 characters").optional(),
  sort: z.enum(SORT_KEYS, { error: `sort must be one of ${SORT_KEYS.join(", ")}` }).optional(),
  dir: z.enum(["asc", "desc"], { error: "dir must be asc or desc" }).optional(),
};

/** Longest `device` accepted: ids are bounded by MAX_DEVICE_ID_BYTES (at most 65,535 bytes). */
const DEVICE_ID_PARAM_MAX = 65_535;

/** `GET /api/stream` query parameters; `limit` is bounded by KEEPWATCH_STREAM_WINDOW_MAX. */
export const streamQuery = (windowMax: number) => ({
  ...viewParams,
  // `?only=alerts`: just the alert feed (the navigation's badge), no fleet window.
  only: z.literal("alerts", { error: 'only must be "alerts"' }).optional(),
  // `?device=<id>`: that device's state and activity points as they happen (the device page).
  device: z.string().min(1).max(DEVICE_ID_PARAM_MAX, "device must be a device id").optional(),
  offset: z.coerce.number().int().min(0, "offset must be 0 or more").max(100_000_000).optional(),
  limit: z.coerce
    .number()
    .int()
    .min(1, "limit must be at least 1")
    .max(windowMax, `limit must be at most ${windowMax} (KEEPWATCH_STREAM_WINDOW_MAX)`)
    .optional(),
});

export function viewOf(p: {
  status?: ViewQuery["status"];
  q?: string;
  tag?: string;
  sort?: ViewQuery["sortKey"];
  dir?: ViewQuery["sortDir"];
}): ViewQuery {
  const sortKey = p.sort ?? DEFAULT_VIEW.sortKey;
  return {
    status: p.status ?? "all",
    search: p.q ?? "",
    tag: p.tag ?? "",
    sortKey,
    sortDir: p.dir ?? (p.sort ? DEFAULT_SORT_DIR[sortKey] : DEFAULT_VIEW.sortDir),
  };
}
