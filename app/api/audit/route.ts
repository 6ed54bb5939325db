import { auditDto, auditQuery } from "@/lib/api/access";
import { parseQuery } from "@/lib/api/query";
import { route } from "@/lib/api/route";
import { requireDb } from "@/lib/api/runtime-db";
import { listAudit } from "@/lib/store/auth";

export const dynamic = "force-dynamic";

/** GET ?limit= (1–1000, default 100) → `{ events: [ { id, at, actor, action, target, ip, detail } ] }`, newest first. */
export const GET = route("admin", async (request, { runtime }) => {
  const { limit } = parseQuery(request.url, auditQuery);
  return Response.json({ events: (await listAudit(requireDb(runtime), limit ?? 100)).map(auditDto) });
});
