/**
 * ntfy: `POST {server}/{topic}` with the message as the plain-text body and
 * its details in headers: `Title`, `Priority` (1–5), `Tags` (emoji short
 * codes), `Click` (the link), `Authorization: Bearer <token>` for a
 * protected topic. Header values must be ASCII: anything else is sent as an
 * RFC 2047 encoded word (`=?UTF-8?B?…?=`), which ntfy decodes.
 */
import { z } from "../../zod";
import { DIGEST_ITEMS, digestSummary, facts, headline, type Message, type NotificationEvent } from "../events";
import { maskSecret } from "../mask";
import { httpUrl } from "./fields";
import { sendHttp } from "./http";
import type { ChannelType, HttpRequestSpec } from "./types";

export const NTFY_SERVER = "https://ntfy.sh";

export const ntfyConfig = z.object({
  server: httpUrl("server").optional().nullable(),
  topic: z
    .string({ error: "topic is required" })
    .trim()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, "topic must be 1–64 letters, digits, - or _"),
  token: z.string().trim().max(256, "token must be at most 256 characters").optional().nullable(),
});
export type NtfyConfig = z.infer<typeof ntfyConfig>;

/** A header value: as it is when printable ASCII, else an RFC 2047 encoded word. */
export function headerValue(s: string): string {
  const one = s.replace(/[\r\n]+/g, " ");
  return /^[\x20-\x7e]*$/.test(one) ? one : `=?UTF-8?B?${Buffer.from(one, "utf8").toString("base64")}?=`;
}

function priority(e: NotificationEvent): number {
  if (e.event === "test") return 3;
  if (e.event === "resolved" || e.event === "incident_resolved" || e.event === "acknowledged") return 2;
  if (e.event === "incident_opened" || (e.event === "fired" && e.alert?.kind === "offline")) return 5;
  if (e.event === "fired" || e.event === "repeat") return 4;
  return 3;
}

function tags(e: NotificationEvent): string {
  if (e.event === "test") return "test_tube";
  if (e.event === "resolved" || e.event === "incident_resolved") return "white_check_mark";
  if (e.event === "acknowledged") return "eyes";
  return "rotating_light";
}

export const serverOf = (c: NtfyConfig) => (c.server ?? NTFY_SERVER).replace(/\/+$/, "");

export function renderNtfy(config: NtfyConfig, message: Message): HttpRequestSpec {
  const headers: Record<string, string> = { "content-type": "text/plain; charset=utf-8" };
  let id: string;
  let body: string;
  if (message.kind === "digest") {
    const { digest } = message;
    id = digest.id;
    const lines = digest.events.slice(0, DIGEST_ITEMS).map((e) => `• ${headline(e)}`);
    const more = digest.events.length - DIGEST_ITEMS;
    if (more > 0) lines.push(`…and ${more} more`);
    body = lines.join("\n");
    headers.title = headerValue(digestSummary(digest.events));
    headers.priority = String(Math.max(...digest.events.map(priority)));
    headers.tags = "rotating_light";
  } else {
    const e = message.event;
    id = e.id;
    body = facts(e)
      .map(([k, v]) => `${k}: ${v}`)
      .join("\n");
    headers.title = headerValue(headline(e));
    headers.priority = String(priority(e));
    headers.tags = tags(e);
    if (e.link) headers.click = e.link;
  }
  headers["idempotency-key"] = id;
  if (config.token) headers.authorization = `Bearer ${config.token}`;
  return { url: `${serverOf(config)}/${config.topic}`, headers, body: body || "keepwatch" };
}

export const ntfy: ChannelType<NtfyConfig> = {
  type: "ntfy",
  label: "ntfy",
  schema: ntfyConfig,
  secretFields: ["token"],
  mask: (c) => ({ server: c.server ?? null, topic: c.topic, token: c.token ? maskSecret(c.token) : null }),
  destinations: (c) => [`${serverOf(c)}/${c.topic}`],
  defaultRatePerMinute: null,
  send: (c, message, ctx) => sendHttp(renderNtfy(c, message), ctx),
};
