import { z } from "zod";
import { route } from "@/lib/api/route";
import { parseQuery } from "@/lib/api/query";
import { listDevices } from "@/lib/api/devices";
import { DEVICE_STATUSES } from "@/lib/fleet/types";

export const dynamic = "force-dynamic";

const query = {
  status: z.enum(DEVICE_STATUSES, { error: `status must be one of ${DEVICE_STATUSES.join(", ")}` }).optional(),
  q: z.string().max(1024, "q must be at most 1024 characters").optional(),
  tag: z.string().max(64, "tag must be at most 64 characters").optional(),
  limit: z.coerce.number().int().min(1).max(1_000_000).optional(),
};

export const GET = route("viewer", (request, { runtime }) => {
  const { status, q, tag, limit } = parseQuery(request.url, query);
  return Response.json(listDevices(runtime, { status, q, tag, limit }));
});
