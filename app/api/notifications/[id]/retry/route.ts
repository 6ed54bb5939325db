import { route } from "@/lib/api/route";
import { requireDb } from "@/lib/api/runtime-db";
import { AppError } from "@/lib/api/errors";
import { notificationState, retryNotification } from "@/lib/store/notifications";

export const dynamic = "force-dynamic";

/** A dead-lettered notification goes back to the queue with fresh attempts, due now. */
export const POST = route<{ id: string }>("operator", async (_request, { params, runtime, principal, ip }) => {
  if (!/^[1-9][0-9]{0,18}$/.test(params.id))
    throw new AppError("BAD_REQUEST", `id: "${params.id.slice(0, 32)}" is not a notification id`);
  const db = requireDb(runtime);
  if (!(await retryNotification(db, params.id))) {
    const state = await notificationState(db, params.id);
    if (state === null) throw new AppError("NOT_FOUND", `no notification with id ${params.id}`);
    throw new AppError("CONFLICT", `notification ${params.id} is ${state}, not dead-lettered`);
  }
  await runtime.auth.audit({
    actor: principal.name,
    action: "notification.retry",
    target: `notification:${params.id}`,
    ip,
  });
  runtime.alerts?.dispatcher.wake();
  return Response.json({ notification: { id: params.id, state: "pending" } });
});
