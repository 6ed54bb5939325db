import { handle } from "@/lib/api/errors";
import { getDeviceDetail } from "@/lib/api/devices";
import { getRuntime } from "@/lib/runtime";

export const dynamic = "force-dynamic";

export const GET = handle(async (_request: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  return Response.json(await getDeviceDetail(getRuntime(), id));
});
