import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AppError } from "./errors";
import { compileDeviceGlob, DEVICE_GLOB_MAX, globMatcher } from "./glob";

/** Generous: a property runs in about a second, but a loaded CI machine must not make it flaky. */
const PROPERTY_TEST = { timeout: 60_000 };

/** What Postgres' LIKE (backslash escape) would match, for checking patterns without a database. */
function likeToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\") re += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    else if (ch === "%") re += "[\\s\\S]*";
    else if (ch === "_") re += "[\\s\\S]";
    else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "u");
}

const error = (fn: () => unknown): AppError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error("did not throw");
};

describe("device globs", () => {
  it("treats a glob without wildcards as an exact id", () => {
    expect(compileDeviceGlob("sensor-1")).toEqual({ kind: "exact", id: "sensor-1" });
    expect(compileDeviceGlob("50%_off")).toEqual({ kind: "exact", id: "50%_off" });
    expect(compileDeviceGlob("a\\*b\\?c\\[d\\]\\\\")).toEqual({ kind: "exact", id: "a*b?c[d]\\" });
    // A backslash before anything else is itself.
    expect(compileDeviceGlob("plant\\line")).toEqual({ kind: "exact", id: "plant\\line" });
  });

  it("turns * and ? into LIKE wildcards and escapes LIKE's own", () => {
    expect(compileDeviceGlob("sensor-*")).toEqual({ kind: "like", pattern: "sensor-%" });
    expect(compileDeviceGlob("dev-??")).toEqual({ kind: "like", pattern: "dev-__" });
    expect(compileDeviceGlob("100%_*")).toEqual({ kind: "like", pattern: "100\\%\\_%" });
    expect(compileDeviceGlob("a\\b*")).toEqual({ kind: "like", pattern: "a\\\\b%" });
    expect(compileDeviceGlob("**x***")).toEqual({ kind: "like", pattern: "%x%" });
  });

  it("matches what a shell glob would", () => {
    const cases: Array<[string, string[], string[]]> = [
      ["sensor-*", ["sensor-", "sensor-1", "sensor-abc/def"], ["Sensor-1", "xsensor-1", "sensor"]],
      ["*-1?", ["a-10", "-1x"], ["a-1", "a-100"]],
      ["100%_*", ["100%_", "100%_x"], ["100ab", "1000_x"]],
      ["?", ["😀", "a"], ["", "ab"]],
    ];
    for (const [glob, yes, no] of cases) {
      const m = compileDeviceGlob(glob);
      const re = m.kind === "like" ? likeToRegExp(m.pattern) : null;
      expect(re, glob).not.toBeNull();
      for (const id of yes) expect(re!.test(id), `${glob} ~ ${id}`).toBe(true);
      for (const id of no) expect(re!.test(id), `${glob} !~ ${id}`).toBe(false);
    }
  });

  it("uses an anchored, escaped regular expression for character classes", () => {
    expect(compileDeviceGlob("dev-[abc]")).toEqual({ kind: "regex", pattern: "^dev\\-[abc]$" });
    expect(compileDeviceGlob("dev-[0-9]*")).toEqual({ kind: "regex", pattern: "^dev\\-[0-9].*$" });
    expect(compileDeviceGlob("[!x]?")).toEqual({ kind: "regex", pattern: "^[^x].$" });
    expect(compileDeviceGlob("[^x]")).toEqual({ kind: "regex", pattern: "^[^x]$" });
    // A leading ] is a member; regex metacharacters are literal everywhere.
    expect(compileDeviceGlob("[]a].(x)+$")).toEqual({ kind: "regex", pattern: "^[\\]a]\\.\\(x\\)\\+\\$$" });
    expect(compileDeviceGlob("[\\]\\\\]")).toEqual({ kind: "regex", pattern: "^[\\]\\\\]$" });
    // Letters and digits are never backslashed (in Postgres, \d or \w would be classes).
    expect(compileDeviceGlob("[ad]w")).toEqual({ kind: "regex", pattern: "^[ad]w$" });
  });

  it("produces regular expressions that mean what the glob says", () => {
    const check = (glob: string, yes: string[], no: string[]) => {
      const m = compileDeviceGlob(glob);
      expect(m.kind).toBe("regex");
      // Without the u flag JavaScript accepts the same identity escapes as Postgres; the database test checks Postgres itself.
      const re = new RegExp((m as { pattern: string }).pattern);
      for (const id of yes) expect(re.test(id), `${glob} ~ ${id}`).toBe(true);
      for (const id of no) expect(re.test(id), `${glob} !~ ${id}`).toBe(false);
    };
    check("dev-[0-9][0-9]", ["dev-07", "dev-42"], ["dev-7", "dev-a1", "dev-123"]);
    check("[!a-c]*", ["d", "zeta"], ["a", "beta", ""]);
    check("x.[y]", ["x.y"], ["xzy", "x.yy"]);
  });

  it("rejects unclosed brackets, backwards ranges and over-long globs with a clear message", () => {
    expect(error(() => compileDeviceGlob("dev-[ab")).message).toBe(
      'device: unclosed "[" at position 5 (write \\[ for a literal bracket)',
    );
    expect(error(() => compileDeviceGlob("[]")).message).toMatch(/unclosed "\["/);
    expect(error(() => compileDeviceGlob("[z-a]")).message).toBe('device: range "z-a" runs backwards');
    expect(error(() => compileDeviceGlob("x".repeat(DEVICE_GLOB_MAX + 1))).message).toBe(
      "device: glob longer than 256 characters",
    );
    expect(compileDeviceGlob("x".repeat(DEVICE_GLOB_MAX))).toEqual({ kind: "exact", id: "x".repeat(256) });
    expect(error(() => compileDeviceGlob("[ab")).status).toBe(400);
  });
});

