/**
 * Alert rules: what operators configure, how it is validated, and which rule
 * applies to a device.
 *
 * A rule matches device ids with a glob (`*`, `?`, `[abc]`, `[a-z]`, `[!abc]`,
 * `\*` for a literal star; case-sensitive, the same syntax as the history
 * page's device filter) and, when it has `tags`, devices carrying any of them
 * (a rule with both needs both). Several rules may match one device; exactly
 * one applies, the MOST SPECIFIC one, decided in this order:
 *
 *   1. a glob without wildcards (an exact id) beats every glob with one;
 *   1b. then a rule with tags beats one without;
 *   2. the longer literal prefix (characters before the first wildcard) wins:
 *      `pump-7*` beats `pump-*` beats `p*`;
 *   3. then more literal characters in total: `pump-*-a` beats `pump-*`;
 *   4. then fewer `*` (a star matches any run, `?` and `[…]` one character):
 *      `pump-[ab]` beats `pump-*`;
 *   5. then fewer wildcards in total: `pump-*` beats `pump-*?`;
 *   6. ties go to the older rule (lower id).
 *
 * The default rule (match `*`) always exists, cannot be deleted and always
 * comes last. Disabled rules are skipped: the next matching rule applies.
 *
 * Thresholds (all optional except where a default is named):
 * - offline: `offlineSeconds` (fixed, also for keepalive-0 devices) or
 *   `offlineFactor` × keepalive (default 1.5, the broker's own deadline);
 * - late: `lateFactor` × keepalive (off when null);
 * - flapping: `flapDisconnects` disconnects within `flapWindowSeconds`;
 * - near-miss: a gap between signs of life above `nearMissRatio` × keepalive;
 * - `resolveAfterSeconds`: how long a device must be fine again before an
 *   alert resolves (hysteresis);
 * - `repeatIntervalSeconds`: repeat the notification while an alert stays
 *   firing (off when null);
 * - `channelIds`: where its alerts are notified (lib/notify channels). A
 *   `webhookUrl` in the input is still accepted: it becomes a webhook channel
 *   (one per distinct URL) added to `channelIds` when the rule is saved.
 */
import { BROKER_DEADLINE_FACTOR } from "../keepalive";
import { z } from "../zod";
import { globMatcher, tokenizeGlob } from "../api/glob";
import { MAX_TAGS, TAG_PATTERN } from "../inventory/limits";
import { ALERT_KINDS, type AlertKind } from "./kinds";

export { ALERT_KINDS, type AlertKind };

/** Offline when the broker itself would drop the client. */
export const DEFAULT_OFFLINE_FACTOR = BROKER_DEADLINE_FACTOR;
export const MATCH_MAX = 256;

/** A rule as stored and served (the API's shape, plus id). */
export interface AlertRule {
  id: number;
  name: string;
  match: string;
  offlineFactor: number | null;
  offlineSeconds: number | null;
  lateFactor: number | null;
  flapDisconnects: number | null;
  flapWindowSeconds: number | null;
  nearMissRatio: number | null;
  resolveAfterSeconds: number;
  repeatIntervalSeconds: number | null;
  /** The channels its alerts are notified on (lib/notify). */
  channelIds: number[];
  /** Devices with any of these tags (and matching the glob); empty: the glob alone. */
  tags: string[];
  enabled: boolean;
  /** The catch-all rule: match `*`, cannot be deleted. */
  isDefault: boolean;
}

export type AlertRuleInput = Omit<AlertRule, "id" | "isDefault"> & {
  /** Accepted for compatibility: saved as a webhook channel added to `channelIds`. */
  webhookUrl?: string | null;
};

export const MAX_RULE_CHANNELS = 20;

/** The default rule as the first migration creates it. */
export const DEFAULT_RULE: AlertRuleInput = {
  name: "Default",
  match: "*",
  offlineFactor: DEFAULT_OFFLINE_FACTOR,
  offlineSeconds: null,
  lateFactor: null,
  flapDisconnects: 5,
  flapWindowSeconds: 60,
  nearMissRatio: null,
  resolveAfterSeconds: 30,
  repeatIntervalSeconds: null,
  channelIds: [],
  tags: [],
  enabled: true,
};

// ---------------------------------------------------------------------------
// Validation

