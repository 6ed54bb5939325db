/**
 * Disconnect history for the API: the query-string schema shared by
 * /api/disconnects, /api/disconnects/summary and /api/disconnects.csv, the
 * wire shapes, and the CSV export stream.
 *
 * Parameters (all optional; an empty value counts as absent):
 *   from, to   ISO-8601 times with a zone (2026-11-01T00:00:00Z, …+01:00) or
 *              dates (2026-11-01, midnight UTC); from ≤ disconnected_at < to;
 *              `to` defaults to the time of the request, `from` to the beginning
 *   device     device id glob (lib/api/glob.ts), at most 256 characters
 *   reason     comma-separated disconnect reasons
 *   tag        only devices with this tag (the operator's inventory)
 */
import { z } from "../zod";
import { DISCONNECT_REASONS, type DisconnectReason } from "../ingest/events";
import type { Db } from "../store/db";
import {
  getDisconnects,
  getDisconnectSummary,
  iterateDisconnects,
  type DisconnectFilter,
  type DisconnectRecord,
  type DisconnectSummary,
} from "../store/disconnects";
import { disconnectCsvRecords, disconnectsFilename, DISCONNECT_CSV_HEADER, UTF8_BOM, type NameOf } from "./csv";
import { decodeCursor, encodeCursor, CURSOR_MAX } from "./cursor";
import { iso, type DisconnectDto, type DisconnectListDto, type DisconnectSummaryDto } from "./dto";
import { AppError } from "./errors";
import { compileDeviceGlob, DEVICE_GLOB_MAX } from "./glob";
import { parseQuery } from "./query";

const REASONS: ReadonlySet<string> = new Set(DISCONNECT_REASONS);

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;
export const CSV_PAGE = 5000;
/** The export's first page is small so that the first rows leave at once. */
export const CSV_FIRST_PAGE = 500;
/** Pages an export reads ahead of its consumer: two queries at a time keep the database busy while Node encodes. */
export const CSV_READ_AHEAD = 2;

// ---------------------------------------------------------------- input

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))?)?$/;

/**
 * Epoch ms of an ISO-8601 time. Strict: a time of day needs a zone (a bare
 * local time would mean whatever the server's zone is), and every field must
 * exist on the calendar. Digits past milliseconds are cut.
 */
export function parseIsoTime(name: string, text: string): number {
  const m = ISO_TIME.exec(text);
  const example = "e.g. 2026-11-01T00:00:00Z";
  const shown = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
  if (!m) throw new AppError("BAD_REQUEST", `${name}: ${shown} is not an ISO-8601 time (${example})`);
  const [, y, mo, d, hh, mi, ss, frac, z, sign, oh, om] = m;
  if (hh !== undefined && z === undefined && sign === undefined) {
    throw new AppError(
      "BAD_REQUEST",
      `${name}: ${shown} has no time zone; add Z for UTC or an offset such as +01:00 (${example})`,
    );
  }
  const n = (s: string | undefined) => (s === undefined ? 0 : Number(s));
  const ms = frac === undefined ? 0 : Number(frac.padEnd(3, "0").slice(0, 3));
  const offsetMin = sign === undefined ? 0 : (sign === "-" ? -1 : 1) * (n(oh) * 60 + n(om));
  const local = Date.UTC(n(y), n(mo) - 1, n(d), n(hh), n(mi), n(ss), ms);
  const check = new Date(local);
  const valid =
    n(mo) >= 1 &&
    n(mo) <= 12 &&
    check.getUTCFullYear() === n(y) &&
    check.getUTCMonth() === n(mo) - 1 &&
    check.getUTCDate() === n(d) &&
    n(hh) <= 23 &&
    n(mi) <= 59 &&
    n(ss) <= 59 &&
    n(oh) <= 23 &&
    n(om) <= 59;
  if (!valid) throw new AppError("BAD_REQUEST", `${name}: ${shown} is not a valid date and time`);
  return local - offsetMin * 60_000;
}

export function parseReasons(text: string): DisconnectReason[] {
  const out: DisconnectReason[] = [];
  for (const part of text.split(",")) {
    const r = part.trim();
    if (r === "") continue;
    if (!REASONS.has(r)) {
      const shown = JSON.stringify(r.length > 40 ? `${r.slice(0, 40)}…` : r);
      throw new AppError("BAD_REQUEST", `reason: unknown reason ${shown}; one of ${DISCONNECT_REASONS.join(", ")}`);
    }
    if (!out.includes(r as DisconnectReason)) out.push(r as DisconnectReason);
  }
  return out;
}

