/**
 * Who the page is for (GET /api/auth/me), asked once per page load and
 * shared: the user menu shows it, pages hide actions the role may not take
 * (the server refuses them anyway).
 */
import { useEffect, useState } from "react";

export interface Me {
  user: { username: string; role: string };
  via: "session" | "token" | "anonymous";
}

let pending: Promise<Me | null> | null = null;

export function fetchMe(): Promise<Me | null> {
  pending ??= fetch("/api/auth/me")
    .then((r) => (r.ok ? (r.json() as Promise<Me>) : null))
    .catch(() => null);
  return pending;
}

export function useMe(): Me | null {
  const [me, setMe] = useState<Me | null>(null);
  useEffect(() => {
    let live = true;
    void fetchMe().then((m) => live && setMe(m));
    return () => {
      live = false;
    };
  }, []);
  return me;
}

/** Operators and admins handle alerts: acknowledge, mute, label devices. */
export function canOperate(me: Me | null): boolean {
  return me?.user.role === "operator" || me?.user.role === "admin";
}
