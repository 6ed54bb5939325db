import { route } from "@/lib/api/route";
import { parseAlertId, readAckBody } from "@/lib/api/alerts";
import { AppError } from "@/lib/api/errors";
import { requireDb } from "@/lib/api/runtime-db";
import { toAlertDto } from "@/lib/alerts/dto";
import { setAlertAck } from "@/lib/store/alerts";

export const dynamic = "force-dynamic";

/** Acknowledges an alert: repeat notifications stop; a resolve still notifies. */
export const POST = route<{ id: string }>("operator", async (request, { runtime, principal, ip, params }) => {
  const id = parseAlertId(params.id);
  const { comment } = await readAckBody(request);
  const alert = await setAlertAck(
    requireDb(runtime),
    id,
    { by: principal.name, comment, at: Date.now() },
    (r) => runtime.alerts?.ackEntries(r) ?? [],
  );
  if (!alert) throw new AppError("NOT_FOUND", `no alert ${id}`);
  runtime.alerts?.noteAck(alert);
  await runtime.changed("alerts");
  await runtime.auth.audit({ actor: principal.name, action: "alert.ack", target: `alert:${id}`, ip });
  return Response.json({ alert: toAlertDto(alert, (d) => runtime.inventory.nameOf(d)) });
});

/** Undoes the acknowledgement. */
export const DELETE = route<{ id: string }>("operator", async (_request, { runtime, principal, ip, params }) => {
  const id = parseAlertId(params.id);
  const alert = await setAlertAck(requireDb(runtime), id, null);
  if (!alert) throw new AppError("NOT_FOUND", `no alert ${id}`);
  runtime.alerts?.noteAck(alert);
  await runtime.changed("alerts");
  await runtime.auth.audit({ actor: principal.name, action: "alert.unack", target: `alert:${id}`, ip });
  return Response.json({ alert: toAlertDto(alert, (d) => runtime.inventory.nameOf(d)) });
});
