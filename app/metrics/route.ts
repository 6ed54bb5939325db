import { publicRoute } from "@/lib/api/route";
import { AppError } from "@/lib/api/errors";

export const dynamic = "force-dynamic";

/**
 * Prometheus metrics in the text format. The viewer role or above, however it
 * is held (an API token, a session, the anonymous role), or anyone with
 * METRICS_ANONYMOUS=1.
 */
export const GET = publicRoute(async (_request, { principal, runtime }) => {
  // Every role includes the viewer's.
  if (runtime.config.METRICS_ANONYMOUS !== "1" && !principal)
    throw new AppError("UNAUTHENTICATED", "sign in, or send Authorization: Bearer <token>");
  const { body, contentType } = await runtime.metrics.render();
  return new Response(body, { headers: { "content-type": contentType, "cache-control": "no-store" } });
});
