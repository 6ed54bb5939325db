/**
 * The operator's labels on a device: a display name, tags and free-text
 * notes. Validates the body of `PATCH /api/devices/{id}` and the rows of a
 * bulk CSV import; both apply the same limits, so a label that can be typed
 * in can also be imported, and the reverse.
 *
 * - name: at most MAX_NAME characters after trimming, no control characters;
 *   empty clears it (null).
 * - tags: each matches TAG_PATTERN (lower case, no spaces), at most MAX_TAGS;
 *   duplicates are dropped and the list is kept sorted.
 * - notes: at most MAX_NOTES characters after trimming; line breaks and tabs
 *   are fine, other control characters are not; empty clears them (null).
 *
 * The CSV import (RFC 4180: quoted fields may hold commas, quotes and line
 * breaks; CRLF, LF or CR line ends; a leading BOM is ignored) names every
 * problem with the physical line it is on, so the whole file can be refused
 * with one answer.
 */
import { parse } from "csv-parse/sync";
import type { CsvError, Options } from "csv-parse";
import { z } from "../zod";
import { refuseId } from "../ingest/limits";

import { MAX_NAME, MAX_NOTES, MAX_TAGS, TAG_PATTERN } from "./limits";

export { MAX_NAME, MAX_NOTES, MAX_TAGS, TAG_PATTERN };

export interface LabelsPatch {
  /** null clears the name. */
  name?: string | null;
  /** [] clears the tags. */
  tags?: string[];
  /** null clears the notes. */
  notes?: string | null;
}

export type ParsedLabelsPatch = { ok: true; patch: LabelsPatch } | { ok: false; fields: Record<string, string> };

export interface ImportRow {
  /** Physical line (1-based) the record starts on. */
  line: number;
  deviceId: string;
  name: string | null;
  tags: string[];
  notes: string | null;
}

export interface ImportError {
  line: number;
  message: string;
}

/** The optional columns a CSV import may carry besides `device_id`. */
export type ImportColumn = "name" | "tags" | "notes";

export interface ParsedImport {
  /** The rows without problems, in file order. */
  rows: ImportRow[];
  /** Every problem found, by line; when not empty the file should be refused as a whole. */
  errors: ImportError[];
  /**
   * The optional columns the header names. A row's `name`, `notes` or `tags`
   * is only meaningful when its column is present: a file without a `name`
   * column says nothing about names (its rows carry null), it does not clear them.
   */
  columns: ImportColumn[];
}

// ---------------------------------------------------------------------------
// One label at a time (shared by the PATCH body and the CSV import)

type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

const NAME_CONTROL = /[\u0000-\u001f\u007f]/;
// Notes may span lines and hold tabs; every other control character is refused (the database stores no NUL).
const NOTES_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const TAG_SOURCE = TAG_PATTERN.source.replace(/^\^|\$$/g, "");

function checkName(raw: string): Checked<string | null> {
  const name = raw.trim();
  if (name === "") return { ok: true, value: null };
  if (name.length > MAX_NAME) return { ok: false, message: `name must be at most ${MAX_NAME} characters` };
  if (NAME_CONTROL.test(name)) return { ok: false, message: "name must not contain control characters" };
  return { ok: true, value: name };
}

function checkNotes(raw: string): Checked<string | null> {
  const notes = raw.trim();
  if (notes === "") return { ok: true, value: null };
  if (notes.length > MAX_NOTES) return { ok: false, message: `notes must be at most ${MAX_NOTES} characters` };
  if (NOTES_CONTROL.test(notes))
    return { ok: false, message: "notes must not contain control characters (line breaks and tabs are fine)" };
  return { ok: true, value: notes };
}

function checkTags(tags: readonly string[]): Checked<string[]> {
  const bad = tags.filter((t) => !TAG_PATTERN.test(t));
  if (bad.length > 0) {
    const more = bad.length > 1 ? ` (and ${bad.length - 1} more)` : "";
    return { ok: false, message: `tags: ${quoted(bad[0])} must match ${TAG_SOURCE}${more}` };
  }
  const unique = [...new Set(tags)].sort();
  if (unique.length > MAX_TAGS)
    return { ok: false, message: `tags must be at most ${MAX_TAGS} different tags (got ${unique.length})` };
  return { ok: true, value: unique };
}

