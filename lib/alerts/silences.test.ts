import { afterEach, describe, expect, it, vi } from "vitest";
import { globMatcher } from "../api/glob";
import {
  mutingAt,
  nextChange,
  parseSilenceInput,
  SilenceIndex,
  silenceState,
  type Recurrence,
  type Silence,
} from "./silences";

const t = (iso: string) => Date.parse(iso);

const silence = (extra: Partial<Silence> = {}): Silence => ({
  id: "sil_a",
  match: "pump-*",
  tags: [],
  startsAt: t("2026-01-01T00:00:00Z"),
  endsAt: null,
  recurrence: null,
  comment: "maintenance",
  endedAt: null,
  createdBy: null,
  createdAt: 0,
  ...extra,
});

const weekly = (timeZone: string, ...weekly: Recurrence["weekly"]): Recurrence => ({ weekly, timeZone });

describe("parseSilenceInput", () => {
  const now = t("2026-03-01T10:00:00Z");

  it("accepts a one-off silence, starting now by default, and ignores unknown fields", () => {
    const r = parseSilenceInput(
      { match: "pump-*", endsAt: "2026-03-01T12:00:00+01:00", comment: " firmware rollout ", colour: "red" },
      now,
    );
    expect(r).toEqual({
      ok: true,
      silence: {
        match: "pump-*",
        tags: [],
        startsAt: now,
        // 12:00 at +01:00 is 11:00Z.
        endsAt: t("2026-03-01T11:00:00Z"),
        recurrence: null,
        comment: "firmware rollout",
      },
    });
  });

  it("accepts a recurring silence by tags without an end, deduplicating and sorting the tags", () => {
    const r = parseSilenceInput(
      {
        match: null,
        tags: ["site:berlin", "lab", "site:berlin"],
        startsAt: "2026-03-02T00:00:00.5Z",
        recurrence: {
          weekly: [{ day: "sun", start: "02:30", minutes: 60, extra: true }],
          timeZone: "Europe/Berlin",
        },
        comment: "weekly patching",
      },
      now,
    );
    expect(r).toEqual({
      ok: true,
      silence: {
        match: null,
        tags: ["lab", "site:berlin"],
        startsAt: t("2026-03-02T00:00:00.500Z"),
        endsAt: null,
        recurrence: { weekly: [{ day: "sun", start: "02:30", minutes: 60 }], timeZone: "Europe/Berlin" },
        comment: "weekly patching",
      },
    });
  });

  it("refuses a body that is not an object", () => {
    for (const body of [null, [], "x", 3])
      expect(parseSilenceInput(body, now)).toEqual({
        ok: false,
        fields: { body: "expected a JSON object with the silence's fields" },
      });
  });

  const fieldsOf = (body: Record<string, unknown>) => {
    const r = parseSilenceInput({ comment: "c", match: "pump-*", endsAt: "2026-03-02T00:00:00Z", ...body }, now);
    if (r.ok) throw new Error("expected the body to be refused");
    return r.fields;
  };

  it("names a bad match", () => {
    expect(fieldsOf({ match: "pump-[a" }).match).toMatch(/^match unclosed "\["/);
    expect(fieldsOf({ match: "" })).toEqual({ match: "match must not be empty" });
    expect(fieldsOf({ match: "p".repeat(257) })).toEqual({ match: "match must be at most 256 characters" });
    expect(fieldsOf({ match: 5 })).toEqual({ match: "match must be a device glob such as pump-*, or null" });
  });

  it("names bad tags under one field", () => {
    expect(fieldsOf({ tags: ["ok", "Not OK"] })).toEqual({ tags: "tags must each match [a-z0-9_.:-]{1,64}" });
    expect(fieldsOf({ tags: Array.from({ length: 33 }, (_, i) => `t${i}`) })).toEqual({
      tags: "tags must be at most 32",
    });
    expect(fieldsOf({ tags: "lab" })).toEqual({ tags: "tags must be a list of tags" });
    expect(fieldsOf({ tags: [7] })).toEqual({ tags: "tags must be strings" });
  });

  it("wants a match or tags", () => {
    expect(fieldsOf({ match: undefined })).toEqual({ match: "match or tags is required" });
    expect(fieldsOf({ match: null, tags: [] })).toEqual({ match: "match or tags is required" });
    // A bad tag is reported as such, not as a missing match.
    expect(fieldsOf({ match: null, tags: ["BAD"] })).toEqual({ tags: "tags must each match [a-z0-9_.:-]{1,64}" });
  });

  it("wants ISO-8601 date-times with an offset", () => {
    const message = "startsAt must be an ISO-8601 date-time with an offset or Z, such as 2026-03-29T02:00:00Z";
    expect(fieldsOf({ startsAt: "2026-03-01T10:00:00" })).toEqual({ startsAt: message });
    expect(fieldsOf({ startsAt: "2026-02-30T10:00:00Z" })).toEqual({ startsAt: message });
    expect(fieldsOf({ startsAt: 1772359200000 })).toEqual({ startsAt: message });
    expect(fieldsOf({ endsAt: "tomorrow" }).endsAt).toMatch(/^endsAt must be an ISO-8601 date-time/);
  });

  it("wants endsAt after startsAt, and an end unless the silence recurs", () => {
    expect(fieldsOf({ startsAt: "2026-03-02T00:00:00Z" })).toEqual({ endsAt: "endsAt must be after startsAt" });
    // 01:00 at +01:00 is 00:00Z: before it, not after.
    expect(fieldsOf({ startsAt: "2026-03-02T01:00:00+01:00", endsAt: "2026-03-01T23:59:59Z" })).toEqual({
      endsAt: "endsAt must be after startsAt",
    });
    // The default start is now, 2026-03-01T10:00Z.
    expect(fieldsOf({ endsAt: "2026-03-01T09:00:00Z" })).toEqual({ endsAt: "endsAt must be after startsAt" });
    expect(fieldsOf({ endsAt: undefined })).toEqual({ endsAt: "endsAt is required unless the silence recurs" });
    expect(fieldsOf({ endsAt: null, recurrence: null })).toEqual({
      endsAt: "endsAt is required unless the silence recurs",
    });
  });

  it("names each bad part of a recurrence by its path", () => {
    expect(
      fieldsOf({
        recurrence: {
          weekly: [
            { day: "sunday", start: "24:00", minutes: 0 },
            { day: "mon", start: "9:00", minutes: 1.5 },
            { day: "tue", start: "23:59", minutes: 10_081 },
            "wed",
          ],
          timeZone: "Mars/Olympus_Mons",
        },
      }),
    ).toEqual({
      "recurrence.weekly.0.day": "recurrence.weekly.0.day must be one of mon, tue, wed, thu, fri, sat, sun",
      "recurrence.weekly.0.start": "recurrence.weekly.0.start must be a time of day HH:MM, 00:00 to 23:59",
      "recurrence.weekly.0.minutes": "recurrence.weekly.0.minutes must be 1 to 10080 minutes (a week)",
      "recurrence.weekly.1.start": "recurrence.weekly.1.start must be a time of day HH:MM, 00:00 to 23:59",
      "recurrence.weekly.1.minutes": "recurrence.weekly.1.minutes must be a whole number of minutes",
      "recurrence.weekly.2.minutes": "recurrence.weekly.2.minutes must be 1 to 10080 minutes (a week)",
      "recurrence.weekly.3": "recurrence.weekly.3 must be an object { day, start, minutes }",
      "recurrence.timeZone": "recurrence.timeZone must be an IANA time zone such as Europe/Berlin",
    });
    expect(fieldsOf({ recurrence: "weekly" })).toEqual({
      recurrence: "recurrence must be an object { weekly: [{ day, start, minutes }], timeZone }",
    });
    expect(fieldsOf({ recurrence: { weekly: [], timeZone: "UTC" } })).toEqual({
      "recurrence.weekly": "recurrence.weekly must hold at least one window",
    });
    const many = Array.from({ length: 51 }, () => ({ day: "mon", start: "00:00", minutes: 1 }));
    expect(fieldsOf({ recurrence: { weekly: many, timeZone: "UTC" } })).toEqual({
      "recurrence.weekly": "recurrence.weekly must hold at most 50 windows",
    });
    // A bad recurrence is not also reported as a missing end.
    expect(fieldsOf({ endsAt: undefined, recurrence: { weekly: [], timeZone: "UTC" } })).toEqual({
      "recurrence.weekly": "recurrence.weekly must hold at least one window",
    });
  });

  it("wants a comment", () => {
    expect(fieldsOf({ comment: undefined })).toEqual({ comment: "comment is required (why the devices are silenced)" });
    expect(fieldsOf({ comment: "   " })).toEqual({ comment: "comment must not be empty" });
    expect(fieldsOf({ comment: "x".repeat(1001) })).toEqual({ comment: "comment must be at most 1000 characters" });
    expect(parseSilenceInput({ match: "a", endsAt: "2026-03-02T00:00:00Z", comment: "x".repeat(1000) }, now).ok).toBe(
      true,
    );
  });

  it("names every bad field at once", () => {
    const r = parseSilenceInput({ match: "[", tags: ["A"], startsAt: "x", recurrence: 1, comment: "" }, now);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(Object.keys(r.fields).sort()).toEqual(["comment", "match", "recurrence", "startsAt", "tags"]);
  });
});

