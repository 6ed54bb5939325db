/**
 * Notification channels for the HTTP API: the request body, how a saved
 * channel's secrets survive an edit (the form sends the masked value back),
 * where a channel may connect, and the DTOs.
 *
 * - A body is `{ name, type, config, enabled, defaultForSystem, ratePerMinute }`;
 *   `config` is validated by the type's own schema (lib/notify/channels/*),
 *   and its errors are named `config.<field>`.
 * - Secrets are write-only: a masked value ("••••…") keeps the stored one;
 *   setting, changing or clearing a secret takes the admin role.
 * - Every destination is checked like a webhook URL: no address in the
 *   monitor's own network unless KEEPWATCH_WEBHOOK_ALLOW lists it.
 */
import { z } from "../zod";
import { roleAtLeast, type Role } from "../auth/roles";
import { allowedAddress, checkWebhookUrl, type AllowList, type Resolver } from "../alerts/egress";
import { channelType, CHANNEL_REGISTRY } from "../notify/channels";
import { CHANNEL_TYPES, type ChannelTypeName } from "../notify/channels/types";
import { isMasked } from "../notify/mask";
import { rateOf } from "../notify/dispatcher";
import type { ChannelDto, ChannelTypeDto } from "../notify/dto";
import type { ChannelCounts, ChannelInput, ChannelRecord } from "../store/notifications";
import { readJsonBody } from "./body";
import { AppError } from "./errors";

export const channelBody = z.strictObject({
  name: z
    .string({ error: "name is required" })
    .trim()
    .min(1, "name is required")
    .max(100, "name must be at most 100 characters"),
  type: z.enum(CHANNEL_TYPES, { error: `type must be one of ${CHANNEL_TYPES.join(", ")}` }),
  config: z.record(z.string(), z.unknown(), { error: "config must be an object with the type's settings" }),
  enabled: z.boolean({ error: "enabled must be true or false" }).default(true),
  defaultForSystem: z.boolean({ error: "defaultForSystem must be true or false" }).default(false),
  ratePerMinute: z
    .number({ error: "ratePerMinute must be a number of messages per minute or null" })
    .int("ratePerMinute must be a whole number")
    .min(1, "ratePerMinute must be at least 1")
    .max(6000, "ratePerMinute must be at most 6000")
    .nullable()
    .default(null),
});

export interface ChannelPolicy {
  allow: AllowList;
  resolve?: Resolver;
  role: Role;
}

/**
 * Reads and validates a channel body against the stored channel (for an
 * edit); a 400 naming every bad field otherwise, a 403 when a secret changes
 * without the admin role. Nothing is saved on error.
 */
export async function readChannelBody(
  request: Request,
  existing: ChannelRecord | null,
  policy: ChannelPolicy,
): Promise<ChannelInput> {
  let raw: unknown;
  try {
    raw = await readJsonBody(request);
  } catch (err) {
    if (err instanceof AppError && err.code === "PAYLOAD_TOO_LARGE") throw err;
    throw new AppError("BAD_REQUEST", "body: expected a JSON object with the channel's fields", {
      body: "expected a JSON object with the channel's fields",
    });
  }
  const fields: Record<string, string> = {};
  const parsed = channelBody.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) fields[issue.path.join(".") || "body"] ??= issue.message;
    throw badRequest(fields);
  }
  const body = parsed.data;
  const type = channelType(body.type);
  if (!type) throw badRequest({ type: `type ${body.type} is not available in this build` });
  const sameType = existing !== null && existing.type === body.type;
  const { config, changedSecrets } = keepSecrets(
    type.secretFields,
    body.config,
    sameType ? existing.config : null,
    fields,
  );
  if (Object.keys(fields).length > 0) throw badRequest(fields);

  const checked = type.schema.safeParse(config);
  if (!checked.success) {
    for (const issue of checked.error.issues) fields[["config", ...issue.path].join(".")] ??= issue.message;
    throw badRequest(fields);
  }
  if (changedSecrets.length > 0 && !roleAtLeast(policy.role, "admin"))
    throw new AppError(
      "FORBIDDEN",
      `setting a channel's secrets (${changedSecrets.map((f) => `config.${f}`).join(", ")}) takes the admin role`,
    );
  await checkDestinations(body.type, checked.data, policy, fields);
  if (Object.keys(fields).length > 0) throw badRequest(fields);
  return {
    name: body.name,
    type: body.type,
    config: checked.data as Record<string, unknown>,
    enabled: body.enabled,
    defaultForSystem: body.defaultForSystem,
    ratePerMinute: body.ratePerMinute,
  };
}

