/**
 * Uptime reports for the API (GET /api/reports/uptime): the query and the
 * response as zod schemas (exported, so the OpenAPI document can register
 * them), the parser, the JSON read model and the CSV export. The figures come
 * from lib/reports/uptime.ts, the same definition the disconnect summary uses.
 *
 * Parameters (all optional; an empty value counts as absent):
 *   from, to   ISO-8601 times with a zone, or dates (midnight UTC); from < to;
 *              `to` defaults to now, `from` to 24 hours before `to`; at most
 *              KEEPWATCH_REPORT_MAX_DAYS apart; the period ends at now at the latest
 *   device     device id glob (lib/api/glob.ts)
 *   tag        only devices with this tag
 *   limit      devices per page, 1–KEEPWATCH_REPORT_MAX_DEVICES (the default)
 *   cursor     `nextCursor` of the previous page
 *   format     json (default) or csv
 */
import { z } from "../zod";
import { combineUptime, deviceUptime, type UptimeFigures } from "../reports/uptime";
import type { Db } from "../store/db";
import { listGaps } from "../store/gaps";
import { getReportDevices, getSessionSpans } from "../store/reports";
import { csvRecords, fileTime, timeCell, type NameOf } from "./csv";
import { AppError } from "./errors";
import { compileDeviceGlob, DEVICE_GLOB_MAX } from "./glob";
import { parseIsoTime } from "./disconnects";
import { parseQuery } from "./query";

export const DAY_MS = 86_400_000;
/** Sparkline points per device. */
export const SPARK_BUCKETS = 24;
/** Monitoring gaps read for one report at most (the newest first). */
const GAP_LIMIT = 1000;

// ---------------------------------------------------------------- schemas

const text = (max: number, name: string) =>
  z
    .string()
    .max(max, `${name} must be at most ${max.toLocaleString("en")} characters`)
    .optional();

/** The query string of GET /api/reports/uptime (raw values; parseUptimeQuery checks them against the settings). */
export const UptimeQuerySchema = z.strictObject({
  from: text(64, "from").describe("ISO-8601 time with a zone, or a date; default 24 hours before `to`"),
  to: text(64, "to").describe("ISO-8601 time with a zone, or a date; default now"),
  device: text(DEVICE_GLOB_MAX, "device (a glob)").describe("device id glob: *, ?, [abc]"),
  tag: text(64, "tag").describe("only devices with this tag"),
  limit: z
    .string()
    .regex(/^\d*$/, "limit must be a whole number")
    .optional()
    .describe("devices per page (default and maximum: KEEPWATCH_REPORT_MAX_DEVICES)"),
  cursor: text(400, "cursor").describe("nextCursor of the previous page"),
  format: z.enum(["", "json", "csv"], { error: "format must be json or csv" }).optional(),
});

const StatusSecondsSchema = z.object({
  online: z.number().describe("connected (late spells included: they are not stored)"),
  late: z.null().describe("not stored: always null"),
  offline: z.number(),
  unknown: z.number().describe("before the device was first seen, or in a monitoring gap"),
});

const FiguresShape = {
  uptimePercent: z.number().nullable(),
  disconnects: z.number().int(),
  meanSecondsBetweenDisconnects: z.number().nullable(),
  longestOutageSeconds: z.number(),
  statusSeconds: StatusSecondsSchema,
};

export const UptimeDeviceSchema = z.object({
  deviceId: z.string(),
  name: z.string().nullable(),
  tags: z.array(z.string()),
  firstSeenAt: z.string(),
  ...FiguresShape,
  sparkline: z.array(z.number().nullable()).describe("uptime % per bucket, oldest first"),
});

export const UptimeTagSchema = z.object({ tag: z.string(), devices: z.number().int(), ...FiguresShape });

export const UptimeReportSchema = z.object({
  period: z.object({ from: z.string(), to: z.string() }),
  bucketSeconds: z.number(),
  devices: z.array(UptimeDeviceSchema),
  tags: z.array(UptimeTagSchema).describe("per tag, over the devices of this page"),
  nextCursor: z.string().nullable(),
});