describe("globMatcher: linear time (its answers: the properties below)", () => {
  it("takes a pathological glob against a 256-character id in well under a millisecond", () => {
    const glob = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a!";
    const id = "a".repeat(256);
    const match = globMatcher(glob);
    const started = performance.now();
    for (let i = 0; i < 100; i++) expect(match(id)).toBe(false);
    // 100 runs: a backtracking regex takes seconds for one; a generous bound against a noisy machine.
    expect(performance.now() - started).toBeLessThan(100);
    expect(globMatcher("*a*a!")(`${"a".repeat(255)}!`)).toBe(true);
  });
});

/**
 * Property tests (fast-check, 10,000 cases each) against a reference written
 * from the contract alone (the doc comment of glob.ts), sharing no code with
 * it: its own parser of the glob syntax, and a plain memoized recursive
 * matcher over code points. Globs have at most 16 wildcards (the limit rules
 * and silences enforce: lib/alerts/rules.ts MAX_GLOB_WILDCARDS).
 */
describe("device globs: properties against an independent reference (fast-check)", () => {
  type Item =
    | { t: "lit"; c: string }
    | { t: "star" }
    | { t: "one" }
    | { t: "class"; negated: boolean; ranges: Array<[number, number]> };

  const ESCAPABLE_CHARS = "*?[]\\";

  /** The glob syntax as documented; null for a glob that must be refused (unclosed [, backwards range). */
  function refParse(glob: string): Item[] | null {
    const cs = Array.from(glob);
    const items: Item[] = [];
    let i = 0;
    while (i < cs.length) {
      const c = cs[i];
      if (c === "\\") {
        const next = cs[i + 1];
        const escapes = next !== undefined && ESCAPABLE_CHARS.includes(next);
        items.push({ t: "lit", c: escapes ? next : "\\" });
        i += escapes ? 2 : 1;
      } else if (c === "*") {
        items.push({ t: "star" });
        i++;
      } else if (c === "?") {
        items.push({ t: "one" });
        i++;
      } else if (c === "[") {
        let j = i + 1;
        const negated = cs[j] === "!" || cs[j] === "^";
        if (negated) j++;
        // Members, each one character; a "]" first (after any negation) is a member.
        const members: Array<{ c: string; dash: boolean }> = [];
        for (;;) {
          if (j >= cs.length) return null;
          if (cs[j] === "]" && members.length > 0) break;
          if (cs[j] === "\\" && j + 1 < cs.length && ESCAPABLE_CHARS.includes(cs[j + 1])) {
            members.push({ c: cs[j + 1], dash: false });
            j += 2;
          } else {
            members.push({ c: cs[j], dash: cs[j] === "-" });
            j++;
          }
        }
        const ranges: Array<[number, number]> = [];
        for (let k = 0; k < members.length; k++) {
          const from = members[k].c.codePointAt(0)!;
          if (k + 2 < members.length && members[k + 1].dash) {
            const to = members[k + 2].c.codePointAt(0)!;
            if (from > to) return null;
            ranges.push([from, to]);
            k += 2;
          } else ranges.push([from, from]);
        }
        items.push({ t: "class", negated, ranges });
        i = j + 1;
      } else {
        items.push({ t: "lit", c });
        i++;
      }
    }
    return items;
  }

  function refMatch(items: Item[], id: string): boolean {
    const s = Array.from(id);
    const memo = new Map<number, boolean>();
    const one = (it: Item, ch: string): boolean => {
      if (it.t === "lit") return it.c === ch;
      if (it.t === "one") return true;
      if (it.t === "star") return false;
      const cp = ch.codePointAt(0)!;
      return it.ranges.some(([a, b]) => cp >= a && cp <= b) !== it.negated;
    };
    const go = (i: number, j: number): boolean => {
      const key = i * (s.length + 1) + j;
      const known = memo.get(key);
      if (known !== undefined) return known;
      let r: boolean;
      if (i === items.length) r = j === s.length;
      else if (items[i].t === "star") r = go(i + 1, j) || (j < s.length && go(i, j + 1));
      else r = j < s.length && one(items[i], s[j]) && go(i + 1, j + 1);
      memo.set(key, r);
      return r;
    };
    return go(0, 0);
  }

  const wildcards = (items: Item[]) => items.filter((it) => it.t !== "lit").length;

  const CHARS = ["a", "b", "c", "-", "1", "é", "😀", "\n", "]", "!", "^", "\\", "%", "_", ".", "$", "("];
  const piece = fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom(...CHARS) },
    { weight: 4, arbitrary: fc.constantFrom("*", "?", "**") },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        "[ab]",
        "[!a]",
        "[^a]",
        "[a-c]",
        "[]a]",
        "[!]a]",
        "[\\]]",
        "[a-]",
        "[-a]",
        "[--a]",
        "[😀-😀]",
        "[é-😀]",
        "[\\*-\\?]",
        "[a\\-z]",
        "[\\\\]",
        "[.%_]",
      ),
    },
    // Random classes, and text that is bracket trouble: unclosed, backwards, escapes at the end.
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.constantFrom("", "!", "^"),
          fc.array(fc.constantFrom("a", "z", "-", "]", "\\", "\\]", "é", "😀", "["), { maxLength: 5 }),
        )
        .map(([neg, ms]) => `[${neg}${ms.join("")}]`),
    },
    { weight: 2, arbitrary: fc.constantFrom("\\*", "\\?", "\\[", "\\]", "\\\\", "\\a", "\\", "[", "[z-a]", "[a") },
  );
  const glob = fc
    .array(piece, { maxLength: 12 })
    .map((ps) => ps.join(""))
    .filter((g) => {
      const items = refParse(g);
      return items === null || wildcards(items) <= 16;
    });

  const idChar = fc.constantFrom(...CHARS, "z", "*", "?", "[", "A");
  const randomId = fc.oneof(
    { weight: 8, arbitrary: fc.array(idChar, { maxLength: 12 }).map((cs) => cs.join("")) },
    { weight: 1, arbitrary: fc.array(idChar, { minLength: 100, maxLength: 256 }).map((cs) => cs.join("")) },
  );

  /** An id the glob matches (by the reference's reading), built from `choices`. */
  function instance(items: Item[], choices: number[]): string {
    let k = 0;
    const next = () => choices[k++ % choices.length];
    const CANDIDATES = [...CHARS, "z", "A"].map((c) => c.codePointAt(0)!);
    return items
      .map((it) => {
        if (it.t === "lit") return it.c;
        if (it.t === "one") return CHARS[next() % CHARS.length];
        if (it.t === "star") return Array.from({ length: next() % 4 }, () => CHARS[next() % CHARS.length]).join("");
        const ok = it.negated
          ? CANDIDATES.filter((cp) => !it.ranges.some(([a, b]) => cp >= a && cp <= b))
          : it.ranges.map(([a, b]) => a + (next() % (b - a + 1)));
        return ok.length === 0 ? "" : String.fromCodePoint(ok[next() % ok.length]);
      })
      .join("");
  }

  const caseArb = fc.tuple(glob, randomId, fc.array(fc.nat(), { minLength: 1, maxLength: 16 }), fc.boolean());
  const idFor = (g: string, id: string, choices: number[], derived: boolean): string => {
    const items = refParse(g);
    return derived && items !== null ? instance(items, choices) : id;
  };

  function refused(fn: () => unknown): boolean {
    try {
      fn();
      return false;
    } catch (e) {
      if (e instanceof AppError && e.status === 400) return true;
      throw e;
    }
  }

  it(
    "globMatcher answers what the reference answers; malformed globs are refused (10,000 cases)",
    PROPERTY_TEST,
    () => {
      let matched = 0;
      fc.assert(
        fc.property(caseArb, ([g, id, choices, derived]) => {
          const items = refParse(g);
          if (items === null) {
            expect(
              refused(() => globMatcher(g)),
              `refuse ${JSON.stringify(g)}`,
            ).toBe(true);
            expect(refused(() => compileDeviceGlob(g))).toBe(true);
            return;
          }
          const subject = idFor(g, id, choices, derived);
          const want = refMatch(items, subject);
          if (want) matched++;
          expect(globMatcher(g)(subject), `${JSON.stringify(g)} ~ ${JSON.stringify(subject)}`).toBe(want);
        }),
        { numRuns: 10_000 },
      );
      // Both answers occur often (ids are derived from the glob half of the time).
      expect(matched).toBeGreaterThan(2_000);
    },
  );

  it(
    "compileDeviceGlob's exact id, LIKE pattern or regular expression means the same (10,000 cases)",
    PROPERTY_TEST,
    () => {
      const bmp = (s: string) => !/[\u{10000}-\u{10FFFF}]/u.test(s);
      fc.assert(
        fc.property(caseArb, ([g, id, choices, derived]) => {
          const items = refParse(g);
          if (items === null || g.length > DEVICE_GLOB_MAX) return;
          const subject = idFor(g, id, choices, derived);
          const want = refMatch(items, subject);
          const m = compileDeviceGlob(g);
          const where = `${JSON.stringify(g)} → ${JSON.stringify(m)} ~ ${JSON.stringify(subject)}`;
          if (m.kind === "exact") {
            expect(wildcards(items), where).toBe(0);
            expect(subject === m.id, where).toBe(want);
          } else if (m.kind === "like") {
            expect(likeToRegExp(m.pattern).test(subject), where).toBe(want);
          } else if (bmp(g) && bmp(subject)) {
            // Postgres' advanced regular expressions: `.` and bracket expressions match a newline too (the
            // `s` flag here); without the `u` flag JavaScript takes the same identity escapes. (Outside the
            // BMP JavaScript would see UTF-16 units; the database test checks Postgres itself.)
            expect(new RegExp(m.pattern, "s").test(subject), where).toBe(want);
          }
        }),
        { numRuns: 10_000 },
      );
    },
  );

  it(
    "an id with its special characters escaped is an exact glob for that id alone (10,000 cases)",
    PROPERTY_TEST,
    () => {
      // components/alerts/mute.ts builds one-device mutes this way (escapeGlob in components/history/filters.ts).
      const escape = (id: string) => id.replace(/[*?[\]\\]/g, "\\$&");
      fc.assert(
        fc.property(randomId, randomId, (id, other) => {
          const g = escape(id);
          if (g.length <= DEVICE_GLOB_MAX) expect(compileDeviceGlob(g)).toEqual({ kind: "exact", id });
          const match = globMatcher(g);
          expect(match(id)).toBe(true);
          expect(match(other)).toBe(other === id);
        }),
        { numRuns: 10_000 },
      );
    },
  );
});
