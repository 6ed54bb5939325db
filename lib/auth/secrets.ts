/**
 * Passwords and random secrets. Passwords: argon2id through @node-rs/argon2
 * (its defaults: 19 MiB, 2 passes, the OWASP minimum). Session cookies, API
 * tokens and the setup link are 32 random bytes; being unguessable already,
 * they are stored as their SHA-256 (a lookup by hash, no salt needed).
 */
import { hash, verify } from "@node-rs/argon2";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Prefix of API tokens (`kw_…`), so they are recognisable in logs and secret scanners. */
export const TOKEN_PREFIX = "kw_";

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

/** A hash of no one's password: unknown users cost as much as known ones, so timing tells nothing. */
let decoy: Promise<string> | null = null;

export async function verifyPassword(passwordHash: string | null, password: string): Promise<boolean> {
  if (passwordHash === null) {
    decoy ??= hash(randomBytes(16).toString("hex"));
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  return verify(passwordHash, password).catch(() => false);
}

/** A new random secret (base64url, 43 characters), with an optional prefix. */
export function newSecret(prefix = ""): string {
  return prefix + randomBytes(32).toString("base64url");
}

export function secretHash(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** Constant-time comparison of two secrets. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}