/** A value for a message: quoted, escaped, and cut short when long. */
function quoted(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
}

// ---------------------------------------------------------------------------
// PATCH /api/devices/{id}

function checked<T>(check: (v: T) => Checked<unknown>) {
  return <V extends T | null | undefined>(v: V, ctx: z.core.$RefinementCtx<V>) => {
    if (v === null || v === undefined) return v;
    const r = check(v as T);
    if (r.ok) return r.value as V;
    ctx.addIssue({ code: "custom", message: r.message });
    return z.NEVER;
  };
}

export const labelsPatchSchema = z.strictObject({
  name: z.string({ error: "name must be a string or null" }).nullable().optional().transform(checked(checkName)),
  tags: z
    .array(z.string({ error: "tags must be an array of strings" }), { error: "tags must be an array of strings" })
    .optional()
    .transform(checked(checkTags)),
  notes: z.string({ error: "notes must be a string or null" }).nullable().optional().transform(checked(checkNotes)),
});

/**
 * Validates the body of `PATCH /api/devices/{id}` (`{ name?, tags?, notes? }`,
 * at least one of them). Every bad field is named, with one message each;
 * unknown fields are errors too. Only the fields given are in the patch.
 */
export function parseLabelsPatch(body: unknown): ParsedLabelsPatch {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return { ok: false, fields: { body: "expected a JSON object with name, tags or notes" } };
  const given = ["name", "tags", "notes"].filter((k) => (body as Record<string, unknown>)[k] !== undefined);
  const fields = new Map<string, string>();
  if (given.length === 0) fields.set("body", "expected at least one of name, tags, notes");
  const parsed = labelsPatchSchema.safeParse(body);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) {
          const k = key.slice(0, 64);
          if (!fields.has(k)) fields.set(k, `unknown field ${quoted(key)}`);
        }
        continue;
      }
      const key = String(issue.path[0] ?? "body");
      if (!fields.has(key)) fields.set(key, issue.message);
    }
  }
  // fromEntries: a field named "__proto__" stays a plain key.
  if (!parsed.success || fields.size > 0) return { ok: false, fields: Object.fromEntries(fields) };
  const patch: LabelsPatch = {};
  const d = parsed.data;
  if (given.includes("name")) patch.name = d.name ?? null;
  if (given.includes("tags")) patch.tags = d.tags ?? [];
  if (given.includes("notes")) patch.notes = d.notes ?? null;
  return { ok: true, patch };
}

// ---------------------------------------------------------------------------
// Bulk import

const COLUMNS = ["device_id", "name", "tags", "notes"] as const;
type Column = (typeof COLUMNS)[number];

/**
 * Line numbers by byte offset into the file's UTF-8 form (the offsets the CSV
 * reader reports). A line ends at CRLF, LF or a lone CR.
 */
class LineIndex {
  private readonly breakEnds: number[] = [];

  constructor(readonly bytes: Uint8Array) {
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0x0d && bytes[i + 1] === 0x0a) i++;
      if (bytes[i] === 0x0d || bytes[i] === 0x0a) this.breakEnds.push(i);
    }
  }

  /** The line holding the byte at `offset`; a line's break belongs to it. */
  lineAt(offset: number): number {
    let lo = 0;
    let hi = this.breakEnds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.breakEnds[mid] < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }

  /** The first line at or after `offset` that is not blank. */
  lineFrom(offset: number): number {
    let i = offset;
    while (i < this.bytes.length && (this.bytes[i] === 0x0d || this.bytes[i] === 0x0a)) i++;
    return this.lineAt(Math.min(i, Math.max(this.bytes.length - 1, 0)));
  }
}

function lineBreaks(s: string): number {
  return s.match(/\r\n|\r|\n/g)?.length ?? 0;
}

/**
 * The line a record starts on. The reader's own line count is not used: it
 * reports where a record ends and counts a CRLF inside a quoted field twice.
 * `end` is the offset just past the record's line end (or the end of the file);
 * line breaks inside the record can only be in quoted fields, kept verbatim.
 */
