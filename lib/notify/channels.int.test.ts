/**
 * Every channel type delivers through the outbox to a real local receiver:
 * fired and resolved alerts (written to the outbox as the alert service
 * writes them) and a test message (sent at once, as the test button does).
 * - HTTP types: a local server stands in for Slack, Teams, Discord, the
 *   Telegram Bot API, ntfy and a webhook; each request is checked against a
 *   JSON schema of that service's documented payload, and its own details
 *   (Telegram's path and HTML, ntfy's headers, the webhook's HMAC verified
 *   with the README's snippet);
 * - e-mail: the `smtp-server` package as a real SMTP server, with a login;
 *   the message is parsed and its headers and both bodies checked.
 */
import { readFile, writeFile, mkdtemp, rm } from "node:fs/promises";
import type { IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllowList } from "../alerts/egress";
import type { AlertDto } from "../alerts/dto";
import { createDb, type Db } from "../store/db";
import { createChannel, insertNotifications, type ChannelRecord } from "../store/notifications";
import { createTestDatabase, type TestDatabase } from "../store/testing";
import { eventually } from "../testing/clients";
import { startHttpReceiver, type HttpReceiver } from "../testing/webhooks";
import { validatePayload } from "./channels/schemas/validate";
import { Dispatcher } from "./dispatcher";
import { newEventId, testEvent, type EventType, type NotificationEvent } from "./events";

let database: TestDatabase;
let db: Db;
let receiver: HttpReceiver;
let base: string;
let smtp: SMTPServer;
let smtpPort: number;
const mails: ParsedMail[] = [];
const logins: string[] = [];
let dispatcher: Dispatcher;
let verifyKeepwatch: (secret: string, raw: string, headers: IncomingHttpHeaders) => boolean;
let scratch: string;

