/**
 * Runs before every request, with no matcher: pages, API routes (the SSE
 * stream and the CSV export included) and `/_next/static` assets.
 *
 * - Security headers (lib/http/security-headers.ts) on the response, with a
 *   fresh script nonce each time. The same Content-Security-Policy goes on the
 *   request too: Next reads the nonce from it while rendering a page and puts
 *   it on its own scripts. A page prerendered at build time has no request to
 *   read it from, so only dynamically rendered pages get nonced scripts.
 * - `x-kw-pathname` on the request: its pathname + search, for server code that
 *   sends a visitor to `/login?next=…` and back. Always overwritten, so a
 *   client cannot choose it.
 */
import { NextResponse, type NextRequest } from "next/server";
import { CSP_HEADER, PATHNAME_HEADER, createNonce, isHttps, securityHeaders } from "@/lib/http/security-headers";

export function proxy(request: NextRequest) {
  const headers = securityHeaders({
    nonce: createNonce(),
    dev: process.env.NODE_ENV !== "production",
    https: isHttps({
      forwardedProto: request.headers.get("x-forwarded-proto"),
      publicUrl: process.env.KEEPWATCH_PUBLIC_URL,
    }),
  });

  const forwarded = new Headers(request.headers);
  forwarded.set(CSP_HEADER, headers[CSP_HEADER]);
  forwarded.set(PATHNAME_HEADER, request.nextUrl.pathname + request.nextUrl.search);

  const response = NextResponse.next({ request: { headers: forwarded } });
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}
