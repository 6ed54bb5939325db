import { requestIsHttps, sessionCookie } from "@/lib/api/access";
import { route } from "@/lib/api/route";

export const dynamic = "force-dynamic";

/** Ends the session: its row is deleted (the cookie no longer works anywhere) and the cookie cleared. */
export const POST = route("viewer", async (request, { runtime, principal, ip }) => {
  await runtime.auth.logout(principal, ip);
  const secure = requestIsHttps(request, runtime.config.KEEPWATCH_PUBLIC_URL);
  return new Response(null, { status: 204, headers: { "Set-Cookie": sessionCookie("", 0, secure) } });
});