/** Raw parameter values; length caps keep hostile input from reaching the parsers. */
const text = (max: number, name: string) =>
  z
    .string()
    .max(max, `${name} must be at most ${max.toLocaleString("en")} characters`)
    .optional();

const filterShape = {
  from: text(64, "from"),
  to: text(64, "to"),
  device: text(DEVICE_GLOB_MAX, "device (a glob)"),
  reason: text(1024, "reason"),
  tag: text(64, "tag"),
};

const count = (name: string, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "") return undefined;
      const n = Number(v);
      if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1 || n > max) {
        ctx.addIssue({ code: "custom", message: `${name} must be a whole number from 1 to ${max}` });
        return z.NEVER;
      }
      return n;
    });

export const listQueryShape = {
  ...filterShape,
  cursor: text(CURSOR_MAX, "cursor"),
  limit: count("limit", MAX_PAGE),
};
export const summaryQueryShape = { ...filterShape, top: count("top", 100) };
export const csvQueryShape = {
  ...filterShape,
  bom: z.enum(["", "0", "1"], { error: "bom must be 0 or 1" }).optional(),
};

type FilterParams = { from?: string; to?: string; device?: string; reason?: string; tag?: string };

/** The filter the parameters describe; `now` stands in for a missing `to`. */
export function toFilter(params: FilterParams, now: number): DisconnectFilter {
  const from = params.from ? parseIsoTime("from", params.from) : null;
  const to = params.to ? parseIsoTime("to", params.to) : now;
  if (from !== null && from > to) {
    throw new AppError(
      "BAD_REQUEST",
      `from (${new Date(from).toISOString()}) is after to (${new Date(to).toISOString()})`,
    );
  }
  const reasons = params.reason ? parseReasons(params.reason) : [];
  return {
    from,
    to,
    device: params.device ? compileDeviceGlob(params.device) : null,
    reasons: reasons.length > 0 ? reasons : null,
    tag: params.tag ? params.tag : null,
  };
}

export function parseListQuery(url: string, now = Date.now()) {
  const q = parseQuery(url, listQueryShape);
  return {
    filter: toFilter(q, now),
    after: q.cursor ? decodeCursor(q.cursor) : null,
    limit: q.limit ?? DEFAULT_PAGE,
  };
}

export function parseSummaryQuery(url: string, now = Date.now()) {
  const q = parseQuery(url, summaryQueryShape);
  return { filter: toFilter(q, now), top: q.top ?? 10, now };
}

export function parseCsvQuery(url: string, now = Date.now()) {
  const q = parseQuery(url, csvQueryShape);
  return { filter: toFilter(q, now), bom: q.bom === "1" };
}

// ---------------------------------------------------------------- output

const seconds = (ms: number | null) => (ms === null ? null : ms / 1000);

const NO_NAMES: NameOf = () => null;

export function toDisconnectDto(d: DisconnectRecord, nameOf: NameOf = NO_NAMES): DisconnectDto {
  return {
    deviceId: d.deviceId,
    deviceName: nameOf(d.deviceId),
    disconnectedAt: new Date(d.disconnectedAt).toISOString(),
    reason: d.reason,
    keepaliveSeconds: d.keepaliveSeconds,
    lastActivityAt: iso(d.lastActivityAt),
    inferred: d.inferred,
    silenceSeconds: seconds(d.silenceMs),
    connectedAt: new Date(d.connectedAt).toISOString(),
    sessionSeconds: d.sessionMs / 1000,
    reconnectedAt: iso(d.reconnectedAt),
    offlineSeconds: seconds(d.offlineMs),
  };
}

export function toSummaryDto(s: DisconnectSummary, nameOf: NameOf = NO_NAMES): DisconnectSummaryDto {
  return {
    period: { from: iso(s.period.from), to: new Date(s.period.to).toISOString() },
    total: s.total,
    devices: s.devices,
    byReason: s.byReason,
    topDevices: s.topDevices.map((t) => ({
      deviceId: t.deviceId,
      deviceName: nameOf(t.deviceId),
      disconnects: t.disconnects,
      uptimePercent: t.uptimePercent === null ? null : Math.round(t.uptimePercent * 1000) / 1000,
      meanSecondsBetweenDisconnects:
        t.meanMsBetweenDisconnects === null ? null : Math.round(t.meanMsBetweenDisconnects) / 1000,
    })),
  };
}

