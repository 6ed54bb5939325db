import { route } from "@/lib/api/route";
import { parseQuery } from "@/lib/api/query";
import { deviceListQuery, listDevices } from "@/lib/api/devices";

export const dynamic = "force-dynamic";

export const GET = route("viewer", (request, { runtime }) => {
  return Response.json(listDevices(runtime, parseQuery(request.url, deviceListQuery)));
});