export type UptimeDeviceDto = z.infer<typeof UptimeDeviceSchema>;
export type UptimeTagDto = z.infer<typeof UptimeTagSchema>;
export type UptimeReportDto = z.infer<typeof UptimeReportSchema>;

// ---------------------------------------------------------------- input

export interface UptimeQuery {
  from: number;
  to: number;
  device: ReturnType<typeof compileDeviceGlob> | null;
  tag: string | null;
  limit: number;
  after: string | null;
  format: "json" | "csv";
  now: number;
}

export interface ReportLimits {
  maxDays: number;
  maxDevices: number;
}

const encodeCursor = (id: string) => Buffer.from(id, "utf8").toString("base64url");
function decodeCursor(c: string): string {
  const id = /^[A-Za-z0-9_-]+$/.test(c) ? Buffer.from(c, "base64url").toString("utf8") : "";
  if (id === "" || encodeCursor(id) !== c) throw new AppError("BAD_REQUEST", "cursor: not a cursor this API gave out");
  return id;
}

export function parseUptimeQuery(url: string, limits: ReportLimits, now = Date.now()): UptimeQuery {
  const q = parseQuery(url, UptimeQuerySchema.shape);
  const to = q.to ? parseIsoTime("to", q.to) : now;
  const from = q.from ? parseIsoTime("from", q.from) : to - DAY_MS;
  const show = (ms: number) => new Date(ms).toISOString();
  if (from >= to) throw new AppError("BAD_REQUEST", `from (${show(from)}) must be before to (${show(to)})`);
  if (from >= now) throw new AppError("BAD_REQUEST", `from (${show(from)}) is in the future`);
  if (to - from > limits.maxDays * DAY_MS)
    throw new AppError(
      "BAD_REQUEST",
      `the period is longer than ${limits.maxDays} days (KEEPWATCH_REPORT_MAX_DAYS); choose a shorter one`,
    );
  let limit = limits.maxDevices;
  if (q.limit) {
    const n = Number(q.limit);
    if (!Number.isSafeInteger(n) || n < 1 || n > limits.maxDevices)
      throw new AppError("BAD_REQUEST", `limit must be a whole number from 1 to ${limits.maxDevices}`);
    limit = n;
  }
  return {
    from,
    // The period ends at now at the latest: the future is neither up nor down.
    to: Math.min(to, now),
    device: q.device ? compileDeviceGlob(q.device) : null,
    tag: q.tag ? q.tag : null,
    limit,
    after: q.cursor ? decodeCursor(q.cursor) : null,
    format: q.format === "csv" ? "csv" : "json",
    now,
  };
}

// ---------------------------------------------------------------- output

const seconds = (ms: number) => Math.round(ms) / 1000;
const percent = (p: number | null) => (p === null ? null : Math.round(p * 1000) / 1000);

function figuresDto(f: Omit<UptimeFigures, "from" | "to" | "sparkline">) {
  return {
    uptimePercent: percent(f.uptimePercent),
    disconnects: f.disconnects,
    meanSecondsBetweenDisconnects: f.meanMsBetweenDisconnects === null ? null : seconds(f.meanMsBetweenDisconnects),
    longestOutageSeconds: seconds(f.longestOutageMs),
    statusSeconds: {
      online: seconds(f.statusMs.online),
      late: null,
      offline: seconds(f.statusMs.offline),
      unknown: seconds(f.statusMs.unknown),
    },
  };
}

const NO_NAMES: NameOf = () => null;

/** A database failure answers 503 in the one error shape; the cause goes to the server log. */
async function fromDatabase<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError) throw err;
    console.error("[api] uptime report failed", err);
    throw new AppError("SERVICE_UNAVAILABLE", "the database is not available: the uptime report cannot be read");
  }
}

