/**
 * Telegram: the Bot API's sendMessage, `POST {apiBase}/bot{token}/sendMessage`
 * with `{ chat_id, text, parse_mode: "HTML" }`. In HTML mode only a few tags
 * are allowed and `&`, `<`, `>` (and `"` in attributes) must be escaped;
 * text is at most 4,096 characters. Telegram allows about one message a
 * second per chat and answers 429 beyond (retried). `apiBase` points
 * elsewhere for a local Bot API server.
 */
import { z } from "../../zod";
import { DIGEST_ITEMS, digestSummary, facts, headline, type Message } from "../events";
import { maskSecret } from "../mask";
import { httpUrl } from "./fields";
import { jsonRequest, sendHttp } from "./http";
import type { ChannelType, HttpRequestSpec } from "./types";

export const TELEGRAM_API = "https://api.telegram.org";

export const telegramConfig = z.object({
  botToken: z
    .string({ error: "botToken is required" })
    .trim()
    .regex(/^\d{1,20}:[A-Za-z0-9_-]{20,100}$/, "botToken must look like 123456:ABC-… (from @BotFather)"),
  chatId: z
    .union([z.string(), z.number().int()], { error: "chatId is required" })
    .transform((v) => String(v).trim())
    .refine(
      (v) => /^-?\d{1,20}$/.test(v) || /^@[A-Za-z0-9_]{5,32}$/.test(v),
      "chatId must be a chat id or @channelname",
    ),
  apiBase: httpUrl("apiBase").optional().nullable(),
});
export type TelegramConfig = z.infer<typeof telegramConfig>;

export const html = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const MAX = 4096;

function text(message: Message): { id: string; text: string } {
  if (message.kind === "digest") {
    const { digest } = message;
    const lines = [`<b>${html(digestSummary(digest.events))}</b>`];
    for (const e of digest.events.slice(0, DIGEST_ITEMS)) lines.push(`• ${html(headline(e))}`);
    const more = digest.events.length - DIGEST_ITEMS;
    if (more > 0) lines.push(`…and ${more} more`);
    return { id: digest.id, text: fit(lines) };
  }
  const e = message.event;
  const lines = [`<b>${html(headline(e))}</b>`, ...facts(e).map(([k, v]) => `<b>${html(k)}:</b> ${html(v)}`)];
  if (e.link) lines.push(`<a href="${html(e.link)}">Open in keepwatch</a>`);
  return { id: e.id, text: fit(lines) };
}

/** Whole lines up to the limit (a line is never cut inside an entity or a tag). */
function fit(lines: string[]): string {
  const out: string[] = [];
  let size = 0;
  for (const l of lines) {
    if (size + l.length + 1 > MAX - 2) {
      out.push("…");
      break;
    }
    out.push(l);
    size += l.length + 1;
  }
  return out.join("\n");
}

export const apiBaseOf = (c: TelegramConfig) => (c.apiBase ?? TELEGRAM_API).replace(/\/+$/, "");

export function renderTelegram(config: TelegramConfig, message: Message): HttpRequestSpec {
  const { id, text: body } = text(message);
  return jsonRequest(`${apiBaseOf(config)}/bot${config.botToken}/sendMessage`, id, {
    chat_id: config.chatId,
    text: body,
    parse_mode: "HTML",
    disable_web_page_preview: true,
  });
}

export const telegram: ChannelType<TelegramConfig> = {
  type: "telegram",
  label: "Telegram",
  schema: telegramConfig,
  secretFields: ["botToken"],
  mask: (c) => ({ botToken: maskSecret(c.botToken), chatId: c.chatId, apiBase: c.apiBase ?? null }),
  destinations: (c) => [`${apiBaseOf(c)}/`],
  defaultRatePerMinute: 60,
  send: (c, message, ctx) => sendHttp(renderTelegram(c, message), ctx),
};
