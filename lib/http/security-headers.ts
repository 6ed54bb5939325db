/**
 * The security headers on every response, built without Next so they can be
 * tested alone; `proxy.ts` puts them on each request and response.
 *
 * Content-Security-Policy:
 * - scripts: only this origin's, and under 'strict-dynamic' only the ones
 *   carrying this response's nonce (Next adds it to its own scripts when the
 *   request carries this policy) and what those load;
 * - styles: 'unsafe-inline' is accepted here. Tailwind's CSS files are ours, but
 *   React, recharts and the table's row windowing write inline `style=` attributes,
 *   which a nonce cannot cover; for the same reason style-src carries no nonce
 *   (a nonce in a directive makes browsers ignore its 'unsafe-inline');
 * - fetch and EventSource (`/api/stream`) to this origin only; images from this
 *   origin and `data:` URLs; no plugins, no <base>, forms post only here, and no
 *   page may frame keepwatch.
 * React's development build uses eval (to rebuild server-side error stacks in
 * the browser), so `dev` adds 'unsafe-eval'; production never carries it.
 */
import { randomBytes } from "node:crypto";

/** Request header the proxy sets to the request's pathname + search, for redirects back after sign-in. */
export const PATHNAME_HEADER = "x-kw-pathname";

export const CSP_HEADER = "Content-Security-Policy";

/** Seconds a browser keeps to https once told (one year). */
export const HSTS_MAX_AGE = 31_536_000;

export interface SecurityHeadersOptions {
  /** This response's script nonce (base64). */
  nonce: string;
  /** `next dev`: allows 'unsafe-eval' for React's development build. */
  dev: boolean;
  /** The request came over https: adds Strict-Transport-Security. */
  https: boolean;
}

/** A fresh nonce: 128 random bits, base64 (the alphabet Next accepts in 'nonce-…'). */
export function createNonce(): string {
  return randomBytes(16).toString("base64");
}

export function contentSecurityPolicy({ nonce, dev }: Pick<SecurityHeadersOptions, "nonce" | "dev">): string {
  const directives: [string, ...string[]][] = [
    ["default-src", "'self'"],
    ["script-src", "'self'", `'nonce-${nonce}'`, "'strict-dynamic'", ...(dev ? ["'unsafe-eval'"] : [])],
    ["style-src", "'self'", "'unsafe-inline'"],
    ["img-src", "'self'", "data:"],
    ["connect-src", "'self'"],
    ["object-src", "'none'"],
    ["base-uri", "'self'"],
    ["form-action", "'self'"],
    ["frame-ancestors", "'none'"],
  ];
  return directives.map((d) => d.join(" ")).join("; ");
}

/**
 * Whether the browser reached keepwatch over https: the first (client-side)
 * entry of `X-Forwarded-Proto` says so, or keepwatch's public URL is https.
 */
export function isHttps({
  forwardedProto,
  publicUrl,
}: {
  forwardedProto: string | null | undefined;
  publicUrl: string | undefined;
}): boolean {
  const proto = (forwardedProto ?? "").split(",")[0].trim().toLowerCase();
  return proto === "https" || (publicUrl ?? "").trim().toLowerCase().startsWith("https://");
}

/** Every header a response carries, by name. */
export function securityHeaders(options: SecurityHeadersOptions): Record<string, string> {
  return {
    [CSP_HEADER]: contentSecurityPolicy(options),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    // For browsers that predate CSP's frame-ancestors.
    "X-Frame-Options": "DENY",
    ...(options.https ? { "Strict-Transport-Security": `max-age=${HSTS_MAX_AGE}` } : {}),
  };
}
