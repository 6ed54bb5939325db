import { getDeviceActivity, parseActivityQuery } from "@/lib/api/activity";
import { route } from "@/lib/api/route";
import { getRuntime } from "@/lib/runtime";

export const dynamic = "force-dynamic";

/** GET /api/devices/{id}/activity?from=&to=&kinds=&limit= → { points, rollups, sessions, truncated, … } */
export const GET = route<{ id: string }>("viewer", async (request, { params: { id } }) => {
  const query = parseActivityQuery(request.url);
  return Response.json(await getDeviceActivity(getRuntime(), id, query));
});
