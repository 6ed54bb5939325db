import { route } from "@/lib/api/route";
import { silencesQuery, toSilenceDto } from "@/lib/api/alerts";
import { readJsonBody } from "@/lib/api/body";
import { AppError } from "@/lib/api/errors";
import { parseQuery } from "@/lib/api/query";
import { requireDb } from "@/lib/api/runtime-db";
import { parseSilenceInput, silenceState } from "@/lib/alerts/silences";
import { createSilence, listSilences } from "@/lib/store/silences";

export const dynamic = "force-dynamic";

/** Silences by state (`active`, `upcoming`, `expired`; default all of the last 30 days). */
export const GET = route("viewer", async (request, { runtime }) => {
  const { state } = parseQuery(request.url, silencesQuery);
  const now = Date.now();
  const silences = (await listSilences(requireDb(runtime))).filter((s) => !state || silenceState(s, now) === state);
  return Response.json({ silences: silences.map((s) => toSilenceDto(s, now)) });
});

/** A silence or maintenance window: matching devices' alerts are recorded, not sent. */
export const POST = route("operator", async (request, { runtime, principal, ip }) => {
  const db = requireDb(runtime);
  const now = Date.now();
  const parsed = parseSilenceInput(await readJsonBody(request), now);
  if (!parsed.ok) throw new AppError("BAD_REQUEST", Object.values(parsed.fields).join("; "), parsed.fields);
  const silence = await createSilence(db, parsed.silence, principal.name);
  await runtime.auth.audit({
    actor: principal.name,
    action: "silence.create",
    target: `silence:${silence.id} ${silence.match ?? ""} ${silence.tags.join(",")}`.trim(),
    ip,
  });
  await runtime.changed("silences");
  return Response.json({ silence: toSilenceDto(silence, now) }, { status: 201 });
});