describe("a one-off silence", () => {
  const s = silence({ startsAt: t("2026-03-01T10:00:00Z"), endsAt: t("2026-03-01T12:00:00Z") });

  it("mutes from startsAt up to (not including) endsAt", () => {
    expect(mutingAt(s, t("2026-03-01T09:59:59.999Z"))).toBe(false);
    expect(mutingAt(s, t("2026-03-01T10:00:00Z"))).toBe(true);
    expect(mutingAt(s, t("2026-03-01T11:59:59.999Z"))).toBe(true);
    expect(mutingAt(s, t("2026-03-01T12:00:00Z"))).toBe(false);
  });

  it("is upcoming, active, then expired", () => {
    expect(silenceState(s, t("2026-03-01T09:59:59.999Z"))).toBe("upcoming");
    expect(silenceState(s, t("2026-03-01T10:00:00Z"))).toBe("active");
    expect(silenceState(s, t("2026-03-01T12:00:00Z"))).toBe("expired");
  });

  it("changes at startsAt and at endsAt, then never", () => {
    expect(nextChange(s, t("2026-02-01T00:00:00Z"))).toBe(t("2026-03-01T10:00:00Z"));
    expect(nextChange(s, t("2026-03-01T10:00:00Z"))).toBe(t("2026-03-01T12:00:00Z"));
    expect(nextChange(s, t("2026-03-01T12:00:00Z"))).toBeNull();
  });

  it("stops when ended early", () => {
    const ended = { ...s, endedAt: t("2026-03-01T11:00:00Z") };
    expect(mutingAt(ended, t("2026-03-01T10:59:59.999Z"))).toBe(true);
    expect(mutingAt(ended, t("2026-03-01T11:00:00Z"))).toBe(false);
    expect(silenceState(ended, t("2026-03-01T11:00:00Z"))).toBe("expired");
    expect(nextChange(ended, t("2026-03-01T10:30:00Z"))).toBe(t("2026-03-01T11:00:00Z"));
    expect(nextChange(ended, t("2026-03-01T11:00:00Z"))).toBeNull();
  });

  it("is expired, never muting, when ended before it started", () => {
    const cancelled = { ...s, endedAt: t("2026-03-01T08:00:00Z") };
    expect(silenceState(cancelled, t("2026-03-01T09:00:00Z"))).toBe("expired");
    expect(mutingAt(cancelled, t("2026-03-01T10:30:00Z"))).toBe(false);
    expect(nextChange(cancelled, t("2026-03-01T09:00:00Z"))).toBeNull();
    expect(nextChange(cancelled, t("2026-03-01T07:00:00Z"))).toBe(t("2026-03-01T08:00:00Z"));
  });
});

