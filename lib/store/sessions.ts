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

/**
 * Devices that dropped at least twice since `since` (epoch ms), with those
 * disconnect times ascending: the alert engine's flapping memory when a
 * leader starts (a restart, or a standby taking over). Takeovers and broker
 * restarts are not the device's own disconnects. A device's lone drop is
 * left out, so the read stays small after a mass outage (one drop per
 * device): it is the device's last disconnect, which the restored fleet
 * holds (AlertEngine.restoreLastDisconnects).
 */
export async function recentDisconnects(db: Db, since: number): Promise<Map<string, number[]>> {
  const rows = await db.$queryRaw<{ device_id: string; at: number[] }[]>`
    SELECT "device_id",
           array_agg((extract(epoch FROM "disconnected_at") * 1000)::float8 ORDER BY "disconnected_at") AS "at"
      FROM "sessions"
     WHERE "disconnected_at" > to_timestamp(${since}::float8 / 1000)
       AND ("reason" IS NULL OR "reason" NOT IN ('taken_over', 'broker_restart'))
     GROUP BY "device_id"
    HAVING count(*) >= 2`;
  return new Map(rows.map((r) => [r.device_id, r.at.map(Number)]));
}
