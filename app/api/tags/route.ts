import { route } from "@/lib/api/route";
import { parseQuery } from "@/lib/api/query";
import { tagCounts } from "@/lib/api/inventory";

export const dynamic = "force-dynamic";

/** Every tag in use, with the status counts of its devices. */
export const GET = route("viewer", (request, { runtime }) => {
  parseQuery(request.url, {});
  return Response.json({ tags: tagCounts(runtime) });
});