function recordStart(lines: LineIndex, end: number, fields: readonly string[]): number {
  return lines.lineAt(Math.max(end - 1, 0)) - fields.reduce((n, f) => n + lineBreaks(f), 0);
}

const REST_UNREAD = "the rest of the file could not be read";
const STOP = new Error("stop reading");

function malformed(err: CsvError, columns: number): string {
  switch (err.code) {
    case "CSV_QUOTE_NOT_CLOSED":
      return `a quoted field is not closed (a " is missing); ${REST_UNREAD}`;
    case "CSV_RECORD_INCONSISTENT_FIELDS_LENGTH": {
      const got = Array.isArray(err.record) ? err.record.length : "another number of";
      return `expected ${columns} ${columns === 1 ? "column" : "columns"} like the header, got ${got}`;
    }
    case "INVALID_OPENING_QUOTE":
      return 'a " inside a field that is not quoted (quote the whole field and double the " inside it)';
    case "CSV_INVALID_CLOSING_QUOTE":
      return `text after a closing " (double a " inside a quoted field); ${REST_UNREAD}`;
    default:
      return `not valid CSV: ${err.message.replace(/\s*(at|on) line \d+.*$/, "")}`;
  }
}

type Event =
  | { kind: "record"; line: number; fields: string[] }
  /** `whole`: the record was read to its end (a wrong column count), so it counts as a row. */
  | { kind: "malformed"; line: number; message: string; whole: boolean };

/** Records and malformed ones, in file order, each with the line it starts on. */
function readRecords(text: string): Event[] {
  const lines = new LineIndex(new TextEncoder().encode(text));
  const events: Event[] = [];
  let headerColumns = 0;
  const options: Options = {
    bom: true,
    // Stated rather than guessed from the first line, so a file mixing line ends still reads right.
    record_delimiter: ["\r\n", "\n", "\r"],
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_record: (record: string[], context) => {
      headerColumns ||= record.length;
      events.push({ kind: "record", line: recordStart(lines, context.bytes, record), fields: record });
      return null;
    },
    on_skip: (err) => {
      if (!err) return undefined;
      const whole = err.code === "CSV_RECORD_INCONSISTENT_FIELDS_LENGTH" && Array.isArray(err.record);
      const line = whole
        ? recordStart(lines, Number(err.bytes), err.record as string[])
        : // Other problems are found mid-record: the offset is that of the last field or record read.
          lines.lineFrom(Number(err.bytes) || 0);
      const prev = events.at(-1);
      // One answer per line: a broken quote often also leaves a wrong column count.
      if (prev?.kind === "malformed" && prev.line === line) prev.whole ||= whole;
      else events.push({ kind: "malformed", line, message: malformed(err, headerColumns), whole });
      // After text that follows a closing quote, the reader can no longer tell where fields and
      // records begin: what it would make of the lines after is not reported, nor taken.
      if (err.code === "CSV_INVALID_CLOSING_QUOTE") throw STOP;
      return undefined;
    },
  };
  try {
    parse(text, options);
  } catch (err) {
    if (err !== STOP) throw err;
  }
  return events;
}

function readHeader(
  fields: readonly string[],
  line: number,
  errors: ImportError[],
): { index: Partial<Record<Column, number>>; ok: boolean } {
  const index: Partial<Record<Column, number>> = {};
  fields.forEach((raw, i) => {
    const name = raw.trim().toLowerCase();
    if (!(COLUMNS as readonly string[]).includes(name))
      errors.push({ line, message: `unknown column ${quoted(raw.trim())} (the columns are ${COLUMNS.join(", ")})` });
    else if (index[name as Column] !== undefined) errors.push({ line, message: `column ${name} appears twice` });
    else index[name as Column] = i;
  });
  if (index.device_id === undefined) {
    errors.push({ line, message: "the header must name a device_id column" });
    return { index, ok: false };
  }
  return { index, ok: true };
}

