import { publicRoute } from "@/lib/api/route";
import { openApiDocument } from "@/lib/api/openapi/document";

export const dynamic = "force-dynamic";

/** The OpenAPI 3.1 document of this API; public like `/api/health` (the routes are no secret, their answers are). */
export const GET = publicRoute(() => Response.json(openApiDocument()));
