/**
 * Parsing of the SSE payloads. The stream is trusted in origin but not in
 * shape: a message that does not look like the contract is rejected whole
 * (the stream is then reopened for a fresh snapshot) rather than applied in
 * part, which would leave the page silently wrong.
 */
import type { DeltaMessage, DeviceDto, HealthDto, StatusCounts, WindowDto } from "@/lib/api/dto";
import { DEVICE_STATUSES } from "@/lib/fleet/types";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isNullableString = (v: unknown): boolean => v === null || typeof v === "string";
const isNullableNumber = (v: unknown): boolean => v === null || typeof v === "number";
const STATUSES: ReadonlySet<unknown> = new Set(DEVICE_STATUSES);

function isDevice(v: unknown): v is DeviceDto {
  return (
    isObject(v) &&
    typeof v.id === "string" &&
    STATUSES.has(v.status) &&
    typeof v.statusSince === "string" &&
    isNullableNumber(v.keepaliveSeconds) &&
    isNullableString(v.lastSeenAt) &&
    isNullableString(v.connectedAt) &&
    typeof v.sessionOpen === "boolean" &&
    isNullableString(v.lastDisconnectAt) &&
    isNullableString(v.lastDisconnectReason) &&
    typeof v.disconnectCount === "number" &&
    Array.isArray(v.sources)
  );
}

function isCounts(v: unknown): v is StatusCounts {
  return (
    isObject(v) &&
    typeof v.online === "number" &&
    typeof v.late === "number" &&
    typeof v.offline === "number" &&
    typeof v.unknown === "number" &&
    typeof v.total === "number"
  );
}

function isHealth(v: unknown): v is HealthDto {
  return (
    isObject(v) &&
    typeof v.ok === "boolean" &&
    isObject(v.broker) &&
    typeof v.broker.connected === "boolean" &&
    isObject(v.db) &&
    typeof v.db.ok === "boolean" &&
    isObject(v.monitor) &&
    typeof v.monitor.pingsVisible === "boolean"
  );
}

export type ParseResult<T> = { ok: true; message: T } | { ok: false; error: string };

function isWindow(v: unknown): v is WindowDto {
  return (
    isObject(v) &&
    typeof v.offset === "number" &&
    typeof v.total === "number" &&
    Array.isArray(v.ids) &&
    v.ids.every((id) => typeof id === "string")
  );
}

/** Snapshot and delta share one shape; a snapshot always carries its window. */
export function parseStreamMessage(data: string): ParseResult<DeltaMessage> {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return { ok: false, error: "message is not JSON" };
  }
  if (!isObject(v)) return { ok: false, error: "message is not an object" };
  if (typeof v.serverTime !== "string" || Number.isNaN(Date.parse(v.serverTime)))
    return { ok: false, error: "serverTime missing or invalid" };
  if (!Array.isArray(v.devices)) return { ok: false, error: "devices missing" };
  const bad = v.devices.findIndex((d) => !isDevice(d));
  if (bad >= 0) return { ok: false, error: `device #${bad} does not match the contract` };
  if (!isCounts(v.counts)) return { ok: false, error: "counts missing or invalid" };
  if (!isHealth(v.health)) return { ok: false, error: "health missing or invalid" };
  if (v.window !== undefined && !isWindow(v.window)) return { ok: false, error: "window is not a window" };
  return { ok: true, message: v as unknown as DeltaMessage };
}
