import { describe, expect, it } from "vitest";
import { ApiError } from "@/components/api/client";
import { apiFields, formMessage, placeErrors } from "./field-errors";

const SLOTS = ["match", "tags", "recurrence", "recurrence.timeZone", "recurrence.weekly.0", "recurrence.weekly.1"];

describe("placeErrors", () => {
  it("puts each message next to the most specific field it names", () => {
    const placed = placeErrors(
      {
        match: "match or tags is required",
        "recurrence.weekly.1.start": "recurrence.weekly.1.start must be HH:MM",
        "recurrence.timeZone": "recurrence.timeZone is not a time zone",
        "recurrence.weekly": "recurrence.weekly needs at least one window",
      },
      SLOTS,
    );
    expect(placed).toEqual({
      at: {
        match: "match or tags is required",
        "recurrence.weekly.1": "recurrence.weekly.1.start must be HH:MM",
        "recurrence.timeZone": "recurrence.timeZone is not a time zone",
        recurrence: "recurrence.weekly needs at least one window",
      },
      rest: [],
    });
  });

  it("keeps the first message of a slot and leaves unknown keys for the form's own line", () => {
    const placed = placeErrors(
      { "recurrence.weekly.0.day": "bad day", "recurrence.weekly.0.minutes": "bad minutes", colour: "unknown field" },
      SLOTS,
    );
    expect(placed).toEqual({ at: { "recurrence.weekly.0": "bad day" }, rest: ["unknown field"] });
    // A prefix of a slot's name that is not a whole path segment is not that slot.
    expect(placeErrors({ matches: "x" }, SLOTS)).toEqual({ at: {}, rest: ["x"] });
  });
});

describe("formMessage", () => {
  it("says what no field shows, or points at the fields, or falls back to the API's message", () => {
    expect(formMessage({ at: {}, rest: ["a", "b"] }, "HTTP 400")).toBe("a; b");
    expect(formMessage({ at: { tags: "bad" }, rest: [] }, "HTTP 400")).toBe("Not saved: fix the fields marked in red.");
    expect(formMessage({ at: {}, rest: [] }, "operator role required")).toBe("operator role required");
  });
});

describe("apiFields", () => {
  it("reads an ApiError's fields and anything else thrown", () => {
    const err = new ApiError("bad", 400, "BAD_REQUEST", { tags: "no" });
    expect(apiFields(err)).toEqual({ message: "bad", fields: { tags: "no" } });
    expect(apiFields(new ApiError("gone", 404, "NOT_FOUND"))).toEqual({ message: "gone", fields: {} });
    expect(apiFields(new Error("down"))).toEqual({ message: "down", fields: {} });
    expect(apiFields("odd")).toEqual({ message: "odd", fields: {} });
  });
});
