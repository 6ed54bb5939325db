import { route } from "@/lib/api/route";
import { getDeviceDetail } from "@/lib/api/devices";
import { patchDevice } from "@/lib/api/inventory";

export const dynamic = "force-dynamic";

export const GET = route<{ id: string }>("viewer", async (_request, { runtime, params: { id } }) => {
  return Response.json(await getDeviceDetail(runtime, id));
});

/** The operator's name, tags and notes for a device: `{ name?, tags?, notes? }`. */
export const PATCH = route<{ id: string }>("operator", async (request, { runtime, principal, ip, params: { id } }) => {
  const device = await patchDevice(runtime, id, request);
  await runtime.auth.audit({ actor: principal.name, action: "device.label", target: `device:${id.slice(0, 200)}`, ip });
  return Response.json({ device });
});
