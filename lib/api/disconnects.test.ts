import { describe, expect, it } from "vitest";
import { parseCsvQuery, parseIsoTime, parseListQuery, parseReasons, parseSummaryQuery, toFilter } from "./disconnects";
import { encodeCursor } from "./cursor";
import { AppError } from "./errors";

const NOW = Date.parse("2026-11-22T12:00:00Z");
const url = (qs: string) => `http://127.0.0.1/api/disconnects?${qs}`;

const message = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) {
      expect(e.status).toBe(400);
      return e.message;
    }
    // zod failures are mapped to 400 by handle(); their text is what the client reads.
    if (e instanceof Error && e.name === "ZodError") return `zod: ${e.message}`;
    throw e;
  }
  throw new Error("accepted");
};

describe("ISO-8601 times", () => {
  it("accepts UTC, offsets, fractions and plain dates", () => {
    expect(parseIsoTime("from", "2026-11-01T00:00:00Z")).toBe(Date.UTC(2026, 10, 1));
    expect(parseIsoTime("from", "2026-11-01T00:00Z")).toBe(Date.UTC(2026, 10, 1));
    expect(parseIsoTime("from", "2026-11-01T01:30:00+01:30")).toBe(Date.UTC(2026, 10, 1));
    expect(parseIsoTime("from", "2026-10-31T19:00:00-0500")).toBe(Date.UTC(2026, 10, 1));
    expect(parseIsoTime("from", "2026-11-01T00:00:00.123456Z")).toBe(Date.UTC(2026, 10, 1, 0, 0, 0, 123));
    expect(parseIsoTime("from", "2026-11-01T00:00:00.5Z")).toBe(Date.UTC(2026, 10, 1, 0, 0, 0, 500));
    expect(parseIsoTime("from", "2026-11-01")).toBe(Date.UTC(2026, 10, 1));
  });

  it("rejects what is not a time, with the parameter named", () => {
    expect(message(() => parseIsoTime("from", "yesterday"))).toBe(
      'from: "yesterday" is not an ISO-8601 time (e.g. 2026-11-01T00:00:00Z)',
    );
    expect(message(() => parseIsoTime("to", "1700000000000"))).toMatch(/^to: "1700000000000" is not an ISO-8601 time/);
    expect(message(() => parseIsoTime("to", "2026-11-01T10:00"))).toBe(
      'to: "2026-11-01T10:00" has no time zone; add Z for UTC or an offset such as +01:00 (e.g. 2026-11-01T00:00:00Z)',
    );
    for (const bad of [
      "2026-02-30",
      "2026-13-01",
      "2026-11-01T24:00:00Z",
      "2026-11-01T10:60Z",
      "2026-11-01T10:00+25:00",
    ]) {
      expect(
        message(() => parseIsoTime("from", bad)),
        bad,
      ).toBe(`from: "${bad}" is not a valid date and time`);
    }
  });
});

describe("reasons", () => {
  it("reads a comma-separated list, once each", () => {
    expect(parseReasons("clean, keepalive_timeout,,clean")).toEqual(["clean", "keepalive_timeout"]);
  });
  it("rejects a reason outside the vocabulary", () => {
    expect(message(() => parseReasons("clean,sleepy"))).toBe(
      'reason: unknown reason "sleepy"; one of clean, keepalive_timeout, connection_lost, taken_over, protocol_error, not_authorized, admin, session_expired, will, broker_restart, unknown',
    );
  });
});

describe("filters from the query string", () => {
  it("defaults to everything up to now; empty values count as absent", () => {
    expect(toFilter({}, NOW)).toEqual({ from: null, to: NOW, device: null, reasons: null, tag: null });
    expect(parseCsvQuery(url("from=&to=&device=&reason="), NOW)).toEqual({
      filter: { from: null, to: NOW, device: null, reasons: null, tag: null },
      bom: false,
    });
  });

  it("reads every parameter", () => {
    const q = parseListQuery(
      url("from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&device=dev-*&reason=clean,will&tag=site:a&limit=50"),
      NOW,
    );
    expect(q).toEqual({
      filter: {
        from: Date.UTC(2026, 10, 1),
        to: Date.UTC(2026, 10, 2),
        device: { kind: "like", pattern: "dev-%" },
        reasons: ["clean", "will"],
        tag: "site:a",
      },
      after: null,
      limit: 50,
    });
    const key = { disconnectedAt: 2_000, deviceId: "x", connectedAt: 1_000 };
    expect(parseListQuery(url(`cursor=${encodeCursor(key)}`), NOW).after).toEqual(key);
    expect(parseSummaryQuery(url("top=3"), NOW)).toMatchObject({ top: 3, now: NOW });
    expect(parseCsvQuery(url("bom=1"), NOW).bom).toBe(true);
  });

  it("rejects from after to, unknown parameters, bad limits and over-long globs", () => {
    expect(message(() => toFilter({ from: "2026-11-02", to: "2026-11-01" }, NOW))).toBe(
      "from (2026-11-02T00:00:00.000Z) is after to (2026-11-01T00:00:00.000Z)",
    );
    expect(toFilter({ from: "2026-11-01", to: "2026-11-01" }, NOW).from).toBe(Date.UTC(2026, 10, 1));
    expect(message(() => parseListQuery(url("form=2026-11-01"), NOW))).toBe('unknown parameter "form"');
    expect(message(() => parseListQuery(url("limit=0"), NOW))).toMatch(/limit must be a whole number from 1 to 1000/);
    expect(message(() => parseListQuery(url("limit=1001"), NOW))).toMatch(
      /limit must be a whole number from 1 to 1000/,
    );
    expect(message(() => parseListQuery(url("limit=2.5"), NOW))).toMatch(/limit must be a whole number/);
    expect(message(() => parseListQuery(url(`device=${"x".repeat(257)}`), NOW))).toMatch(
      /device \(a glob\) must be at most 256 characters/,
    );
    expect(message(() => parseListQuery(url("cursor=abc"), NOW))).toBe("cursor: not a cursor this API returned");
    expect(message(() => parseCsvQuery(url("bom=yes"), NOW))).toMatch(/bom must be 0 or 1/);
    expect(message(() => parseCsvQuery(url("cursor=x"), NOW))).toBe('unknown parameter "cursor"');
  });
});