describe("a weekly window", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  // Europe/Berlin is CET (+01:00) in winter and CEST (+02:00) in summer. In 2026
  // the clocks go forward on Sunday 29 March at 02:00 CET (01:00Z) to 03:00 CEST,
  // and back on Sunday 25 October at 03:00 CEST (01:00Z) to 02:00 CET.

  it("moves a start that the spring-forward skips forward by the gap", () => {
    const s = silence({
      startsAt: t("2026-03-01T00:00:00Z"),
      recurrence: weekly("Europe/Berlin", { day: "sun", start: "02:30", minutes: 60 }),
    });
    // Sunday 22 March, CET: 02:30+01:00 is 01:30Z, until 02:30Z.
    expect(mutingAt(s, t("2026-03-22T01:29:59.999Z"))).toBe(false);
    expect(mutingAt(s, t("2026-03-22T01:30:00Z"))).toBe(true);
    expect(mutingAt(s, t("2026-03-22T02:29:59.999Z"))).toBe(true);
    expect(mutingAt(s, t("2026-03-22T02:30:00Z"))).toBe(false);
    // Sunday 29 March: 02:30 does not exist; it becomes 03:30 CEST, 01:30Z, for 60 minutes: until 02:30Z.
    expect(mutingAt(s, t("2026-03-29T00:30:00Z"))).toBe(false);
    expect(mutingAt(s, t("2026-03-29T01:29:59.999Z"))).toBe(false);
    expect(mutingAt(s, t("2026-03-29T01:30:00Z"))).toBe(true);
    expect(mutingAt(s, t("2026-03-29T02:29:59.999Z"))).toBe(true);
    expect(mutingAt(s, t("2026-03-29T02:30:00Z"))).toBe(false);
    expect(nextChange(s, t("2026-03-28T12:00:00Z"))).toBe(t("2026-03-29T01:30:00Z"));
    expect(nextChange(s, t("2026-03-29T01:30:00Z"))).toBe(t("2026-03-29T02:30:00Z"));
    // Sunday 5 April, CEST: 02:30+02:00 is 00:30Z.
    expect(nextChange(s, t("2026-03-29T02:30:00Z"))).toBe(t("2026-04-05T00:30:00Z"));
    expect(mutingAt(s, t("2026-04-05T00:30:00Z"))).toBe(true);
    expect(mutingAt(s, t("2026-04-05T01:30:00Z"))).toBe(false);
  });

  it("lasts its minutes of real time across the fall-back", () => {
    const s = silence({
      startsAt: t("2026-10-01T00:00:00Z"),
      recurrence: weekly("Europe/Berlin", { day: "sun", start: "01:00", minutes: 180 }),
    });
    // Sunday 18 October, CEST: 01:00+02:00 is 17 October 23:00Z, 180 minutes until 02:00Z (04:00 CEST).
    expect(mutingAt(s, t("2026-10-17T22:59:59.999Z"))).toBe(false);
    expect(mutingAt(s, t("2026-10-17T23:00:00Z"))).toBe(true);
    expect(mutingAt(s, t("2026-10-18T01:59:59.999Z"))).toBe(true);
    expect(mutingAt(s, t("2026-10-18T02:00:00Z"))).toBe(false);
    // Sunday 25 October: 01:00 CEST is 24 October 23:00Z; 180 real minutes end at 02:00Z, which the wall
    // clock shows as 03:00 CET (not 04:00 CET, 03:00Z, as three wall-clock hours would give).
    expect(nextChange(s, t("2026-10-24T12:00:00Z"))).toBe(t("2026-10-24T23:00:00Z"));
    expect(mutingAt(s, t("2026-10-24T23:00:00Z"))).toBe(true);
    expect(mutingAt(s, t("2026-10-25T01:59:59.999Z"))).toBe(true);
    expect(mutingAt(s, t("2026-10-25T02:00:00Z"))).toBe(false);
    expect(mutingAt(s, t("2026-10-25T02:30:00Z"))).toBe(false);
    expect(nextChange(s, t("2026-10-24T23:00:00Z"))).toBe(t("2026-10-25T02:00:00Z"));
    // Sunday 1 November, CET: 01:00+01:00 is 00:00Z.
    expect(nextChange(s, t("2026-10-25T02:00:00Z"))).toBe(t("2026-11-01T00:00:00Z"));
  });

  it("starts a wall time that happens twice at its first instant, whatever the machine's clock says", () => {
    const s = silence({
      startsAt: t("2026-10-01T00:00:00Z"),
      recurrence: weekly("Europe/Berlin", { day: "sun", start: "02:30", minutes: 30 }),
    });
    // On 25 October 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET): the first counts.
    for (const machineClock of ["2026-01-15T12:00:00Z", "2026-07-15T12:00:00Z"]) {
      vi.useFakeTimers();
      vi.setSystemTime(t(machineClock));
      expect(mutingAt(s, t("2026-10-25T00:30:00Z"))).toBe(true);
      expect(mutingAt(s, t("2026-10-25T01:30:00Z"))).toBe(false);
      expect(nextChange(s, t("2026-10-25T00:00:00Z"))).toBe(t("2026-10-25T00:30:00Z"));
      expect(nextChange(s, t("2026-10-25T00:30:00Z"))).toBe(t("2026-10-25T01:00:00Z"));
      vi.useRealTimers();
    }
  });

  it("crosses midnight", () => {
    // 2026-01-09 is a Friday; America/New_York is EST (-05:00) in January.
    const s = silence({
      startsAt: t("2026-01-01T00:00:00Z"),
      recurrence: weekly("America/New_York", { day: "fri", start: "22:00", minutes: 240 }),
    });
    // Friday 22:00 EST is Saturday 03:00Z; 240 minutes later, Saturday 02:00 EST, is 07:00Z.
    expect(mutingAt(s, t("2026-01-10T02:59:59.999Z"))).toBe(false);
    expect(mutingAt(s, t("2026-01-10T03:00:00Z"))).toBe(true);
    // Saturday 01:59 local: covered by Friday's occurrence.
    expect(mutingAt(s, t("2026-01-10T06:59:00Z"))).toBe(true);
    expect(mutingAt(s, t("2026-01-10T07:00:00Z"))).toBe(false);
    expect(nextChange(s, t("2026-01-10T05:00:00Z"))).toBe(t("2026-01-10T07:00:00Z"));
    expect(nextChange(s, t("2026-01-10T07:00:00Z"))).toBe(t("2026-01-17T03:00:00Z"));
  });

  it("lasts up to a week, reaching back seven days", () => {
    // Saturday 2026-01-03 12:00Z for 10079 minutes (a week less one minute): until Saturday 10 January 11:59Z.
    const s = silence({
      startsAt: t("2026-01-01T00:00:00Z"),
      recurrence: weekly("UTC", { day: "sat", start: "12:00", minutes: 10_079 }),
    });
    expect(mutingAt(s, t("2026-01-10T11:58:59.999Z"))).toBe(true);
    expect(mutingAt(s, t("2026-01-10T11:59:00Z"))).toBe(false);
    expect(mutingAt(s, t("2026-01-10T12:00:00Z"))).toBe(true);
    expect(nextChange(s, t("2026-01-05T00:00:00Z"))).toBe(t("2026-01-10T11:59:00Z"));
    expect(nextChange(s, t("2026-01-10T11:59:00Z"))).toBe(t("2026-01-10T12:00:00Z"));
  });

  it("runs touching or overlapping windows together", () => {
    // Monday 2026-01-05: 09:00–10:00 and 10:00–11:00 UTC, and 10:30–10:45 inside.
    const s = silence({
      startsAt: t("2026-01-01T00:00:00Z"),
      recurrence: weekly(
        "UTC",
        { day: "mon", start: "09:00", minutes: 60 },
        { day: "mon", start: "10:00", minutes: 60 },
        { day: "mon", start: "10:30", minutes: 15 },
      ),
    });
    expect(nextChange(s, t("2026-01-05T08:00:00Z"))).toBe(t("2026-01-05T09:00:00Z"));
    expect(nextChange(s, t("2026-01-05T09:00:00Z"))).toBe(t("2026-01-05T11:00:00Z"));
    expect(mutingAt(s, t("2026-01-05T10:00:00Z"))).toBe(true);
  });

  it("counts an occurrence under way at startsAt from startsAt", () => {
    // Mondays 09:00–17:00 UTC; the silence starts on Monday 2026-01-05 at 12:00Z.
    const s = silence({
      startsAt: t("2026-01-05T12:00:00Z"),
      recurrence: weekly("UTC", { day: "mon", start: "09:00", minutes: 480 }),
    });
    expect(mutingAt(s, t("2026-01-05T11:59:59.999Z"))).toBe(false);
    expect(silenceState(s, t("2026-01-05T11:59:59.999Z"))).toBe("upcoming");
    expect(mutingAt(s, t("2026-01-05T12:00:00Z"))).toBe(true);
    expect(mutingAt(s, t("2026-01-05T16:59:59.999Z"))).toBe(true);
    expect(mutingAt(s, t("2026-01-05T17:00:00Z"))).toBe(false);
    // Between occurrences: active as a whole, but not muting.
    expect(silenceState(s, t("2026-01-05T17:30:00Z"))).toBe("active");
    expect(nextChange(s, t("2026-01-05T10:00:00Z"))).toBe(t("2026-01-05T12:00:00Z"));
    expect(nextChange(s, t("2026-01-05T12:00:00Z"))).toBe(t("2026-01-05T17:00:00Z"));
    expect(nextChange(s, t("2026-01-05T17:00:00Z"))).toBe(t("2026-01-12T09:00:00Z"));
  });

  it("changes state at startsAt and endsAt even between occurrences, and stops at the end", () => {
    // Mondays 09:00–17:00 UTC, from Tuesday 2026-01-06 until Monday 2026-01-12 13:00Z.
    const s = silence({
      startsAt: t("2026-01-06T00:00:00Z"),
      endsAt: t("2026-01-12T13:00:00Z"),
      recurrence: weekly("UTC", { day: "mon", start: "09:00", minutes: 480 }),
    });
    expect(mutingAt(s, t("2026-01-05T12:00:00Z"))).toBe(false);
    expect(nextChange(s, t("2026-01-05T12:00:00Z"))).toBe(t("2026-01-06T00:00:00Z"));
    expect(nextChange(s, t("2026-01-06T00:00:00Z"))).toBe(t("2026-01-12T09:00:00Z"));
    expect(nextChange(s, t("2026-01-12T10:00:00Z"))).toBe(t("2026-01-12T13:00:00Z"));
    expect(mutingAt(s, t("2026-01-12T13:00:00Z"))).toBe(false);
    expect(silenceState(s, t("2026-01-12T13:00:00Z"))).toBe("expired");
    expect(nextChange(s, t("2026-01-12T13:00:00Z"))).toBeNull();
  });

  it("never mutes in a time zone it does not know", () => {
    const s = silence({ recurrence: weekly("Mars/Olympus_Mons", { day: "mon", start: "00:00", minutes: 10_080 }) });
    expect(mutingAt(s, t("2026-01-05T12:00:00Z"))).toBe(false);
    expect(nextChange(s, t("2026-01-05T12:00:00Z"))).toBeNull();
  });
});

