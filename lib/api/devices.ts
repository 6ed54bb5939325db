/**
 * Device read models for the API. The live fleet in memory is the truth for
 * current state; session history comes from the database.
 */
import type { DeviceState, DeviceStatus } from "../fleet/types";
import { iso, toSessionDto, type DeviceDto, type SessionDto, type StatusCounts } from "./dto";
import { AppError } from "./errors";
import type { Runtime } from "../runtime";
import { getDevice, getDeviceSessions } from "../store/devices";
import type { Finding } from "../diagnosis/diagnose";
import { diagnoseDevice } from "./device-diagnosis";

export interface DeviceList {
  devices: DeviceDto[];
  /** Counts over the whole fleet, whatever the filter. */
  counts: StatusCounts;
}

/** Devices by status, tag, and id or name (`q`, case-insensitive substring). */
export function listDevices(
  runtime: Runtime,
  opts: { status?: DeviceStatus; q?: string; tag?: string; limit?: number },
): DeviceList {
  const { fleet, inventory } = runtime;
  const needle = opts.q?.toLowerCase();
  const matched: DeviceState[] = [];
  for (const d of fleet.all()) {
    if (opts.status && d.status !== opts.status) continue;
    if (opts.tag && !inventory.has(d.id, opts.tag)) continue;
    if (needle && !d.id.toLowerCase().includes(needle) && !inventory.nameOf(d.id)?.toLowerCase().includes(needle))
      continue;
    matched.push(d);
  }
  matched.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const limited = opts.limit ? matched.slice(0, opts.limit) : matched;
  return { devices: limited.map((d) => runtime.deviceDto(d)), counts: fleet.counts() };
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
