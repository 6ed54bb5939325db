import { route } from "@/lib/api/route";
import { disconnectsCsvResponse, parseCsvQuery } from "@/lib/api/disconnects";
import { requireDb } from "@/lib/api/runtime-db";
import { getRuntime } from "@/lib/runtime";

export const dynamic = "force-dynamic";

/** GET /api/disconnects.csv?from=&to=&device=&reason=&bom= → the filter's disconnects as streamed CSV */
export const GET = route("viewer", async (request) => {
  const query = parseCsvQuery(request.url);
  return disconnectsCsvResponse(requireDb(getRuntime()), query);
});
