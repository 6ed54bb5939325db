import { handle } from "@/lib/api/errors";
import { historyDb, parseSummaryQuery, summarizeDisconnects } from "@/lib/api/disconnects";
import { getRuntime } from "@/lib/runtime";

export const dynamic = "force-dynamic";

/** GET /api/disconnects/summary?from=&to=&device=&reason=&top= → counts by reason, top devices, uptime */
export const GET = handle(async (request: Request) => {
  const query = parseSummaryQuery(request.url);
  return Response.json(await summarizeDisconnects(historyDb(getRuntime()), query));
});