/** The report for one page of devices. */
export async function buildUptimeReport(db: Db, q: UptimeQuery, nameOf: NameOf = NO_NAMES): Promise<UptimeReportDto> {
  const { from, to, now } = q;
  const rows = await fromDatabase(() =>
    getReportDevices(db, { to, device: q.device, tag: q.tag, after: q.after, limit: q.limit + 1 }),
  );
  const more = rows.length > q.limit;
  const devices = more ? rows.slice(0, q.limit) : rows;
  const [spans, gaps] = await fromDatabase(() =>
    Promise.all([
      getSessionSpans(db, { deviceIds: devices.map((d) => d.id), from, to }),
      listGaps(db, { from, to, limit: GAP_LIMIT }),
    ]),
  );
  const gapSpans = gaps.map((g) => ({ start: g.startedAt, end: g.endedAt }));
  const figures = devices.map((d) =>
    deviceUptime({
      sessions: spans.get(d.id) ?? [],
      firstSeenAt: d.firstSeenAt,
      gaps: gapSpans,
      from,
      to,
      now,
      buckets: SPARK_BUCKETS,
    }),
  );
  const byTag = new Map<string, UptimeFigures[]>();
  devices.forEach((d, i) => {
    for (const tag of d.tags) {
      const list = byTag.get(tag) ?? [];
      list.push(figures[i]);
      byTag.set(tag, list);
    }
  });
  const bucketMs = Math.max(1, Math.ceil((to - from) / SPARK_BUCKETS));
  return {
    period: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    bucketSeconds: bucketMs / 1000,
    devices: devices.map((d, i) => ({
      deviceId: d.id,
      name: nameOf(d.id),
      tags: d.tags,
      firstSeenAt: new Date(d.firstSeenAt).toISOString(),
      ...figuresDto(figures[i]),
      sparkline: figures[i].sparkline.map(percent),
    })),
    tags: [...byTag.keys()].sort().map((tag) => {
      const c = combineUptime(byTag.get(tag)!);
      return { tag, devices: c.devices, ...figuresDto(c) };
    }),
    nextCursor: more ? encodeCursor(devices[devices.length - 1].id) : null,
  };
}

export const UPTIME_CSV_COLUMNS = [
  "device_id",
  "device_name",
  "tags",
  "period_from",
  "period_to",
  "uptime_percent",
  "disconnects",
  "mean_s_between_disconnects",
  "longest_outage_s",
  "online_s",
  "late_s",
  "offline_s",
  "unknown_s",
] as const;

/** "keepwatch-uptime_2026-11-01T00-00Z_2026-11-08T00-00Z.csv" */
export const uptimeFilename = (from: number, to: number) => `keepwatch-uptime_${fileTime(from)}_${fileTime(to)}.csv`;

/** The report's devices as CSV, one record per device (text cells neutralized against formulas). */
export function uptimeCsv(report: UptimeReportDto): string {
  const from = timeCell(Date.parse(report.period.from));
  const to = timeCell(Date.parse(report.period.to));
  return csvRecords([
    UPTIME_CSV_COLUMNS,
    ...report.devices.map((d) => [
      d.deviceId,
      d.name,
      d.tags.join(" "),
      from,
      to,
      d.uptimePercent,
      d.disconnects,
      d.meanSecondsBetweenDisconnects,
      d.longestOutageSeconds,
      d.statusSeconds.online,
      null,
      d.statusSeconds.offline,
      d.statusSeconds.unknown,
    ]),
  ]);
}

/** The HTTP response: JSON, or CSV as a download named after the period. */
export async function uptimeReportResponse(db: Db, q: UptimeQuery, nameOf: NameOf = NO_NAMES): Promise<Response> {
  const report = await buildUptimeReport(db, q, nameOf);
  if (q.format === "json") return Response.json(report, { headers: { "cache-control": "no-store" } });
  const headers: Record<string, string> = {
    "content-type": "text/csv; charset=utf-8; header=present",
    "content-disposition": `attachment; filename="${uptimeFilename(q.from, q.to)}"`,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  };
  if (report.nextCursor) headers["x-next-cursor"] = report.nextCursor;
  return new Response(uptimeCsv(report), { headers });
}
