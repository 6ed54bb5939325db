/**
 * The fleet view a request asks for (`GET /api/stream`, `GET /api/devices`):
 * status, search, tag and order as query parameters, validated once here.
 */
import { z } from "zod";
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
