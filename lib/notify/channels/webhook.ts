/**
 * Webhook: the event as JSON, POSTed to any URL, optionally signed.
 *
 * Body: the event (lib/notify/events.ts) plus `sentAt`; a digest is
 * `{ id, event: "digest", summary, events: [...], sentAt }`.
 * Headers: `Idempotency-Key` (the event's or digest's id), the operator's
 * own `headers`, and with a `secret`:
 *   X-Keepwatch-Timestamp: <unix seconds>
 *   X-Keepwatch-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>
 */
import { createHmac } from "node:crypto";
import { z } from "../../zod";
import { digestSummary, type Message } from "../events";
import { maskSecret, maskUrl } from "../mask";
import { jsonRequest, sendHttp } from "./http";
import type { ChannelType, HttpRequestSpec } from "./types";
import { httpUrl, headerMap } from "./fields";

export const webhookConfig = z.object({
  url: httpUrl("url"),
  headers: headerMap.optional(),
  secret: z.string().min(16, "secret must be at least 16 characters").max(256).optional().nullable(),
});
export type WebhookConfig = z.infer<typeof webhookConfig>;

export function webhookBody(message: Message, sentAt: string): { id: string; body: unknown } {
  if (message.kind === "event") return { id: message.event.id, body: { ...message.event, sentAt } };
  const { digest } = message;
  return {
    id: digest.id,
    body: { id: digest.id, event: "digest", summary: digestSummary(digest.events), events: digest.events, sentAt },
  };
}

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export function renderWebhook(config: WebhookConfig, message: Message, now: Date): HttpRequestSpec {
  const { id, body } = webhookBody(message, now.toISOString());
  const req = jsonRequest(config.url, id, body, { ...(config.headers ?? {}) });
  if (config.secret) {
    req.headers["x-keepwatch-timestamp"] = String(Math.floor(now.getTime() / 1000));
    req.headers["x-keepwatch-signature"] = signature(config.secret, req.body);
  }
  return req;
}

export const webhook: ChannelType<WebhookConfig> = {
  type: "webhook",
  label: "Webhook",
  schema: webhookConfig,
  secretFields: ["url", "secret"],
  mask: (c) => ({
    url: maskUrl(c.url),
    headers: c.headers ? Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k, maskSecret(v)])) : undefined,
    secret: c.secret ? maskSecret(c.secret) : null,
  }),
  destinations: (c) => [c.url],
  defaultRatePerMinute: null,
  send: (c, message, ctx) => sendHttp(renderWebhook(c, message, new Date()), ctx),
};
