/**
 * Access control's decisions on a real Postgres: sign-in, sessions that end
 * (idle, absolute, sign-out), throttled guessing, tokens (revoked, expired,
 * capped by their creator's role), the one-time setup, the last admin.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../store/open";
import { createTestDatabase, type TestDatabase } from "../store/testing";
import {
  countUsers,
  createToken,
  createUser,
  deleteUser,
  getUser,
  listAudit,
  revokeToken,
  updateUser,
} from "../store/auth";
import { hashPassword, newSecret, secretHash, TOKEN_PREFIX } from "./secrets";
import { AuthService, SESSION_COOKIE } from "./service";
import type { Db } from "../store/db";

let database: TestDatabase;
let db: Db;
let close: () => Promise<void>;
let now = Date.parse("2026-12-01T00:00:00Z");
const HOUR = 3_600_000;

function service(overrides: Partial<ConstructorParameters<typeof AuthService>[0]> = {}): AuthService {
  return new AuthService({
    db: () => db,
    idleMs: 2 * HOUR,
    maxAgeMs: 24 * HOUR,
    anonymousRole: null,
    admin: { username: "admin", password: null },
    log: () => undefined,
    now: () => now,
    ...overrides,
  });
}

const withCookie = (cookie: string) =>
  new Request("http://kw/", { headers: { cookie: `${SESSION_COOKIE}=${cookie}` } });
const withBearer = (token: string) => new Request("http://kw/", { headers: { authorization: `Bearer ${token}` } });

beforeAll(async () => {
  database = await createTestDatabase();
  const opened = openDatabase(database.url);
  db = opened.prisma;
  close = () => opened.close();
});

afterAll(async () => {
  await close?.();
  await database?.drop();
});

describe("the first admin", () => {
  it("comes from a one-time setup link while nobody exists, which works once", async () => {
    const auth = service();
    const lines = await auth.prepare();
    const token = /setup\?token=(\S+)/.exec(lines.join("\n"))?.[1];
    expect(token).toBeDefined();
    expect(await auth.setup("wrong", "root", "correct horse", null)).toBe("bad-token");
    expect(await countUsers(db)).toBe(0);
    expect(await auth.setup(token!, "root", "correct horse", "10.0.0.9")).toBe("ok");
    expect(await auth.setup(token!, "mallory", "correct horse", null)).toBe("done");
    expect((await getUser(db, "root"))?.role).toBe("admin");
    expect(await getUser(db, "mallory")).toBeNull();
    expect((await listAudit(db, 10)).map((a) => [a.actor, a.action, a.ip])).toContainEqual([
      "root",
      "setup",
      "10.0.0.9",
    ]);
    // With users, a restart prints no new link.
    expect((await service().prepare()).join("\n")).not.toMatch(/setup\?token/);
  });

  it("comes from KEEPWATCH_ADMIN_PASSWORD, which also resets its password", async () => {
    await service({ admin: { username: "ops", password: "first-password" } }).prepare();
    const auth = service({ admin: { username: "ops", password: "second-password" } });
    await auth.prepare();
    expect((await auth.login("ops", "first-password", null)).ok).toBe(false);
    expect((await auth.login("ops", "second-password", null)).ok).toBe(true);
  });
});

describe("sessions", () => {
  it("signs in, stores only a hash, ends when idle, at its absolute end, or on sign-out", async () => {
    const auth = service();
    const r = await auth.login("root", "correct horse", null);
    if (!r.ok) throw new Error("sign-in failed");
    const row = await db.authSession.findUnique({ where: { tokenHash: secretHash(r.cookie) } });
    expect(row).not.toBeNull();
    expect(await db.authSession.count({ where: { tokenHash: r.cookie } })).toBe(0);
    expect(await auth.authenticate(withCookie(r.cookie))).toMatchObject({ kind: "user", name: "root", role: "admin" });

    // Used every hour: alive until the absolute end (24 h), then gone.
    const start = now;
    for (let h = 1; h < 24; h++) {
      now = start + h * HOUR;
      expect(await auth.authenticate(withCookie(r.cookie)), `hour ${h}`).not.toBeNull();
    }
    now = start + 24 * HOUR;
    expect(await auth.authenticate(withCookie(r.cookie))).toBeNull();

    // Idle for more than 2 h: gone.
    const idle = await auth.login("root", "correct horse", null);
    if (!idle.ok) throw new Error("sign-in failed");
    now += 2 * HOUR + 1;
    expect(await auth.authenticate(withCookie(idle.cookie))).toBeNull();

    // Signed out: gone.
    const out = await auth.login("root", "correct horse", null);
    if (!out.ok) throw new Error("sign-in failed");
    const p = await auth.authenticate(withCookie(out.cookie));
    await auth.logout(p!, null);
    expect(await auth.authenticate(withCookie(out.cookie))).toBeNull();
  });

  it("refuses the sixth failure within a minute for one name or one address, with a wait", async () => {
    const auth = service();
    for (let i = 0; i < 5; i++)
      expect(await auth.login("root", `guess-${i}`, "10.1.1.1")).toEqual({ ok: false, reason: "bad-credentials" });
    const sixth = await auth.login("root", "correct horse", "10.1.1.2");
    expect(sixth).toMatchObject({ ok: false, reason: "throttled" });
    expect(sixth.ok === false && sixth.reason === "throttled" && sixth.retryAfterSeconds).toBeGreaterThan(0);
    // The address that guessed is throttled for other names too.
    expect(await auth.login("nobody", "x", "10.1.1.1")).toMatchObject({ reason: "throttled" });
    now += 61_000;
    expect((await auth.login("root", "correct horse", "10.1.1.2")).ok).toBe(true);
    const actions = (await listAudit(db, 50)).map((a) => a.action);
    expect(actions.filter((a) => a === "login_failed").length).toBeGreaterThanOrEqual(5);
    expect(actions).toContain("login_throttled");
  });
});

describe("API tokens", () => {
  it("authenticate until revoked or expired, never above their creator's current role", async () => {
    const auth = service();
    const creator = await createUser(db, {
      username: "op-1",
      role: "operator",
      passwordHash: await hashPassword("pw-op-1-xx"),
    });
    const secret = newSecret(TOKEN_PREFIX);
    const t = await createToken(db, {
      name: "ci",
      role: "operator",
      tokenHash: secretHash(secret),
      createdBy: creator!.id,
      expiresAt: now + HOUR,
    });
    expect(await auth.authenticate(withBearer(secret))).toMatchObject({ kind: "token", role: "operator" });
    // Its creator is demoted: so is the token.
    await updateUser(db, "op-1", { role: "viewer" });
    expect(await auth.authenticate(withBearer(secret))).toMatchObject({ role: "viewer" });
    // Wrong, expired, revoked: nobody (even with an anonymous role, a bad token is not let through as anonymous).
    const anon = service({ anonymousRole: "viewer" });
    expect(await anon.authenticate(withBearer(`${TOKEN_PREFIX}nope`))).toBeNull();
    now += HOUR;
    expect(await auth.authenticate(withBearer(secret))).toBeNull();
    now -= HOUR;
    await revokeToken(db, t.id, now);
    expect(await auth.authenticate(withBearer(secret))).toBeNull();
    // Its creator deleted: the token stops working.
    const other = newSecret(TOKEN_PREFIX);
    await createToken(db, {
      name: "x",
      role: "viewer",
      tokenHash: secretHash(other),
      createdBy: creator!.id,
      expiresAt: null,
    });
    expect(await auth.authenticate(withBearer(other))).not.toBeNull();
    await deleteUser(db, "op-1");
    expect(await auth.authenticate(withBearer(other))).toBeNull();
  });
});

describe("users", () => {
  it("never leaves the instance without an admin", async () => {
    for (const u of await db.user.findMany({ where: { role: "admin", NOT: { username: "root" } } }))
      await db.user.delete({ where: { id: u.id } });
    expect(await deleteUser(db, "root")).toBe("last-admin");
    expect(await updateUser(db, "root", { role: "viewer" })).toBe("last-admin");
    expect(await updateUser(db, "ghost", { role: "viewer" })).toBe("not-found");
    await createUser(db, { username: "second", role: "admin", passwordHash: await hashPassword("pw-second-x") });
    expect(await updateUser(db, "root", { role: "viewer" })).toBe("ok");
    expect(await deleteUser(db, "second")).toBe("last-admin");
  });

  it("answers anonymously only where an anonymous role is set", async () => {
    const bare = new Request("http://kw/");
    expect(await service().authenticate(bare)).toBeNull();
    expect(await service({ anonymousRole: "viewer" }).authenticate(bare)).toEqual({
      kind: "anonymous",
      name: "anonymous",
      role: "viewer",
    });
  });
});
