/**
 * Pages check access on the server too: every page calls `requirePage()`
 * while it renders (a client-side navigation fetches the page, never only a
 * layout, so the check runs on every visit). No credentials → a redirect to
 * `/login?next=<this page>` (the path comes from proxy.ts's x-kw-pathname).
 */
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { getRuntime } from "../runtime";
import { roleAtLeast, type Role } from "./roles";
import type { Principal } from "./service";

/** A path on this site to return to after sign-in; anything else becomes "/". */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  return next;
}

export async function requirePage(): Promise<Principal> {
  const h = await headers();
  const principal = await getRuntime().auth.authenticate(new Request("http://keepwatch/", { headers: h }));
  if (!principal) redirect(`/login?next=${encodeURIComponent(safeNext(h.get("x-kw-pathname")))}`);
  return principal;
}

/** The principal, and whether it has `role` (pages that need more than viewer say so instead of showing it). */
export async function pageAccess(role: Role): Promise<{ principal: Principal; allowed: boolean }> {
  const principal = await requirePage();
  return { principal, allowed: roleAtLeast(principal.role, role) };
}
