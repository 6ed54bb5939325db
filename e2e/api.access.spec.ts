/**
 * Access control on the defaults (no anonymous access), over real HTTP to the
 * real server: every route checked, sign-in and sign-out, throttling, roles,
 * API tokens, CSRF, body and stream limits, the audit log, and error bodies
 * that never leak internals.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIRequestContext, APIResponse } from "@playwright/test";
import { ADMIN, expect, test } from "./fixtures/secured";

test.describe.configure({ mode: "serial" });

/** Every error body this spec saw: none may carry a stack trace, SQL or a connection string. */
const errorBodies: string[] = [];

async function json(res: APIResponse): Promise<Record<string, unknown>> {
  const text = await res.text();
  if (res.status() >= 400) errorBodies.push(text);
  return text ? JSON.parse(text) : {};
}

async function signedIn(
  playwright: { request: { newContext(o: object): Promise<APIRequestContext> } },
  baseURL: string,
  username: string,
  password: string,
): Promise<APIRequestContext> {
  const ctx = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { origin: baseURL } });
  const res = await ctx.post("/api/auth/login", { data: { username, password } });
  expect(res.status(), await res.text()).toBe(200);
  return ctx;
}

const API_ROUTES: Array<[method: string, path: string]> = [
  ["GET", "/api/devices"],
  ["GET", "/api/devices/x"],
  ["GET", "/api/devices/x/activity"],
  ["GET", "/api/disconnects"],
  ["GET", "/api/disconnects.csv"],
  ["GET", "/api/disconnects/summary"],
  ["GET", "/api/insights"],
  ["GET", "/api/stream"],
  ["GET", "/api/alerts"],
  ["GET", "/api/alerts/deliveries"],
  ["GET", "/api/alert-rules"],
  ["POST", "/api/alert-rules"],
  ["GET", "/api/alert-rules/1"],
  ["PUT", "/api/alert-rules/1"],
  ["DELETE", "/api/alert-rules/1"],
  ["GET", "/api/alert-rules/preview?device=x"],
  ["GET", "/api/auth/me"],
  ["POST", "/api/auth/logout"],
  ["GET", "/api/users"],
  ["POST", "/api/users"],
  ["PUT", "/api/users/admin"],
  ["DELETE", "/api/users/admin"],
  ["GET", "/api/tokens"],
  ["POST", "/api/tokens"],
  ["DELETE", "/api/tokens/1"],
  ["GET", "/api/audit"],
  ["POST", "/api/alerts/1/ack"],
  ["DELETE", "/api/alerts/1/ack"],
  ["GET", "/api/incidents"],
  ["GET", "/api/incidents/inc_x"],
  ["POST", "/api/incidents/inc_x/ack"],
  ["GET", "/api/silences"],
  ["POST", "/api/silences"],
  ["DELETE", "/api/silences/sil_x"],
  ["PATCH", "/api/devices/x"],
  ["POST", "/api/devices/import"],
  ["GET", "/api/tags"],
];
const PAGES = [
  "/",
  "/history",
  "/alerts",
  "/alerts/silences",
  "/settings/alerts",
  "/settings/access",
  "/fleet/insights",
  "/devices/x",
];

