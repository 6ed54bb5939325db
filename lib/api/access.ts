/**
 * Accounts, tokens and the audit log over HTTP: input schemas and DTOs for
 * app/api/auth, app/api/setup, app/api/users, app/api/tokens, app/api/audit.
 */
import { z } from "../zod";
import { ROLES } from "../auth/roles";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "../auth/secrets";
import type { AuditRecord, TokenRecord, UserRecord } from "../store/auth";
import { readJsonBody } from "./body";
import { AppError } from "./errors";

const username = z
  .string()
  .min(1, "username must not be empty")
  .max(64, "username must be at most 64 characters")
  .regex(/^[A-Za-z0-9._@-]+$/, "username may hold letters, digits and . _ @ - only");
const password = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `password must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(MAX_PASSWORD_LENGTH, `password must be at most ${MAX_PASSWORD_LENGTH} characters`);
const role = z.enum(ROLES, { error: `role must be one of ${ROLES.join(", ")}` });

export const loginBody = z.strictObject({
  username: z.string().max(256),
  password: z.string().max(MAX_PASSWORD_LENGTH),
});
export const setupBody = z.strictObject({ token: z.string().max(256), username, password });
export const newUserBody = z.strictObject({ username, password, role });
export const userChangeBody = z
  .strictObject({ password: password.optional(), role: role.optional() })
  .refine((b) => b.password !== undefined || b.role !== undefined, "give a new password, a new role, or both");
export const newTokenBody = z.strictObject({
  name: z.string().trim().min(1, "name must not be empty").max(100, "name must be at most 100 characters"),
  role,
  expiresAt: z.iso.datetime({ offset: true, error: "expiresAt must be an ISO-8601 time" }).optional(),
});
export const auditQuery = { limit: z.coerce.number().int().min(1).max(1000).optional() };

/** Reads a JSON body (64 KB at most) against a schema; every bad field named in `error.fields`. */
export async function readBody<S extends z.ZodType>(request: Request, schema: S): Promise<z.infer<S>> {
  const parsed = schema.safeParse(await readJsonBody(request));
  if (parsed.success) return parsed.data;
  const fields: Record<string, string> = {};
  for (const issue of parsed.error.issues) fields[issue.path.join(".") || "body"] ??= issue.message;
  const message = Object.entries(fields)
    .map(([k, v]) => (k === "body" ? v : `${k}: ${v}`))
    .join("; ");
  throw new AppError("BAD_REQUEST", message, fields);
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const isoTime = z.string().meta({ format: "date-time" });

export const userDtoSchema = z.object({
  username: z.string(),
  role,
  createdAt: isoTime.nullable(),
  updatedAt: isoTime.nullable(),
});
export type UserDto = z.infer<typeof userDtoSchema>;

export const userDto = (u: UserRecord): UserDto => ({
  username: u.username,
  role: u.role,
  createdAt: iso(u.createdAt),
  updatedAt: iso(u.updatedAt),
});

export const tokenDtoSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  role,
  createdBy: z.string().nullable(),
  createdAt: isoTime.nullable(),
  lastUsedAt: isoTime.nullable(),
  expiresAt: isoTime.nullable(),
});
export type TokenDto = z.infer<typeof tokenDtoSchema>;

export const tokenDto = (t: TokenRecord): TokenDto => ({
  id: t.id,
  name: t.name,
  role: t.role,
  createdBy: t.createdBy,
  createdAt: iso(t.createdAt),
  lastUsedAt: iso(t.lastUsedAt),
  expiresAt: iso(t.expiresAt),
});

export const auditDtoSchema = z.object({
  id: z.string(),
  at: isoTime.nullable(),
  actor: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  ip: z.string().nullable(),
  detail: z.string().nullable(),
});
export type AuditDto = z.infer<typeof auditDtoSchema>;

export const auditDto = (a: AuditRecord): AuditDto => ({ ...a, at: iso(a.at) });

/** `{ username, role }`: who a session or token belongs to (sign-in, setup, `GET /api/auth/me`). */
export const principalDtoSchema = z.object({ username: z.string(), role });

/** The session cookie: httpOnly, SameSite=Lax, Secure over https. */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return `kw_session=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure ? "; Secure" : ""}`;
}

export function requestIsHttps(request: Request, publicUrl: string | undefined): boolean {
  return (
    publicUrl?.startsWith("https://") === true ||
    request.headers.get("x-forwarded-proto") === "https" ||
    new URL(request.url).protocol === "https:"
  );
}