function badRequest(fields: Record<string, string>): AppError {
  const message = Object.entries(fields)
    .map(([k, v]) => (v.startsWith(k.split(".").at(-1) ?? k) ? v : `${k}: ${v}`))
    .join("; ");
  return new AppError("BAD_REQUEST", message, fields);
}

/**
 * Puts the stored secret back wherever the body sends a masked value, and
 * lists the secrets the body sets, changes or clears. Webhook headers are secrets one by
 * one (they usually carry a token).
 */
function keepSecrets(
  secretFields: readonly string[],
  config: Record<string, unknown>,
  stored: Record<string, unknown> | null,
  fields: Record<string, string>,
): { config: Record<string, unknown>; changedSecrets: string[] } {
  const out: Record<string, unknown> = { ...config };
  const changed: string[] = [];
  const restore = (path: string, value: unknown, previous: unknown, set: (v: unknown) => void) => {
    if (isMasked(value)) {
      if (typeof previous === "string" && previous !== "") set(previous);
      else fields[`config.${path}`] = `${path}: a masked value can only keep a stored secret; enter the value`;
    } else if ((value ?? "") !== (previous ?? "")) changed.push(path); // set, changed or cleared
  };
  for (const f of secretFields) restore(f, out[f], stored?.[f], (v) => (out[f] = v));
  const headers = out.headers;
  const before = (stored?.headers ?? {}) as Record<string, unknown>;
  if (headers && typeof headers === "object" && !Array.isArray(headers)) {
    const next: Record<string, unknown> = { ...(headers as Record<string, unknown>) };
    for (const [k, v] of Object.entries(next)) restore(`headers.${k}`, v, before[k], (x) => (next[k] = x));
    out.headers = next;
  }
  // A header removed is a secret cleared.
  const kept = headers && typeof headers === "object" ? Object.keys(headers) : [];
  for (const k of Object.keys(before)) if (!kept.includes(k)) changed.push(`headers.${k}`);
  return { config: out, changedSecrets: changed };
}

/** Refuses destinations in the monitor's own network (unless allowed), naming the field. */
async function checkDestinations(
  typeName: ChannelTypeName,
  config: unknown,
  policy: ChannelPolicy,
  fields: Record<string, string>,
): Promise<void> {
  const type = channelType(typeName)!;
  const urlField = typeName === "telegram" ? "apiBase" : typeName === "ntfy" ? "server" : "url";
  for (const url of type.destinations(config as never)) {
    const verdict = await checkWebhookUrl(url, policy.allow, policy.resolve);
    if (!verdict.ok) fields[`config.${urlField}`] ??= `${urlField} ${verdict.reason.replace(/^webhook URL /, "")}`;
  }
  if (typeName === "email") {
    const host = (config as { host: string }).host;
    try {
      await allowedAddress(host, policy.allow, policy.resolve);
    } catch (e) {
      const reason = e instanceof Error ? e.message.replace(/^refused: webhook URL /, "") : String(e);
      fields["config.host"] = `host ${reason}`;
    }
  }
}

export function parseChannelId(raw: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(raw) || Number(raw) > 2_147_483_647)
    throw new AppError("BAD_REQUEST", `id: "${raw.slice(0, 32)}" is not a channel id`);
  return Number(raw);
}

const NO_COUNTS = { pending: 0, dead: 0 };

export function channelDto(c: ChannelRecord, counts: ChannelCounts = new Map()): ChannelDto {
  const type = channelType(c.type);
  let config: Record<string, unknown> = {};
  try {
    config = type ? stripUndefined(type.mask(c.config as never)) : {};
  } catch {
    config = {};
  }
  return {
    id: c.id,
    name: c.name,
    type: c.type as ChannelTypeName,
    config,
    enabled: c.enabled,
    defaultForSystem: c.defaultForSystem,
    ratePerMinute: c.ratePerMinute,
    effectiveRatePerMinute: rateOf(c),
    ...(counts.get(c.id) ?? NO_COUNTS),
    createdAt: new Date(c.createdAt).toISOString(),
    updatedAt: new Date(c.updatedAt).toISOString(),
  };
}

export function channelTypeDtos(): ChannelTypeDto[] {
  return CHANNEL_TYPES.flatMap((name) => {
    const t = CHANNEL_REGISTRY[name];
    return t
      ? [
          {
            type: name,
            label: t.label,
            secretFields: [...t.secretFields],
            defaultRatePerMinute: t.defaultRatePerMinute,
          },
        ]
      : [];
  });
}

const stripUndefined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
