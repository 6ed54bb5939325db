import { route } from "@/lib/api/route";
import { listDisconnects, parseListQuery } from "@/lib/api/disconnects";
import { requireDb } from "@/lib/api/runtime-db";

export const dynamic = "force-dynamic";

/** GET /api/disconnects?from=&to=&device=&reason=&cursor=&limit= → { disconnects, nextCursor } */
export const GET = route("viewer", async (request, { runtime }) => {
  const query = parseListQuery(request.url);
  return Response.json(await listDisconnects(requireDb(runtime), query, (id) => runtime.inventory.nameOf(id)));
});
