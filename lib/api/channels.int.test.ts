/**
 * The channel routes (app/api/channels) on a running monitor (embedded broker,
 * PGlite) with access control on its defaults, called with an admin's and an
 * operator's API tokens:
 * - secrets never come back: tokens, passwords and webhook URL paths are
 *   masked ("••••" + last 4), and a masked value sent back keeps the secret;
 * - setting a secret takes the admin role; an operator may rename or disable;
 * - every bad field is named (`config.url`, …) and nothing is saved;
 * - a destination in the monitor's own network is refused unless allowed;
 * - the test button sends now and answers with the attempt;
 * - a dead-lettered notification can be retried, once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as collection from "../../app/api/channels/route";
import * as item from "../../app/api/channels/[id]/route";
import * as test from "../../app/api/channels/[id]/test/route";
import * as retry from "../../app/api/notifications/[id]/retry/route";
import { newSecret, secretHash, TOKEN_PREFIX, hashPassword } from "../auth/secrets";
import { startRuntime, type Runtime } from "../runtime";
import { createToken, createUser } from "../store/auth";
import { getChannel, insertNotifications } from "../store/notifications";
import { freePort } from "../testing/mosquitto";
import { startHttpReceiver, type HttpReceiver } from "../testing/webhooks";
import { testEvent } from "../notify/events";

const ORIGIN = "http://127.0.0.1:3995";
let dataDir: string;
let runtime: Runtime;
let admin: string;
let operator: string;
let viewer: string;
let receiver: HttpReceiver;
let hookBase: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "kw-api-channels-"));
  receiver = await startHttpReceiver((r) => ({ status: r.path.startsWith("/down") ? 500 : 200 }));
  hookBase = receiver.base;
  runtime = await startRuntime({
    KEEPWATCH_DATA_DIR: dataDir,
    MQTT_PORT: String(await freePort()),
    PORT: "3995",
    KEEPWATCH_WEBHOOK_ALLOW: "127.0.0.1",
    KEEPWATCH_PUBLIC_URL: "https://keepwatch.example",
  });
  const db = runtime.db!.prisma;
  for (const role of ["admin", "operator", "viewer"] as const) {
    const user = await createUser(db, {
      username: `${role}-1`,
      role,
      passwordHash: await hashPassword(`pw-${role}-xx`),
    });
    const secret = newSecret(TOKEN_PREFIX);
    await createToken(db, { name: role, role, tokenHash: secretHash(secret), createdBy: user!.id, expiresAt: null });
    if (role === "admin") admin = secret;
    else if (role === "operator") operator = secret;
    else viewer = secret;
  }
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  await receiver?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function call(token: string | null, method: string, pathname: string, body?: unknown): Request {
  return new Request(`${ORIGIN}${pathname}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
const params = (id: number | string) => ({ params: Promise.resolve({ id: String(id) }) });

const HOOK_PATH = "/hooks/T000/B000/abcdefghijklmnopwxyz";

describe("channels API", () => {
  it("needs a signed-in caller (anonymous: 401); a viewer reads but changes nothing (403)", async () => {
    expect((await collection.GET(call(null, "GET", "/api/channels"))).status).toBe(401);
    expect((await collection.GET(call(viewer, "GET", "/api/channels"))).status).toBe(200);
    const body = { name: "v", type: "ntfy", config: { topic: "t" } };
    expect((await collection.POST(call(viewer, "POST", "/api/channels", body))).status).toBe(403);
    expect((await test.POST(call(viewer, "POST", "/api/channels/1/test"), params(1))).status).toBe(403);
    expect((await retry.POST(call(viewer, "POST", "/api/notifications/1/retry"), params(1))).status).toBe(403);
  });

  it("creates a webhook channel (admin) and never shows its secrets again", async () => {
    const res = await collection.POST(
      call(admin, "POST", "/api/channels", {
        name: "ops hook",
        type: "webhook",
        config: {
          url: `${hookBase}${HOOK_PATH}`,
          secret: "s3cret-s3cret-s3cret",
          headers: { "X-Token": "tok-123456789" },
        },
        defaultForSystem: true,
      }),
    );
    expect(res.status).toBe(201);
    const { channel } = await res.json();
    expect(channel).toMatchObject({
      name: "ops hook",
      type: "webhook",
      enabled: true,
      defaultForSystem: true,
      ratePerMinute: null,
      effectiveRatePerMinute: null,
      pending: 0,
      dead: 0,
      config: {
        url: `${hookBase}/••••wxyz`,
        secret: "••••cret",
        headers: { "X-Token": "••••6789" },
      },
    });
    const text = JSON.stringify(await (await collection.GET(call(admin, "GET", "/api/channels"))).json());
    expect(text).not.toContain("abcdefghijklmnop");
    expect(text).not.toContain("s3cret-s3cret");
    expect(text).not.toContain("tok-1234");
    // Stored as entered.
    expect((await getChannel(runtime.db!.prisma, channel.id))!.config).toEqual({
      url: `${hookBase}${HOOK_PATH}`,
      secret: "s3cret-s3cret-s3cret",
      headers: { "X-Token": "tok-123456789" },
    });
  });

  it("keeps the stored secrets when the masked values come back; an operator may rename but not set a secret", async () => {
    const { channels } = await (await collection.GET(call(operator, "GET", "/api/channels"))).json();
    const found = channels.find((c: { name: string }) => c.name === "ops hook");
    // What the form sends back: the fields, with the secrets as they were shown (masked).
    const { name, type, config, enabled, defaultForSystem, ratePerMinute } = found;
    const hook = { id: found.id, name, type, config, enabled, defaultForSystem, ratePerMinute };
    const renamed = await item.PUT(
      call(operator, "PUT", `/api/channels/${hook.id}`, { ...hook, id: undefined, name: "ops hook 2", enabled: false }),
      params(hook.id),
    );
    expect(renamed.status).toBe(200);
    expect((await renamed.json()).channel).toMatchObject({ name: "ops hook 2", enabled: false, config: hook.config });
    expect((await getChannel(runtime.db!.prisma, hook.id))!.config).toMatchObject({
      url: `${hookBase}${HOOK_PATH}`,
      secret: "s3cret-s3cret-s3cret",
    });

    const newUrl = await item.PUT(
      call(operator, "PUT", `/api/channels/${hook.id}`, {
        ...hook,
        id: undefined,
        config: { ...hook.config, url: `${hookBase}/other` },
      }),
      params(hook.id),
    );
    expect(newUrl.status).toBe(403);
    expect((await newUrl.json()).error).toEqual({
      code: "FORBIDDEN",
      message: "setting a channel's secrets (config.url) takes the admin role",
    });
    expect((await getChannel(runtime.db!.prisma, hook.id))!.config).toMatchObject({ url: `${hookBase}${HOOK_PATH}` });
    // Clearing a secret (the HMAC secret, a header) is a change too.
    for (const config of [
      { ...hook.config, secret: null },
      { ...hook.config, headers: {} },
    ]) {
      const cleared = await item.PUT(
        call(operator, "PUT", `/api/channels/${hook.id}`, { ...hook, id: undefined, config }),
        params(hook.id),
      );
      expect(cleared.status).toBe(403);
    }
    expect((await getChannel(runtime.db!.prisma, hook.id))!.config).toMatchObject({
      secret: "s3cret-s3cret-s3cret",
      headers: { "X-Token": "tok-123456789" },
    });
  });

  it("names every bad field and saves nothing", async () => {
    const before = (await (await collection.GET(call(admin, "GET", "/api/channels"))).json()).channels.length;
    const res = await collection.POST(
      call(admin, "POST", "/api/channels", {
        name: "tg",
        type: "telegram",
        config: { botToken: "nope", chatId: "" },
        ratePerMinute: 0,
      }),
    );
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe("BAD_REQUEST");
    expect(Object.keys(error.fields)).toEqual(["ratePerMinute"]);

    const res2 = await collection.POST(
      call(admin, "POST", "/api/channels", { name: "tg", type: "telegram", config: { botToken: "nope", chatId: "" } }),
    );
    const e2 = (await res2.json()).error;
    expect(res2.status).toBe(400);
    expect(Object.keys(e2.fields).sort()).toEqual(["config.botToken", "config.chatId"]);

    const res3 = await collection.POST(
      call(admin, "POST", "/api/channels", { name: "", type: "pager", config: {}, extra: 1 }),
    );
    const e3 = (await res3.json()).error;
    expect(e3.fields.name).toBe("name is required");
    expect(e3.fields.type).toMatch(/^type must be one of webhook, slack, teams, discord, telegram, ntfy, email/);

    const masked = await collection.POST(
      call(admin, "POST", "/api/channels", {
        name: "m",
        type: "slack",
        config: { url: "https://hooks.slack.com/••••wxyz" },
      }),
    );
    expect((await masked.json()).error.fields).toEqual({
      "config.url": "url: a masked value can only keep a stored secret; enter the value",
    });
    expect((await (await collection.GET(call(admin, "GET", "/api/channels"))).json()).channels).toHaveLength(before);
  });

  it("refuses a destination in the monitor's own network unless KEEPWATCH_WEBHOOK_ALLOW lists it", async () => {
    const res = await collection.POST(
      call(admin, "POST", "/api/channels", {
        name: "meta",
        type: "webhook",
        config: { url: "http://169.254.169.254/latest/meta-data" },
      }),
    );
    expect(res.status).toBe(400);
    expect((await res.json()).error.fields["config.url"]).toMatch(
      /^url points at 169\.254\.169\.254, a link-local address/,
    );
  });

  it("sends a test message now and answers with the attempt; a failing one says why", async () => {
    const ok = (
      await (
        await collection.POST(
          call(admin, "POST", "/api/channels", {
            name: "t-ok",
            type: "webhook",
            config: { url: `${hookBase}/test-ok` },
          }),
        )
      ).json()
    ).channel;
    const res = await test.POST(call(operator, "POST", `/api/channels/${ok.id}/test`), params(ok.id));
    expect(res.status).toBe(200);
    const { attempt } = await res.json();
    expect(attempt).toMatchObject({ ok: true, statusCode: 200, error: null });
    expect(attempt.durationMs).toBeGreaterThanOrEqual(0);
    const [request] = receiver.at("/test-ok");
    const body = JSON.parse(request.raw);
    expect(body).toMatchObject({ event: "test", link: "https://keepwatch.example/alerts" });
    expect(request.headers["idempotency-key"]).toBe(body.id);

    const down = (
      await (
        await collection.POST(
          call(admin, "POST", "/api/channels", {
            name: "t-down",
            type: "webhook",
            config: { url: `${hookBase}/down` },
          }),
        )
      ).json()
    ).channel;
    const failed = await (
      await test.POST(call(operator, "POST", `/api/channels/${down.id}/test`), params(down.id))
    ).json();
    expect(failed.attempt).toMatchObject({ ok: false, statusCode: 500, error: "HTTP 500: ok" });
    // Viewers cannot send.
    expect((await test.POST(call(null, "POST", `/api/channels/${down.id}/test`), params(down.id))).status).toBe(401);
  });

  it("retries a dead-lettered notification once; anything else is a 404 or a 409", async () => {
    const db = runtime.db!.prisma;
    const { channels } = await (await collection.GET(call(admin, "GET", "/api/channels"))).json();
    const down = channels.find((c: { name: string }) => c.name === "t-down");
    const e = testEvent(null);
    await db.$transaction((tx) =>
      insertNotifications(tx, [
        {
          eventId: e.id,
          event: "test",
          alertId: null,
          incidentId: null,
          payload: e,
          channelIds: [down.id],
          system: false,
        },
      ]),
    );
    const [{ id }] = await db.$queryRaw<{ id: bigint }[]>`
      UPDATE "notifications" SET "state" = 'dead', "attempts" = 8 WHERE "event_id" = ${e.id} RETURNING "id"`;
    const listed = (await (await collection.GET(call(admin, "GET", "/api/channels"))).json()).channels;
    expect(listed.find((c: { id: number }) => c.id === down.id).dead).toBe(1);

    const res = await retry.POST(call(operator, "POST", `/api/notifications/${id}/retry`), params(String(id)));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ notification: { id: String(id), state: "pending" } });
    const again = await retry.POST(call(operator, "POST", `/api/notifications/${id}/retry`), params(String(id)));
    expect(again.status).toBe(409);
    expect((await retry.POST(call(operator, "POST", `/api/notifications/999999/retry`), params("999999"))).status).toBe(
      404,
    );
    expect((await retry.POST(call(operator, "POST", `/api/notifications/x/retry`), params("x"))).status).toBe(400);
  });

  it("deletes a channel; rules stop pointing at it", async () => {
    const { channels } = await (await collection.GET(call(admin, "GET", "/api/channels"))).json();
    const ok = channels.find((c: { name: string }) => c.name === "t-ok");
    expect((await item.DELETE(call(operator, "DELETE", `/api/channels/${ok.id}`), params(ok.id))).status).toBe(204);
    expect((await item.DELETE(call(operator, "DELETE", `/api/channels/${ok.id}`), params(ok.id))).status).toBe(404);
    expect((await item.GET(call(operator, "GET", `/api/channels/${ok.id}`), params(ok.id))).status).toBe(404);
  });
});
