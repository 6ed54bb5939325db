import { newUserBody, readBody, userDto } from "@/lib/api/access";
import { AppError } from "@/lib/api/errors";
import { route } from "@/lib/api/route";
import { requireDb } from "@/lib/api/runtime-db";
import { hashPassword } from "@/lib/auth/secrets";
import { createUser, listUsers } from "@/lib/store/auth";

export const dynamic = "force-dynamic";

export const GET = route("admin", async (_request, { runtime }) => {
  return Response.json({ users: (await listUsers(requireDb(runtime))).map(userDto) });
});

/** POST { username, password, role } → 201 `{ user }`; 409 when the name is taken. */
export const POST = route("admin", async (request, { runtime, principal, ip }) => {
  const body = await readBody(request, newUserBody);
  const user = await createUser(requireDb(runtime), { ...body, passwordHash: await hashPassword(body.password) });
  if (!user) throw new AppError("CONFLICT", `a user named ${body.username} exists already`);
  await runtime.auth.audit({
    actor: principal.name,
    action: "user.create",
    target: `user:${user.username}`,
    ip,
    detail: `role ${user.role}`,
  });
  return Response.json({ user: userDto(user) }, { status: 201 });
});