/** A glob's problem in words, or null when it is fine. */
export function globProblem(glob: string): string | null {
  if (glob.length === 0) return "must not be empty";
  if (glob.trim().length === 0) return "must not be only spaces";
  if (glob.length > MATCH_MAX) return `must be at most ${MATCH_MAX} characters`;
  if (/[\u0000-\u001f\u007f]/.test(glob)) return "must not contain control characters";
  try {
    const wildcards = tokenizeGlob(glob).filter((t) => t.kind !== "literal").length;
    if (wildcards > MAX_GLOB_WILDCARDS) return `must have at most ${MAX_GLOB_WILDCARDS} wildcards (*, ?, [...])`;
  } catch (e) {
    return (e instanceof Error ? e.message : String(e)).replace(/^device: /, "");
  }
  return null;
}

/** Wildcards (`*`, `?`, `[...]`) one rule's glob may hold, and rules in all (every fleet batch runs them). */
export const MAX_GLOB_WILDCARDS = 16;
export const MAX_RULES = 1_000;

const optionalNumber = (
  field: string,
  min: number,
  max: number,
  opts: { int?: boolean; minExclusive?: boolean } = {},
) =>
  z
    .number({ error: `${field} must be a number or null` })
    .refine((v) => Number.isFinite(v), `${field} must be a finite number`)
    .refine((v) => !opts.int || Number.isInteger(v), `${field} must be a whole number`)
    .refine(
      (v) => (opts.minExclusive ? v > min : v >= min) && v <= max,
      `${field} must be ${opts.minExclusive ? "above" : "at least"} ${min} and at most ${max}`,
    )
    .nullable()
    .optional();

export const ruleInputSchema = z
  .strictObject({
    name: z
      .string({ error: "name is required" })
      .trim()
      .min(1, "name must not be empty")
      .max(100, "name must be at most 100 characters"),
    match: z.string({ error: "match is required (a device glob such as pump-*)" }),
    offlineFactor: optionalNumber("offlineFactor", 1, 100),
    offlineSeconds: optionalNumber("offlineSeconds", 1, 604_800, { int: true }),
    lateFactor: optionalNumber("lateFactor", 1, 100),
    flapDisconnects: optionalNumber("flapDisconnects", 2, 1000, { int: true }),
    flapWindowSeconds: optionalNumber("flapWindowSeconds", 10, 86_400, { int: true }),
    nearMissRatio: optionalNumber("nearMissRatio", 0.1, BROKER_DEADLINE_FACTOR, {}).refine(
      (v) => v === null || v === undefined || v < BROKER_DEADLINE_FACTOR,
      `nearMissRatio must be below ${BROKER_DEADLINE_FACTOR} (at ${BROKER_DEADLINE_FACTOR} × keepalive the broker drops the client)`,
    ),
    resolveAfterSeconds: optionalNumber("resolveAfterSeconds", 0, 86_400, { int: true }),
    repeatIntervalSeconds: optionalNumber("repeatIntervalSeconds", 10, 604_800, { int: true }),
    webhookUrl: z
      .string({ error: "webhookUrl must be a URL or null" })
      .max(2048, "webhookUrl must be at most 2048 characters")
      .nullable()
      .optional(),
    channelIds: z
      .array(
        z
          .number({ error: "channelIds must be channel ids" })
          .int("channelIds must be channel ids")
          .min(1)
          .max(2_147_483_647),
        {
          error: "channelIds must be a list of channel ids",
        },
      )
      .max(MAX_RULE_CHANNELS, `channelIds must be at most ${MAX_RULE_CHANNELS}`)
      .optional(),
    tags: z
      .array(
        z.string({ error: "tags must be strings" }).regex(TAG_PATTERN, "tags must each match [a-z0-9_.:-]{1,64}"),
        { error: "tags must be a list of tags" },
      )
      .max(MAX_TAGS, `tags must be at most ${MAX_TAGS}`)
      .optional(),
    enabled: z.boolean({ error: "enabled must be true or false" }).optional(),
  })
  .superRefine((r, ctx) => {
    const problem = globProblem(r.match);
    if (problem) ctx.addIssue({ code: "custom", path: ["match"], message: `match ${problem}` });
    if (r.offlineFactor != null && r.offlineSeconds != null)
      ctx.addIssue({
        code: "custom",
        path: ["offlineSeconds"],
        message: "give offlineFactor or offlineSeconds, not both",
      });
    const offlineFactor = r.offlineSeconds == null ? (r.offlineFactor ?? DEFAULT_OFFLINE_FACTOR) : null;
    if (r.lateFactor != null && offlineFactor !== null && r.lateFactor >= offlineFactor)
      ctx.addIssue({
        code: "custom",
        path: ["lateFactor"],
        message: `lateFactor must be below the offline factor (${offlineFactor}), or late would never show`,
      });
    if ((r.flapDisconnects == null) !== (r.flapWindowSeconds == null))
      ctx.addIssue({
        code: "custom",
        path: [r.flapDisconnects == null ? "flapDisconnects" : "flapWindowSeconds"],
        message: "flapDisconnects and flapWindowSeconds go together: give both or neither",
      });
    if (r.webhookUrl != null && r.webhookUrl !== "") {
      let url: URL | null = null;
      try {
        url = new URL(r.webhookUrl);
      } catch {
        // reported below
      }
      if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname)
        ctx.addIssue({
          code: "custom",
          path: ["webhookUrl"],
          message: "webhookUrl must be an http:// or https:// URL",
        });
      else if (url.username || url.password)
        ctx.addIssue({
          code: "custom",
          path: ["webhookUrl"],
          message: "webhookUrl must not carry credentials (put a token in the path or query instead)",
        });
    }
  });

