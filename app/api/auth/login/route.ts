import { loginBody, readBody, requestIsHttps, sessionCookie } from "@/lib/api/access";
import { AppError } from "@/lib/api/errors";
import { publicRoute } from "@/lib/api/route";

export const dynamic = "force-dynamic";

/** POST { username, password } → 200 `{ user }` and the session cookie; 401 when wrong; 429 when guessing. */
export const POST = publicRoute(async (request, { runtime, ip }) => {
  const { username, password } = await readBody(request, loginBody);
  const result = await runtime.auth.login(username, password, ip);
  if (!result.ok) {
    if (result.reason === "throttled")
      throw new AppError(
        "TOO_MANY_REQUESTS",
        `too many failed sign-ins; try again in ${result.retryAfterSeconds} s`,
        undefined,
        result.retryAfterSeconds,
      );
    throw new AppError("UNAUTHENTICATED", "wrong username or password");
  }
  const secure = requestIsHttps(request, runtime.config.KEEPWATCH_PUBLIC_URL);
  return Response.json(
    { user: { username: result.principal.name, role: result.principal.role } },
    { headers: { "Set-Cookie": sessionCookie(result.cookie, result.maxAgeSeconds, secure) } },
  );
});
