import { handle } from "@/lib/api/errors";
import { listDisconnects, parseListQuery } from "@/lib/api/disconnects";
import { requireDb } from "@/lib/api/runtime-db";
import { getRuntime } from "@/lib/runtime";

export const dynamic = "force-dynamic";

/** GET /api/disconnects?from=&to=&device=&reason=&cursor=&limit= → { disconnects, nextCursor } */
export const GET = handle(async (request: Request) => {
  const query = parseListQuery(request.url);
  return Response.json(await listDisconnects(requireDb(getRuntime()), query));
});
