import { route } from "@/lib/api/route";

export const dynamic = "force-dynamic";

/** Who the request is from: `{ user: { username, role }, via: "session" | "token" | "anonymous" }`. */
export const GET = route("viewer", (_request, { principal }) => {
  const via = principal.kind === "user" ? "session" : principal.kind;
  return Response.json({ user: { username: principal.name, role: principal.role }, via });
});
