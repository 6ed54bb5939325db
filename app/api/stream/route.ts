import { handle } from "@/lib/api/errors";
import { getRuntime } from "@/lib/runtime";

export const dynamic = "force-dynamic";

export const GET = handle((request: Request) => {
  // `?only=alerts`: just the alert feed (the navigation's badge), no fleet snapshot.
  const only = new URL(request.url).searchParams.get("only") === "alerts" ? "alerts" : undefined;
  const stream = getRuntime().hub.subscribe(request.signal, { only });
  return new Response(stream, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    },
  });
});
