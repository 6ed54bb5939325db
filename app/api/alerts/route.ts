import { route } from "@/lib/api/route";
import { alertsQuery } from "@/lib/api/alerts";
import { parseQuery } from "@/lib/api/query";
import { requireDb } from "@/lib/api/runtime-db";
import { toAlertDto } from "@/lib/alerts/dto";
import { listAlerts } from "@/lib/store/alerts";

export const dynamic = "force-dynamic";

/** Alerts newest first: `state=firing|resolved`, `device=<exact id>`, `limit` 1–1000 (default 100). */
export const GET = route("viewer", async (request, { runtime }) => {
  const { state, device, limit } = parseQuery(request.url, alertsQuery);
  const alerts = await listAlerts(requireDb(runtime), { state, deviceId: device, limit });
  return Response.json({ alerts: alerts.map((a) => toAlertDto(a, (id) => runtime.inventory.nameOf(id))) });
});
