/**
 * Every channel type's message for every kind of event, as a snapshot, plus
 * what each service insists on: its documented payload shape (JSON schema),
 * escaping, length limits, ASCII headers, and secrets masked.
 */
import { describe, expect, it } from "vitest";
import type { AlertDto, IncidentDto } from "../../alerts/dto";
import type { Message, NotificationEvent } from "../events";
import { digestId } from "../dispatcher";
import { CHANNEL_REGISTRY } from ".";
import { renderDiscord } from "./discord";
import { renderEmail } from "./email";
import { headerValue, renderNtfy } from "./ntfy";
import { renderSlack } from "./slack";
import { renderTeams } from "./teams";
import { renderTelegram } from "./telegram";
import { renderWebhook } from "./webhook";
import { validatePayload } from "./schemas/validate";
import type { ChannelTypeName } from "./types";

const NOW = new Date("2026-12-01T12:00:00Z");

const alert = (over: Partial<AlertDto> = {}): AlertDto => ({
  id: "42",
  deviceId: "pump-7",
  deviceName: "Pump 7 <north> & co",
  source: null,
  ruleId: 3,
  kind: "offline",
  state: "firing",
  firedAt: "2026-12-01T11:58:30.000Z",
  resolvedAt: null,
  message: "silent for 95 s (keepalive 60 s, broker deadline 90 s)",
  incidentId: null,
  acknowledgedAt: null,
  acknowledgedBy: null,
  ackComment: null,
  silenced: false,
  silenceId: null,
  ...over,
});

const incident: IncidentDto = {
  id: "inc_1",
  state: "open",
  openedAt: "2026-12-01T11:59:00.000Z",
  resolvedAt: null,
  cause: { kind: "broker_restart", reason: "broker_restart" },
  deviceCount: 312,
  stillOffline: 312,
  message: "312 devices offline after broker restart at 11:58:55 UTC",
  acknowledgedAt: null,
  acknowledgedBy: null,
  ackComment: null,
} as IncidentDto;

const base = {
  at: "2026-12-01T11:59:00.000Z",
  incident: null,
  note: null,
  rule: { id: 3, name: "pumps" },
  link: "https://keepwatch.example/devices/pump-7",
};

const EVENTS: Record<string, NotificationEvent> = {
  fired: { ...base, id: "evt_fired", event: "fired", alert: alert() },
  resolved: {
    ...base,
    id: "evt_resolved",
    event: "resolved",
    alert: alert({ state: "resolved", resolvedAt: "2026-12-01T12:03:00.000Z" }),
    note: "signs of life for 30 s",
  },
  test: {
    id: "evt_test",
    event: "test",
    at: "2026-12-01T12:00:00.000Z",
    alert: null,
    incident: null,
    note: "Sent from Settings → Channels to check that keepwatch can reach this channel.",
    rule: null,
    link: "https://keepwatch.example/alerts",
  },
  incident: {
    ...base,
    id: "evt_incident",
    event: "incident_opened",
    alert: null,
    incident,
    rule: null,
    link: "https://keepwatch.example/alerts?incident=inc_1",
  },
};

const digestEvents = Array.from({ length: 25 }, (_, i) => ({
  ...EVENTS.fired,
  id: `evt_${String(i).padStart(2, "0")}`,
  event: i % 5 === 4 ? ("resolved" as const) : ("fired" as const),
  alert: alert({ id: String(100 + i), deviceId: `pump-${i}`, deviceName: null }),
}));
const DIGEST: Message = { kind: "digest", digest: { id: digestId(digestEvents), events: digestEvents } };

const messages: Array<[string, Message]> = [
  ...Object.entries(EVENTS).map(([k, event]) => [k, { kind: "event", event }] as [string, Message]),
  ["digest", DIGEST],
];

const HOOK = "https://hooks.example.com/services/T000/B000/XXXXsecretXXXX";
const render: Record<ChannelTypeName, (m: Message) => unknown> = {
  webhook: (m) => renderWebhook({ url: HOOK, secret: "0123456789abcdef-secret" }, m, NOW),
  slack: (m) => renderSlack({ url: HOOK }, m),
  teams: (m) => renderTeams({ url: HOOK }, m),
  discord: (m) => renderDiscord({ url: HOOK }, m),
  telegram: (m) =>
    renderTelegram({ botToken: "123456:ABCdefGHIjklMNOpqrSTUvwxYZ_0123456", chatId: "-100123", apiBase: null }, m),
  ntfy: (m) => renderNtfy({ server: null, topic: "plant-alerts", token: "tk_secret_12345678" }, m),
  email: (m) =>
    renderEmail(
      { host: "smtp.example", port: 587, secure: false, from: "kw@example.com", to: "a@example.com, b@example.com" },
      m,
    ),
};

describe("templates", () => {
  for (const type of Object.keys(render) as ChannelTypeName[])
    for (const [name, message] of messages)
      it(`${type}: ${name}`, () => {
        expect(render[type](message)).toMatchSnapshot();
      });
});

