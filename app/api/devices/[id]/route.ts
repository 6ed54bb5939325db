import { route } from "@/lib/api/route";
import { getDeviceDetail } from "@/lib/api/devices";
import { getRuntime } from "@/lib/runtime";

export const dynamic = "force-dynamic";

export const GET = route<{ id: string }>("viewer", async (_request, { params: { id } }) => {
  return Response.json(await getDeviceDetail(getRuntime(), id));
});
