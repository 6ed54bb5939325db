/**
 * Sends a rendered request for the HTTP channel types: POST through the
 * egress guard, never following redirects, cut off by the context's signal.
 * 2xx is success; 429 and 5xx (and network errors) are worth another try; a
 * refused destination, a redirect or another 4xx is not (the request would
 * fail the same way again), except 408.
 */
import { EgressRefusedError } from "../../alerts/egress";
import type { HttpRequestSpec, SendContext, SendOutcome } from "./types";

export async function sendHttp(req: HttpRequestSpec, ctx: SendContext): Promise<SendOutcome> {
  try {
    const res = await ctx.fetch(req.url, {
      method: "POST",
      headers: { "user-agent": ctx.userAgent, ...req.headers },
      body: req.body,
      signal: ctx.signal,
      redirect: "manual",
    });
    const text = await res.text().catch(() => "");
    if (res.status >= 200 && res.status < 300)
      return { ok: true, statusCode: res.status, error: null, retryable: false };
    const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
    const error =
      res.status >= 300 && res.status < 400
        ? `redirect to ${(res.headers.get("location") ?? "(no Location header)").slice(0, 200)} not followed`
        : `HTTP ${res.status}${text ? `: ${text.replace(/\s+/g, " ").slice(0, 200)}` : ""}`;
    return { ok: false, statusCode: res.status, error, retryable };
  } catch (e) {
    if (ctx.signal.aborted) return { ok: false, statusCode: null, error: abortReason(ctx.signal), retryable: true };
    return { ok: false, statusCode: null, error: describeError(e), retryable: !(e instanceof EgressRefusedError) };
  }
}

export function abortReason(signal: AbortSignal): string {
  const reason = signal.reason as unknown;
  return reason instanceof Error ? reason.message : "aborted";
}

/** An error in one line, with its cause (undici wraps the socket error). */
export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: unknown }).cause;
    const detail = cause instanceof Error && cause.message !== e.message ? `: ${cause.message}` : "";
    return `${e.message}${detail}`.slice(0, 300);
  }
  return String(e).slice(0, 300);
}

/** JSON request with the event's id as Idempotency-Key. */
export function jsonRequest(
  url: string,
  idempotencyKey: string,
  body: unknown,
  headers: Record<string, string> = {},
): HttpRequestSpec {
  return {
    url,
    headers: { "content-type": "application/json", "idempotency-key": idempotencyKey, ...headers },
    body: JSON.stringify(body),
  };
}
