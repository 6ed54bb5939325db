import { z } from "zod";
import { AppError } from "@/lib/api/errors";
import { parseQuery } from "@/lib/api/query";
import { route } from "@/lib/api/route";
import { viewOf, viewParams } from "@/lib/api/view-query";
import { DEFAULT_WINDOW } from "@/lib/live/hub";

/** Longest `device` accepted: ids are bounded by MAX_DEVICE_ID_BYTES (at most 65,535 bytes). */
const DEVICE_ID_PARAM_MAX = 65_535;

export const dynamic = "force-dynamic";

export const GET = route("viewer", (request, { runtime, principal }) => {
  const {
    KEEPWATCH_MAX_STREAMS: total,
    KEEPWATCH_MAX_STREAMS_PER_USER: perUser,
    KEEPWATCH_STREAM_WINDOW_MAX: windowMax,
  } = runtime.config;
  // `?only=alerts`: just the alert feed (the navigation's badge), no fleet window.
  const { only, device, offset, limit, ...view } = parseQuery(request.url, {
    ...viewParams,
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
  // Each stream holds a connection and a window: bounded in all and per user or token.
  if (runtime.hub.subscriberCount >= total)
    throw new AppError("TOO_MANY_REQUESTS", `${total} event streams are open (KEEPWATCH_MAX_STREAMS)`, undefined, 5);
  if (runtime.hub.streamsOf(principal.name) >= perUser)
    throw new AppError(
      "TOO_MANY_REQUESTS",
      `${perUser} event streams are open for ${principal.name} (KEEPWATCH_MAX_STREAMS_PER_USER)`,
      undefined,
      5,
    );
  const window = {
    query: viewOf(view),
    offset: offset ?? 0,
    limit: Math.min(limit ?? DEFAULT_WINDOW.limit, windowMax),
  };
  if (only !== undefined && device !== undefined)
    throw new AppError("BAD_REQUEST", "only and device exclude each other");
  const stream = runtime.hub.subscribe(request.signal, { only, device, owner: principal.name, window });
  return new Response(stream, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    },
  });
});
