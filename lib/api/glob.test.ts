import { describe, expect, it } from "vitest";
import { AppError } from "./errors";
import { mulberry32 } from "../sim/prng";
import { compileDeviceGlob, DEVICE_GLOB_MAX, globMatcher, tokenizeGlob } from "./glob";

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

describe("globMatcher: linear time, the same answers as a regular expression", () => {
  /** The reference: the glob as an anchored regular expression (fine for short random ids). */
  function reference(glob: string): RegExp {
    const esc = (c: string) => c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    const inClass = (c: string) => c.replace(/[\]\\^-]/g, "\\$&");
    const body = tokenizeGlob(glob)
      .map((t) =>
        t.kind === "any"
          ? "[\\s\\S]*"
          : t.kind === "one"
            ? "[\\s\\S]"
            : t.kind === "literal"
              ? esc(t.ch)
              : `[${t.negated ? "^" : ""}${t.items.map((i) => (i.from === i.to ? inClass(i.from) : `${inClass(i.from)}-${inClass(i.to)}`)).join("")}]`,
      )
      .join("");
    return new RegExp(`^${body}$`, "u");
  }

  it("agrees with the reference on 20,000 random globs and ids", () => {
    const rand = mulberry32(42);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
    const alphabet = ["a", "b", "-", "1", "é", "😀"];
    const pieces = [...alphabet, "*", "?", "[ab]", "[!a]", "[a-c]", "\\*", "**"];
    for (let n = 0; n < 20_000; n++) {
      const glob = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => pick(pieces)).join("");
      const id = Array.from({ length: Math.floor(rand() * 8) }, () => pick(alphabet)).join("");
      expect(globMatcher(glob)(id), `${glob} ~ ${id}`).toBe(reference(glob).test(id));
    }
  });

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
