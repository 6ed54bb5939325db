/**
 * Discord: a channel webhook (https://discord.com/api/webhooks/{id}/{token}).
 * Execute Webhook takes `{ content, embeds, allowed_mentions }`: content at
 * most 2,000 characters; at most 10 embeds, each with a title (256), a
 * description (4,096), up to 25 fields (name 256, value 1,024), a colour and
 * a timestamp. Mentions are switched off, so a device name cannot ping
 * anyone. Discord rate-limits webhooks to about 30 messages a minute.
 */
import { z } from "../../zod";
import { DIGEST_ITEMS, digestSummary, facts, headline, type Message, type NotificationEvent } from "../events";
import { maskUrl } from "../mask";
import { httpUrl } from "./fields";
import { jsonRequest, sendHttp } from "./http";
import type { ChannelType, HttpRequestSpec } from "./types";

export const discordConfig = z.object({ url: httpUrl("url") });
export type DiscordConfig = z.infer<typeof discordConfig>;

const cut = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
const RED = 0xd93f3f;
const GREEN = 0x2e9e5b;
const AMBER = 0xe0a526;
const GREY = 0x8a8f98;

function colour(e: NotificationEvent): number {
  if (e.event === "fired" || e.event === "incident_opened" || e.event === "repeat") return RED;
  if (e.event === "resolved" || e.event === "incident_resolved") return GREEN;
  if (e.event === "test") return GREY;
  return AMBER;
}

export function renderDiscord(config: DiscordConfig, message: Message): HttpRequestSpec {
  const noMentions = { parse: [] as string[] };
  if (message.kind === "digest") {
    const { digest } = message;
    const lines = digest.events.slice(0, DIGEST_ITEMS).map((e) => `• ${headline(e)}`);
    const more = digest.events.length - DIGEST_ITEMS;
    if (more > 0) lines.push(`…and ${more} more`);
    const summary = digestSummary(digest.events);
    return jsonRequest(config.url, digest.id, {
      content: cut(summary, 2000),
      embeds: [{ title: cut(summary, 256), description: cut(lines.join("\n"), 4096), color: AMBER }],
      allowed_mentions: noMentions,
    });
  }
  const e = message.event;
  const title = headline(e);
  return jsonRequest(config.url, e.id, {
    content: cut(title, 2000),
    embeds: [
      {
        title: cut(title, 256),
        ...(e.link ? { url: e.link } : {}),
        color: colour(e),
        fields: facts(e)
          .slice(0, 25)
          .map(([name, value]) => ({
            name: cut(name, 256),
            value: cut(value || "—", 1024),
            inline: value.length < 40,
          })),
        timestamp: e.at,
      },
    ],
    allowed_mentions: noMentions,
  });
}

export const discord: ChannelType<DiscordConfig> = {
  type: "discord",
  label: "Discord",
  schema: discordConfig,
  secretFields: ["url"],
  mask: (c) => ({ url: maskUrl(c.url) }),
  destinations: (c) => [c.url],
  defaultRatePerMinute: 30,
  send: (c, message, ctx) => sendHttp(renderDiscord(c, message), ctx),
};
