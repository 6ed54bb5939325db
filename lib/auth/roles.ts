/**
 * Roles, weakest first. Each includes what the ones before it may do:
 * - viewer: every page and GET, the CSV export, the event stream;
 * - operator: also alert rules (and what later handles alerts);
 * - admin: also users, API tokens, the audit log and settings.
 */
export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

const RANK: Readonly<Record<Role, number>> = { viewer: 0, operator: 1, admin: 2 };

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** Whether `role` may do what `needed` may. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

/** The stronger of two roles. */
export const higherRole = (a: Role, b: Role): Role => (RANK[a] >= RANK[b] ? a : b);
