import { describe, expect, it } from "vitest";
import { compileGlob, DEFAULT_RULE, parseRuleInput, RuleSet, ruleWarnings, type AlertRule } from "./rules";

const rule = (id: number, match: string, extra: Partial<AlertRule> = {}): AlertRule => ({
  ...DEFAULT_RULE,
  id,
  name: `r${id}`,
  match,
  isDefault: false,
  ...extra,
});

describe("parseRuleInput", () => {
  it("accepts a minimal rule and fills the defaults", () => {
    const r = parseRuleInput({ name: " pumps ", match: "pump-*" });
    expect(r).toEqual({
      ok: true,
      rule: {
        name: "pumps",
        match: "pump-*",
        offlineFactor: 1.5,
        offlineSeconds: null,
        lateFactor: null,
        flapDisconnects: null,
        flapWindowSeconds: null,
        nearMissRatio: null,
        resolveAfterSeconds: 30,
        repeatIntervalSeconds: null,
        webhookUrl: null,
        channelIds: [],
        tags: [],
        enabled: true,
      },
    });
  });

  it("takes offlineSeconds instead of the factor (the way to watch keepalive-0 devices)", () => {
    const r = parseRuleInput({ name: "sleepy", match: "s-*", offlineSeconds: 300, webhookUrl: "http://127.0.0.1:9/x" });
    expect(r.ok && r.rule).toMatchObject({
      offlineSeconds: 300,
      offlineFactor: null,
      webhookUrl: "http://127.0.0.1:9/x",
    });
  });

  it("names every bad field with its own message, unknown fields included", () => {
    const r = parseRuleInput({
      name: "",
      match: "pump-[a",
      offlineFactor: -1,
      lateFactor: 1e9,
      flapDisconnects: 2.5,
      flapWindowSeconds: 60,
      nearMissRatio: 2,
      resolveAfterSeconds: -5,
      webhookUrl: "ftp://example.com/hook",
      colour: "red",
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(Object.keys(r.fields).sort()).toEqual(
      [
        "colour",
        "flapDisconnects",
        "lateFactor",
        "match",
        "name",
        "nearMissRatio",
        "offlineFactor",
        "resolveAfterSeconds",
        "webhookUrl",
      ].sort(),
    );
    expect(r.fields.match).toMatch(/unclosed "\["/);
    expect(r.fields.offlineFactor).toMatch(/at least 1 and at most 100/);
    expect(r.fields.flapDisconnects).toMatch(/whole number/);
    expect(r.fields.webhookUrl).toMatch(/http:\/\/ or https:\/\//);
    expect(r.fields.colour).toBe('unknown field "colour"');
  });

  it("rejects empty globs, both offline thresholds, a late factor past the offline one, half a flap setting", () => {
    const r = parseRuleInput({
      name: "x",
      match: "   ",
      offlineFactor: 2,
      offlineSeconds: 10,
      flapDisconnects: 5,
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.fields).toMatchObject({
      match: "match must not be only spaces",
      offlineSeconds: "give offlineFactor or offlineSeconds, not both",
      flapWindowSeconds: expect.stringMatching(/go together/),
    });
    const late = parseRuleInput({ name: "x", match: "*", lateFactor: 2 });
    expect(!late.ok && late.fields.lateFactor).toMatch(/below the offline factor \(1.5\)/);
    expect(parseRuleInput({ name: "x", match: "" })).toMatchObject({
      ok: false,
      fields: { match: "match must not be empty" },
    });
    expect(parseRuleInput({ name: "x", match: "a", offlineSeconds: Number.NaN })).toMatchObject({ ok: false });
    expect(parseRuleInput({ name: "x", match: "a", webhookUrl: "http://user:pw@host/x" })).toMatchObject({
      ok: false,
      fields: { webhookUrl: expect.stringMatching(/credentials/) },
    });
    expect(parseRuleInput([1])).toMatchObject({ ok: false, fields: { body: expect.any(String) } });
  });
});

describe("globs and precedence", () => {
  it("matches like the history filter: *, ?, classes, escapes; case-sensitive", () => {
    const m = (glob: string, id: string) => compileGlob(glob).matches(id);
    expect(m("pump-*", "pump-1")).toBe(true);
    expect(m("pump-*", "Pump-1")).toBe(false);
    expect(m("pump-?", "pump-12")).toBe(false);
    expect(m("pump-[a-c]9", "pump-b9")).toBe(true);
    expect(m("pump-[!a-c]9", "pump-b9")).toBe(false);
    expect(m("a\\*b", "a*b")).toBe(true);
    expect(m("a\\*b", "axb")).toBe(false);
    expect(m("x.y", "xzy")).toBe(false); // regex characters are literals
    expect(m("[-]", "-")).toBe(true);
  });

  it("orders exact ids, then longer literal prefixes, more literals, fewer wildcards, then the older rule; default last", () => {
    const set = new RuleSet([
      rule(1, "*", { isDefault: true }),
      rule(2, "pump-*"),
      rule(3, "pump-7*"),
      rule(4, "pump-77"),
      rule(5, "pump-*-a"),
      rule(6, "pump-*?"),
      rule(7, "pump-[ab]"),
      rule(8, "p*"),
      rule(9, "pump-*"),
    ]);
    expect(set.ordered.map((c) => c.rule.match + "#" + c.rule.id)).toEqual([
      "pump-77#4",
      "pump-7*#3",
      "pump-*-a#5",
      "pump-[ab]#7",
      "pump-*#2",
      "pump-*#9",
      "pump-*?#6",
      "p*#8",
      "*#1",
    ]);
    expect(set.ruleFor("pump-77")?.id).toBe(4);
    expect(set.ruleFor("pump-1-a")?.id).toBe(5);
    expect(set.ruleFor("pump-a")?.id).toBe(7);
    expect(set.ruleFor("pump-x")?.id).toBe(2);
    expect(set.ruleFor("pipe")?.id).toBe(8);
    expect(set.ruleFor("valve")?.id).toBe(1);
    expect(set.matching("pump-77").map((r) => r.id)).toEqual([4, 3, 2, 9, 6, 8, 1]);
  });

  it("matches by tags too: exact id first, then tag rules, then globs; a rule with both needs both", () => {
    const set = new RuleSet([
      rule(1, "*", { isDefault: true }),
      rule(2, "pump-*"),
      rule(3, "*", { tags: ["critical", "site:a"] }),
      rule(4, "pump-*", { tags: ["site:b"] }),
      rule(5, "pump-7"),
    ]);
    // A tag rule beats the longer glob; an exact id beats the tag rule.
    expect(set.ruleFor("pump-1", ["critical"])?.id).toBe(3);
    expect(set.ruleFor("pump-7", ["critical"])?.id).toBe(5);
    // Any of the tags.
    expect(set.ruleFor("valve-1", ["site:a"])?.id).toBe(3);
    // Both: the glob must match as well as a tag.
    expect(set.ruleFor("pump-1", ["site:b"])?.id).toBe(4);
    expect(set.ruleFor("valve-1", ["site:b"])?.id).toBe(1);
    // No tags: tag rules never apply.
    expect(set.ruleFor("pump-1")?.id).toBe(2);
    expect(parseRuleInput({ name: "t", match: "*", tags: ["Bad Tag"] })).toEqual({
      ok: false,
      fields: { tags: "tags must each match [a-z0-9_.:-]{1,64}" },
    });
  });

  it("skips disabled rules, and a disabled default leaves devices unwatched", () => {
    const set = new RuleSet([rule(1, "*", { isDefault: true, enabled: false }), rule(2, "pump-*", { enabled: false })]);
    expect(set.ruleFor("pump-1")).toBeNull();
  });
});

describe("ruleWarnings", () => {
  it("warns about silence thresholds that need pings when no source sees them", () => {
    const strict = { ...DEFAULT_RULE, offlineSeconds: 3, offlineFactor: null, lateFactor: 1.2, nearMissRatio: 0.9 };
    expect(ruleWarnings(strict, true)).toEqual([]);
    const w = ruleWarnings(strict, false);
    expect(w).toHaveLength(3);
    expect(w[0]).toMatch(/offlineSeconds 3: this monitor has no source that sees pings/);
    expect(ruleWarnings({ ...DEFAULT_RULE, offlineFactor: 1.2 }, false)[0]).toMatch(/below the broker's own 1.5/);
    expect(ruleWarnings(DEFAULT_RULE, false)).toEqual([]);
  });
});
