import { getDeviceActivity, parseActivityQuery } from "@/lib/api/activity";
import { handle } from "@/lib/api/errors";
import { getRuntime } from "@/lib/runtime";

export const dynamic = "force-dynamic";

/** GET /api/devices/{id}/activity?from=&to=&kinds=&limit= → { points, rollups, sessions, truncated, … } */
export const GET = handle(async (request: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  const query = parseActivityQuery(request.url);
  return Response.json(await getDeviceActivity(getRuntime(), id, query));
});
