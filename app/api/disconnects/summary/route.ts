import { route } from "@/lib/api/route";
import { parseSummaryQuery, summarizeDisconnects } from "@/lib/api/disconnects";
import { requireDb } from "@/lib/api/runtime-db";

export const dynamic = "force-dynamic";

/** GET /api/disconnects/summary?from=&to=&device=&reason=&top= → counts by reason, top devices, uptime */
export const GET = route("viewer", async (request, { runtime }) => {
  const query = parseSummaryQuery(request.url);
  return Response.json(await summarizeDisconnects(requireDb(runtime), query, (id) => runtime.inventory.nameOf(id)));
});
