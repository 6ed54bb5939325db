/** Session read queries. */
import type { SessionRecord } from "../fleet/types";
import type { Db } from "./db";
import { toSessionRecord } from "./rows";

export const MAX_SESSION_PAGE = 1000;

/** A device's sessions, newest first (served by the primary key, scanned backwards). */
export async function getDeviceSessions(db: Db, deviceId: string, limit = 50): Promise<SessionRecord[]> {
  const take = Math.min(Math.max(1, Math.trunc(limit) || 1), MAX_SESSION_PAGE);
  const rows = await db.session.findMany({ where: { deviceId }, orderBy: { connectedAt: "desc" }, take });
  return rows.map(toSessionRecord);
}
