import { describe, expect, it } from "vitest";
import { DISCONNECT_REASONS } from "@/lib/ingest/events";
import { isoAt, T0 } from "./__fixtures__/devices";
import {
  describeId,
  deviceHref,
  DISCONNECT_REASON_LABELS,
  formatAgo,
  formatDuration,
  formatKeepalive,
  ID_DISPLAY_MAX,
  ID_TITLE_MAX,
  reasonLabel,
} from "./format";

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [999, "0s"],
    [42_000, "42s"],
    [60_000, "1m"],
    [192_000, "3m 12s"],
    [3_600_000, "1h"],
    [7_500_000, "2h 5m"],
    [7_205_000, "2h"],
    [3 * 86_400_000 + 4 * 3_600_000 + 59_000, "3d 4h"],
    [-5_000, "0s"],
  ])("%i ms → %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe("formatAgo", () => {
  it("speaks relative to the server clock it is given", () => {
    expect(formatAgo(isoAt(T0 - 192_000), T0)).toBe("3m 12s ago");
    expect(formatAgo(isoAt(T0 - 400), T0)).toBe("just now");
    expect(formatAgo(isoAt(T0 + 800), T0)).toBe("just now");
    expect(formatAgo(isoAt(T0 + 4_000), T0)).toBe("in 4s");
  });

  it("says what it is told for a missing or unparsable time", () => {
    expect(formatAgo(null, T0)).toBe("—");
    expect(formatAgo(null, T0, "never")).toBe("never");
    expect(formatAgo("not a time", T0)).toBe("—");
  });
});

describe("formatKeepalive", () => {
  it("shows seconds, a disabled keepalive, and an unknown one differently", () => {
    expect(formatKeepalive(5)).toBe("5 s");
    expect(formatKeepalive(0)).toBe("0 (off)");
    expect(formatKeepalive(null)).toBe("—");
  });
});

describe("disconnect reasons", () => {
  it("has a human label for every reason in the vocabulary", () => {
    for (const r of DISCONNECT_REASONS) {
      expect(DISCONNECT_REASON_LABELS[r], r).toMatch(/\w/);
      expect(DISCONNECT_REASON_LABELS[r]).not.toContain("_");
    }
    expect(new Set(DISCONNECT_REASONS.map(reasonLabel)).size).toBe(DISCONNECT_REASONS.length);
  });

  it("uses the operator's words", () => {
    expect(reasonLabel("keepalive_timeout")).toBe("keepalive timeout");
    expect(reasonLabel("connection_lost")).toBe("connection lost");
    expect(reasonLabel("taken_over")).toBe("taken over (id reused)");
    expect(reasonLabel(null)).toBe("—");
  });
});

describe("describeId", () => {
  it("leaves ordinary ids alone", () => {
    expect(describeId("dev-1")).toEqual({ text: "dev-1", truncated: false, title: "dev-1", hidden: [], length: 5 });
  });

  it("keeps markup as text (React escapes it) and flags nothing", () => {
    const d = describeId("<img src=x onerror=alert(1)>");
    expect(d.text).toBe("<img src=x onerror=alert(1)>");
    expect(d.hidden).toEqual([]);
  });

  it("caps a huge id for display and tooltip without splitting a surrogate pair", () => {
    const huge = "x".repeat(100_000);
    const d = describeId(huge);
    expect(d.text).toHaveLength(ID_DISPLAY_MAX);
    expect(d.truncated).toBe(true);
    expect(d.title.length).toBeLessThan(ID_TITLE_MAX + 60);
    expect(d.title).toContain("100,000 characters");
    const emoji = "😀".repeat(ID_DISPLAY_MAX + 10);
    const e = describeId(emoji);
    expect(Array.from(e.text)).toHaveLength(ID_DISPLAY_MAX);
    expect(e.text.isWellFormed()).toBe(true);
  });

  it("flags bidi overrides and zero-width characters, spelling them out in the tooltip", () => {
    const d = describeId("evil\u202Etxt.exe");
    expect(d.text).toBe("evil\u202Etxt.exe");
    expect(d.hidden).toEqual(["U+202E"]);
    expect(d.title).toBe("evil[U+202E]txt.exe");
    expect(describeId("dev\u200B-1\u200B").hidden).toEqual(["U+200B"]);
    expect(describeId("a\nb").hidden).toEqual(["U+000A"]);
  });

  it("does not flag the joiners emoji sequences need", () => {
    expect(describeId("👨‍👩‍👧‍👦-sensor").hidden).toEqual([]);
  });
});

describe("deviceHref", () => {
  it("encodes the id as one path segment", () => {
    expect(deviceHref("a/b?c#d")).toBe("/devices/a%2Fb%3Fc%23d");
    expect(deviceHref("<img src=x>")).toBe("/devices/%3Cimg%20src%3Dx%3E");
  });

  it("survives a lone surrogate", () => {
    expect(deviceHref("lone\uD800")).toBe("/devices/lone%EF%BF%BD");
  });
});
