import { newTokenBody, readBody, tokenDto } from "@/lib/api/access";
import { AppError } from "@/lib/api/errors";
import { route } from "@/lib/api/route";
import { requireDb } from "@/lib/api/runtime-db";
import { roleAtLeast } from "@/lib/auth/roles";
import { newSecret, secretHash, TOKEN_PREFIX } from "@/lib/auth/secrets";
import { createToken, listTokens } from "@/lib/store/auth";

export const dynamic = "force-dynamic";

/** The tokens in use: name, role, creator, created, last used, expiry. Never the token itself. */
export const GET = route("admin", async (_request, { runtime }) => {
  return Response.json({ tokens: (await listTokens(requireDb(runtime))).map(tokenDto) });
});

/** POST { name, role, expiresAt? } → 201 `{ token, id }`: the token is shown this once (kw_…). */
export const POST = route("admin", async (request, { runtime, principal, ip }) => {
  const body = await readBody(request, newTokenBody);
  if (principal.userId === undefined) throw new AppError("FORBIDDEN", "tokens are created by a signed-in user");
  if (!roleAtLeast(principal.role, body.role))
    throw new AppError("FORBIDDEN", `a token cannot have more than your role (${principal.role})`, {
      role: "above yours",
    });
  const expiresAt = body.expiresAt === undefined ? null : Date.parse(body.expiresAt);
  if (expiresAt !== null && expiresAt <= Date.now())
    throw new AppError("BAD_REQUEST", "expiresAt: must be in the future", { expiresAt: "must be in the future" });
  const secret = newSecret(TOKEN_PREFIX);
  const token = await createToken(requireDb(runtime), {
    name: body.name,
    role: body.role,
    tokenHash: secretHash(secret),
    createdBy: principal.userId,
    expiresAt,
  });
  await runtime.auth.audit({
    actor: principal.name,
    action: "token.create",
    target: `token:${token.id} ${token.name}`,
    ip,
    detail: `role ${token.role}`,
  });
  return Response.json({ token: secret, ...tokenDto(token) }, { status: 201 });
});
