import { handle } from "@/lib/api/errors";
import { getRuntime } from "@/lib/runtime";

export const dynamic = "force-dynamic";

export const GET = handle(() => {
  const health = getRuntime().health();
  return Response.json(health);
});
