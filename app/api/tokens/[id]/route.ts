import { AppError } from "@/lib/api/errors";
import { route } from "@/lib/api/route";
import { requireDb } from "@/lib/api/runtime-db";
import { revokeToken } from "@/lib/store/auth";

export const dynamic = "force-dynamic";

/** Revokes the token at once: its next request is refused, and its open event streams end. */
export const DELETE = route<{ id: string }>("admin", async (_request, { params, runtime, principal, ip }) => {
  const id = Number(params.id);
  if (!Number.isInteger(id) || id < 1) throw new AppError("BAD_REQUEST", "id: must be a token id");
  const token = await revokeToken(requireDb(runtime), id, Date.now());
  if (!token) throw new AppError("NOT_FOUND", `no token with id ${id}`);
  runtime.hub.closeOwner(`token:${token.name}#${id}`);
  await runtime.auth.audit({ actor: principal.name, action: "token.revoke", target: `token:${id} ${token.name}`, ip });
  return new Response(null, { status: 204 });
});
