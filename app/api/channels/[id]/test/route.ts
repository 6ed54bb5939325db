import { route } from "@/lib/api/route";
import { parseChannelId } from "@/lib/api/channels";
import { requireDb } from "@/lib/api/runtime-db";
import { AppError } from "@/lib/api/errors";
import { getChannel } from "@/lib/store/notifications";
import { testEvent } from "@/lib/notify/events";
import type { TestAttemptDto } from "@/lib/notify/dto";

export const dynamic = "force-dynamic";

/** Sends a test message now (even to a disabled channel) and answers with the attempt; it is also in the delivery log. */
export const POST = route<{ id: string }>("operator", async (_request, { params, runtime, principal, ip }) => {
  const id = parseChannelId(params.id);
  const channel = await getChannel(requireDb(runtime), id);
  if (!channel) throw new AppError("NOT_FOUND", `no channel with id ${id}`);
  const dispatcher = runtime.alerts?.dispatcher;
  if (!dispatcher) throw new AppError("SERVICE_UNAVAILABLE", "alerting is not running yet");
  const r = await dispatcher.sendDirect(channel, testEvent(runtime.config.KEEPWATCH_PUBLIC_URL));
  await runtime.auth.audit({
    actor: principal.name,
    action: "channel.test",
    target: `channel:${id} ${r.ok ? "ok" : "failed"}`,
    ip,
  });
  const attempt: TestAttemptDto = {
    ok: r.ok,
    statusCode: r.statusCode,
    durationMs: Math.round(r.durationMs),
    error: r.error,
  };
  return Response.json({ attempt });
});
