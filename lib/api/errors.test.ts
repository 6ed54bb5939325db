import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { AppError, handle, toErrorResponse } from "./errors";

describe("the one error shape", () => {
  it("never lets an unexpected error's message, stack, SQL or connection string out", async () => {
    const spy = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const err = new Error(
      'connect ECONNREFUSED postgresql://kw:secret@db:5432/kw; SELECT "id" FROM "users" WHERE "token_hash" = $1',
    );
    const res = toErrorResponse(err);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('{"error":{"code":"INTERNAL","message":"internal error"}}');
    const wrapped = await handle(() => {
      throw err;
    })();
    expect(await wrapped.text()).toBe('{"error":{"code":"INTERNAL","message":"internal error"}}');
    spy.mockRestore();
  });

  it("maps application errors to their status, with fields and Retry-After", async () => {
    const res = toErrorResponse(new AppError("TOO_MANY_REQUESTS", "slow down", undefined, 42));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("42");
    const bad = toErrorResponse(new AppError("BAD_REQUEST", "role: nope", { role: "nope" }));
    expect(await bad.json()).toEqual({
      error: { code: "BAD_REQUEST", message: "role: nope", fields: { role: "nope" } },
    });
    for (const [code, status] of [
      ["UNAUTHENTICATED", 401],
      ["FORBIDDEN", 403],
      ["PAYLOAD_TOO_LARGE", 413],
      ["UNSUPPORTED_MEDIA_TYPE", 415],
    ] as const)
      expect(toErrorResponse(new AppError(code, "x")).status).toBe(status);
    const zod = z.object({ limit: z.number() }).safeParse({ limit: "x" });
    expect(toErrorResponse(zod.error).status).toBe(400);
  });
});
