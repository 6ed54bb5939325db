import { route } from "@/lib/api/route";
import { incidentsQuery } from "@/lib/api/alerts";
import { parseQuery } from "@/lib/api/query";
import { requireDb } from "@/lib/api/runtime-db";
import { toIncidentDto } from "@/lib/alerts/dto";
import { listIncidents } from "@/lib/store/alerts";

export const dynamic = "force-dynamic";

/** Incidents newest first: `state=open|resolved`, `limit` 1–1000 (default 100). */
export const GET = route("viewer", async (request, { runtime }) => {
  const { state, limit } = parseQuery(request.url, incidentsQuery);
  const incidents = await listIncidents(requireDb(runtime), { state, limit });
  return Response.json({ incidents: incidents.map(toIncidentDto) });
});
