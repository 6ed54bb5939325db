/**
 * Device read models for the API. The live fleet in memory is the truth for
 * current state; session history comes from the database.
 */
import type { DeviceStatus } from "../fleet/types";
import { z } from "../zod";
import {
  deviceDtoSchema,
  iso,
  isoTime,
  sessionDtoSchema,
  statusCountsSchema,
  toSessionDto,
  type DeviceDto,
} from "./dto";
import { AppError } from "./errors";
import type { DbPort, FleetPort, ViewsPort, ActivityPort, InventoryPort } from "./ports";
import { getDevice, getDeviceSessions } from "../store/devices";
import { FINDING_CODES, type Finding } from "../diagnosis/diagnose";
import { diagnoseDevice } from "./device-diagnosis";
import { viewOf, viewParams } from "./view-query";

export const deviceListSchema = z.object({
  devices: z.array(deviceDtoSchema).describe("This page, in natural id order."),
  total: z.number().int().describe("Devices matching the filter, across all pages."),
  nextCursor: z.string().nullable().describe("Pass as `cursor` for the next page; null on the last one."),
  counts: statusCountsSchema.describe("Counts over the whole fleet, whatever the filter."),
});
export type DeviceList = z.infer<typeof deviceListSchema>;

/** Devices per page of `GET /api/devices`: by default, and at most. */
export const DEVICE_PAGE_DEFAULT = 1_000;
export const DEVICE_PAGE_MAX = 10_000;

/** `GET /api/devices` query parameters. */
export const deviceListQuery = {
  status: viewParams.status,
  q: viewParams.q,
  tag: viewParams.tag,
  limit: z.coerce
    .number()
    .int()
    .min(1, "limit must be at least 1")
    .max(DEVICE_PAGE_MAX, `limit must be at most ${DEVICE_PAGE_MAX}`)
    .optional(),
  cursor: z.string().max(12_000, "cursor: not a cursor this API returned").optional(),
};

/**
 * One page of devices by status, tag, and id or name (`q`, case-insensitive
 * substring), in natural id order, read from the fleet's id view: O(log n)
 * to find the page, whatever the fleet size. The cursor is the page's last id.
 */
export function listDevices(
  runtime: FleetPort & ViewsPort,
  opts: { status?: DeviceStatus; q?: string; tag?: string; limit?: number; cursor?: string },
): DeviceList {
  const { fleet } = runtime;
  const views = runtime.viewsNow();
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

export const findingSchema = z.object({
  code: z.enum(FINDING_CODES),
  severity: z.enum(["problem", "warning", "info"]),
  message: z.string(),
  evidence: z.array(z.string()),
}) satisfies z.ZodType<Finding>;

export const deviceDetailSchema = deviceDtoSchema.extend({
  notes: z.string().nullable().describe("The operator's notes (lib/inventory)."),
  sessions: z.array(sessionDtoSchema),
  lastPingAt: isoTime.nullable().describe("Last PINGREQ seen (only sources that see pings report them)."),
  lastMessageAt: isoTime.nullable().describe("Last publish seen."),
  address: z.string().nullable().describe("What the broker said in CONNECT, where it told us."),
  protocol: z.string().nullable(),
  cleanStart: z.boolean().nullable(),
  takeoverCount: z.number().int(),
  firstSeenAt: isoTime.describe("When keepwatch first heard of this device."),
  pingsVisible: z
    .boolean()
    .describe("A source that sees every client's PINGREQs is active (embedded broker, Mosquitto debug log)."),
  diagnosis: z
    .array(findingSchema)
    .describe("Plain-language findings about why the device drops (lib/diagnosis), problems first."),
});
export type DeviceDetail = z.infer<typeof deviceDetailSchema>;

export async function getDeviceDetail(
  runtime: DbPort & FleetPort & ActivityPort & Pick<InventoryPort, "inventory">,
  id: string,
): Promise<DeviceDetail> {
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
