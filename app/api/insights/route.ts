import { handle } from "@/lib/api/errors";
import { getInsights, parseInsightsQuery } from "@/lib/api/insights";
import { getRuntime } from "@/lib/runtime";

export const dynamic = "force-dynamic";

/** GET /api/insights?range=24h|7d → { range, keepalive: [...], disconnects: [...] } */
export const GET = handle(async (request: Request) => {
  const { hours } = parseInsightsQuery(request.url);
  return Response.json(await getInsights(getRuntime(), hours));
});
