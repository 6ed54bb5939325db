/**
 * Who is asking, and may they: the monitor's access control.
 *
 *   Authorization: Bearer kw_…  → an API token (its role, capped by its creator's current role)
 *   Cookie: kw_session=…        → a signed-in user (idle timeout, absolute lifetime)
 *   neither                     → KEEPWATCH_ANONYMOUS_ROLE when set, else nobody
 *
 * Secrets are only ever stored hashed (lib/auth/secrets.ts). The first admin
 * comes from KEEPWATCH_ADMIN_PASSWORD at start, or, while no user exists,
 * from a one-time setup link printed in the start-up log. Every sign-in,
 * failed sign-in and change is written to the audit log.
 */
import type { Db } from "../store/db";
import {
  countUsers,
  createSession,
  createUser,
  deleteSession,
  findSession,
  findToken,
  getUser,
  pruneSessions,
  recordAudit,
  touchSession,
  touchToken,
  upsertUser,
} from "../store/auth";
import { roleAtLeast, type Role } from "./roles";
import { hashPassword, newSecret, sameSecret, secretHash, TOKEN_PREFIX, verifyPassword } from "./secrets";
import { LoginThrottle } from "./throttle";

export const SESSION_COOKIE = "kw_session";

export interface Principal {
  kind: "user" | "token" | "anonymous";
  /** The username, `token:<name>#<id>`, or `anonymous`: what the audit log and stream limits use. */
  name: string;
  role: Role;
  userId?: number;
  tokenId?: number;
  /** For a signed-in user: the hash of the session's cookie (sign-out ends it). */
  sessionHash?: string;
}

export interface AuthOptions {
  db(): Db | null;
  idleMs: number;
  maxAgeMs: number;
  anonymousRole: Role | null;
  admin: { username: string; password: string | null };
  log(message: string): void;
  now?: () => number;
}

export type LoginResult =
  | { ok: true; principal: Principal; cookie: string; maxAgeSeconds: number }
  | { ok: false; reason: "bad-credentials" }
  | { ok: false; reason: "throttled"; retryAfterSeconds: number };

/** `name=value` pairs of a Cookie header. */
export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

/** The bearer token of an Authorization header, or null. */
export function readBearer(header: string | null): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return m ? m[1] : null;
}

/** How often a session's last use is written (every request would be a write per request). */
const TOUCH_EVERY_MS = 60_000;

export class AuthService {
  private readonly throttle = new LoginThrottle();
  /** The hash of the one-time setup token while no user exists; null once set up. */
  private setupHash: string | null = null;

  constructor(private readonly opts: AuthOptions) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private db(): Db {
    const db = this.opts.db();
    if (!db) throw new Error("database not open");
    return db;
  }

  get anonymousRole(): Role | null {
    return this.opts.anonymousRole;
  }

  /**
   * At start: the admin from the environment (created, or its password and
   * role reset), or a setup link while nobody can sign in. Returns the lines
   * the start-up log should print.
   */
  async prepare(): Promise<string[]> {
    const db = this.db();
    const lines: string[] = [];
    const { admin } = this.opts;
    if (admin.password !== null) {
      await upsertUser(db, {
        username: admin.username,
        role: "admin",
        passwordHash: await hashPassword(admin.password),
      });
      lines.push(`access: admin "${admin.username}" from KEEPWATCH_ADMIN_PASSWORD; sign in at /login`);
    } else if ((await countUsers(db)) === 0) {
      const token = newSecret();
      this.setupHash = secretHash(token);
      lines.push(`access: no user yet. Create the first admin at /setup?token=${token} (valid until one exists)`);
    } else {
      lines.push("access: sign in at /login");
    }
    if (this.opts.anonymousRole)
      lines.push(
        `access: KEEPWATCH_ANONYMOUS_ROLE=${this.opts.anonymousRole}: anyone who can reach this port has that role without signing in`,
      );
    await pruneSessions(db, this.now(), this.opts.idleMs).catch(() => 0);
    return lines;
  }

  /** Whether the setup link is still open (no user exists yet, and none came from the environment). */
  get setupOpen(): boolean {
    return this.setupHash !== null;
  }

