"use client";

import Link from "next/link";
import { ApiError, apiJson } from "@/components/api/client";
import { useMe } from "./me";

/** Who is signed in, the admin's Access page, and signing out. */
export function UserMenu() {
  const me = useMe();
  if (!me) return null;
  async function signOut() {
    // Whatever the API answers, the page leaves (only an unreachable server keeps it).
    await apiJson("POST", "/api/auth/logout", {}).catch((err: unknown) => {
      if (!(err instanceof ApiError)) throw err;
    });
    // A full load: nothing of the signed-in page (its stream, its store) survives sign-out.
    window.location.replace("/login");
  }
  return (
    <div className="ml-auto flex items-center gap-2 text-xs text-zinc-400" data-testid="user-menu">
      {me.user.role === "admin" && (
        <Link href="/settings/access" className="rounded-md px-2 py-1 hover:bg-zinc-800/60 hover:text-zinc-200">
          Access
        </Link>
      )}
      {me.via === "anonymous" && (
        <span
          data-testid="anonymous-banner"
          role="status"
          title="KEEPWATCH_ANONYMOUS_ROLE is set: requests without credentials get this role"
          className="rounded bg-amber-500/15 px-2 py-0.5 text-amber-200 ring-1 ring-amber-500/40"
        >
          Anonymous access: anyone reaching this page is {me.user.role}
        </span>
      )}
      <span data-testid="signed-in-as">
        {me.via === "anonymous" ? "anonymous" : me.user.username} · {me.user.role}
      </span>
      {me.via === "session" && (
        <button
          onClick={() => void signOut()}
          className="rounded-md px-2 py-1 hover:bg-zinc-800/60 hover:text-zinc-200"
        >
          Sign out
        </button>
      )}
    </div>
  );
}
