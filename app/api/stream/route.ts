import { AppError } from "@/lib/api/errors";
import { route } from "@/lib/api/route";

export const dynamic = "force-dynamic";

export const GET = route("viewer", (request, { runtime, principal }) => {
  const { KEEPWATCH_MAX_STREAMS: total, KEEPWATCH_MAX_STREAMS_PER_USER: perUser } = runtime.config;
  // Each stream holds a connection and a fleet snapshot: bounded in all and per user or token.
  if (runtime.hub.subscriberCount >= total)
    throw new AppError("TOO_MANY_REQUESTS", `${total} event streams are open (KEEPWATCH_MAX_STREAMS)`, undefined, 5);
  if (runtime.hub.streamsOf(principal.name) >= perUser)
    throw new AppError(
      "TOO_MANY_REQUESTS",
      `${perUser} event streams are open for ${principal.name} (KEEPWATCH_MAX_STREAMS_PER_USER)`,
      undefined,
      5,
    );
  // `?only=alerts`: just the alert feed (the navigation's badge), no fleet snapshot.
  const only = new URL(request.url).searchParams.get("only") === "alerts" ? "alerts" : undefined;
  const stream = runtime.hub.subscribe(request.signal, { only, owner: principal.name });
  return new Response(stream, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    },
  });
});
