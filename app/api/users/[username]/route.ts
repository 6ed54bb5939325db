import { readBody, userChangeBody, userDto } from "@/lib/api/access";
import { AppError } from "@/lib/api/errors";
import { route } from "@/lib/api/route";
import { requireDb } from "@/lib/api/runtime-db";
import { hashPassword } from "@/lib/auth/secrets";
import { deleteUser, deleteUserSessions, getUser, updateUser } from "@/lib/store/auth";

export const dynamic = "force-dynamic";

const LAST_ADMIN = "the last admin cannot be deleted or demoted: make another user admin first";

/** PUT { password?, role? } → `{ user }`. Its sessions end (it signs in again with the new password or role). */
export const PUT = route<{ username: string }>("admin", async (request, { params, runtime, principal, ip }) => {
  const db = requireDb(runtime);
  const change = await readBody(request, userChangeBody);
  const username = decodeURIComponent(params.username);
  const outcome = await updateUser(db, username, {
    role: change.role,
    passwordHash: change.password === undefined ? undefined : await hashPassword(change.password),
  });
  if (outcome === "not-found") throw new AppError("NOT_FOUND", `no user named ${username}`);
  if (outcome === "last-admin") throw new AppError("CONFLICT", LAST_ADMIN);
  const user = (await getUser(db, username))!;
  if (username !== principal.name || change.password !== undefined) await deleteUserSessions(db, user.id);
  const what = [change.role && `role ${change.role}`, change.password !== undefined && "password"].filter(Boolean);
  await runtime.auth.audit({
    actor: principal.name,
    action: "user.update",
    target: `user:${username}`,
    ip,
    detail: what.join(", "),
  });
  return Response.json({ user: userDto(user) });
});

export const DELETE = route<{ username: string }>("admin", async (_request, { params, runtime, principal, ip }) => {
  const username = decodeURIComponent(params.username);
  const outcome = await deleteUser(requireDb(runtime), username);
  if (outcome === "not-found") throw new AppError("NOT_FOUND", `no user named ${username}`);
  if (outcome === "last-admin") throw new AppError("CONFLICT", LAST_ADMIN);
  runtime.hub.closeOwner(username);
  await runtime.auth.audit({ actor: principal.name, action: "user.delete", target: `user:${username}`, ip });
  return new Response(null, { status: 204 });
});
