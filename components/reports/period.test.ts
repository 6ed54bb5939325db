import { describe, expect, it } from "vitest";
import { parseView, reportQuery, viewToSearch } from "./period";

const NOW = Date.parse("2026-11-08T00:00:00Z");

describe("report view in the URL", () => {
  it("defaults to the last 24 hours and measures presets back from now", () => {
    const v = parseView(new URLSearchParams(""));
    expect(v).toEqual({ period: "24h", from: null, to: null, device: "", tag: "" });
    expect(viewToSearch(v)).toBe("");
    expect(reportQuery({ ...v, period: "7d", tag: "site:north" }, NOW)).toBe(
      "from=2026-11-01T00%3A00%3A00.000Z&to=2026-11-08T00%3A00%3A00.000Z&tag=site%3Anorth",
    );
  });

  it("keeps a custom period and the filters through the URL, and ignores an unknown period", () => {
    const search = viewToSearch({
      period: "custom",
      from: "2026-11-01T00:00:00.000Z",
      to: "2026-11-02T00:00:00.000Z",
      device: "pump-*",
      tag: "",
    });
    const v = parseView(new URLSearchParams(search));
    expect(v).toEqual({
      period: "custom",
      from: "2026-11-01T00:00:00.000Z",
      to: "2026-11-02T00:00:00.000Z",
      device: "pump-*",
      tag: "",
    });
    expect(reportQuery(v, NOW)).toBe("from=2026-11-01T00%3A00%3A00.000Z&to=2026-11-02T00%3A00%3A00.000Z&device=pump-*");
    expect(parseView(new URLSearchParams("period=1y")).period).toBe("24h");
  });
});
