/**
 * Microsoft Teams: a Workflows (Power Automate) webhook URL, the successor of
 * Office 365 connectors. It takes a message with one Adaptive Card
 * attachment: `{ type: "message", attachments: [{ contentType:
 * "application/vnd.microsoft.card.adaptive", content: { type: "AdaptiveCard",
 * version, body, actions } }] }`; the card holds the headline, a FactSet and
 * an Open URL action.
 */
import { z } from "../../zod";
import { DIGEST_ITEMS, digestSummary, facts, headline, type Message } from "../events";
import { maskUrl } from "../mask";
import { httpUrl } from "./fields";
import { jsonRequest, sendHttp } from "./http";
import type { ChannelType, HttpRequestSpec } from "./types";

export const teamsConfig = z.object({ url: httpUrl("url") });
export type TeamsConfig = z.infer<typeof teamsConfig>;

function card(body: unknown[], link: string | null) {
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        contentUrl: null,
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body,
          ...(link ? { actions: [{ type: "Action.OpenUrl", title: "Open in keepwatch", url: link }] } : {}),
        },
      },
    ],
  };
}

const title = (text: string) => ({ type: "TextBlock", size: "Medium", weight: "Bolder", wrap: true, text });

export function renderTeams(config: TeamsConfig, message: Message): HttpRequestSpec {
  if (message.kind === "digest") {
    const { digest } = message;
    const items = digest.events
      .slice(0, DIGEST_ITEMS)
      .map((e) => ({ type: "TextBlock", wrap: true, spacing: "None", text: `- ${headline(e)}` }));
    const more = digest.events.length - DIGEST_ITEMS;
    if (more > 0) items.push({ type: "TextBlock", wrap: true, spacing: "None", text: `…and ${more} more` });
    return jsonRequest(config.url, digest.id, card([title(digestSummary(digest.events)), ...items], null));
  }
  const e = message.event;
  const factSet = { type: "FactSet", facts: facts(e).map(([t, value]) => ({ title: t, value })) };
  return jsonRequest(config.url, e.id, card([title(headline(e)), factSet], e.link));
}

export const teams: ChannelType<TeamsConfig> = {
  type: "teams",
  label: "Microsoft Teams",
  schema: teamsConfig,
  secretFields: ["url"],
  mask: (c) => ({ url: maskUrl(c.url) }),
  destinations: (c) => [c.url],
  defaultRatePerMinute: 30,
  send: (c, message, ctx) => sendHttp(renderTeams(c, message), ctx),
};
