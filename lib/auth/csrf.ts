/**
 * Cross-site request forgery: a state-changing request that is not
 * authenticated by a bearer token (a browser sends cookies, and an anonymous
 * role, by itself) must prove it comes from keepwatch's own pages:
 * - a body sent as `Content-Type: application/json` (an HTML form cannot send
 *   it, and a cross-site fetch with it needs a CORS preflight keepwatch never
 *   grants) → else 415;
 * - an `Origin` (or, without one, a `Referer`) of keepwatch's own origin → else 403.
 * Own origin: KEEPWATCH_PUBLIC_URL's when set, else the one the request was sent to.
 */
export type CsrfVerdict = { ok: true } | { ok: false; status: 403 | 415; message: string };

const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method.toUpperCase());
}

function originOf(value: string | null): string | null {
  if (!value || value === "null") return null;
  try {
    return new URL(value).origin;
  } catch {
    return null;
  }
}

/** The origins this request may come from: the public URL's, or the one it was sent to. */
export function ownOrigins(request: Request, publicUrl: string | undefined): string[] {
  if (publicUrl) return [new URL(publicUrl).origin];
  const url = new URL(request.url);
  const origins = new Set([url.origin]);
  const host = request.headers.get("x-forwarded-host") ?? request.headers.get("host");
  const proto = request.headers.get("x-forwarded-proto") ?? url.protocol.slice(0, -1);
  if (host) origins.add(`${proto}://${host}`);
  return [...origins];
}

/** Methods an HTML form can send (POST) or that carry a body; DELETE has none and needs a preflight cross-site anyway. */
const BODY_METHODS: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH"]);
const JSON_ONLY: readonly string[] = ["application/json"];

/**
 * `bodyTypes`: the content types the route takes (default JSON only). Each must
 * be one an HTML form cannot send (`text/csv` qualifies: not a CORS-safelisted type).
 */
export function checkCsrf(
  request: Request,
  publicUrl: string | undefined,
  bodyTypes: readonly string[] = JSON_ONLY,
): CsrfVerdict {
  const type = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (BODY_METHODS.has(request.method.toUpperCase()) && !bodyTypes.includes(type))
    return {
      ok: false,
      status: 415,
      message: `state-changing requests must send Content-Type: ${bodyTypes.join(" or ")}`,
    };
  const from = originOf(request.headers.get("origin")) ?? originOf(request.headers.get("referer"));
  if (from === null) return { ok: false, status: 403, message: "cross-site request refused: no Origin or Referer" };
  if (!ownOrigins(request, publicUrl).includes(from))
    return { ok: false, status: 403, message: `cross-site request refused: origin ${from} is not keepwatch's` };
  return { ok: true };
}
