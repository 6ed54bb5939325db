import { route } from "@/lib/api/route";
import { getInsights, parseInsightsQuery } from "@/lib/api/insights";
import { getRuntime } from "@/lib/runtime";

export const dynamic = "force-dynamic";

/** GET /api/insights?range=24h|7d → { range, keepalive: [...], disconnects: [...] } */
export const GET = route("viewer", async (request) => {
  const { hours } = parseInsightsQuery(request.url);
  return Response.json(await getInsights(getRuntime(), hours));
});
