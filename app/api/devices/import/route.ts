import { route } from "@/lib/api/route";
import { importDevices, importQuery, importRefused } from "@/lib/api/inventory";
import { parseQuery } from "@/lib/api/query";

export const dynamic = "force-dynamic";

/**
 * Bulk import of names, tags and notes: CSV `device_id,name,tags,notes` (tags
 * separated by `;`) as `text/csv`, at most MAX_IMPORT_BYTES. Ids never seen
 * become expected devices. `?dryRun=1` checks without writing.
 */
export const POST = route(
  "operator",
  async (request, { runtime, principal, ip }) => {
    const { dryRun } = parseQuery(request.url, importQuery);
    const result = await importDevices(runtime, request, dryRun === "1" || dryRun === "true");
    if (result.errors.length > 0) return importRefused(result);
    if (!result.dryRun)
      await runtime.auth.audit({
        actor: principal.name,
        action: "devices.import",
        target: `${result.created} created, ${result.updated} updated`,
        ip,
      });
    return Response.json(result);
  },
  { bodyTypes: ["text/csv"] },
);
