/**
 * Slack: an incoming webhook (https://hooks.slack.com/services/…; the whole
 * path is the secret). Slack takes `{ text, blocks }`: `text` is the
 * notification's fallback, `blocks` the Block Kit layout (a header, a
 * section of fields in mrkdwn, a context line with the link). In mrkdwn,
 * `&`, `<` and `>` must be escaped as `&amp;`, `&lt;`, `&gt;`. Slack allows
 * one message per second per webhook.
 */
import { z } from "../../zod";
import { DIGEST_ITEMS, digestSummary, facts, headline, type Message } from "../events";
import { maskUrl } from "../mask";
import { httpUrl } from "./fields";
import { jsonRequest, sendHttp } from "./http";
import type { ChannelType, HttpRequestSpec } from "./types";

export const slackConfig = z.object({ url: httpUrl("url") });
export type SlackConfig = z.infer<typeof slackConfig>;

export const mrkdwn = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const cut = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

export function renderSlack(config: SlackConfig, message: Message): HttpRequestSpec {
  if (message.kind === "digest") {
    const { digest } = message;
    const lines = digest.events.slice(0, DIGEST_ITEMS).map((e) => `• ${mrkdwn(headline(e))}`);
    const more = digest.events.length - DIGEST_ITEMS;
    if (more > 0) lines.push(`…and ${more} more`);
    const summary = digestSummary(digest.events);
    return jsonRequest(config.url, digest.id, {
      text: summary,
      blocks: [
        { type: "header", text: { type: "plain_text", text: cut(summary, 150) } },
        { type: "section", text: { type: "mrkdwn", text: cut(lines.join("\n"), 3000) } },
      ],
    });
  }
  const e = message.event;
  const title = headline(e);
  const fields = facts(e)
    .slice(0, 10)
    .map(([label, value]) => ({ type: "mrkdwn", text: cut(`*${mrkdwn(label)}*\n${mrkdwn(value)}`, 2000) }));
  const blocks: unknown[] = [{ type: "header", text: { type: "plain_text", text: cut(title, 150) } }];
  if (fields.length > 0) blocks.push({ type: "section", fields });
  if (e.link) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: `<${e.link}|Open in keepwatch>` }] });
  return jsonRequest(config.url, e.id, { text: title, blocks });
}

export const slack: ChannelType<SlackConfig> = {
  type: "slack",
  label: "Slack",
  schema: slackConfig,
  secretFields: ["url"],
  mask: (c) => ({ url: maskUrl(c.url) }),
  destinations: (c) => [c.url],
  defaultRatePerMinute: 60,
  send: (c, message, ctx) => sendHttp(renderSlack(c, message), ctx),
};
