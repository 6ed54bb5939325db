import { describe, expect, it } from "vitest";
import { countLineFeeds, filenameFrom, progressText } from "./download";
import { formatBytes, formatPercent, formatSeconds, formatUtc } from "./format";

describe("history formatting", () => {
  it("shows UTC times to the second", () => {
    expect(formatUtc("2026-11-21T14:03:07.250Z")).toBe("2026-11-21 14:03:07");
    expect(formatUtc(null)).toBe("—");
  });

  it("shows durations with the precision that matters", () => {
    expect(formatSeconds(0)).toBe("0 s");
    expect(formatSeconds(0.25)).toBe("0.25 s");
    expect(formatSeconds(15.25)).toBe("15.3 s");
    expect(formatSeconds(60)).toBe("1m");
    expect(formatSeconds(192.5)).toBe("3m 12s");
    expect(formatSeconds(7_530)).toBe("2h 5m");
    expect(formatSeconds(null)).toBe("—");
  });

  it("never rounds an outage up to 100 %", () => {
    expect(formatPercent(97.7777)).toBe("97.78 %");
    expect(formatPercent(99.9999)).toBe("99.99 %");
    expect(formatPercent(100)).toBe("100.00 %");
    expect(formatPercent(null)).toBe("—");
  });

  it("shows sizes", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(830_000)).toBe("830 kB");
    expect(formatBytes(129_400_000)).toBe("129.4 MB");
  });
});

describe("export download helpers", () => {
  it("reads the file name from Content-Disposition", () => {
    expect(filenameFrom('attachment; filename="keepwatch-disconnects_start_2026-11-22T06-30Z.csv"', "x.csv")).toBe(
      "keepwatch-disconnects_start_2026-11-22T06-30Z.csv",
    );
    expect(filenameFrom("attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.csv", "x.csv")).toBe("résumé.csv");
    expect(filenameFrom("attachment; filename=plain.csv", "x.csv")).toBe("plain.csv");
    expect(filenameFrom(null, "x.csv")).toBe("x.csv");
  });

  it("counts records by line feeds and words the progress", () => {
    expect(countLineFeeds(new TextEncoder().encode("a,b\r\nc,d\r\n"))).toBe(2);
    expect(countLineFeeds(new Uint8Array())).toBe(0);
    expect(progressText({ bytes: 0, rows: 1234, total: 50_000 })).toBe("1,234 of 50,000 rows (2.5 %)");
    expect(progressText({ bytes: 0, rows: 25_000, total: 50_000 })).toBe("25,000 of 50,000 rows (50 %)");
    expect(progressText({ bytes: 0, rows: 12, total: null })).toBe("12 rows");
  });
});
