/**
 * Device read models for the API. The live fleet in memory is the truth for
 * current state; session history comes from the database.
 */
import type { DeviceStatus } from "../fleet/types";
import { iso, toSessionDto, type DeviceDto, type SessionDto, type StatusCounts } from "./dto";
import { AppError } from "./errors";
import type { Runtime } from "../runtime";
import { getDevice, getDeviceSessions } from "../store/devices";
import type { Finding } from "../diagnosis/diagnose";
import { diagnoseDevice } from "./device-diagnosis";
import { viewOf } from "./view-query";

export interface DeviceList {
  /** This page, in natural id order. */
  devices: DeviceDto[];
  /** Devices matching the filter, across all pages. */
  total: number;
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
  /** Counts over the whole fleet, whatever the filter. */
  counts: StatusCounts;
}

/** Devices per page of `GET /api/devices`: by default, and at most. */
export const DEVICE_PAGE_DEFAULT = 1_000;
export const DEVICE_PAGE_MAX = 10_000;

/**
 * One page of devices by status, tag, and id or name (`q`, case-insensitive
 * substring), in natural id order, read from the fleet's id view: O(log n)
 * to find the page, whatever the fleet size. The cursor is the page's last id.
 */
export function listDevices(
  runtime: Runtime,
  opts: { status?: DeviceStatus; q?: string; tag?: string; limit?: number; cursor?: string },
): DeviceList {
  const { fleet, views } = runtime;
  const limit = opts.limit ?? DEVICE_PAGE_DEFAULT;
  const after = opts.cursor === undefined ? null : decodeIdCursor(opts.cursor);
  const page = views.idsAfter(viewOf(opts), after, limit + 1);
  const ids = page.ids.slice(0, limit);
  const devices: DeviceDto[] = [];
  for (const id of ids) {
    const d = fleet.get(id);
    if (d) devices.push(runtime.deviceDto(d));
  }
  const more = page.ids.length > limit;
  return {
    devices,
    total: page.total,
    nextCursor: more ? encodeIdCursor(ids[ids.length - 1]) : null,
    counts: fleet.counts(),
  };
}

function encodeIdCursor(id: string): string {
  return Buffer.from(id, "utf8").toString("base64url");
}

function decodeIdCursor(cursor: string): string {
  const id = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  if (id === "" || encodeIdCursor(id) !== cursor)
    throw new AppError("BAD_REQUEST", "cursor: not a cursor this API returned");
  return id;
}

export const SESSION_HISTORY_LIMIT = 50;

export interface DeviceDetail extends DeviceDto {
  /** The operator's notes (lib/inventory). */
  notes: string | null;
  sessions: SessionDto[];
  /** Last PINGREQ seen (only sources that see pings report them). */
  lastPingAt: string | null;
  /** Last publish seen. */
  lastMessageAt: string | null;
  /** What the broker said in CONNECT, where it told us. */
  address: string | null;
  protocol: string | null;
  cleanStart: boolean | null;
  takeoverCount: number;
  /** When keepwatch first heard of this device. */
  firstSeenAt: string;
  /** A source that sees every client's PINGREQs is active (embedded broker, Mosquitto debug log). */
  pingsVisible: boolean;
  /** Plain-language findings about why the device drops (lib/diagnosis), problems first. */
  diagnosis: Finding[];
}

export async function getDeviceDetail(runtime: Runtime, id: string): Promise<DeviceDetail> {
  let device = runtime.fleet.get(id) ?? null;
  const db = runtime.db?.prisma;
  if (!device && db) device = await getDevice(db, id).catch(() => null);
  if (!device) throw new AppError("DEVICE_NOT_FOUND", "no device with this id has been seen");
  if (!db) throw new AppError("SERVICE_UNAVAILABLE", "the database is not available");
  let sessions;
  try {
    sessions = await getDeviceSessions(db, id, SESSION_HISTORY_LIMIT);
  } catch {
    throw new AppError("SERVICE_UNAVAILABLE", "the database is not available: session history cannot be read");
  }
  const diagnosis = await diagnoseDevice(runtime, device, sessions);
  return {
    ...runtime.deviceDto(device),
    notes: runtime.inventory.get(id)?.notes ?? null,
    sessions: sessions.map(toSessionDto),
    lastPingAt: iso(device.lastPingAt),
    lastMessageAt: iso(device.lastMessageAt),
    address: device.address,
    protocol: device.protocol,
    cleanStart: device.cleanStart,
    takeoverCount: device.takeoverCount ?? 0,
    firstSeenAt: new Date(device.firstSeenAt).toISOString(),
    pingsVisible: runtime.pingsVisible,
    diagnosis,
  };
}
