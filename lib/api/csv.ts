/**
 * CSV encoding for exports (pure; no I/O), on csv-stringify.
 *
 * RFC 4180: records end with CRLF; a field containing a comma, a double
 * quote, CR or LF is enclosed in double quotes, with its quotes doubled.
 *
 * Formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell that
 * starts with =, +, -, @, tab or CR (or their full-width forms) as a formula,
 * so a device calling itself =HYPERLINK("http://x","y") would become a live
 * link on the operator's screen. csv-stringify's `escape_formulas` gives such a
 * text cell a leading single quote, so it arrives as inert text; a cell that
 * starts with LF gets one too. A cell holding a separator of any locale
 * (`,` `;` tab) is always quoted, so no part of it can become a cell of its own
 * that starts with a formula. Numbers and times that keepwatch writes itself
 * (non-negative durations, ISO-8601 times, integer keepalives) never start with
 * such a character and are written as they are.
 */
import { stringify, type Options } from "csv-stringify/sync";
import type { DisconnectRecord } from "../store/disconnects";

export const CRLF = "\r\n";

/** A cell: text from anywhere (escaped), a number keepwatch computed, or unknown (empty). */
export type Cell = string | number | null;

const OPTIONS: Options = {
  record_delimiter: CRLF,
  quote_record_delimiter: true, // a lone CR or LF inside a cell is quoted, not only CRLF
  escape_formulas: true,
  // RFC 4180 quotes comma, quote, CR and LF; `;` and tab too, for spreadsheets in other locales.
  quoted_match: /[;\t]/,
  cast: {
    // escape_formulas leaves a leading LF alone; a spreadsheet may still trim it and see a formula.
    string: (text) => (text.startsWith("\n") ? `'${text}` : text),
    number: (n) => (Number.isFinite(n) ? String(n) : ""),
  },
};

/** Records, each CRLF-terminated. */
export function csvRecords(rows: readonly (readonly Cell[])[]): string {
  return stringify(rows as Cell[][], OPTIONS);
}

/** One record, CRLF-terminated. */
export function csvRecord(fields: readonly Cell[]): string {
  return csvRecords([fields]);
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
export function timeCell(ms: number | null): string | null {
  return ms === null ? null : isoUtc(ms);
}

/** Milliseconds as seconds, to the millisecond (15.123, 60); empty when unknown. */
export function secondsCell(ms: number | null): number | null {
  return ms === null ? null : ms / 1000;
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

function disconnectRow(d: DisconnectRecord, nameOf: NameOf): Cell[] {
  return [
    d.deviceId,
    timeCell(d.disconnectedAt),
    d.reason,
    d.keepaliveSeconds,
    timeCell(d.lastActivityAt),
    secondsCell(d.silenceMs),
    timeCell(d.connectedAt),
    secondsCell(d.sessionMs),
    timeCell(d.reconnectedAt),
    secondsCell(d.offlineMs),
    d.inferred ? "true" : "false",
    nameOf(d.deviceId),
  ];
}

export function disconnectCsvRecord(d: DisconnectRecord, nameOf: NameOf = NO_NAMES): string {
  return csvRecord(disconnectRow(d, nameOf));
}

/** Encodes many records in one string (one page of an export). */
export function disconnectCsvRecords(records: readonly DisconnectRecord[], nameOf: NameOf = NO_NAMES): string {
  return csvRecords(records.map((r) => disconnectRow(r, nameOf)));
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
