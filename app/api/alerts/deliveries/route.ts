import { route } from "@/lib/api/route";
import { deliveriesQuery } from "@/lib/api/alerts";
import { parseQuery } from "@/lib/api/query";
import { requireDb } from "@/lib/api/runtime-db";
import { toDeliveryDto } from "@/lib/alerts/dto";
import { listDeliveries } from "@/lib/store/notifications";
import { getRuntime } from "@/lib/runtime";

export const dynamic = "force-dynamic";

/** The delivery log, newest first: one entry per attempt, filtered by channel and outcome. */
export const GET = route("viewer", async (request) => {
  const { limit, channel, outcome } = parseQuery(request.url, deliveriesQuery);
  const deliveries = await listDeliveries(requireDb(getRuntime()), { limit, channelId: channel, outcome });
  return Response.json({ deliveries: deliveries.map(toDeliveryDto) });
});
