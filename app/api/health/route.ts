import { publicRoute } from "@/lib/api/route";

export const dynamic = "force-dynamic";

/** Without credentials only `{ ok }` (a load balancer's check); signed in, the whole picture. */
export const GET = publicRoute((_request, { runtime, principal }) => {
  const health = runtime.health();
  return Response.json(principal ? health : { ok: health.ok });
});
