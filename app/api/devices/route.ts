import { z } from "zod";
import { route } from "@/lib/api/route";
import { parseQuery } from "@/lib/api/query";
import { DEVICE_PAGE_MAX, listDevices } from "@/lib/api/devices";
import { viewParams } from "@/lib/api/view-query";

export const dynamic = "force-dynamic";

const query = {
  status: viewParams.status,
  q: viewParams.q,
  tag: viewParams.tag,
  limit: z.coerce
    .number()
    .int()
    .min(1, "limit must be at least 1")
    .max(DEVICE_PAGE_MAX, `limit must be at most ${DEVICE_PAGE_MAX}`)
    .optional(),
  cursor: z.string().max(12_000, "cursor: not a cursor this API returned").optional(),
};

export const GET = route("viewer", (request, { runtime }) => {
  return Response.json(listDevices(runtime, parseQuery(request.url, query)));
});
