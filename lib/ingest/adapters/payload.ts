/**
 * Small helpers shared by the adapters: payload decoding, JSON objects,
 * broker timestamps and MQTT protocol names. All pure.
 */
import type { AdapterResult } from "../events";

export function noEvents(): AdapterResult {
  return { events: [] };
}

export function failure(error: string): AdapterResult {
  return { events: [], error };
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The payload as text, or null when its bytes are not valid UTF-8. */
export function decodeUtf8(payload: Buffer | string): string | null {
  if (typeof payload === "string") return payload;
  try {
    return strictUtf8.decode(payload);
  } catch {
    return null;
  }
}

export function byteLength(payload: Buffer | string): number {
  return typeof payload === "string" ? Buffer.byteLength(payload, "utf8") : payload.length;
}

/** A short, escaped excerpt of untrusted text for error messages. */
export function preview(text: string, max = 60): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}

export type JsonObject = Record<string, unknown>;

export type JsonParse = { ok: true; value: JsonObject } | { ok: false; error: string };

/** Parses text that must be one JSON object (not an array, string or number). */
export function parseJsonObject(text: string): JsonParse {
  if (text.trim() === "") return { ok: false, error: "empty payload" };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `payload is not valid JSON (${(err as Error).message})` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, error: "payload is JSON but not an object" };
  }
  return { ok: true, value: value as JsonObject };
}

export function stringField(obj: JsonObject, key: string): string | null {
  const v = obj[key];
  return typeof v === "string" ? v : null;
}

/** A finite number, also accepted when written as a decimal string ("60"). */
export function numberField(obj: JsonObject, key: string): number | null {
  const v = obj[key];
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return null;
}

/** true/false, also 1/0 (NanoMQ prints clean_start with %d). */
export function booleanField(obj: JsonObject, key: string): boolean | null {
  const v = obj[key];
  if (typeof v === "boolean") return v;
  if (v === 1 || v === 0) return v === 1;
  return null;
}

/** Keep Alive is a 16-bit unsigned number of seconds. */
export function validKeepalive(value: number | null): number | null {
  return value !== null && Number.isInteger(value) && value >= 0 && value <= 65535 ? value : null;
}

/** 2001-09-09T01:46:40Z: earlier broker clocks are unset (e.g. a board booting at 1970), not history. */
export const EARLIEST_PLAUSIBLE_MS = 1_000_000_000_000;
const EARLIEST_PLAUSIBLE_S = EARLIEST_PLAUSIBLE_MS / 1000;
/** 2286-11-20: later values are not milliseconds (e.g. microseconds). */
const LATEST_PLAUSIBLE_MS = 10_000_000_000_000;

/**
 * A broker timestamp in epoch seconds or milliseconds (told apart by magnitude:
 * below 1e11 it is seconds, 1e11 s being the year 5138) → epoch ms, or null when
 * it cannot be a wall-clock time.
 */
export function epochMsFromSecondsOrMs(value: number | null): number | null {
  if (value === null || !Number.isFinite(value) || value <= 0) return null;
  const ms = value < 1e11 ? value * 1000 : value;
  return ms >= EARLIEST_PLAUSIBLE_MS && ms < LATEST_PLAUSIBLE_MS ? Math.round(ms) : null;
}

/** A broker timestamp that must be epoch ms; anything else (e.g. a monotonic clock) → null. */
export function epochMsStrict(value: number | null): number | null {
  if (value === null || !Number.isFinite(value)) return null;
  return value >= EARLIEST_PLAUSIBLE_MS && value < LATEST_PLAUSIBLE_MS ? Math.round(value) : null;
}

export function plausibleEpochSeconds(seconds: number): boolean {
  return Number.isFinite(seconds) && seconds >= EARLIEST_PLAUSIBLE_S && seconds * 1000 < LATEST_PLAUSIBLE_MS;
}

/** MQTT protocol level byte (3, 4, 5) → the version name used in events. */
export function protocolFromLevel(level: number | null): string | null {
  switch (level) {
    case 3:
      return "3.1";
    case 4:
      return "3.1.1";
    case 5:
      return "5";
    default:
      return null;
  }
}
