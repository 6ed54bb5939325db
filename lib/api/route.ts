/**
 * Every API route is declared through `route(access, handler)`: it answers in
 * the one error shape (errors.ts), and before the handler runs it checks, on
 * the server, who is asking (lib/auth/service.ts) and whether they may:
 *   no credentials → 401 UNAUTHENTICATED, too weak a role → 403 FORBIDDEN,
 *   a state-changing request without a bearer token → the CSRF rules (lib/auth/csrf.ts).
 * `access` is the least role, or "public" (the handler sees the principal, or null).
 * Under test, every answer is also written to the contract log (contract-log.ts).
 */
import { checkCsrf, isSafeMethod } from "../auth/csrf";
import { roleAtLeast, type Role } from "../auth/roles";
import type { Principal } from "../auth/service";
import { getRuntime, type Runtime } from "../runtime";
import { recorded } from "./contract-log";
import { AppError, handle } from "./errors";

export interface RouteContext<P> {
  principal: Principal;
  runtime: Runtime;
  /** The client address as the server saw it (first X-Forwarded-For entry). */
  ip: string | null;
  params: P;
}

type Handler<P> = (request: Request, ctx: RouteContext<P>) => Promise<Response> | Response;
type PublicHandler<P> = (
  request: Request,
  ctx: Omit<RouteContext<P>, "principal"> & { principal: Principal | null },
) => Promise<Response> | Response;

type NextCtx<P> = { params: Promise<P> };

export function clientAddress(request: Request): string | null {
  const forwarded = request.headers.get("x-forwarded-for");
  const first = forwarded?.split(",")[0]?.trim();
  return first ? first.slice(0, 64) : null;
}

export interface RouteOptions {
  /** Content types the route's changes take (default JSON only; see lib/auth/csrf.ts). */
  bodyTypes?: readonly string[];
}

async function admit(
  request: Request,
  runtime: Runtime,
  access: Role | "public",
  opts: RouteOptions = {},
): Promise<Principal | null> {
  const auth = runtime.auth;
  if (!auth) throw new AppError("SERVICE_UNAVAILABLE", "the monitor is starting");
  const principal = await auth.authenticate(request);
  if (access !== "public") {
    if (!principal) throw new AppError("UNAUTHENTICATED", "sign in, or send Authorization: Bearer <token>");
    if (!roleAtLeast(principal.role, access))
      throw new AppError("FORBIDDEN", `this needs the ${access} role; you have ${principal.role}`);
  }
  if (!isSafeMethod(request.method) && principal?.kind !== "token") {
    const verdict = checkCsrf(request, runtime.config.KEEPWATCH_PUBLIC_URL, opts.bodyTypes);
    if (!verdict.ok)
      throw new AppError(verdict.status === 415 ? "UNSUPPORTED_MEDIA_TYPE" : "FORBIDDEN", verdict.message);
  }
  return principal;
}

export function route<P = Record<string, never>>(access: Role, fn: Handler<P>, opts?: RouteOptions) {
  return recorded(
    handle(async (request: Request, next?: NextCtx<P>) => {
      const runtime = getRuntime();
      const principal = (await admit(request, runtime, access, opts)) as Principal;
      const params = (next ? await next.params : {}) as P;
      return fn(request, { principal, runtime, ip: clientAddress(request), params });
    }),
  );
}

export function publicRoute<P = Record<string, never>>(fn: PublicHandler<P>) {
  return recorded(
    handle(async (request: Request, next?: NextCtx<P>) => {
      const runtime = getRuntime();
      const principal = await admit(request, runtime, "public");
      const params = (next ? await next.params : {}) as P;
      return fn(request, { principal, runtime, ip: clientAddress(request), params });
    }),
  );
}
