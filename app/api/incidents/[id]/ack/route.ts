import { route } from "@/lib/api/route";
import { parseOwnId, readAckBody } from "@/lib/api/alerts";
import { AppError } from "@/lib/api/errors";
import { requireDb } from "@/lib/api/runtime-db";
import { toIncidentDto } from "@/lib/alerts/dto";
import { setIncidentAck } from "@/lib/store/alerts";

export const dynamic = "force-dynamic";

/** Acknowledges an incident: its "still offline" updates stop; its resolution still notifies. */
export const POST = route<{ id: string }>("operator", async (request, { runtime, principal, ip, params }) => {
  const id = parseOwnId(params.id, "inc");
  const { comment } = await readAckBody(request);
  const incident = await setIncidentAck(
    requireDb(runtime),
    id,
    { by: principal.name, comment, at: Date.now() },
    (r) => runtime.alerts?.incidentAckEntries(r) ?? [],
  );
  if (!incident) throw new AppError("NOT_FOUND", `no incident ${id}`);
  runtime.alerts?.noteIncidentAck(incident);
  await runtime.changed("alerts");
  await runtime.auth.audit({ actor: principal.name, action: "incident.ack", target: `incident:${id}`, ip });
  return Response.json({ incident: toIncidentDto(incident) });
});

export const DELETE = route<{ id: string }>("operator", async (_request, { runtime, principal, ip, params }) => {
  const id = parseOwnId(params.id, "inc");
  const incident = await setIncidentAck(requireDb(runtime), id, null);
  if (!incident) throw new AppError("NOT_FOUND", `no incident ${id}`);
  runtime.alerts?.noteIncidentAck(incident);
  await runtime.changed("alerts");
  await runtime.auth.audit({ actor: principal.name, action: "incident.unack", target: `incident:${id}`, ip });
  return Response.json({ incident: toIncidentDto(incident) });
});
