/**
 * Accounts, sessions, API tokens and the audit log (lib/auth decides; this
 * module only reads and writes). Secrets arrive here already hashed.
 */
import { isRole, type Role } from "../auth/roles";
import type { Db } from "./db";

export interface UserRecord {
  id: number;
  username: string;
  role: Role;
  passwordHash: string;
  createdAt: number;
  updatedAt: number;
}

export interface TokenRecord {
  id: number;
  name: string;
  role: Role;
  createdBy: string | null;
  createdAt: number;
  lastUsedAt: number | null;
  expiresAt: number | null;
  revokedAt: number | null;
}

export interface AuditRecord {
  id: string;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  detail: string | null;
}

/** A role written by a newer version reads as the weakest. */
const roleOf = (r: string): Role => (isRole(r) ? r : "viewer");
const msOrNull = (d: Date | null): number | null => (d === null ? null : d.getTime());

function toUser(row: {
  id: number;
  username: string;
  role: string;
  passwordHash: string;
  createdAt: Date;
  updatedAt: Date;
}): UserRecord {
  return { ...row, role: roleOf(row.role), createdAt: row.createdAt.getTime(), updatedAt: row.updatedAt.getTime() };
}

// ------------------------------------------------------------------ users

export async function countUsers(db: Db): Promise<number> {
  return db.user.count();
}

export async function countAdmins(db: Db): Promise<number> {
  return db.user.count({ where: { role: "admin" } });
}

export async function getUser(db: Db, username: string): Promise<UserRecord | null> {
  const row = await db.user.findUnique({ where: { username } });
  return row ? toUser(row) : null;
}

export async function listUsers(db: Db): Promise<UserRecord[]> {
  return (await db.user.findMany({ orderBy: { username: "asc" } })).map(toUser);
}

/** A new user; null when the name is taken. */
export async function createUser(
  db: Db,
  u: { username: string; role: Role; passwordHash: string },
): Promise<UserRecord | null> {
  const rows = await db.$queryRaw<{ id: number }[]>`
    INSERT INTO "users" ("username", "role", "password_hash") VALUES (${u.username}, ${u.role}, ${u.passwordHash})
    ON CONFLICT ("username") DO NOTHING RETURNING "id"`;
  return rows.length === 0 ? null : getUser(db, u.username);
}

/** Creates the user, or sets its password and role (the first admin from the environment). */
export async function upsertUser(db: Db, u: { username: string; role: Role; passwordHash: string }): Promise<void> {
  await db.user.upsert({
    where: { username: u.username },
    create: u,
    update: { role: u.role, passwordHash: u.passwordHash },
  });
}

/**
 * Changes role and/or password. Demoting the last admin is refused inside
 * the same statement, so two concurrent demotions cannot leave none.
 */
export async function updateUser(
  db: Db,
  username: string,
  change: { role?: Role; passwordHash?: string },
): Promise<"ok" | "not-found" | "last-admin"> {
  const role = change.role ?? null;
  const passwordHash = change.passwordHash ?? null;
  const rows = await db.$queryRaw<{ id: number }[]>`
    UPDATE "users" SET
      "role" = COALESCE(${role}::text, "role"),
      "password_hash" = COALESCE(${passwordHash}::text, "password_hash"),
      "updated_at" = now()
    WHERE "username" = ${username}
      AND (${role}::text IS NULL OR ${role}::text = 'admin' OR "role" <> 'admin'
           OR (SELECT count(*) FROM "users" WHERE "role" = 'admin') > 1)
    RETURNING "id"`;
  if (rows.length > 0) return "ok";
  return (await getUser(db, username)) ? "last-admin" : "not-found";
}

/** Deletes a user (its sessions go with it); the last admin cannot be deleted. */
export async function deleteUser(db: Db, username: string): Promise<"ok" | "not-found" | "last-admin"> {
  const rows = await db.$queryRaw<{ id: number }[]>`
    DELETE FROM "users" WHERE "username" = ${username}
      AND ("role" <> 'admin' OR (SELECT count(*) FROM "users" WHERE "role" = 'admin') > 1)
    RETURNING "id"`;
  if (rows.length > 0) return "ok";
  return (await getUser(db, username)) ? "last-admin" : "not-found";
}

// ------------------------------------------------------------------ sessions

export async function createSession(
  db: Db,
  s: { tokenHash: string; userId: number; at: number; expiresAt: number },
): Promise<void> {
  await db.authSession.create({
    data: {
      tokenHash: s.tokenHash,
      userId: s.userId,
      createdAt: new Date(s.at),
      lastUsedAt: new Date(s.at),
      expiresAt: new Date(s.expiresAt),
    },
  });
}

