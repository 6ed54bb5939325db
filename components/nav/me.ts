/**
 * Who the page is for (GET /api/auth/me), asked once per tab and shared
 * through the query cache: the user menu shows it, pages hide actions the
 * role may not take (the server refuses them anyway).
 */
import { useQuery } from "@tanstack/react-query";
import { apiJson } from "@/components/api/client";

export interface Me {
  user: { username: string; role: string };
  via: "session" | "token" | "anonymous";
}

const ME_URL = "/api/auth/me";

export function useMe(): Me | null {
  const { data } = useQuery({
    queryKey: [ME_URL],
    // Not signed in, or the API unreachable: nobody, and the page shows no actions.
    queryFn: ({ signal }) =>
      apiJson<Me>("GET", ME_URL, undefined, signal).catch((err: unknown) => {
        if (signal.aborted) throw err;
        return null;
      }),
    staleTime: Infinity,
  });
  return data ?? null;
}

/** Operators and admins handle alerts: acknowledge, mute, label devices. */
export function canOperate(me: Me | null): boolean {
  return me?.user.role === "operator" || me?.user.role === "admin";
}
