import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseQuery } from "./query";
import { AppError, toErrorResponse } from "./errors";

const shape = { status: z.enum(["online", "offline"]).optional(), limit: z.coerce.number().int().min(1).optional() };

describe("parseQuery", () => {
  it("parses known parameters", () => {
    expect(parseQuery("http://x/api?status=online&limit=5", shape)).toEqual({ status: "online", limit: 5 });
  });

  it("rejects unknown and repeated parameters with a 400 naming them", async () => {
    for (const url of ["http://x/api?stauts=online", "http://x/api?status=online&status=offline"]) {
      let err: unknown;
      try {
        parseQuery(url, shape);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AppError);
      const res = toErrorResponse(err);
      expect(res.status).toBe(400);
      expect((await res.json()).error.message).toMatch(/stauts|more than once/);
    }
  });

  it("turns invalid values into the one error shape", async () => {
    let err: unknown;
    try {
      parseQuery("http://x/api?limit=-1", shape);
    } catch (e) {
      err = e;
    }
    const res = toErrorResponse(err);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe("BAD_REQUEST");
    expect(body.error.message).toContain("limit");
  });

  it("hides unexpected errors behind a 500 without details", async () => {
    const res = toErrorResponse(new Error("secret stack detail"));
    expect(res.status).toBe(500);
    expect(JSON.stringify(await res.json())).not.toContain("secret");
  });
});