describe("what each service insists on", () => {
  const bodyOf = (r: unknown) => JSON.parse((r as { body: string }).body);

  it("Slack, Teams, Discord and Telegram payloads fit their documented shapes, digests too", () => {
    for (const type of ["slack", "teams", "discord", "telegram"] as const)
      for (const [name, message] of messages)
        expect(validatePayload(type, bodyOf(render[type](message))), `${type} ${name}`).toEqual([]);
  });

  it("the schemas are not empty promises: a wrong payload is refused", () => {
    expect(validatePayload("slack", { blocks: [] })).not.toEqual([]);
    expect(validatePayload("discord", { content: "x".repeat(2001) })).not.toEqual([]);
    expect(validatePayload("telegram", { chat_id: "1", text: "" })).not.toEqual([]);
    expect(validatePayload("teams", { type: "message", attachments: [{ contentType: "text/plain" }] })).not.toEqual([]);
  });

  it("escapes a device name for Slack's mrkdwn, Telegram's HTML and the e-mail's HTML", () => {
    const fired: Message = { kind: "event", event: EVENTS.fired };
    expect(JSON.stringify(bodyOf(render.slack(fired)))).toContain("Pump 7 &lt;north&gt; &amp; co");
    const tg = bodyOf(render.telegram(fired)).text as string;
    expect(tg).toContain("Pump 7 &lt;north&gt; &amp; co");
    expect(tg.replace(/<\/?b>|<a href="[^"]*">|<\/a>/g, "")).not.toMatch(/[<>]/);
    const mail = render.email(fired) as { html: string; text: string };
    expect(mail.html).toContain("Pump 7 &lt;north&gt; &amp; co");
    expect(mail.text).toContain("Pump 7 <north> & co");
  });

  it("keeps within Discord's and Telegram's limits however long the reason", () => {
    const long: Message = { kind: "event", event: { ...EVENTS.fired, alert: alert({ message: "x".repeat(5000) }) } };
    const embed = bodyOf(render.discord(long)).embeds[0];
    for (const f of embed.fields) expect(f.value.length).toBeLessThanOrEqual(1024);
    expect(validatePayload("discord", bodyOf(render.discord(long)))).toEqual([]);
    expect(bodyOf(render.telegram(long)).text.length).toBeLessThanOrEqual(4096);
  });

  it("sends ntfy's title as ASCII (an encoded word for other characters)", () => {
    const spec = render.ntfy({
      kind: "event",
      event: { ...EVENTS.fired, alert: alert({ deviceName: "Pumpe Süd 7" }) },
    }) as { headers: Record<string, string> };
    expect(spec.headers.title).toMatch(/^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
    expect(Buffer.from(spec.headers.title.slice(10, -2), "base64").toString()).toContain("Pumpe Süd 7");
    expect(headerValue("plain ascii")).toBe("plain ascii");
    expect(validatePayload("ntfy-headers", spec.headers)).toEqual([]);
  });

  it("masks every secret: nothing of a token, password or URL path but its last 4 characters", () => {
    const secrets = {
      webhook: [
        { url: HOOK, secret: "0123456789abcdef-secret", headers: { "X-Auth": "hdr-secret-9876" } },
        ["XXXXsecret", "0123456789abcdef", "hdr-secret"],
      ],
      slack: [{ url: HOOK }, ["XXXXsecret", "T000/B000"]],
      telegram: [
        { botToken: "123456:ABCdefGHIjklMNOpqrSTUvwxYZ_0123456", chatId: "-100123" },
        ["ABCdefGHI", "123456:"],
      ],
      ntfy: [{ topic: "t", token: "tk_secret_12345678" }, ["tk_secret"]],
      email: [
        { host: "h", port: 587, secure: false, user: "u", password: "pa55word-secret", from: "a@b.cd", to: "c@d.ef" },
        ["pa55word"],
      ],
    } as const;
    for (const [type, [config, hidden]] of Object.entries(secrets)) {
      const shown = JSON.stringify(CHANNEL_REGISTRY[type as ChannelTypeName].mask(config as never));
      for (const h of hidden) expect(shown, type).not.toContain(h);
      expect(shown, type).toContain("••••");
    }
    expect(CHANNEL_REGISTRY.slack.mask({ url: HOOK } as never)).toEqual({
      url: "https://hooks.example.com/••••XXXX",
    });
  });

  it("names the field in every config error", () => {
    const issues = (type: ChannelTypeName, config: unknown) =>
      CHANNEL_REGISTRY[type].schema.safeParse(config).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(issues("telegram", { botToken: "nope", chatId: "x y" })).toEqual([
      "botToken: botToken must look like 123456:ABC-… (from @BotFather)",
      "chatId: chatId must be a chat id or @channelname",
    ]);
    expect(issues("email", { host: "", from: "me", to: "a@b.cd, nope" })).toEqual([
      "host: host is required",
      "host: host must be a host name or an address",
      "from: from must be an e-mail address",
      "to: to must be up to 20 e-mail addresses, separated by commas",
    ]);
    expect(issues("slack", { url: "ftp://x" })).toEqual(["url: url must be an http:// or https:// URL"]);
    expect(issues("ntfy", { topic: "a/b" })).toEqual(["topic: topic must be 1–64 letters, digits, - or _"]);
  });
});