test.describe("access control on the defaults", () => {
  test("without credentials: every API route answers 401 in the one shape, pages go to /login, health says only ok", async ({
    request,
  }) => {
    for (const [method, path] of API_ROUTES) {
      const res = await request.fetch(path, { method, data: method === "GET" ? undefined : {} });
      expect(res.status(), `${method} ${path}`).toBe(401);
      expect(await json(res), `${method} ${path}`).toEqual({
        error: { code: "UNAUTHENTICATED", message: expect.any(String) },
      });
    }
    for (const page of PAGES) {
      const res = await request.get(page, { maxRedirects: 0 });
      expect(res.status(), page).toBe(307);
      expect(res.headers()["location"], page).toBe(`/login?next=${encodeURIComponent(page)}`);
    }
    expect(await json(await request.get("/api/health"))).toEqual({ ok: expect.any(Boolean) });
  });

  test("signs in and out: wrong password 401, cookie httpOnly and SameSite=Lax, sign-out ends the session for good", async ({
    playwright,
    baseURL,
  }) => {
    const ctx = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { origin: baseURL! } });
    const wrong = await ctx.post("/api/auth/login", { data: { username: "admin", password: "nope-nope" } });
    expect(wrong.status()).toBe(401);
    expect((await json(wrong)).error).toMatchObject({ code: "UNAUTHENTICATED" });
    const ok = await ctx.post("/api/auth/login", { data: ADMIN });
    expect(ok.status()).toBe(200);
    const cookie = ok.headers()["set-cookie"];
    expect(cookie).toMatch(/^kw_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    expect(await json(await ctx.get("/api/auth/me"))).toEqual({
      user: { username: "admin", role: "admin" },
      via: "session",
    });
    const full = await json(await ctx.get("/api/health"));
    expect(full).toHaveProperty("broker");
    const value = /^kw_session=([^;]+)/.exec(cookie)![1];
    expect((await ctx.post("/api/auth/logout", { data: {} })).status()).toBe(204);
    // The old cookie, replayed by hand, no longer works.
    const replay = await playwright.request.newContext({
      baseURL,
      extraHTTPHeaders: { cookie: `kw_session=${value}` },
    });
    expect((await replay.get("/api/auth/me")).status()).toBe(401);
  });

  test("throttles guessing: the sixth failure within a minute answers 429 with Retry-After", async ({
    playwright,
    baseURL,
  }) => {
    // One client address of its own (the first X-Forwarded-For entry), so earlier tests' failures do not count.
    const ctx = await playwright.request.newContext({
      baseURL,
      extraHTTPHeaders: { origin: baseURL!, "x-forwarded-for": "198.51.100.7" },
    });
    for (let i = 0; i < 5; i++)
      expect(
        (await ctx.post("/api/auth/login", { data: { username: "victim", password: `guess-${i}` } })).status(),
      ).toBe(401);
    const sixth = await ctx.post("/api/auth/login", { data: { username: "victim", password: "guess-6" } });
    expect(sixth.status()).toBe(429);
    expect(Number(sixth.headers()["retry-after"])).toBeGreaterThan(0);
    expect((await json(sixth)).error).toMatchObject({ code: "TOO_MANY_REQUESTS" });
    // The address that guessed is held back for every name; another address may still sign in.
    expect((await ctx.post("/api/auth/login", { data: ADMIN })).status()).toBe(429);
    const elsewhere = await playwright.request.newContext({
      baseURL,
      extraHTTPHeaders: { origin: baseURL!, "x-forwarded-for": "198.51.100.8" },
    });
    expect((await elsewhere.post("/api/auth/login", { data: ADMIN })).status()).toBe(200);
  });

  test("roles: a viewer reads and exports but changes nothing; an operator edits rules; only an admin manages users", async ({
    playwright,
    baseURL,
  }) => {
    const admin = await signedIn(playwright, baseURL!, ADMIN.username, ADMIN.password);
    for (const [username, role] of [
      ["vera", "viewer"],
      ["otto", "operator"],
    ])
      expect(
        (await admin.post("/api/users", { data: { username, password: `${username}-password`, role } })).status(),
      ).toBe(201);
    expect(
      (await admin.post("/api/users", { data: { username: "vera", password: "another-pw", role: "viewer" } })).status(),
    ).toBe(409);
    const bad = await admin.post("/api/users", { data: { username: "x y", password: "short", role: "boss" } });
    expect(bad.status()).toBe(400);
    expect(Object.keys(((await json(bad)).error as { fields: object }).fields).sort()).toEqual([
      "password",
      "role",
      "username",
    ]);

    const vera = await signedIn(playwright, baseURL!, "vera", "vera-password");
    expect((await vera.get("/api/devices")).status()).toBe(200);
    expect((await vera.get("/api/disconnects.csv")).status()).toBe(200);
    const denied = await vera.post("/api/alert-rules", { data: { name: "v", match: "v-*" } });
    expect(denied.status()).toBe(403);
    expect((await json(denied)).error).toMatchObject({ code: "FORBIDDEN" });
    expect((await vera.get("/api/users")).status()).toBe(403);
    // Handling alerts is an operator's: a viewer reads silences and incidents but cannot mute or acknowledge.
    expect((await vera.get("/api/silences")).status()).toBe(200);
    expect((await vera.get("/api/incidents")).status()).toBe(200);
    const mute = { match: "v-*", endsAt: new Date(Date.now() + 3_600_000).toISOString(), comment: "x" };
    expect((await vera.post("/api/silences", { data: mute })).status()).toBe(403);
    expect((await vera.post("/api/alerts/1/ack", { data: {} })).status()).toBe(403);
    expect((await vera.patch("/api/devices/x", { data: { name: "n" } })).status()).toBe(403);

    const otto = await signedIn(playwright, baseURL!, "otto", "otto-password");
    const rule = await otto.post("/api/alert-rules", {
      data: { name: "otto's", match: "otto-*", offlineSeconds: 30, offlineFactor: null },
    });
    expect(rule.status(), await rule.text()).toBe(201);
    const silence = await otto.post("/api/silences", { data: mute });
    expect(silence.status(), await silence.text()).toBe(201);
    expect((await json(silence)).silence).toMatchObject({ match: "v-*", createdBy: "otto", state: "active" });
    expect((await otto.get("/api/audit")).status()).toBe(403);

    // The last admin can be neither deleted nor demoted.
    expect((await admin.delete("/api/users/admin")).status()).toBe(409);
    expect((await admin.put("/api/users/admin", { data: { role: "viewer" } })).status()).toBe(409);
  });

  test("API tokens: shown once, a viewer token exports CSV but cannot create a rule, revoked refuses at once", async ({
    playwright,
    baseURL,
  }) => {
    const admin = await signedIn(playwright, baseURL!, ADMIN.username, ADMIN.password);
    const created = await admin.post("/api/tokens", { data: { name: "grafana", role: "viewer" } });
    expect(created.status()).toBe(201);
    const { token, id } = (await json(created)) as { token: string; id: number };
    expect(token).toMatch(/^kw_[A-Za-z0-9_-]{43}$/);
    const listed = JSON.stringify(await json(await admin.get("/api/tokens")));
    expect(listed).toContain("grafana");
    expect(listed).not.toContain(token);
    expect(listed).not.toContain(token.slice(3, 20));

    const bearer = await playwright.request.newContext({
      baseURL,
      extraHTTPHeaders: { authorization: `Bearer ${token}` },
    });
    const csv = await bearer.get("/api/disconnects.csv");
    expect(csv.status()).toBe(200);
    expect(await csv.text()).toMatch(/^device_id,/);
    // Bearer requests need no Origin (no cookie involved), but a viewer still cannot change anything.
    expect((await bearer.post("/api/alert-rules", { data: { name: "t", match: "t-*" } })).status()).toBe(403);
    expect(await json(await bearer.get("/api/auth/me"))).toEqual({
      user: { username: `token:grafana#${id}`, role: "viewer" },
      via: "token",
    });

    expect((await admin.delete(`/api/tokens/${id}`)).status()).toBe(204);
    expect((await bearer.get("/api/devices")).status()).toBe(401);
    expect((await admin.delete(`/api/tokens/${id}`)).status()).toBe(404);
  });

  test("CSRF: a cookie-authenticated change needs JSON and keepwatch's own Origin; a cross-origin form POST fails", async ({
    playwright,
    baseURL,
    page,
  }) => {
    const admin = await signedIn(playwright, baseURL!, ADMIN.username, ADMIN.password);
    const rulesBefore = ((await json(await admin.get("/api/alert-rules"))).rules as unknown[]).length;
    const form = await admin.post("/api/alert-rules", {
      headers: { "content-type": "application/x-www-form-urlencoded" },
      data: "name=evil&match=*",
    });
    expect(form.status()).toBe(415);
    const evil = await admin.post("/api/alert-rules", {
      headers: { origin: "http://evil.example" },
      data: { name: "evil", match: "*" },
    });
    expect(evil.status()).toBe(403);

    // In a real browser: signed in to keepwatch, the operator opens a page on another origin that posts a form.
    await page.goto("/login");
    await page.getByLabel("Username").fill(ADMIN.username);
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((u) => !u.pathname.startsWith("/login"));
    const attacker: Server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<form id="f" method="POST" action="${baseURL}/api/alert-rules" enctype="text/plain">
        <input name='{"name":"evil","match":"*","x":"' value='"}'></form><script>f.submit()</script>`);
    });
    await new Promise<void>((r) => attacker.listen(0, "127.0.0.1", r));
    try {
      const port = (attacker.address() as AddressInfo).port;
      const answered = page.waitForResponse(
        (r) => r.url().endsWith("/api/alert-rules") && r.request().method() === "POST",
      );
      await page.goto(`http://127.0.0.1:${port}/`);
      const res = await answered;
      expect([403, 415]).toContain(res.status());
    } finally {
      attacker.close();
    }
    const rulesAfter = (await json(await admin.get("/api/alert-rules"))).rules as Array<{ name: string }>;
    expect(rulesAfter).toHaveLength(rulesBefore);
    expect(rulesAfter.map((r) => r.name)).not.toContain("evil");
  });

  test("limits: a body over 64 KB answers 413, the 11th event stream of one user 429", async ({
    playwright,
    baseURL,
  }) => {
    const admin = await signedIn(playwright, baseURL!, ADMIN.username, ADMIN.password);
    const big = await admin.post("/api/alert-rules", { data: { name: "x".repeat(70_000), match: "*" } });
    expect(big.status()).toBe(413);
    expect((await json(big)).error).toMatchObject({ code: "PAYLOAD_TOO_LARGE" });

    const cookie = (await admin.storageState()).cookies.find((c) => c.name === "kw_session")!.value;
    const streams: AbortController[] = [];
    // Each stream is read from and held: a response nobody reads may be collected, which closes it.
    const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
    try {
      for (let i = 0; i < 10; i++) {
        const ac = new AbortController();
        streams.push(ac);
        const res = await fetch(`${baseURL}/api/stream?only=alerts`, {
          headers: { cookie: `kw_session=${cookie}` },
          signal: ac.signal,
        });
        expect(res.status, `stream ${i + 1}`).toBe(200);
        const reader = res.body!.getReader();
        readers.push(reader);
        expect((await reader.read()).done).toBe(false);
      }
      const eleventh = await fetch(`${baseURL}/api/stream?only=alerts`, {
        headers: { cookie: `kw_session=${cookie}` },
      });
      expect(eleventh.status).toBe(429);
      errorBodies.push(await eleventh.text());
    } finally {
      for (const ac of streams) ac.abort();
      expect(readers).toHaveLength(10);
    }
  });

  test("the audit log shows these tests' own actions, for admins", async ({ playwright, baseURL }) => {
    const admin = await signedIn(playwright, baseURL!, ADMIN.username, ADMIN.password);
    const { events } = (await json(await admin.get("/api/audit?limit=1000"))) as {
      events: Array<{ actor: string; action: string; target: string | null }>;
    };
    const seen = new Set(events.map((e) => `${e.actor} ${e.action}`));
    for (const expected of [
      "admin login",
      "admin logout",
      "victim login_failed",
      "victim login_throttled",
      "admin user.create",
      "otto rule.create",
      "admin token.create",
      "admin token.revoke",
    ])
      expect(seen, expected).toContain(expected);
    expect(events.find((e) => e.action === "user.create")?.target).toMatch(/^user:(vera|otto)$/);
  });

  test("no error body carries a stack trace, SQL or a connection string", async () => {
    expect(errorBodies.length).toBeGreaterThan(30);
    for (const body of errorBodies) {
      expect(body).toMatch(/^\{"error":\{"code":"[A-Z_]+","message":/);
      expect(body).not.toMatch(
        /\bat .+\(.+:\d+:\d+\)|node_modules|\.ts:\d+|postgres(ql)?:\/\/|\bSELECT\b|\bINSERT\b|prisma|pglite/i,
      );
    }
  });
});