describe("SilenceIndex", () => {
  const now = t("2026-03-01T10:00:00Z");
  const oneOff = { startsAt: t("2026-03-01T00:00:00Z"), endsAt: t("2026-03-02T00:00:00Z") };

  it("finds a silence by glob or by tag; one with both covers the devices of either", () => {
    const index = new SilenceIndex(
      [
        silence({ id: "sil_pumps", match: "pump-*", ...oneOff }),
        silence({ id: "sil_berlin", match: null, tags: ["site:berlin"], ...oneOff }),
        silence({ id: "sil_both", match: "valve-?", tags: ["lab"], ...oneOff }),
      ],
      globMatcher,
    );
    expect(index.mutedBy("pump-7", [], now)).toBe("sil_pumps");
    expect(index.mutedBy("fan-1", ["x", "site:berlin"], now)).toBe("sil_berlin");
    expect(index.mutedBy("valve-1", [], now)).toBe("sil_both");
    expect(index.mutedBy("fan-2", ["lab"], now)).toBe("sil_both");
    expect(index.mutedBy("fan-3", ["site:paris"], now)).toBeNull();
    expect(index.mutedBy("valve-12", [], now)).toBeNull();
    // Matching is case-sensitive, as device ids are.
    expect(index.mutedBy("Pump-7", [], now)).toBeNull();
  });

  it("answers with the first silence in the order given", () => {
    const index = new SilenceIndex(
      [silence({ id: "sil_1", match: "pump-1", ...oneOff }), silence({ id: "sil_2", match: "pump-*", ...oneOff })],
      globMatcher,
    );
    expect(index.mutedBy("pump-1", [], now)).toBe("sil_1");
    expect(index.mutedBy("pump-2", [], now)).toBe("sil_2");
  });

  it("skips silences that are upcoming, expired or ended", () => {
    const index = new SilenceIndex(
      [
        silence({ id: "sil_later", startsAt: t("2026-03-01T11:00:00Z"), endsAt: t("2026-03-01T12:00:00Z") }),
        silence({ id: "sil_over", startsAt: t("2026-02-01T00:00:00Z"), endsAt: now }),
        silence({ id: "sil_ended", ...oneOff, endedAt: t("2026-03-01T09:00:00Z") }),
      ],
      globMatcher,
    );
    expect(index.mutedBy("pump-1", [], now)).toBeNull();
    expect(index.mutedBy("pump-1", [], t("2026-03-01T11:00:00Z"))).toBe("sil_later");
    expect(index.nextChange(now)).toBe(t("2026-03-01T11:00:00Z"));
  });

  it("compiles each glob once", () => {
    const compile = vi.fn(globMatcher);
    const index = new SilenceIndex(
      [
        silence({ id: "sil_a", match: "pump-*", ...oneOff }),
        silence({ id: "sil_b", match: null, tags: ["lab"], ...oneOff }),
      ],
      compile,
    );
    for (let i = 0; i < 100; i++) index.mutedBy(`dev-${i}`, [], now);
    expect(compile).toHaveBeenCalledTimes(1);
    expect(compile).toHaveBeenCalledWith("pump-*");
  });

  it("treats a glob the matcher refuses as matching no device, keeping the tags", () => {
    const index = new SilenceIndex(
      [silence({ id: "sil_bad", match: "pump-[a", tags: ["lab"], ...oneOff })],
      globMatcher,
    );
    expect(index.mutedBy("pump-a", [], now)).toBeNull();
    expect(index.mutedBy("pump-a", ["lab"], now)).toBe("sil_bad");
  });

  it("follows a recurring silence's occurrences, whichever way time is asked", () => {
    // Mondays 09:00–17:00 UTC (2026-01-05 is a Monday), from 2026-01-01.
    const index = new SilenceIndex(
      [
        silence({
          id: "sil_weekly",
          startsAt: t("2026-01-01T00:00:00Z"),
          recurrence: weekly("UTC", { day: "mon", start: "09:00", minutes: 480 }),
        }),
      ],
      globMatcher,
    );
    expect(index.mutedBy("pump-1", [], t("2026-01-05T08:59:59.999Z"))).toBeNull();
    expect(index.mutedBy("pump-1", [], t("2026-01-05T09:00:00Z"))).toBe("sil_weekly");
    expect(index.mutedBy("pump-1", [], t("2026-01-05T16:59:59.999Z"))).toBe("sil_weekly");
    expect(index.mutedBy("pump-1", [], t("2026-01-05T17:00:00Z"))).toBeNull();
    expect(index.mutedBy("pump-1", [], t("2026-01-05T12:00:00Z"))).toBe("sil_weekly");
    expect(index.mutedBy("pump-1", [], t("2026-01-04T12:00:00Z"))).toBeNull();
    expect(index.mutedBy("pump-1", [], t("2026-01-12T10:00:00Z"))).toBe("sil_weekly");
    expect(index.nextChange(t("2026-01-05T12:00:00Z"))).toBe(t("2026-01-05T17:00:00Z"));
    expect(index.nextChange(t("2026-01-05T17:00:00Z"))).toBe(t("2026-01-12T09:00:00Z"));
  });

  it("gives the earliest next change of all silences, or null", () => {
    const silences = [
      silence({ id: "sil_one", startsAt: t("2026-01-05T00:00:00Z"), endsAt: t("2026-01-05T20:00:00Z") }),
      silence({
        id: "sil_weekly",
        startsAt: t("2026-01-01T00:00:00Z"),
        endsAt: t("2026-01-06T00:00:00Z"),
        recurrence: weekly("UTC", { day: "mon", start: "09:00", minutes: 480 }),
      }),
    ];
    const index = new SilenceIndex(silences, globMatcher);
    expect(index.nextChange(t("2026-01-04T00:00:00Z"))).toBe(t("2026-01-05T00:00:00Z"));
    expect(index.nextChange(t("2026-01-05T00:00:00Z"))).toBe(t("2026-01-05T09:00:00Z"));
    expect(index.nextChange(t("2026-01-05T09:00:00Z"))).toBe(t("2026-01-05T17:00:00Z"));
    expect(index.nextChange(t("2026-01-05T17:00:00Z"))).toBe(t("2026-01-05T20:00:00Z"));
    expect(index.nextChange(t("2026-01-05T20:00:00Z"))).toBe(t("2026-01-06T00:00:00Z"));
    expect(index.nextChange(t("2026-01-06T00:00:00Z"))).toBeNull();
    expect(new SilenceIndex([], globMatcher).nextChange(now)).toBeNull();
  });
});
