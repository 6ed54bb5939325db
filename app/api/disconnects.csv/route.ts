import { route } from "@/lib/api/route";
import { disconnectsCsvResponse, parseCsvQuery } from "@/lib/api/disconnects";
import { requireDb } from "@/lib/api/runtime-db";

export const dynamic = "force-dynamic";

/** GET /api/disconnects.csv?from=&to=&device=&reason=&bom= → the filter's disconnects as streamed CSV */
export const GET = route("viewer", async (request, { runtime }) => {
  const query = parseCsvQuery(request.url);
  return disconnectsCsvResponse(requireDb(runtime), query, runtime.config.MAX_CONCURRENT_EXPORTS, (id) =>
    runtime.inventory.nameOf(id),
  );
});
