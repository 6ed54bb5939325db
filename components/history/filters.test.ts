import { describe, expect, it } from "vitest";
import {
  apiQuery,
  DEFAULT_FILTERS,
  escapeGlob,
  filtersToSearch,
  inputToIso,
  isoToInput,
  parseFilters,
  resolveRange,
  type HistoryFilters,
} from "./filters";
import { compileDeviceGlob } from "@/lib/api/glob";

const NOW = Date.parse("2026-11-22T12:00:00.400Z");
const parse = (qs: string) => parseFilters(new URLSearchParams(qs));

describe("history filters in the URL", () => {
  it("defaults to the last 24 hours, every device and reason", () => {
    expect(parse("")).toEqual(DEFAULT_FILTERS);
    expect(filtersToSearch(DEFAULT_FILTERS)).toBe("");
  });

  it("round-trips presets, globs, reasons and a tag", () => {
    const f: HistoryFilters = {
      range: "8h",
      from: null,
      to: null,
      device: "plant/*[0-9]",
      reasons: ["keepalive_timeout", "connection_lost"],
      tag: "site:north",
    };
    const qs = filtersToSearch(f);
    expect(qs).toBe("range=8h&device=plant%2F*%5B0-9%5D&reason=keepalive_timeout%2Cconnection_lost&tag=site%3Anorth");
    expect(parse(qs)).toEqual(f);
  });

  it("round-trips a custom range, and reads one from from/to alone", () => {
    const f: HistoryFilters = {
      ...DEFAULT_FILTERS,
      range: "custom",
      from: "2026-11-01T00:00:00.000Z",
      to: "2026-11-02T06:30:00.000Z",
    };
    expect(filtersToSearch(f)).toBe("from=2026-11-01T00%3A00%3A00.000Z&to=2026-11-02T06%3A30%3A00.000Z");
    expect(parse(filtersToSearch(f))).toEqual(f);
    expect(parse("from=2026-11-01T00:00:00Z")).toMatchObject({
      range: "custom",
      from: "2026-11-01T00:00:00.000Z",
      to: null,
    });
  });

  it("falls back to defaults for what it cannot read", () => {
    expect(parse("range=fortnight&reason=clean,sleepy,clean&from=soon")).toEqual({
      ...DEFAULT_FILTERS,
      reasons: ["clean"],
    });
    // A preset wins over stray times.
    expect(parse("range=1h&from=2026-11-01T00:00:00Z")).toMatchObject({ range: "1h", from: null });
  });
});

describe("resolved ranges and API queries", () => {
  it("measures presets back from now, rounded up to the second", () => {
    expect(resolveRange({ ...DEFAULT_FILTERS, range: "1h" }, NOW)).toEqual({
      from: Date.parse("2026-11-22T11:00:01Z"),
      to: Date.parse("2026-11-22T12:00:01Z"),
    });
    expect(resolveRange({ ...DEFAULT_FILTERS, range: "all" }, NOW)).toEqual({
      from: null,
      to: Date.parse("2026-11-22T12:00:01Z"),
    });
    expect(
      resolveRange({ ...DEFAULT_FILTERS, range: "custom", from: "2026-11-01T00:00:00.000Z", to: null }, NOW),
    ).toEqual({ from: Date.parse("2026-11-01T00:00:00Z"), to: Date.parse("2026-11-22T12:00:01Z") });
  });

  it("sends the same query for table, summary and export", () => {
    const f: HistoryFilters = { ...DEFAULT_FILTERS, device: "dev-?", reasons: ["clean"] };
    expect(apiQuery(f, { from: Date.parse("2026-11-21T12:00:01Z"), to: Date.parse("2026-11-22T12:00:01Z") })).toBe(
      "from=2026-11-21T12%3A00%3A01.000Z&to=2026-11-22T12%3A00%3A01.000Z&device=dev-%3F&reason=clean",
    );
    expect(apiQuery(DEFAULT_FILTERS, { from: null, to: 0 })).toBe("to=1970-01-01T00%3A00%3A00.000Z");
  });
});

describe("helpers", () => {
  it("escapes an id into a glob that matches exactly it", () => {
    for (const id of ["plain", "a*b?c", "[x]", "back\\slash", '=HYPERLINK("http://x","y")']) {
      expect(compileDeviceGlob(escapeGlob(id))).toEqual({ kind: "exact", id });
    }
  });

  it("converts between ISO times and UTC datetime-local values", () => {
    expect(isoToInput("2026-11-01T08:30:05.000Z")).toBe("2026-11-01T08:30:05");
    expect(isoToInput(null)).toBe("");
    expect(inputToIso("2026-11-01T08:30")).toBe("2026-11-01T08:30:00.000Z");
    expect(inputToIso("2026-11-01T08:30:05")).toBe("2026-11-01T08:30:05.000Z");
    expect(inputToIso("")).toBeNull();
    expect(inputToIso("garbage")).toBeNull();
  });
});
