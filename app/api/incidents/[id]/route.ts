import { route } from "@/lib/api/route";
import { parseOwnId } from "@/lib/api/alerts";
import { AppError } from "@/lib/api/errors";
import { requireDb } from "@/lib/api/runtime-db";
import { toIncidentDto, type IncidentDetailDto } from "@/lib/alerts/dto";
import { getIncident, listAlerts } from "@/lib/store/alerts";

export const dynamic = "force-dynamic";

/** One incident and its devices (each with the offline alert that joined it). */
export const GET = route<{ id: string }>("viewer", async (_request, { runtime, params }) => {
  const db = requireDb(runtime);
  const id = parseOwnId(params.id, "inc");
  const incident = await getIncident(db, id);
  if (!incident) throw new AppError("NOT_FOUND", `no incident ${id}`);
  const alerts = await listAlerts(db, { incidentId: id });
  const body: IncidentDetailDto = {
    incident: toIncidentDto(incident),
    devices: alerts
      .filter((a) => a.deviceId !== null)
      .map((a) => ({
        deviceId: a.deviceId!,
        name: runtime.inventory.nameOf(a.deviceId!),
        alertId: a.id,
        state: a.state,
      })),
  };
  return Response.json(body);
});
