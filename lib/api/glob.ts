/**
 * Device id globs, as operators type them, turned into a safe SQL match:
 *
 *   *        any run of characters, also none
 *   ?        exactly one character
 *   [abc]    one of a, b, c;  [a-z] a range;  [!abc] or [^abc] none of them
 *   \x       x itself, for x one of  * ? [ ] \  (any other backslash is literal)
 *
 * Matching is case-sensitive, as MQTT client ids are. A glob without
 * wildcards is an exact id. Globs with only * and ? become LIKE patterns
 * (with %, _ and \ escaped); a character class needs a regular expression,
 * which is anchored and has every other character escaped. The pattern is
 * always sent as a query parameter, never spliced into SQL.
 */
import type { DeviceMatch } from "../store/disconnects";
import { AppError } from "./errors";

export const DEVICE_GLOB_MAX = 256;

type Token =
  | { kind: "literal"; ch: string }
  | { kind: "any" }
  | { kind: "one" }
  | { kind: "class"; negated: boolean; items: Array<{ from: string; to: string }> };

const ESCAPABLE = new Set(["*", "?", "[", "]", "\\"]);

function bad(message: string): never {
  throw new AppError("BAD_REQUEST", `device: ${message}`);
}

/** Splits a glob into tokens; code points, so a character outside the BMP is one character. */
export function tokenizeGlob(glob: string): Token[] {
  const chars = Array.from(glob);
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === "\\") {
      const next = chars[i + 1];
      if (next !== undefined && ESCAPABLE.has(next)) {
        tokens.push({ kind: "literal", ch: next });
        i++;
      } else tokens.push({ kind: "literal", ch });
    } else if (ch === "*") {
      // Consecutive stars mean the same as one.
      if (tokens.at(-1)?.kind !== "any") tokens.push({ kind: "any" });
    } else if (ch === "?") tokens.push({ kind: "one" });
    else if (ch === "[") {
      let j = i + 1;
      let negated = false;
      if (chars[j] === "!" || chars[j] === "^") {
        negated = true;
        j++;
      }
      const members: string[] = [];
      const start = j;
      // A `]` right after the opening (or after the negation) is a member, as in shell globs.
      while (j < chars.length && (chars[j] !== "]" || j === start)) {
        if (chars[j] === "\\" && j + 1 < chars.length && ESCAPABLE.has(chars[j + 1])) {
          members.push(`\\${chars[j + 1]}`);
          j += 2;
        } else members.push(chars[j++]);
      }
      if (j >= chars.length) bad(`unclosed "[" at position ${i + 1} (write \\[ for a literal bracket)`);
      const items: Array<{ from: string; to: string }> = [];
      const unescape = (m: string) => (m.length > 1 && m.startsWith("\\") ? m.slice(1) : m);
      for (let k = 0; k < members.length; k++) {
        const from = unescape(members[k]);
        if (members[k + 1] === "-" && k + 2 < members.length) {
          const to = unescape(members[k + 2]);
          if (from.codePointAt(0)! > to.codePointAt(0)!) bad(`range "${from}-${to}" runs backwards`);
          items.push({ from, to });
          k += 2;
        } else items.push({ from, to: from });
      }
      tokens.push({ kind: "class", negated, items });
      i = j;
    } else tokens.push({ kind: "literal", ch });
  }
  return tokens;
}

/** Whether one character matches a single-character token (not `*`). */
function matchesOne(t: Token, ch: string): boolean {
  switch (t.kind) {
    case "literal":
      return t.ch === ch;
    case "one":
      return true;
    case "class": {
      const cp = ch.codePointAt(0)!;
      const hit = t.items.some((it) => cp >= it.from.codePointAt(0)! && cp <= it.to.codePointAt(0)!);
      return hit !== t.negated;
    }
    case "any":
      return false;
  }
}

/** A UTF-16 surrogate: the id has a character outside the BMP. */
const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * A glob as a matcher that takes time linear in the glob times the id at
 * worst (a two-pointer walk that only ever goes back to the last `*`), never
 * the exponential backtracking a regular expression can fall into on globs
 * such as `*a*a*a*a*a!`. Code points, like the tokens: a character outside
 * the BMP is one character.
 */
export function globMatcher(glob: string): (id: string) => boolean {
  const tokens = tokenizeGlob(glob);
  if (tokens.every((t) => t.kind === "literal")) {
    const exact = tokens.map((t) => (t as { ch: string }).ch).join("");
    return (id) => id === exact;
  }
  // `*` (the default rule): every id, without looking at it.
  if (tokens.every((t) => t.kind === "any")) return () => true;
  return (id) => {
    // Code points; an id without surrogates (nearly every one) is walked as it is, without a copy.
    const s: ArrayLike<string> = SURROGATE.test(id) ? Array.from(id) : id;
    let i = 0; // in tokens
    let j = 0; // in s
    let star = -1; // the last `*` seen, and where in s it started to match
    let starJ = 0;
    while (j < s.length) {
      const t = tokens[i];
      if (t !== undefined && t.kind === "any") {
        star = i++;
        starJ = j;
      } else if (t !== undefined && matchesOne(t, s[j])) {
        i++;
        j++;
      } else if (star >= 0) {
        // Let the last `*` take one more character, and try the rest again from there.
        i = star + 1;
        j = ++starJ;
      } else return false;
    }
    while (tokens[i]?.kind === "any") i++;
    return i === tokens.length;
  };
}

const likeEscape = (ch: string) => (ch === "%" || ch === "_" || ch === "\\" ? `\\${ch}` : ch);
/** In a Postgres ARE, a backslash before a non-alphanumeric character makes it literal (also inside brackets). */
const regexEscape = (ch: string) => (/^[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]$/.test(ch) ? `\\${ch}` : ch);

/** Compiles a device glob (validated: length, brackets) to the match the store understands. */
export function compileDeviceGlob(glob: string): DeviceMatch {
  if (glob.length > DEVICE_GLOB_MAX) bad(`glob longer than ${DEVICE_GLOB_MAX} characters`);
  const tokens = tokenizeGlob(glob);
  if (tokens.every((t) => t.kind === "literal")) {
    return { kind: "exact", id: tokens.map((t) => (t as { ch: string }).ch).join("") };
  }
  if (tokens.every((t) => t.kind !== "class")) {
    const pattern = tokens
      .map((t) => (t.kind === "any" ? "%" : t.kind === "one" ? "_" : likeEscape((t as { ch: string }).ch)))
      .join("");
    return { kind: "like", pattern };
  }
  const body = tokens
    .map((t) => {
      switch (t.kind) {
        case "any":
          return ".*";
        case "one":
          return ".";
        case "literal":
          return regexEscape(t.ch);
        case "class":
          return `[${t.negated ? "^" : ""}${t.items
            .map((it) => (it.from === it.to ? regexEscape(it.from) : `${regexEscape(it.from)}-${regexEscape(it.to)}`))
            .join("")}]`;
      }
    })
    .join("");
  return { kind: "regex", pattern: `^${body}$` };
}
