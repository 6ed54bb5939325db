import { describe, expect, it } from "vitest";
import { DEFAULT_VIEW, hrefWithTag, streamUrl, tagFromQuery, WINDOW_LIMIT, windowFor } from "./select";

describe("the tag filter in the URL", () => {
  it("reads one well-formed tag from ?tag=, anything else as no filter", () => {
    expect(tagFromQuery("site:north")).toBe("site:north");
    expect(tagFromQuery(undefined)).toBe("");
    expect(tagFromQuery(null)).toBe("");
    expect(tagFromQuery("")).toBe("");
    expect(tagFromQuery(["pumps", "site:north"])).toBe("");
    expect(tagFromQuery("Bad Tag")).toBe("");
    expect(tagFromQuery("x".repeat(65))).toBe("");
  });

  it("sets and removes ?tag= keeping the rest of the address", () => {
    expect(hrefWithTag("http://h/?x=1", "pumps")).toBe("http://h/?x=1&tag=pumps");
    expect(hrefWithTag("http://h/?tag=pumps&x=1", "site:north")).toBe("http://h/?tag=site%3Anorth&x=1");
    expect(hrefWithTag("http://h/?tag=pumps&x=1#top", "")).toBe("http://h/?x=1#top");
    // Round trip: what is written is read back.
    expect(tagFromQuery(new URL(hrefWithTag("http://h/", "a.b_c-d:e")).searchParams.get("tag"))).toBe("a.b_c-d:e");
  });
});

describe("the stream's address", () => {
  it("is plain for the default view and window, and carries every change", () => {
    expect(streamUrl(DEFAULT_VIEW, { offset: 0, limit: WINDOW_LIMIT })).toBe("/api/stream");
    const url = new URL(
      streamUrl(
        { status: "offline", search: "  pump & co ", tag: "site:north", sortKey: "lastSeen", sortDir: "desc" },
        { offset: 400, limit: 50 },
      ),
      "http://h",
    );
    expect(Object.fromEntries(url.searchParams)).toEqual({
      status: "offline",
      q: "pump & co",
      tag: "site:north",
      sort: "lastSeen",
      dir: "desc",
      offset: "400",
      limit: "50",
    });
  });
});

describe("moving the window", () => {
  const want = { offset: 1000, limit: 200 };
  it("stays while the rows in view sit well inside it", () => {
    expect(windowFor(1050, 1080, 1_000_000, want)).toBe(want);
  });
  it("moves to start a third of a window above rows near either edge", () => {
    expect(windowFor(1170, 1199, 1_000_000, want)).toEqual({ offset: 1104, limit: 200 });
    expect(windowFor(1010, 1040, 1_000_000, want)).toEqual({ offset: 944, limit: 200 });
    expect(windowFor(500_000, 500_030, 1_000_000, want)).toEqual({ offset: 499_934, limit: 200 });
  });
  it("stays at the ends of the view", () => {
    const top = { offset: 0, limit: 200 };
    expect(windowFor(0, 30, 1_000_000, top)).toBe(top);
    const bottom = { offset: 999_800, limit: 200 };
    expect(windowFor(999_970, 999_999, 1_000_000, bottom)).toBe(bottom);
  });
});