export type RuleFieldErrors = Record<string, string>;

export type ParsedRule = { ok: true; rule: AlertRuleInput } | { ok: false; fields: RuleFieldErrors };

/**
 * Validates a rule from the API (JSON body). Every bad field is named, with
 * one message each; unknown fields are errors too.
 */
export function parseRuleInput(body: unknown): ParsedRule {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return { ok: false, fields: { body: "expected a JSON object with the rule's fields" } };
  const parsed = ruleInputSchema.safeParse(body);
  if (!parsed.success) {
    const fields: RuleFieldErrors = {};
    for (const issue of parsed.error.issues) {
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) fields[key.slice(0, 64)] ??= `unknown field "${key.slice(0, 64)}"`;
        continue;
      }
      const key = String(issue.path[0] ?? "body");
      fields[key] ??= issue.message;
    }
    return { ok: false, fields };
  }
  const r = parsed.data;
  return {
    ok: true,
    rule: {
      name: r.name,
      match: r.match,
      offlineSeconds: r.offlineSeconds ?? null,
      offlineFactor: r.offlineSeconds != null ? null : (r.offlineFactor ?? DEFAULT_OFFLINE_FACTOR),
      lateFactor: r.lateFactor ?? null,
      flapDisconnects: r.flapDisconnects ?? null,
      flapWindowSeconds: r.flapWindowSeconds ?? null,
      nearMissRatio: r.nearMissRatio ?? null,
      resolveAfterSeconds: r.resolveAfterSeconds ?? DEFAULT_RULE.resolveAfterSeconds,
      repeatIntervalSeconds: r.repeatIntervalSeconds ?? null,
      webhookUrl: r.webhookUrl ? r.webhookUrl : null,
      channelIds: [...new Set(r.channelIds ?? [])].sort((a, b) => a - b),
      tags: [...new Set(r.tags ?? [])].sort(),
      enabled: r.enabled ?? true,
    },
  };
}

// ---------------------------------------------------------------------------
// Matching and precedence

export interface GlobSpecificity {
  exact: boolean;
  literalPrefix: number;
  literals: number;
  stars: number;
  wildcards: number;
}

export interface CompiledRule {
  rule: AlertRule;
  /** Whether the rule's glob matches a device id (lib/api/glob.ts globMatcher: linear time). */
  matches(deviceId: string): boolean;
  /** Whether the rule's tags (any of) match a device's tags; true for a rule without tags. */
  tagged(tags: readonly string[]): boolean;
  specificity: GlobSpecificity;
}