function checkDeviceId(id: string, maxBytes: number): string | null {
  // Ingest would take such an id, but in a file it is a line of spaces rather than a device.
  if (id !== "" && id.trim() === "") return "device_id must not be only spaces";
  switch (refuseId(id, maxBytes)) {
    case null:
      return null;
    case "id_empty":
      return "device_id must not be empty";
    case "id_too_long":
      return `device_id must be at most ${maxBytes} bytes in UTF-8 (got ${new TextEncoder().encode(id).length})`;
    case "id_control_characters":
      return "device_id must not contain control characters";
    default:
      return "device_id must be valid Unicode";
  }
}

/**
 * Reads a bulk import of labels: a header naming `device_id` and any of
 * `name`, `tags` (separated by `;`), `notes` (in any order, any case), then
 * one device per record. Empty cells clear a label. Never throws: every
 * problem (malformed CSV included) is an error with its line. At most
 * `maxRows` records are read; a file with more gets one error at the first
 * record too many, and what follows it is not looked at.
 */
export function parseImportCsv(text: string, opts: { maxRows: number; maxDeviceIdBytes: number }): ParsedImport {
  const rows: ImportRow[] = [];
  const errors: ImportError[] = [];
  let events: Event[];
  try {
    events = readRecords(text);
  } catch (err) {
    // Only a fault in the reader itself lands here: the records' own problems are collected above.
    return { rows, errors: [{ line: 1, message: `not valid CSV: ${(err as Error).message}` }], columns: [] };
  }

  const first = events[0];
  if (first === undefined) return { rows, errors: [{ line: 1, message: "no rows" }], columns: [] };
  if (first.kind === "malformed") return { rows, errors: [{ line: first.line, message: first.message }], columns: [] };
  const header = readHeader(first.fields, first.line, errors);
  const columns = (["name", "tags", "notes"] as const).filter((c) => header.index[c] !== undefined);
  if (!header.ok) return { rows, errors, columns };

  const firstLineOf = new Map<string, number>();
  let count = 0;
  for (const event of events.slice(1)) {
    // A malformed record read only in part cannot be told apart from its neighbours: it is not counted.
    if (event.kind === "record" || event.whole) count++;
    if (count > opts.maxRows) {
      errors.push({ line: event.line, message: `more than ${opts.maxRows} rows` });
      break;
    }
    if (event.kind === "malformed") {
      errors.push({ line: event.line, message: event.message });
      continue;
    }
    const row = readRow(event.fields, event.line, header.index, opts.maxDeviceIdBytes, firstLineOf, errors);
    if (row) rows.push(row);
  }
  if (events.length === 1) errors.push({ line: 1, message: "no rows" });
  errors.sort((a, b) => a.line - b.line);
  return { rows, errors, columns };
}

function readRow(
  fields: readonly string[],
  line: number,
  index: Partial<Record<Column, number>>,
  maxDeviceIdBytes: number,
  firstLineOf: Map<string, number>,
  errors: ImportError[],
): ImportRow | null {
  const cell = (c: Column) => (index[c] === undefined ? "" : (fields[index[c]] ?? ""));
  const before = errors.length;

  // The id is taken as written: device ids are matched exactly, spaces included.
  const deviceId = cell("device_id");
  const idProblem = checkDeviceId(deviceId, maxDeviceIdBytes);
  if (idProblem) errors.push({ line, message: idProblem });
  else {
    const earlier = firstLineOf.get(deviceId);
    if (earlier !== undefined)
      errors.push({ line, message: `device_id ${quoted(deviceId)} already appears on line ${earlier}` });
    else firstLineOf.set(deviceId, line);
  }

  const name = checkName(cell("name"));
  if (!name.ok) errors.push({ line, message: name.message });
  const pieces = cell("tags")
    .split(";")
    .map((t) => t.trim())
    .filter((t) => t !== "");
  const tags = checkTags(pieces);
  if (!tags.ok) errors.push({ line, message: tags.message });
  const notes = checkNotes(cell("notes"));
  if (!notes.ok) errors.push({ line, message: notes.message });

  if (errors.length > before || !name.ok || !tags.ok || !notes.ok) return null;
  return { line, deviceId, name: name.value, tags: tags.value, notes: notes.value };
}