  /** The one-time setup: creates the first admin if the token is right and nobody exists yet. */
  async setup(
    token: string,
    username: string,
    password: string,
    ip: string | null,
  ): Promise<"ok" | "bad-token" | "done"> {
    const expected = this.setupHash;
    if (expected === null) return "done";
    if (!sameSecret(secretHash(token), expected)) return "bad-token";
    const db = this.db();
    if ((await countUsers(db)) > 0) {
      this.setupHash = null;
      return "done";
    }
    const user = await createUser(db, { username, role: "admin", passwordHash: await hashPassword(password) });
    if (!user) return "done";
    this.setupHash = null;
    await this.audit({ actor: username, action: "setup", target: `user:${username}`, ip });
    return "ok";
  }

  /** Who the request is from, or null when nobody (no credentials, no anonymous role). */
  async authenticate(request: Request): Promise<Principal | null> {
    const bearer = readBearer(request.headers.get("authorization"));
    if (bearer !== null) return this.fromToken(bearer);
    const cookie = readCookie(request.headers.get("cookie"), SESSION_COOKIE);
    if (cookie !== null) {
      const user = await this.fromSession(cookie);
      if (user) return user;
    }
    const role = this.opts.anonymousRole;
    return role ? { kind: "anonymous", name: "anonymous", role } : null;
  }

  /** A token that is wrong, revoked or expired is nobody, even where anonymous access is on. */
  private async fromToken(token: string): Promise<Principal | null> {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const found = await findToken(this.db(), secretHash(token));
    const now = this.now();
    if (!found || found.creatorRole === null) return null;
    const t = found.token;
    if (t.revokedAt !== null || (t.expiresAt !== null && t.expiresAt <= now)) return null;
    void touchToken(this.db(), t.id, now).catch(() => undefined);
    // A token never does more than its creator may now.
    const role = roleAtLeast(found.creatorRole, t.role) ? t.role : found.creatorRole;
    return { kind: "token", name: `token:${t.name}#${t.id}`, role, tokenId: t.id };
  }

  private async fromSession(cookie: string): Promise<Principal | null> {
    const hash = secretHash(cookie);
    const db = this.db();
    const s = await findSession(db, hash);
    const now = this.now();
    if (!s) return null;
    if (s.expiresAt <= now || s.lastUsedAt + this.opts.idleMs <= now) {
      await deleteSession(db, hash).catch(() => undefined);
      return null;
    }
    if (now - s.lastUsedAt >= TOUCH_EVERY_MS) await touchSession(db, hash, now).catch(() => undefined);
    return { kind: "user", name: s.user.username, role: s.user.role, userId: s.user.id, sessionHash: hash };
  }

  /** Checks the password, throttles guessing, starts a session. */
  async login(username: string, password: string, ip: string | null): Promise<LoginResult> {
    const now = this.now();
    const keys = [`user:${username.toLowerCase()}`, ...(ip ? [`ip:${ip}`] : [])];
    const wait = this.throttle.blockedFor(keys, now);
    if (wait > 0) {
      await this.audit({ actor: username, action: "login_throttled", ip });
      return { ok: false, reason: "throttled", retryAfterSeconds: Math.ceil(wait / 1000) };
    }
    const db = this.db();
    const user = await getUser(db, username);
    const ok = await verifyPassword(user?.passwordHash ?? null, password);
    if (!user || !ok) {
      this.throttle.fail(keys, now);
      await this.audit({ actor: username, action: "login_failed", ip });
      return { ok: false, reason: "bad-credentials" };
    }
    this.throttle.succeed(keys[0]);
    const secret = newSecret();
    const hash = secretHash(secret);
    await createSession(db, { tokenHash: hash, userId: user.id, at: now, expiresAt: now + this.opts.maxAgeMs });
    await this.audit({ actor: user.username, action: "login", ip });
    return {
      ok: true,
      principal: { kind: "user", name: user.username, role: user.role, userId: user.id, sessionHash: hash },
      cookie: secret,
      maxAgeSeconds: Math.floor(this.opts.maxAgeMs / 1000),
    };
  }

  async logout(principal: Principal, ip: string | null): Promise<void> {
    if (principal.sessionHash) await deleteSession(this.db(), principal.sessionHash);
    await this.audit({ actor: principal.name, action: "logout", ip });
  }

  /** Writes an audit event; a failure to write is logged, never thrown at the request. */
  async audit(e: {
    actor: string;
    action: string;
    target?: string | null;
    ip?: string | null;
    detail?: string | null;
  }): Promise<void> {
    try {
      await recordAudit(this.db(), e);
    } catch (err) {
      this.opts.log(`audit log write failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
