import { readBody, requestIsHttps, sessionCookie, setupBody } from "@/lib/api/access";
import { AppError } from "@/lib/api/errors";
import { publicRoute } from "@/lib/api/route";

export const dynamic = "force-dynamic";

/**
 * POST { token, username, password }: the first admin, with the one-time token from the
 * start-up log. Works once: 409 once any user exists, 403 with a wrong token. Signs the admin in.
 */
export const POST = publicRoute(async (request, { runtime, ip }) => {
  const { token, username, password } = await readBody(request, setupBody);
  const outcome = await runtime.auth.setup(token, username, password, ip);
  if (outcome === "done") throw new AppError("CONFLICT", "keepwatch is set up already: sign in at /login");
  if (outcome === "bad-token") throw new AppError("FORBIDDEN", "this setup link is not valid");
  const result = await runtime.auth.login(username, password, ip);
  const secure = requestIsHttps(request, runtime.config.KEEPWATCH_PUBLIC_URL);
  const headers = result.ok ? { "Set-Cookie": sessionCookie(result.cookie, result.maxAgeSeconds, secure) } : undefined;
  return Response.json({ user: { username, role: "admin" } }, { status: 201, headers });
});
