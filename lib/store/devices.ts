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

/** Everything the fleet needs to resume after a restart. */
export async function loadFleet(db: Db): Promise<SavedFleet> {
  const [devices, openSessions] = await Promise.all([
    db.device.findMany({ orderBy: { id: "asc" } }),
    db.session.findMany({ where: { disconnectedAt: null }, orderBy: [{ deviceId: "asc" }, { connectedAt: "asc" }] }),
  ]);
  return { devices: devices.map(toDeviceState), openSessions: openSessions.map(toSessionRecord) };
}

export async function getDevice(db: Db, id: string): Promise<DeviceState | null> {
  const row = await db.device.findUnique({ where: { id } });
  return row ? toDeviceState(row) : null;
}
