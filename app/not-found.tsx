import { connection } from "next/server";
import Link from "next/link";
import type { Metadata } from "next";

export const metadata: Metadata = { title: "Not found · keepwatch" };

/** Rendered per request (not prerendered), so its scripts carry the response's CSP nonce (proxy.ts). */
export default async function NotFound() {
  await connection();
  return (
    <main className="flex min-h-screen flex-col items-center justify-center gap-2 bg-zinc-950 text-sm text-zinc-300">
      <p>Nothing here.</p>
      <Link
        href="/"
        className="text-sky-400 underline decoration-sky-400/50 underline-offset-2 hover:decoration-sky-400"
      >
        Back to the fleet
      </Link>
    </main>
  );
}