export interface SessionLookup {
  user: UserRecord;
  lastUsedAt: number;
  expiresAt: number;
}

export async function findSession(db: Db, tokenHash: string): Promise<SessionLookup | null> {
  const row = await db.authSession.findUnique({ where: { tokenHash }, include: { user: true } });
  if (!row) return null;
  return { user: toUser(row.user), lastUsedAt: row.lastUsedAt.getTime(), expiresAt: row.expiresAt.getTime() };
}

export async function touchSession(db: Db, tokenHash: string, at: number): Promise<void> {
  await db.authSession.updateMany({ where: { tokenHash }, data: { lastUsedAt: new Date(at) } });
}

export async function deleteSession(db: Db, tokenHash: string): Promise<void> {
  await db.authSession.deleteMany({ where: { tokenHash } });
}

/** Ends every session of a user (password changed, role changed, deleted). */
export async function deleteUserSessions(db: Db, userId: number): Promise<void> {
  await db.authSession.deleteMany({ where: { userId } });
}

/** Drops sessions past their absolute end or idle for longer than `idleMs`. */
export async function pruneSessions(db: Db, now: number, idleMs: number): Promise<number> {
  const r = await db.authSession.deleteMany({
    where: { OR: [{ expiresAt: { lte: new Date(now) } }, { lastUsedAt: { lte: new Date(now - idleMs) } }] },
  });
  return r.count;
}

// ------------------------------------------------------------------ API tokens

function toToken(row: {
  id: number;
  name: string;
  role: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  creator: { username: string } | null;
}): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    role: roleOf(row.role),
    createdBy: row.creator?.username ?? null,
    createdAt: row.createdAt.getTime(),
    lastUsedAt: msOrNull(row.lastUsedAt),
    expiresAt: msOrNull(row.expiresAt),
    revokedAt: msOrNull(row.revokedAt),
  };
}

export async function createToken(
  db: Db,
  t: { name: string; role: Role; tokenHash: string; createdBy: number; expiresAt: number | null },
): Promise<TokenRecord> {
  const row = await db.apiToken.create({
    data: {
      name: t.name,
      role: t.role,
      tokenHash: t.tokenHash,
      createdBy: t.createdBy,
      expiresAt: t.expiresAt === null ? null : new Date(t.expiresAt),
    },
    include: { creator: { select: { username: true } } },
  });
  return toToken(row);
}

/** Tokens not revoked, newest first. */
export async function listTokens(db: Db): Promise<TokenRecord[]> {
  const rows = await db.apiToken.findMany({
    where: { revokedAt: null },
    orderBy: { id: "desc" },
    include: { creator: { select: { username: true } } },
  });
  return rows.map(toToken);
}

export interface TokenLookup {
  token: TokenRecord;
  /** The creator's current role (a token never does more than its creator now may); null once deleted. */
  creatorRole: Role | null;
}

export async function findToken(db: Db, tokenHash: string): Promise<TokenLookup | null> {
  const row = await db.apiToken.findUnique({
    where: { tokenHash },
    include: { creator: { select: { username: true, role: true } } },
  });
  if (!row) return null;
  return { token: toToken(row), creatorRole: row.creator ? roleOf(row.creator.role) : null };
}

/** Notes a use, at most once a minute per token. */
export async function touchToken(db: Db, id: number, at: number): Promise<void> {
  await db.apiToken.updateMany({
    where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(at - 60_000) } }] },
    data: { lastUsedAt: new Date(at) },
  });
}

/** Revokes a token at once; false when there is no such token (or it was revoked already). */
export async function revokeToken(db: Db, id: number, at: number): Promise<TokenRecord | null> {
  const row = await db.apiToken.findFirst({
    where: { id, revokedAt: null },
    include: { creator: { select: { username: true } } },
  });
  if (!row) return null;
  await db.apiToken.update({ where: { id }, data: { revokedAt: new Date(at) } });
  return toToken(row);
}

// ------------------------------------------------------------------ audit log

export async function recordAudit(
  db: Db,
  e: { actor: string; action: string; target?: string | null; ip?: string | null; detail?: string | null },
): Promise<void> {
  await db.auditEvent.create({
    data: { actor: e.actor, action: e.action, target: e.target ?? null, ip: e.ip ?? null, detail: e.detail ?? null },
  });
}

export async function listAudit(db: Db, limit: number): Promise<AuditRecord[]> {
  const rows = await db.auditEvent.findMany({ orderBy: [{ at: "desc" }, { id: "desc" }], take: limit });
  return rows.map((r) => ({
    id: r.id.toString(),
    at: r.at.getTime(),
    actor: r.actor,
    action: r.action,
    target: r.target,
    ip: r.ip,
    detail: r.detail,
  }));
}
