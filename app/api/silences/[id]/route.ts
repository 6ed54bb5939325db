import { route } from "@/lib/api/route";
import { parseOwnId, toSilenceDto } from "@/lib/api/alerts";
import { AppError } from "@/lib/api/errors";
import { requireDb } from "@/lib/api/runtime-db";
import { endSilence } from "@/lib/store/silences";

export const dynamic = "force-dynamic";

/** Ends a silence now (it stays listed as expired). */
export const DELETE = route<{ id: string }>("operator", async (_request, { runtime, principal, ip, params }) => {
  const id = parseOwnId(params.id, "sil");
  const now = Date.now();
  const silence = await endSilence(requireDb(runtime), id, now);
  if (!silence) throw new AppError("NOT_FOUND", `no silence ${id}`);
  await runtime.auth.audit({ actor: principal.name, action: "silence.end", target: `silence:${id}`, ip });
  await runtime.changed("silences");
  return Response.json({ silence: toSilenceDto(silence, now) });
});
