import { route } from "@/lib/api/route";
import { parseUptimeQuery, uptimeReportResponse } from "@/lib/api/reports";
import { requireDb } from "@/lib/api/runtime-db";

export const dynamic = "force-dynamic";

/** GET /api/reports/uptime?from=&to=&device=&tag=&limit=&cursor=&format=json|csv → uptime per device and per tag */
export const GET = route("viewer", async (request, { runtime }) => {
  const { KEEPWATCH_REPORT_MAX_DAYS, KEEPWATCH_REPORT_MAX_DEVICES } = runtime.config;
  const query = parseUptimeQuery(request.url, {
    maxDays: KEEPWATCH_REPORT_MAX_DAYS,
    maxDevices: KEEPWATCH_REPORT_MAX_DEVICES,
  });
  return uptimeReportResponse(requireDb(runtime), query, (id) => runtime.inventory.nameOf(id));
});
