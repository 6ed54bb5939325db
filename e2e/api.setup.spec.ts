/**
 * A fresh install with no KEEPWATCH_ADMIN_PASSWORD: the start-up log prints a
 * one-time setup link; only it can create the first admin, and only once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { startApp } from "../lib/testing/app";
import { freePort } from "../lib/testing/mosquitto";

test("the setup link from the start-up log creates the first admin, once", async ({ playwright }) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "kw-e2e-setup-"));
  const app = await startApp({
    DATABASE_URL: "",
    MQTT_URL: "",
    KEEPWATCH_DATA_DIR: dataDir,
    MQTT_PORT: String(await freePort()),
    KEEPWATCH_ANONYMOUS_ROLE: "",
    KEEPWATCH_ADMIN_PASSWORD: "",
  });
  try {
    const token = /\/setup\?token=([A-Za-z0-9_-]{43})/.exec(app.output())?.[1];
    expect(token, app.output()).toBeDefined();
    const ctx = await playwright.request.newContext({
      baseURL: app.baseURL,
      extraHTTPHeaders: { origin: app.baseURL },
    });
    expect((await ctx.get("/api/devices")).status()).toBe(401);
    const wrong = await ctx.post("/api/setup", {
      data: { token: "x".repeat(43), username: "root", password: "root-password" },
    });
    expect(wrong.status()).toBe(403);
    const ok = await ctx.post("/api/setup", { data: { token, username: "root", password: "root-password" } });
    expect(ok.status()).toBe(201);
    expect(ok.headers()["set-cookie"]).toMatch(/^kw_session=/);
    expect(await (await ctx.get("/api/auth/me")).json()).toMatchObject({ user: { username: "root", role: "admin" } });
    const again = await ctx.post("/api/setup", { data: { token, username: "eve", password: "eve-password" } });
    expect(again.status()).toBe(409);
    const eve = await playwright.request.newContext({
      baseURL: app.baseURL,
      extraHTTPHeaders: { origin: app.baseURL },
    });
    expect((await eve.post("/api/auth/login", { data: { username: "eve", password: "eve-password" } })).status()).toBe(
      401,
    );
    // After a restart with a user in place, the log prints no new link.
    await app.stop();
    await app.start();
    expect(app.output().match(/\/setup\?token=/g)?.length).toBe(1);
  } finally {
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
