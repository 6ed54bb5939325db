"use client";

import { useState, type FormEvent, type ReactNode } from "react";
import { Brand, TopNav } from "@/components/nav/TopNav";
import { apiJson, errorText, useApi, useInvalidate } from "@/components/api/client";

interface User {
  username: string;
  role: string;
  createdAt: string;
}
interface Token {
  id: number;
  name: string;
  role: string;
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
}
interface AuditEvent {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  detail: string | null;
}

const ROLES = ["viewer", "operator", "admin"] as const;
const field = "rounded-md border border-zinc-700 bg-zinc-900 px-2 py-1 text-sm text-zinc-100";
const button = "rounded-md bg-zinc-800 px-2 py-1 text-xs text-zinc-100 hover:bg-zinc-700";
const time = (iso: string | null) => (iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "—");

function Section({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <section aria-labelledby={id} className="flex flex-col gap-2">
      <h2 id={id} className="text-sm font-medium text-zinc-200">
        {title}
      </h2>
      {children}
    </section>
  );
}

/** Users, API tokens and the audit log (admin). Every change goes through the API and lands in the audit log. */
export function AccessPage() {
  const usersQ = useApi<{ users: User[] }>("/api/users");
  const tokensQ = useApi<{ tokens: Token[] }>("/api/tokens");
  const eventsQ = useApi<{ events: AuditEvent[] }>("/api/audit?limit=100");
  const users = usersQ.data?.users ?? [];
  const tokens = tokensQ.data?.tokens ?? [];
  const events = eventsQ.data?.events ?? [];
  // A failed change is said until the next one; else a list's own failure.
  const [actionError, setActionError] = useState<string | null>(null);
  const error = actionError ?? usersQ.error ?? tokensQ.error ?? eventsQ.error;
  const [shown, setShown] = useState<string | null>(null);

  // Every change lands in the audit log and may touch users or tokens: all three are read again.
  const invalidate = useInvalidate();
  const reload = () => {
    void invalidate("/api/users");
    void invalidate("/api/tokens");
    void invalidate("/api/audit");
  };

  const act = (fn: () => Promise<unknown>) => async () => {
    setActionError(null);
    try {
      await fn();
    } catch (e) {
      setActionError(errorText(e));
    }
    reload();
  };

  async function addUser(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const form = e.currentTarget;
    await act(async () => {
      await apiJson("POST", "/api/users", {
        username: String(f.get("username")),
        password: String(f.get("password")),
        role: String(f.get("role")),
      });
      form.reset();
    })();
  }

  async function addToken(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const form = e.currentTarget;
    await act(async () => {
      const r = await apiJson<{ token: string }>("POST", "/api/tokens", {
        name: String(f.get("name")),
        role: String(f.get("role")),
      });
      setShown(r.token);
      form.reset();
    })();
  }

  return (
    <div className="flex min-h-screen flex-col bg-zinc-950 text-zinc-200">
      <header className="flex flex-wrap items-center gap-x-4 gap-y-2 border-b border-zinc-800 px-4 py-2">
        <Brand section="access" />
        <TopNav />
      </header>
      <main className="flex max-w-5xl min-w-0 flex-col gap-6 p-4">
        {error && (
          <p role="alert" data-testid="access-error" className="text-sm text-red-300">
            {error}
          </p>
        )}
        <Section id="users-h" title="Users">
          <div className="max-w-full overflow-x-auto">
            <table className="text-sm" data-testid="users-table">
              <tbody>
                {users.map((u) => (
                  <tr key={u.username} data-testid="user-row" className="border-b border-zinc-800">
                    <td className="py-1 pr-4">{u.username}</td>
                    <td className="pr-4">
                      <select
                        aria-label={`role of ${u.username}`}
                        className={field}
                        value={u.role}
                        onChange={(e) =>
                          void act(() =>
                            apiJson("PUT", `/api/users/${encodeURIComponent(u.username)}`, { role: e.target.value }),
                          )()
                        }
                      >
                        {ROLES.map((r) => (
                          <option key={r}>{r}</option>
                        ))}
                      </select>
                    </td>
                    <td>
                      <button
                        className={button}
                        onClick={act(() => apiJson("DELETE", `/api/users/${encodeURIComponent(u.username)}`))}
                      >
                        Delete
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <form onSubmit={addUser} className="flex flex-wrap items-center gap-2" data-testid="add-user">
            <input name="username" placeholder="username" className={field} required />
            <input name="password" type="password" placeholder="password (8+)" className={field} required />
            <select name="role" aria-label="role of the new user" className={field} defaultValue="viewer">
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
            <button className={button}>Add user</button>
          </form>
        </Section>

        <Section id="tokens-h" title="API tokens">
          {shown && (
            <p data-testid="new-token" className="rounded border border-amber-700 bg-amber-950/40 p-2 text-xs">
              Copy it now, it is not shown again: <code className="select-all break-all">{shown}</code>
            </p>
          )}
          <div className="max-w-full overflow-x-auto">
            <table className="text-sm" data-testid="tokens-table">
              <tbody>
                {tokens.map((t) => (
                  <tr key={t.id} data-testid="token-row" className="border-b border-zinc-800">
                    <td className="py-1 pr-4">{t.name}</td>
                    <td className="pr-4">{t.role}</td>
                    <td className="pr-4 text-xs text-zinc-400">by {t.createdBy ?? "—"}</td>
                    <td className="pr-4 text-xs text-zinc-400">last used {time(t.lastUsedAt)}</td>
                    <td className="pr-4 text-xs text-zinc-400">expires {time(t.expiresAt)}</td>
                    <td>
                      <button className={button} onClick={act(() => apiJson("DELETE", `/api/tokens/${t.id}`))}>
                        Revoke
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <form onSubmit={addToken} className="flex flex-wrap items-center gap-2" data-testid="add-token">
            <input name="name" placeholder="name (what uses it)" className={field} required />
            <select name="role" aria-label="role of the new token" className={field} defaultValue="viewer">
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
            <button className={button}>Create token</button>
          </form>
        </Section>

        <Section id="audit-h" title="Audit log">
          <div className="max-w-full overflow-x-auto">
            <table className="text-xs" data-testid="audit-table">
              <tbody>
                {events.map((a) => (
                  <tr key={a.id} data-testid="audit-row" className="border-b border-zinc-800">
                    <td className="py-1 pr-3 tabular-nums text-zinc-400">{time(a.at)}</td>
                    <td className="pr-3">{a.actor}</td>
                    <td className="pr-3">{a.action}</td>
                    <td className="pr-3">{a.target ?? ""}</td>
                    <td className="pr-3 text-zinc-500">{a.detail ?? ""}</td>
                    <td className="text-zinc-500">{a.ip ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Section>
      </main>
    </div>
  );
}
