/**
 * Device read queries. While the monitor runs, the fleet in memory is the
 * truth for current state; these serve restart recovery and lookups of
 * devices the running fleet does not hold.
 */
import type { DeviceState, SessionRecord } from "../fleet/types";
import type { Db } from "./db";
import { toDeviceState, toSessionRecord } from "./rows";

export { getDeviceSessions } from "./sessions";

export interface SavedFleet {
  devices: DeviceState[];
  /** Sessions with no disconnect recorded, oldest first per device. */
  openSessions: SessionRecord[];
}

/** Devices per restore page: a million devices are read in keyset pages, never all at once. */
export const RESTORE_PAGE_SIZE = 20_000;

/**
 * Everything the fleet needs to resume after a restart, in pages of devices
 * by id (keyset), each with the open sessions of its id range, so memory
 * holds one page of rows at a time. Every open session is in exactly one
 * page, whether or not its device row exists.
 */
export async function* loadFleetPages(
  db: Db,
  opts: { pageSize?: number; after?: string | null } = {},
): AsyncGenerator<SavedFleet & { last: string | null }> {
  const pageSize = opts.pageSize ?? RESTORE_PAGE_SIZE;
  let after: string | null = opts.after ?? null;
  for (;;) {
    const rows: Awaited<ReturnType<Db["device"]["findMany"]>> = await db.device.findMany({
      where: after === null ? {} : { id: { gt: after } },
      orderBy: { id: "asc" },
      take: pageSize,
    });
    const last: string | null = rows.length === pageSize ? rows[rows.length - 1].id : null;
    const sessions = await db.session.findMany({
      where: {
        disconnectedAt: null,
        deviceId: { ...(after !== null && { gt: after }), ...(last !== null && { lte: last }) },
      },
      orderBy: [{ deviceId: "asc" }, { connectedAt: "asc" }],
    });
    // `last`: where the next page starts (null: this was the last one).
    yield { devices: rows.map(toDeviceState), openSessions: sessions.map(toSessionRecord), last };
    if (last === null) return;
    after = last;
  }
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

/** The whole saved fleet at once (tests and tools; the runtime restores page by page). */
export async function loadFleet(db: Db): Promise<SavedFleet> {
  const out: SavedFleet = { devices: [], openSessions: [] };
  for await (const page of loadFleetPages(db)) {
    out.devices.push(...page.devices);
    out.openSessions.push(...page.openSessions);
  }
  return out;
}

export async function getDevice(db: Db, id: string): Promise<DeviceState | null> {
  const row = await db.device.findUnique({ where: { id } });
  return row ? toDeviceState(row) : null;
}
