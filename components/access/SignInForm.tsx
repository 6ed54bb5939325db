"use client";

import { useState, type FormEvent } from "react";
import { Brand } from "@/components/nav/TopNav";
import { apiJson } from "@/components/api/client";

const input =
  "w-full rounded-md border border-zinc-700 bg-zinc-900 px-3 py-2 text-sm text-zinc-100 outline-none focus:border-sky-500";

/**
 * Sign-in (`mode: "login"`) or the one-time creation of the first admin
 * (`mode: "setup"`, with the token from the start-up log). Either way the
 * browser ends up signed in and goes to `next`.
 */
export function SignInForm({ mode, next, token }: { mode: "login" | "setup"; next: string; token?: string }) {
  const [username, setUsername] = useState(mode === "setup" ? "admin" : "");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === "login") await apiJson("POST", "/api/auth/login", { username, password });
      else await apiJson("POST", "/api/setup", { token: token ?? "", username, password });
      window.location.assign(next);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  }

  return (
    <main className="flex min-h-screen items-center justify-center bg-zinc-950 p-4">
      <form
        onSubmit={submit}
        data-testid={`${mode}-form`}
        className="flex w-full max-w-sm flex-col gap-3 rounded-lg border border-zinc-800 bg-zinc-900/60 p-6"
      >
        <Brand section={mode === "login" ? "sign in" : "first admin"} />
        {mode === "setup" && (
          <p className="text-xs text-zinc-400">
            Nobody can sign in yet. Choose the first admin&apos;s name and password (at least 8 characters); this link
            works once.
          </p>
        )}
        <label className="flex flex-col gap-1 text-xs text-zinc-400">
          Username
          <input
            name="username"
            autoComplete="username"
            className={input}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
          />
        </label>
        <label className="flex flex-col gap-1 text-xs text-zinc-400">
          Password
          <input
            name="password"
            type="password"
            autoComplete={mode === "login" ? "current-password" : "new-password"}
            className={input}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {error && (
          <p role="alert" data-testid="sign-in-error" className="text-sm text-red-300">
            {error}
          </p>
        )}
        <button
          type="submit"
          disabled={busy}
          className="rounded-md bg-sky-600 px-3 py-2 text-sm font-medium text-white hover:bg-sky-500 disabled:opacity-60"
        >
          {mode === "login" ? "Sign in" : "Create admin and sign in"}
        </button>
      </form>
    </main>
  );
}
