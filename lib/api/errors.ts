/**
 * The one error shape of the HTTP API: `{ "error": { "code", "message" } }`
 * with a fitting status. Route handlers throw AppError (or let zod fail) and
 * `handle()` maps it; unexpected errors become a 500 without a stack trace.
 */
import { ZodError } from "zod";
import { z } from "../zod";

const STATUS = {
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  DEVICE_NOT_FOUND: 404,
  NOT_FOUND: 404,
  CONFLICT: 409,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof STATUS;
export const ERROR_CODES = Object.keys(STATUS) as ErrorCode[];

/** The HTTP status each error code answers with. */
export const statusOf = (code: ErrorCode): number => STATUS[code];

/** The one error body: `{ error: { code, message, fields? } }`. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    fields: z
      .record(z.string(), z.string())
      .optional()
      .describe('Per-field messages for a rejected body, e.g. { match: "…" }.'),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Per-field messages for a rejected body (`error.fields` in the response), e.g. { match: "…" }. */
    readonly fields?: Record<string, string>,
    /** Seconds to wait before trying again (a `Retry-After` header), for TOO_MANY_REQUESTS. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
  get status(): number {
    return STATUS[this.code];
  }
}

export function errorResponse(
  code: ErrorCode,
  message: string,
  fields?: Record<string, string>,
  retryAfterSeconds?: number,
): Response {
  const headers = retryAfterSeconds !== undefined ? { "Retry-After": String(Math.ceil(retryAfterSeconds)) } : undefined;
  return Response.json(
    { error: fields ? { code, message, fields } : { code, message } },
    { status: STATUS[code], headers },
  );
}

export function toErrorResponse(err: unknown): Response {
  if (err instanceof AppError) return errorResponse(err.code, err.message, err.fields, err.retryAfterSeconds);
  if (err instanceof ZodError) {
    const msg = err.issues.map((i) => `${i.path.length ? i.path.join(".") + ": " : ""}${i.message}`).join("; ");
    return errorResponse("BAD_REQUEST", msg);
  }
  console.error("[api] unexpected error", err);
  return errorResponse("INTERNAL", "internal error");
}

/** Wraps a route handler so every failure answers in the one error shape. */
export function handle<A extends unknown[]>(fn: (...args: A) => Promise<Response> | Response) {
  return async (...args: A): Promise<Response> => {
    try {
      return await fn(...args);
    } catch (err) {
      return toErrorResponse(err);
    }
  };
}
