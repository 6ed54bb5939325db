import { describe, expect, it } from "vitest";
import { compileDeviceGlob, globMatcher } from "@/lib/api/glob";
import { localInputToMs, MUTE_HOUR_MS, muteRequest } from "./mute";

const NOW = Date.parse("2026-12-03T10:00:00.000Z");

describe("muteRequest", () => {
  it("mutes exactly the device, from now for the chosen time, saying who and where", () => {
    const r = muteRequest({
      deviceId: "pump-1",
      username: "ana",
      from: "alerts page",
      now: NOW,
      endsAt: NOW + MUTE_HOUR_MS,
    });
    expect(r).toEqual({
      ok: true,
      body: {
        match: "pump-1",
        startsAt: "2026-12-03T10:00:00.000Z",
        endsAt: "2026-12-03T11:00:00.000Z",
        comment: "muted from the alerts page by ana",
      },
    });
  });

  it("escapes every glob metacharacter, so the silence covers that one id and no other", () => {
    const id = "a*b?c[d]\\e";
    const r = muteRequest({ deviceId: id, username: "ana", from: "device page", now: NOW, endsAt: NOW + 1 });
    if (!r.ok) throw new Error(r.message);
    expect(r.body.match).toBe("a\\*b\\?c\\[d\\]\\\\e");
    expect(compileDeviceGlob(r.body.match)).toEqual({ kind: "exact", id });
    // The silences' own matcher: that id, not the ids the unescaped glob would have caught.
    const matches = globMatcher(r.body.match);
    expect(matches(id)).toBe(true);
    for (const near of ["aZZbQcd\\e", "aXb?c[d]\\e", "a*bXc[d]\\e", "a*b?cd\\e", "a*b?c[d]e"])
      expect(matches(near)).toBe(false);
    for (const other of ["a*b?c[d]\\e", "pump-*", "[x]", "?"]) {
      const m = muteRequest({ deviceId: other, username: null, from: "x", now: NOW, endsAt: NOW + 1 });
      if (!m.ok) throw new Error(m.message);
      expect(compileDeviceGlob(m.body.match)).toEqual({ kind: "exact", id: other });
    }
  });

  it("takes the operator's own comment when given", () => {
    const r = muteRequest({
      deviceId: "d",
      username: null,
      from: "alerts page",
      now: NOW,
      endsAt: NOW + 1,
      comment: "  firmware update  ",
    });
    expect(r.ok && r.body.comment).toBe("firmware update");
    const blank = muteRequest({
      deviceId: "d",
      username: null,
      from: "alerts page",
      now: NOW,
      endsAt: NOW + 1,
      comment: " ",
    });
    expect(blank.ok && blank.body.comment).toBe("muted from the alerts page by someone");
  });

  it("refuses an end that is not in the future or not a time", () => {
    expect(muteRequest({ deviceId: "d", username: "a", from: "x", now: NOW, endsAt: NOW })).toEqual({
      ok: false,
      message: "the mute must end in the future",
    });
    expect(muteRequest({ deviceId: "d", username: "a", from: "x", now: NOW, endsAt: localInputToMs("") }).ok).toBe(
      false,
    );
  });
});

describe("localInputToMs", () => {
  it("reads a datetime-local value as local time", () => {
    expect(localInputToMs("2026-12-03T11:30")).toBe(new Date(2026, 11, 3, 11, 30).getTime());
    expect(localInputToMs("")).toBeNaN();
  });
});
