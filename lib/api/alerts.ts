/**
 * Alerts and alert rules for the HTTP API: the request bodies and queries,
 * and the DTOs (rules in precedence order with their warnings, the preview of
 * which rule applies to a device).
 */
import { z } from "../zod";
import { RuleSet, parseRuleInput, ruleWarnings, type AlertRule, type AlertRuleInput } from "../alerts/rules";
import type { AlertRuleDto, SilenceDto } from "../alerts/dto";
import { mutingAt, silenceState, type Silence } from "../alerts/silences";
import { checkWebhookUrl, type AllowList, type Resolver } from "../alerts/egress";
import { MAX_BODY_BYTES, readJsonBody, readTextBody } from "./body";
import { AppError } from "./errors";

/** Where a rule's webhook may point: the allow list, and how names are resolved (the system's DNS by default). */
export interface RulePolicy {
  allow: AllowList;
  resolve?: Resolver;
  /** The ones of these channel ids that exist. */
  existingChannels(ids: readonly number[]): Promise<number[]>;
}

/**
 * Reads and validates a rule body; a 400 naming every bad field otherwise
 * (nothing is saved). Besides the rule's own validation (lib/alerts/rules.ts),
 * every channel id must exist, and a legacy webhook URL must point outside
 * the monitor's own network unless KEEPWATCH_WEBHOOK_ALLOW lists it
 * (lib/alerts/egress.ts; names are resolved).
 */
export async function readRuleBody(request: Request, policy: RulePolicy): Promise<AlertRuleInput> {
  let body: unknown;
  try {
    body = await readJsonBody(request);
  } catch (err) {
    if (err instanceof AppError && err.code === "PAYLOAD_TOO_LARGE") throw err;
    throw new AppError("BAD_REQUEST", "body: expected a JSON object with the rule's fields", {
      body: "expected a JSON object with the rule's fields",
    });
  }
  const parsed = parseRuleInput(body);
  const fields = parsed.ok ? {} : { ...parsed.fields };
  // The destination is checked whenever the URL itself passed, so one answer names every bad field.
  const url = parsed.ok ? parsed.rule.webhookUrl : webhookUrlOf(body);
  if (url && fields.webhookUrl === undefined) {
    const verdict = await checkWebhookUrl(url, policy.allow, policy.resolve);
    if (!verdict.ok) fields.webhookUrl = `webhookUrl ${verdict.reason}`;
  }
  if (parsed.ok && parsed.rule.channelIds.length > 0) {
    const known = new Set(await policy.existingChannels(parsed.rule.channelIds));
    const missing = parsed.rule.channelIds.filter((id) => !known.has(id));
    if (missing.length > 0) fields.channelIds = `channelIds: no channel ${missing.join(", ")}`;
  }
  if (!parsed.ok || Object.keys(fields).length > 0) {
    const message = Object.values(fields).join("; ");
    throw new AppError("BAD_REQUEST", message, fields);
  }
  return parsed.rule;
}

function webhookUrlOf(body: unknown): string | null {
  const url = typeof body === "object" && body !== null ? (body as { webhookUrl?: unknown }).webhookUrl : null;
  return typeof url === "string" && url !== "" ? url : null;
}

export function parseRuleId(raw: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(raw) || Number(raw) > 2_147_483_647)
    throw new AppError("BAD_REQUEST", `id: "${raw.slice(0, 32)}" is not a rule id`);
  return Number(raw);
}

/** Rules in precedence order, each with its position and warnings. */
export function ruleDtos(rules: readonly AlertRule[], pingsVisible: boolean): AlertRuleDto[] {
  return new RuleSet(rules).ordered.map((c, i) => ruleDto(c.rule, i + 1, pingsVisible));
}

export function ruleDto(rule: AlertRule, precedence: number, pingsVisible: boolean): AlertRuleDto {
  return { ...rule, precedence, warnings: ruleWarnings(rule, pingsVisible) };
}

export const alertsQuery = {
  state: z.enum(["firing", "resolved"], { error: "state must be firing or resolved" }).optional(),
  device: z.string().min(1, "device must not be empty").max(1024, "device must be at most 1024 characters").optional(),
  limit: z.coerce
    .number({ error: "limit must be a number" })
    .int("limit must be a whole number")
    .min(1, "limit must be 1–1000")
    .max(1000, "limit must be 1–1000")
    .optional(),
};

export const previewQuery = {
  device: z.string({ error: "device is required" }).min(1, "device must not be empty").max(1024),
};

export const deliveriesQuery = {
  limit: alertsQuery.limit,
  channel: z.coerce
    .number({ error: "channel must be a channel id" })
    .int("channel must be a channel id")
    .positive("channel must be a channel id")
    .optional(),
  outcome: z.enum(["ok", "failed", "dead"], { error: "outcome must be ok, failed or dead" }).optional(),
};

// ---------------------------------------------------------------- acknowledgements, incidents, silences

/** `POST …/ack { comment? }`: an optional comment of at most 1,000 characters (an empty body is no comment). */
export const ackBody = z.object({
  comment: z
    .string({ error: "comment must be a string" })
    .trim()
    .max(1000, "comment must be at most 1000 characters")
    .nullable()
    .optional(),
});

export async function readAckBody(request: Request): Promise<{ comment: string | null }> {
  const text = await readTextBody(request, MAX_BODY_BYTES);
  if (text.trim() === "") return { comment: null };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AppError("BAD_REQUEST", "the body is not valid JSON");
  }
  const parsed = ackBody.safeParse(body ?? {});
  if (!parsed.success) {
    const message = parsed.error.issues[0]?.message ?? "bad body";
    throw new AppError("BAD_REQUEST", message, { comment: message });
  }
  return { comment: parsed.data.comment ? parsed.data.comment : null };
}

export function parseAlertId(raw: string): string {
  if (!/^[1-9][0-9]{0,17}$/.test(raw))
    throw new AppError("BAD_REQUEST", `id: "${raw.slice(0, 32)}" is not an alert id`);
  return raw;
}

/** Incident and silence ids are ours (`inc_…`, `sil_…`): anything else is not one. */
export function parseOwnId(raw: string, prefix: "inc" | "sil"): string {
  if (!new RegExp(`^${prefix}_[a-z0-9]{1,40}$`).test(raw))
    throw new AppError(
      "BAD_REQUEST",
      `id: "${raw.slice(0, 32)}" is not a${prefix === "inc" ? "n incident" : " silence"} id`,
    );
  return raw;
}

export const incidentsQuery = {
  state: z.enum(["open", "resolved"], { error: "state must be open or resolved" }).optional(),
  limit: alertsQuery.limit,
};

export const silencesQuery = {
  state: z.enum(["active", "upcoming", "expired"], { error: "state must be active, upcoming or expired" }).optional(),
};

export function toSilenceDto(s: Silence, now: number): SilenceDto {
  return {
    id: s.id,
    match: s.match,
    tags: s.tags,
    startsAt: new Date(s.startsAt).toISOString(),
    endsAt: s.endsAt === null ? null : new Date(s.endsAt).toISOString(),
    recurrence: s.recurrence,
    comment: s.comment,
    createdBy: s.createdBy,
    createdAt: new Date(s.createdAt).toISOString(),
    endedAt: s.endedAt === null ? null : new Date(s.endedAt).toISOString(),
    state: silenceState(s, now),
    mutingNow: mutingAt(s, now),
  };
}