/** Compiles a (validated) glob to its matcher and its specificity. */
export function compileGlob(glob: string): { matches(deviceId: string): boolean; specificity: GlobSpecificity } {
  let literalPrefix = 0;
  let literals = 0;
  let wildcards = 0;
  let stars = 0;
  for (const t of tokenizeGlob(glob)) {
    if (t.kind === "literal") {
      literals++;
      if (wildcards === 0) literalPrefix++;
    } else {
      wildcards++;
      if (t.kind === "any") stars++;
    }
  }
  return {
    matches: globMatcher(glob),
    specificity: { exact: wildcards === 0, literalPrefix, literals, stars, wildcards },
  };
}

const NO_TAGS: readonly string[] = [];

function tagMatcher(ruleTags: readonly string[]): (tags: readonly string[]) => boolean {
  if (ruleTags.length === 0) return () => true;
  const wanted = new Set(ruleTags);
  return (tags) => {
    for (const t of tags) if (wanted.has(t)) return true;
    return false;
  };
}

/** Negative when `a` is more specific than `b` (it takes precedence). See the header for the order. */
export function compareRules(a: CompiledRule, b: CompiledRule): number {
  if (a.rule.isDefault !== b.rule.isDefault) return a.rule.isDefault ? 1 : -1;
  const x = a.specificity;
  const y = b.specificity;
  if (x.exact !== y.exact) return x.exact ? -1 : 1;
  const at = a.rule.tags.length > 0;
  if (at !== b.rule.tags.length > 0) return at ? -1 : 1;
  if (x.literalPrefix !== y.literalPrefix) return y.literalPrefix - x.literalPrefix;
  if (x.literals !== y.literals) return y.literals - x.literals;
  if (x.stars !== y.stars) return x.stars - y.stars;
  if (x.wildcards !== y.wildcards) return x.wildcards - y.wildcards;
  return a.rule.id - b.rule.id;
}

/** Rules in precedence order (most specific first, the default last). */
export class RuleSet {
  readonly ordered: readonly CompiledRule[];

  constructor(rules: readonly AlertRule[]) {
    this.ordered = rules
      .map((rule) => ({ rule, ...compileGlob(rule.match), tagged: tagMatcher(rule.tags ?? []) }))
      .sort(compareRules);
  }

  /** The rule that applies to a device: the first enabled match in precedence order, or null. */
  ruleFor(deviceId: string, tags: readonly string[] = NO_TAGS): AlertRule | null {
    for (const c of this.ordered) if (c.rule.enabled && c.tagged(tags) && c.matches(deviceId)) return c.rule;
    return null;
  }

  /** Every rule that matches, in precedence order (disabled ones included, for the preview). */
  matching(deviceId: string, tags: readonly string[] = NO_TAGS): AlertRule[] {
    return this.ordered.filter((c) => c.tagged(tags) && c.matches(deviceId)).map((c) => c.rule);
  }

  get(id: number): AlertRule | undefined {
    return this.ordered.find((c) => c.rule.id === id)?.rule;
  }
}

/**
 * Why a rule cannot be fully honoured on this monitor: thresholds based on
 * silence shorter than the broker's own deadline need a source that sees
 * PINGREQs (ARCHITECTURE.md, "Keepalive facts and the status model"). Without one, a connected device that only pings looks
 * silent while healthy, so such verdicts are not made; offline is then known
 * when the broker drops the client.
 */
export function ruleWarnings(rule: AlertRuleInput, pingsVisible: boolean): string[] {
  if (pingsVisible) return [];
  const out: string[] = [];
  if (rule.offlineSeconds !== null)
    out.push(
      `offlineSeconds ${rule.offlineSeconds}: this monitor has no source that sees pings, so a connected device is declared offline only when the broker drops it (${BROKER_DEADLINE_FACTOR} × keepalive); the fixed deadline still applies to keepalive-0 devices and to how long a dropped device stays away`,
    );
  if (rule.offlineFactor !== null && rule.offlineFactor < BROKER_DEADLINE_FACTOR)
    out.push(
      `offlineFactor ${rule.offlineFactor} is below the broker's own ${BROKER_DEADLINE_FACTOR}: without a source that sees pings it cannot be honoured; offline is known when the broker drops the client`,
    );
  if (rule.lateFactor !== null)
    out.push("lateFactor: late alerts need a source that sees pings; this monitor has none, so none will fire");
  if (rule.nearMissRatio !== null)
    out.push("nearMissRatio: near-misses are gaps between pings, which this monitor cannot see; none will fire");
  return out;
}
