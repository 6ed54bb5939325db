import { AppError } from "@/lib/api/errors";
import { parseQuery } from "@/lib/api/query";
import { route } from "@/lib/api/route";
import { streamQuery, viewOf } from "@/lib/api/view-query";
import { DEFAULT_WINDOW } from "@/lib/live/hub";

export const dynamic = "force-dynamic";

export const GET = route("viewer", (request, { runtime, principal }) => {
  const {
    KEEPWATCH_MAX_STREAMS: total,
    KEEPWATCH_MAX_STREAMS_PER_USER: perUser,
    KEEPWATCH_STREAM_WINDOW_MAX: windowMax,
  } = runtime.config;
  // `?only=alerts`: just the alert feed (the navigation's badge), no fleet window.
  const { only, device, offset, limit, ...view } = parseQuery(request.url, streamQuery(windowMax));
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
