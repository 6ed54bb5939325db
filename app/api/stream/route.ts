import { handle } from "@/lib/api/errors";
import { getRuntime } from "@/lib/runtime";

export const dynamic = "force-dynamic";

export const GET = handle((request: Request) => {
  const stream = getRuntime().hub.subscribe(request.signal);
  return new Response(stream, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    },
  });
});
