import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "./cursor";
import { AppError } from "./errors";

const key = {
  disconnectedAt: Date.parse("2026-11-21T10:00:00.123Z"),
  deviceId: 'plant/α 1,"x"',
  connectedAt: Date.parse("2026-11-21T09:00:00Z"),
};

const rejects = (cursor: string) => {
  try {
    decodeCursor(cursor);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).status).toBe(400);
    expect((e as AppError).message).toBe("cursor: not a cursor this API returned");
    return;
  }
  throw new Error(`accepted ${cursor}`);
};

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("cursor codec", () => {
  it("round-trips a key and stays URL-safe", () => {
    const c = encodeCursor(key);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(c)).toEqual(key);
  });

  it("rejects anything it did not make", () => {
    rejects("");
    rejects("not base64!");
    rejects(Buffer.from("{not json").toString("base64url"));
    rejects(b64([1, 2]));
    rejects(b64({ v: 2, d: 1, i: "a", c: 0 }));
    rejects(b64({ v: 1, d: "2026-01-01", i: "a", c: 0 }));
    rejects(b64({ v: 1, d: 1.5, i: "a", c: 0 }));
    rejects(b64({ v: 1, d: -1, i: "a", c: -1 }));
    rejects(b64({ v: 1, d: 10, i: "", c: 0 }));
    rejects(b64({ v: 1, d: 10, i: "a\u0000b", c: 0 }));
    rejects(b64({ v: 1, d: 10, i: "a", c: 11 })); // ends before it starts
    rejects(b64({ v: 1, d: 10, i: "a", c: 0, extra: true }));
    rejects(b64({ v: 1, d: 1e16, i: "a", c: 0 }));
    rejects("A".repeat(12_001));
  });
});