/** Database failures answer 503 in the one error shape; the cause goes to the server log. */
async function fromDatabase<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError) throw err;
    console.error(`[api] ${what} failed`, err);
    if (/statement timeout/.test(err instanceof Error ? err.message : String(err)))
      throw new AppError(
        "SERVICE_UNAVAILABLE",
        `${what} took longer than DB_STATEMENT_TIMEOUT_SECONDS allows; narrow the time range or the device filter`,
      );
    throw new AppError("SERVICE_UNAVAILABLE", `the database is not available: ${what} cannot be read`);
  }
}

export async function listDisconnects(
  db: Db,
  q: ReturnType<typeof parseListQuery>,
  nameOf: NameOf = NO_NAMES,
): Promise<DisconnectListDto> {
  const page = await fromDatabase("disconnect history", () => getDisconnects(db, q));
  return {
    disconnects: page.disconnects.map((d) => toDisconnectDto(d, nameOf)),
    nextCursor: page.next === null ? null : encodeCursor(page.next),
  };
}

export async function summarizeDisconnects(
  db: Db,
  q: ReturnType<typeof parseSummaryQuery>,
  nameOf: NameOf = NO_NAMES,
): Promise<DisconnectSummaryDto> {
  return toSummaryDto(await fromDatabase("disconnect summary", () => getDisconnectSummary(db, q)), nameOf);
}

// ---------------------------------------------------------------- CSV export

/**
 * The filter's disconnects as a stream of CSV bytes (header first), read
 * from the database in keyset pages as the consumer pulls, `readAhead` pages
 * ahead of it: memory holds a few pages whatever the export's size, and a
 * consumer that stops reading (or cancels) stops the queries. The first
 * page is read before this resolves, so a database that is down fails the
 * request instead of a half-sent file; a failure after that aborts the
 * stream (the client sees a broken download, never a silently short file).
 */
export async function openDisconnectsCsv(
  db: Db,
  opts: {
    filter: DisconnectFilter;
    bom?: boolean;
    pageSize?: number;
    readAhead?: number;
    /** Called once when the stream ends: read to the end, failed, or cancelled by the consumer. */
    onEnd?: () => void;
    /** Device names for the `device_name` column. */
    nameOf?: NameOf;
  },
): Promise<ReadableStream<Uint8Array>> {
  const pages = iterateDisconnects(db, {
    filter: opts.filter,
    pageSize: opts.pageSize ?? CSV_PAGE,
    firstPageSize: opts.pageSize ?? CSV_FIRST_PAGE,
    readAhead: opts.readAhead ?? CSV_READ_AHEAD,
  });
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    opts.onEnd?.();
  };
  let first: IteratorResult<DisconnectRecord[]>;
  try {
    first = await fromDatabase("disconnect history", () => pages.next());
  } catch (err) {
    end();
    throw err;
  }
  const encoder = new TextEncoder();
  let head: string | null =
    (opts.bom ? UTF8_BOM : "") +
    DISCONNECT_CSV_HEADER +
    (first.done ? "" : disconnectCsvRecords(first.value, opts.nameOf));
  const empty = first.done === true;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (head !== null) {
        controller.enqueue(encoder.encode(head));
        head = null;
        if (empty) {
          controller.close();
          end();
        }
        return;
      }
      try {
        const next = await pages.next();
        if (next.done) {
          controller.close();
          end();
        } else controller.enqueue(encoder.encode(disconnectCsvRecords(next.value, opts.nameOf)));
      } catch (err) {
        console.error("[api] disconnect export failed mid-stream", err);
        controller.error(err);
        end();
      }
    },
    async cancel() {
      end();
      await pages.return(undefined);
    },
  });
}

/** CSV exports streaming now (each holds a database connection's worth of work for as long as it runs). */
let exportsRunning = 0;

/**
 * The HTTP response for /api/disconnects.csv. At most `maxConcurrent`
 * exports run at once (MAX_CONCURRENT_EXPORTS); another answers 429.
 */
export async function disconnectsCsvResponse(
  db: Db,
  q: ReturnType<typeof parseCsvQuery>,
  maxConcurrent = Number.POSITIVE_INFINITY,
  nameOf: NameOf = NO_NAMES,
): Promise<Response> {
  if (exportsRunning >= maxConcurrent)
    throw new AppError(
      "TOO_MANY_REQUESTS",
      `${exportsRunning} exports are running (MAX_CONCURRENT_EXPORTS); try again when one is done`,
      undefined,
      5,
    );
  exportsRunning++;
  const body = await openDisconnectsCsv(db, { ...q, nameOf, onEnd: () => exportsRunning-- });
  const filename = disconnectsFilename(q.filter.from, q.filter.to);
  return new Response(body, {
    headers: {
      "content-type": "text/csv; charset=utf-8; header=present",
      "content-disposition": `attachment; filename="${filename}"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}