const BOT_TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ_0123456";
const HMAC_SECRET = "a-long-shared-secret-0123456789";

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ connectionString: database.url });
  receiver = await startHttpReceiver((r) => ({
    status: 200,
    body: r.path.endsWith("/sendMessage") ? JSON.stringify({ ok: true, result: { message_id: 1 } }) : "ok",
  }));
  base = receiver.base;

  smtp = new SMTPServer({
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    onAuth(auth, _session, cb) {
      logins.push(String(auth.username));
      if (auth.username === "alerts" && auth.password === "mail-pass-1234") cb(null, { user: auth.username });
      else cb(new Error("bad login"));
    },
    onData(stream, _session, cb) {
      simpleParser(stream)
        .then((m) => {
          mails.push(m);
          cb();
        })
        .catch(cb);
    },
  });
  await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", r));
  smtpPort = (smtp.server.address() as AddressInfo).port;

  // The README's verification snippet, as published.
  const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
  const snippet = /<!-- hmac-verify -->\s*```js\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!snippet) throw new Error("README.md has no hmac-verify snippet");
  scratch = await mkdtemp(path.join(tmpdir(), "kw-hmac-"));
  await writeFile(path.join(scratch, "verify.mjs"), snippet);
  ({ verifyKeepwatch } = await import(pathToFileURL(path.join(scratch, "verify.mjs")).href));

  dispatcher = new Dispatcher({ db: () => db, log: () => undefined, allow: parseAllowList("127.0.0.1"), pollMs: 50 });
  dispatcher.start();
}, 60_000);

afterAll(async () => {
  await dispatcher?.stop(100);
  await receiver?.close();
  await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
  await db?.$disconnect();
  await database?.drop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const alert = (state: "firing" | "resolved"): AlertDto => ({
  id: "",
  deviceId: "pump-7",
  deviceName: "Pump <7> & co",
  source: null,
  ruleId: null,
  kind: "offline",
  state,
  firedAt: "2026-12-01T11:58:00.000Z",
  resolvedAt: state === "resolved" ? "2026-12-01T12:03:00.000Z" : null,
  message: "silent for 95 s (keepalive 60 s, deadline 90 s)",
  incidentId: null,
  acknowledgedAt: null,
  acknowledgedBy: null,
  ackComment: null,
  silenced: false,
  silenceId: null,
});

function event(type: EventType): NotificationEvent {
  return {
    id: newEventId(),
    event: type,
    at: new Date().toISOString(),
    alert: alert(type === "resolved" ? "resolved" : "firing"),
    incident: null,
    note: type === "resolved" ? "signs of life for 30 s" : null,
    rule: { id: 1, name: "pumps" },
    link: "https://keepwatch.example/devices/pump-7",
  };
}

async function enqueue(channel: ChannelRecord, events: NotificationEvent[]): Promise<void> {
  await db.$transaction((tx) =>
    insertNotifications(
      tx,
      events.map((e) => ({
        eventId: e.id,
        event: e.event,
        alertId: null,
        incidentId: null,
        payload: e,
        channelIds: [channel.id],
        system: false,
      })),
    ),
  );
  dispatcher.wake();
}

async function sentCount(channel: ChannelRecord): Promise<number> {
  const rows = await db.$queryRaw<{ n: bigint }[]>`
    SELECT count(*) AS n FROM "notifications" WHERE "channel_id" = ${channel.id} AND "state" = 'sent'`;
  return Number(rows[0].n);
}

/**
 * Fired, then resolved, through the outbox (one after the other: together,
 * a rate-limited channel would merge them into a digest), then a test sent
 * at once; the three events.
 */
async function deliver(channel: ChannelRecord): Promise<NotificationEvent[]> {
  const fired = event("fired");
  const resolved = event("resolved");
  for (const [i, e] of [fired, resolved].entries()) {
    await enqueue(channel, [e]);
    await eventually(async () => (await sentCount(channel)) === i + 1, 10_000, `${channel.type}: ${e.event} sent`);
  }
  const test = testEvent("https://keepwatch.example");
  const attempt = await dispatcher.sendDirect(channel, test);
  expect(attempt, `${channel.type} test: ${attempt.error}`).toMatchObject({ ok: true });
  return [fired, resolved, test];
}

/** 25 events at once to a channel with its type's rate limit: one digest (after the first, sent alone). */
async function deliverDigest(channel: ChannelRecord): Promise<void> {
  await enqueue(
    channel,
    Array.from({ length: 25 }, () => event("fired")),
  );
  await eventually(async () => (await sentCount(channel)) === 25, 10_000, `${channel.type}: digest sent`);
}

/** A channel without a rate limit (6,000 a minute), so each message goes alone. */
const channel = (type: string, config: Record<string, unknown>, ratePerMinute: number | null = 6000) =>
  createChannel(db, { name: type, type, config, enabled: true, defaultForSystem: false, ratePerMinute });

const hitsAt = (prefix: string) => receiver.at(prefix);

describe("every channel type delivers fired, resolved and test messages to its receiver", () => {
  it("webhook: the event as JSON, Idempotency-Key, and an HMAC the README's snippet verifies", async () => {
    const c = await channel("webhook", {
      url: `${base}/webhook`,
      secret: HMAC_SECRET,
      headers: { "X-Team": "ops" },
    });
    const events = await deliver(c);
    const got = hitsAt("/webhook");
    expect(got).toHaveLength(3);
    expect(got.map((h) => JSON.parse(h.raw).event)).toEqual(["fired", "resolved", "test"]);
    expect(got.map((h) => h.headers["idempotency-key"])).toEqual(events.map((e) => e.id));
    for (const h of got) {
      expect(h.headers["x-team"]).toBe("ops");
      expect(verifyKeepwatch(HMAC_SECRET, h.raw, h.headers)).toBe(true);
      // A changed body, or another secret, does not verify.
      expect(verifyKeepwatch(HMAC_SECRET, `${h.raw} `, h.headers)).toBe(false);
      expect(verifyKeepwatch("another-secret-0123456789", h.raw, h.headers)).toBe(false);
    }
    expect(JSON.parse(got[0].raw)).toMatchObject({ alert: { deviceId: "pump-7" }, rule: { name: "pumps" } });
  });

  for (const type of ["slack", "teams", "discord"] as const) {
    it(`${type}: a payload of the shape its service documents`, async () => {
      const c = await channel(type, { url: `${base}/${type}/hook-secret-path` });
      await deliver(c);
      const got = hitsAt(`/${type}/`);
      expect(got).toHaveLength(3);
      for (const h of got) {
        const body = JSON.parse(h.raw);
        expect(validatePayload(type, body), `${type}: ${h.raw}`).toEqual([]);
      }
      expect(got.map((h) => h.raw.includes("pump-7"))).toEqual([true, true, false]);
      expect(got[2].raw).toContain("Test: keepwatch can reach this channel");
      expect(got[0].raw).not.toEqual(got[1].raw);
    });

    it(`${type}: a digest of 25 events under its default rate limit has the documented shape too`, async () => {
      const c = await channel(type, { url: `${base}/${type}-digest/hook` }, null);
      await deliverDigest(c);
      const got = hitsAt(`/${type}-digest/`);
      expect(got.length).toBeLessThan(25);
      for (const h of got) expect(validatePayload(type, JSON.parse(h.raw)), h.raw).toEqual([]);
      expect(got.at(-1)!.raw).toMatch(/notifications: \d+ fired/);
      expect(got.at(-1)!.raw).toMatch(/and \d+ more/);
    });
  }

  it("telegram: sendMessage on the configured API base, HTML escaped", async () => {
    const c = await channel("telegram", { botToken: BOT_TOKEN, chatId: "-1001234567890", apiBase: `${base}/tg` });
    await deliver(c);
    const got = hitsAt("/tg/");
    expect(got.map((h) => h.path)).toEqual(Array(3).fill(`/tg/bot${BOT_TOKEN}/sendMessage`));
    for (const h of got) {
      const body = JSON.parse(h.raw);
      expect(validatePayload("telegram", body)).toEqual([]);
      expect(body).toMatchObject({ chat_id: "-1001234567890", parse_mode: "HTML" });
    }
    const fired = JSON.parse(got[0].raw).text as string;
    expect(fired).toContain("Pump &lt;7&gt; &amp; co");
    expect(fired).not.toContain("<7>");
  });

  it("ntfy: the message with title, priority, tags, click link and the Idempotency-Key", async () => {
    const c = await channel("ntfy", { server: `${base}/ntfy`, topic: "plant-alerts", token: "tk_ntfy_secret_123" });
    const events = await deliver(c);
    const got = hitsAt("/ntfy/");
    expect(got.map((h) => h.path)).toEqual(Array(3).fill("/ntfy/plant-alerts"));
    expect(got.map((h) => h.headers["idempotency-key"])).toEqual(events.map((e) => e.id));
    for (const h of got) {
      expect(validatePayload("ntfy-headers", h.headers)).toEqual([]);
      expect(h.headers.authorization).toBe("Bearer tk_ntfy_secret_123");
    }
    expect(Number(got[0].headers.priority)).toBeGreaterThan(Number(got[1].headers.priority));
    expect(got[0].headers.click).toBe("https://keepwatch.example/devices/pump-7");
    expect(got[0].raw).toContain("pump-7");
  });

  it("email: a real SMTP server receives a plain-text and an HTML body, with the event id, after a login", async () => {
    const c = await channel("email", {
      host: "127.0.0.1",
      port: smtpPort,
      secure: false,
      user: "alerts",
      password: "mail-pass-1234",
      from: "keepwatch@plant.example",
      to: "ops@plant.example, oncall@plant.example",
    });
    const events = await deliver(c);
    expect(mails).toHaveLength(3);
    expect(logins.length).toBeGreaterThanOrEqual(3);
    const [fired, resolved, test] = mails;
    expect(fired.from?.text).toContain("keepwatch@plant.example");
    expect((Array.isArray(fired.to) ? fired.to : [fired.to]).flatMap((t) => t!.value.map((v) => v.address))).toEqual([
      "ops@plant.example",
      "oncall@plant.example",
    ]);
    expect(fired.subject).toMatch(/pump-7/);
    expect(fired.text).toContain("silent for 95 s");
    expect(fired.html).toContain("Pump &lt;7&gt; &amp; co");
    expect(fired.headers.get("x-keepwatch-event-id")).toBe(events[0].id);
    expect(resolved.subject).toMatch(/^Resolved/);
    expect(test.subject).toMatch(/^Test/);
  });

  it("email: a wrong password is a failed attempt that is not retried", async () => {
    const c = await channel("email", {
      host: "127.0.0.1",
      port: smtpPort,
      secure: false,
      user: "alerts",
      password: "wrong-password",
      from: "keepwatch@plant.example",
      to: "ops@plant.example",
    });
    const r = await dispatcher.sendDirect(c, testEvent(null));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toMatch(/auth|login/i);
  });
});
