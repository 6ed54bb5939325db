/**
 * CSV encoding for exports (pure; no I/O).
 *
 * RFC 4180: records end with CRLF; a field containing a comma, a double
 * quote, CR or LF is enclosed in double quotes, with its quotes doubled.
 *
 * Formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell that
 * starts with =, +, -, @, tab or CR as a formula, so a device calling itself
 * =HYPERLINK("http://x","y") would become a live link on the operator's
 * screen. Every text cell from outside (device ids, reasons) that starts with
 * one of those characters, or with LF, gets a leading single quote and is
 * enclosed in double quotes: it arrives as inert text. A cell holding a
 * separator of any locale (`,` `;` tab) is always quoted, so no part of it can
 * become a cell of its own that starts with a formula. Numbers and times that
 * keepwatch writes itself (non-negative durations, ISO-8601 times, integer
 * keepalives) never start with such a character and are written as they are.
 */
import type { DisconnectRecord } from "../store/disconnects";

export const CRLF = "\r\n";

/** Characters that make a spreadsheet read a cell as a formula when they come first. */
const FORMULA_START = /^[=+\-@\t\r\n]/;
/**
 * RFC 4180 quotes a field with a comma, quote, CR or LF; a semicolon or tab
 * is quoted too: a spreadsheet in a locale that separates by `;` (or a tool
 * reading TSV) would otherwise split `dev;=cmd|' /C calc'!A0` into a second
 * cell that starts with `=`. Quoted, it stays one cell whatever the separator.
 */
const NEEDS_QUOTES = /[",;\t\r\n]/;

/** True when a spreadsheet would run this text as a formula. */
export const looksLikeFormula = (text: string): boolean => FORMULA_START.test(text);

/** A field as RFC 4180 writes it: quoted (quotes doubled) only when it must be. */
export function quoteField(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** An untrusted text cell: neutralized when it would be a formula, then quoted as needed. */
export function textCell(text: string | null): string {
  if (text === null) return "";
  if (looksLikeFormula(text)) return `"'${text.replace(/"/g, '""')}"`;
  return quoteField(text);
}

/** A number keepwatch computed itself; empty when unknown. */
export function numberCell(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return "";
  return String(n);
}

const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, "0"));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));
const DAY = 86_400_000;
let cachedDay = Number.NaN;
let cachedDate = "";

/**
 * Epoch ms as ISO-8601 UTC with milliseconds, exactly as Date#toISOString
 * writes it, several times faster on the export's hot path: the date part is
 * kept from the previous call (an export's times cluster within days), the
 * time of day is arithmetic and table lookups.
 */
export function isoUtc(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= 253_402_300_800_000) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDate = new Date(day * DAY).toISOString().slice(0, 11); // "2026-11-01T"
  }
  let rest = ms - day * DAY;
  const milli = rest % 1000;
  rest = (rest - milli) / 1000;
  const sec = rest % 60;
  rest = (rest - sec) / 60;
  const min = rest % 60;
  const hour = (rest - min) / 60;
  return `${cachedDate}${PAD2[hour]}:${PAD2[min]}:${PAD2[sec]}.${PAD3[milli]}Z`;
}

/** An epoch-ms time as ISO-8601 UTC with milliseconds; empty when unknown. */
export function timeCell(ms: number | null): string {
  return ms === null ? "" : isoUtc(ms);
}

/** Milliseconds as seconds, to the millisecond ("15.123", "60"); empty when unknown. */
export function secondsCell(ms: number | null): string {
  return ms === null ? "" : numberCell(ms / 1000);
}

/** One record: the already-encoded fields joined, CRLF-terminated. */
export function csvRecord(fields: readonly string[]): string {
  return fields.join(",") + CRLF;
}

export const DISCONNECT_CSV_COLUMNS = [
  "device_id",
  "disconnected_at",
  "reason",
  "keepalive_s",
  "last_activity_at",
  "silence_s",
  "connected_at",
  "session_s",
  "reconnected_at",
  "offline_s",
  "inferred",
  "device_name",
] as const;

export const DISCONNECT_CSV_HEADER = csvRecord(DISCONNECT_CSV_COLUMNS);

/** A UTF-8 byte order mark: lets Excel on Windows read the file as UTF-8 (opt-in, `bom=1`). */
export const UTF8_BOM = "\uFEFF";

/** A device's name from the operator's inventory, or null. */
export type NameOf = (deviceId: string) => string | null;
const NO_NAMES: NameOf = () => null;

export function disconnectCsvRecord(d: DisconnectRecord, nameOf: NameOf = NO_NAMES): string {
  return csvRecord([
    textCell(d.deviceId),
    timeCell(d.disconnectedAt),
    textCell(d.reason),
    numberCell(d.keepaliveSeconds),
    timeCell(d.lastActivityAt),
    secondsCell(d.silenceMs),
    timeCell(d.connectedAt),
    secondsCell(d.sessionMs),
    timeCell(d.reconnectedAt),
    secondsCell(d.offlineMs),
    d.inferred ? "true" : "false",
    textCell(nameOf(d.deviceId)),
  ]);
}

/** Encodes many records in one string (one page of an export). */
export function disconnectCsvRecords(records: readonly DisconnectRecord[], nameOf: NameOf = NO_NAMES): string {
  let out = "";
  for (const r of records) out += disconnectCsvRecord(r, nameOf);
  return out;
}

/** A time for a file name: "2026-11-01T00-00Z", with seconds and milliseconds only when not zero. */
export function fileTime(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-11-01T00:00:05.123Z
  const [date, rest] = iso.split("T");
  const [hh, mm, ssms] = rest.slice(0, -1).split(":");
  const [ss, frac] = ssms.split(".");
  let t = `${hh}-${mm}`;
  if (ss !== "00" || frac !== "000") t += `-${ss}`;
  if (frac !== "000") t += `.${frac}`;
  return `${date}T${t}Z`;
}

/** "keepwatch-disconnects_2026-11-01T00-00Z_2026-11-22T00-00Z.csv"; "start" when the range has no beginning. */
export function disconnectsFilename(from: number | null, to: number): string {
  return `keepwatch-disconnects_${from === null ? "start" : fileTime(from)}_${fileTime(to)}.csv`;
}
