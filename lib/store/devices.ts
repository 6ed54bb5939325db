/**
 * Device read queries. While the monitor runs, the fleet in memory is the
 * truth for current state; these serve restart recovery and lookups of
 * devices the running fleet does not hold.
 */
import type { DeviceState, SessionRecord } from "../fleet/types";
import { sqlOf, type Db, type SqlSession } from "./db";
import { fromRawDevice, fromRawSession, toDeviceState, toSessionRecord, type RawDevice, type RawSession } from "./rows";

export { getDeviceSessions } from "./sessions";

export interface SavedFleet {
  devices: DeviceState[];
  /** Sessions with no disconnect recorded, oldest first per device. */
  openSessions: SessionRecord[];
}

/** Devices per restore page: a million devices are read in keyset pages, never all at once. */
export const RESTORE_PAGE_SIZE = 20_000;

const epochMs = (column: string) => `(extract(epoch FROM "${column}") * 1000)::float8 AS "${column}"`;

/** Device columns as the fleet wants them: times as epoch ms, so no Date per field is made and dropped. */
const DEVICE_COLUMNS = [
  `"id"`,
  `"status"`,
  epochMs("status_since"),
  `"keepalive_seconds"`,
  epochMs("last_seen_at"),
  epochMs("last_ping_at"),
  epochMs("last_message_at"),
  epochMs("last_confirmed_at"),
  epochMs("connected_at"),
  epochMs("connect_reported_at"),
  `"session_open"`,
  epochMs("last_disconnect_at"),
  `"last_disconnect_reason"`,
  `"disconnect_count"`,
  `"takeover_count"`,
  `"address"`,
  `"protocol"`,
  `"clean_start"`,
  `"sources"`,
  epochMs("first_seen_at"),
].join(", ");

const SESSION_COLUMNS = [
  `"device_id"`,
  epochMs("connected_at"),
  epochMs("disconnected_at"),
  `"reason"`,
  `"keepalive_seconds"`,
  epochMs("last_activity_at"),
  `"inferred"`,
].join(", ");

/**
 * Everything the fleet needs to resume after a restart, in pages of devices
 * by id (keyset), each with the open sessions of its id range, so memory
 * holds one page of rows at a time. Every open session is in exactly one
 * page, whether or not its device row exists. Plain SQL rather than Prisma:
 * at a million devices Prisma's row objects and their Dates cost a third of
 * the start-up time in garbage collection alone.
 */
export async function* loadFleetPages(
  q: SqlSession,
  opts: { pageSize?: number; after?: string | null } = {},
): AsyncGenerator<SavedFleet & { last: string | null }> {
  const pageSize = opts.pageSize ?? RESTORE_PAGE_SIZE;
  let after: string | null = opts.after ?? null;
  for (;;) {
    const { rows } = await q.query(
      `SELECT ${DEVICE_COLUMNS} FROM "devices" WHERE $1::text IS NULL OR "id" > $1 ORDER BY "id" LIMIT $2`,
      [after, pageSize],
    );
    const last: string | null = rows.length === pageSize ? (rows[rows.length - 1] as RawDevice).id : null;
    const sessions = await q.query(
      `SELECT ${SESSION_COLUMNS} FROM "sessions"
        WHERE "disconnected_at" IS NULL AND ($1::text IS NULL OR "device_id" > $1) AND ($2::text IS NULL OR "device_id" <= $2)
        ORDER BY "device_id", "connected_at"`,
      [after, last],
    );
    // `last`: where the next page starts (null: this was the last one).
    yield {
      devices: (rows as RawDevice[]).map(fromRawDevice),
      openSessions: (sessions.rows as RawSession[]).map(fromRawSession),
      last,
    };
    if (last === null) return;
    after = last;
  }
}

/** The whole saved fleet at once (tests and tools; the runtime restores page by page). */
export async function loadFleet(db: Db): Promise<SavedFleet> {
  const out: SavedFleet = { devices: [], openSessions: [] };
  for await (const page of loadFleetPages(sqlOf(db))) {
    out.devices.push(...page.devices);
    out.openSessions.push(...page.openSessions);
  }
  return out;
}

/**
 * Devices the leader wrote since `since` (epoch ms, by the rows' updated_at),
 * with their open sessions: what a standby that joined meanwhile may have
 * missed between reading the fleet and hearing the broker itself.
 */
export async function loadDevicesChangedSince(db: Db, since: number): Promise<SavedFleet> {
  const rows = await db.device.findMany({ where: { updatedAt: { gte: new Date(since) } }, orderBy: { id: "asc" } });
  const ids = rows.map((r) => r.id);
  const sessions =
    ids.length === 0
      ? []
      : await db.session.findMany({
          where: { disconnectedAt: null, deviceId: { in: ids } },
          orderBy: [{ deviceId: "asc" }, { connectedAt: "asc" }],
        });
  return { devices: rows.map(toDeviceState), openSessions: sessions.map(toSessionRecord) };
}

export async function getDevice(db: Db, id: string): Promise<DeviceState | null> {
  const row = await db.device.findUnique({ where: { id } });
  return row ? toDeviceState(row) : null;
}
