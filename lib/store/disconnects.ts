/**
 * Disconnect history queries. A disconnect is a stored session that has ended
 * (`disconnected_at IS NOT NULL`), whatever the reason — takeovers included.
 * Everything else is derived:
 *
 *   reconnected_at = connected_at of the device's next session (by the
 *                    (device_id, connected_at) primary key), null if none yet
 *   silence        = disconnected_at − last_activity_at  (null when unknown)
 *   session        = disconnected_at − connected_at
 *   offline        = reconnected_at − disconnected_at   (null until reconnect)
 *
 * Durations are clamped at 0: a broker stamps its reports in whole seconds
 * while the monitor stamps what it hears itself to the millisecond, so a
 * last activity can land a fraction after the broker's disconnect time, and a
 * takeover's new connect at or before the old session's end.
 *
 * Order is newest first by (disconnected_at, device_id, connected_at), all
 * descending; pages continue after a key (keyset pagination: no OFFSET, each
 * page is an index range scan wherever it starts). The time range is
 * half-open: from ≤ disconnected_at < to.
 *
 * Device filters are resolved through the devices table (every session's
 * device is there, by foreign key), so a pattern that matches a few devices
 * reads only their sessions and one that matches most devices walks the
 * fleet-wide index: the planner picks by the pattern's selectivity.
 */
import { DISCONNECT_REASONS, type DisconnectReason } from "../ingest/events";
import type { Db } from "./db";
import { Prisma } from "./generated/prisma/client";
import { meanMsBetweenDisconnects, uptimePercent, type SessionSpan } from "../reports/uptime";
import { getSessionSpans } from "./reports";
import { toReason } from "./rows";

/** How device ids are matched (built from a user's glob by lib/api/glob.ts). */
export type DeviceMatch =
  | { kind: "exact"; id: string }
  /** A LIKE pattern; backslash escapes `%`, `_` and itself. */
  | { kind: "like"; pattern: string }
  /** An anchored POSIX regular expression (Postgres `~`). */
  | { kind: "regex"; pattern: string };

export interface DisconnectFilter {
  /** Inclusive lower bound on disconnected_at (epoch ms); null: since the beginning. */
  from: number | null;
  /** Exclusive upper bound on disconnected_at (epoch ms). */
  to: number;
  device: DeviceMatch | null;
  /** Reasons to keep; null or empty: every reason. */
  reasons: readonly DisconnectReason[] | null;
  /** Only devices the operator gave this tag (lib/inventory); null: any. */
  tag?: string | null;
}

/** A disconnect's place in the history order; a page continues strictly after it. */
export interface DisconnectKey {
  disconnectedAt: number;
  deviceId: string;
  connectedAt: number;
}

/** One disconnect, times in epoch ms, durations in ms (null where unknown). */
export interface DisconnectRecord {
  deviceId: string;
  connectedAt: number;
  disconnectedAt: number;
  reason: DisconnectReason;
  keepaliveSeconds: number | null;
  lastActivityAt: number | null;
  /** The end was inferred after a monitoring gap, not reported (see SessionRecord.inferred). */
  inferred: boolean;
  reconnectedAt: number | null;
  silenceMs: number | null;
  sessionMs: number;
  offlineMs: number | null;
}

export interface DisconnectPage {
  disconnects: DisconnectRecord[];
  /** Key of the last row when more may follow, else null. */
  next: DisconnectKey | null;
}

export const MAX_DISCONNECT_PAGE = 10_000;

const KNOWN_REASONS: string[] = [...DISCONNECT_REASONS];
const ts = (ms: number) => Prisma.sql`${new Date(ms).toISOString()}::timestamptz`;

/** The device condition on sessions alias `s`. */
function deviceCondition(match: DeviceMatch): Prisma.Sql {
  switch (match.kind) {
    case "exact":
      return Prisma.sql`s."device_id" = ${match.id}`;
    case "like":
      return Prisma.sql`s."device_id" IN (SELECT d."id" FROM "devices" d WHERE d."id" LIKE ${match.pattern})`;
    case "regex":
      return Prisma.sql`s."device_id" IN (SELECT d."id" FROM "devices" d WHERE d."id" ~ ${match.pattern})`;
  }
}

/**
 * The reason condition. Stored values outside the vocabulary (written by a
 * newer version) read as `unknown`, so asking for `unknown` finds them too.
 */
function reasonCondition(reasons: readonly DisconnectReason[]): Prisma.Sql {
  const listed = Prisma.sql`s."reason" = ANY(${[...reasons]}::text[])`;
  if (!reasons.includes("unknown")) return listed;
  return Prisma.sql`(${listed} OR s."reason" IS NULL OR s."reason" <> ALL(${KNOWN_REASONS}::text[]))`;
}

/** WHERE conditions (joined with AND) selecting the filter's disconnects from sessions `s`. */
function filterConditions(filter: DisconnectFilter): Prisma.Sql[] {
  const where = [Prisma.sql`s."disconnected_at" IS NOT NULL`, Prisma.sql`s."disconnected_at" < ${ts(filter.to)}`];
  if (filter.from !== null) where.push(Prisma.sql`s."disconnected_at" >= ${ts(filter.from)}`);
  if (filter.device) where.push(deviceCondition(filter.device));
  if (filter.reasons && filter.reasons.length > 0) where.push(reasonCondition(filter.reasons));
  if (filter.tag)
    where.push(
      Prisma.sql`s."device_id" IN (SELECT l."device_id" FROM "device_labels" l WHERE ${filter.tag} = ANY(l."tags"))`,
    );
  return where;
}

/** Strictly after `key` in newest-first order (the plain bound lets any index with disconnected_at range-scan). */
function afterKey(key: DisconnectKey): Prisma.Sql {
  return Prisma.sql`(s."disconnected_at", s."device_id", s."connected_at") < (${ts(key.disconnectedAt)}, ${key.deviceId}, ${ts(key.connectedAt)})
    AND s."disconnected_at" <= ${ts(key.disconnectedAt)}`;
}

/** At or after `key` in newest-first order: the inclusive far end of a page whose last row is `key`. */
function throughKey(key: DisconnectKey): Prisma.Sql {
  return Prisma.sql`(s."disconnected_at", s."device_id", s."connected_at") >= (${ts(key.disconnectedAt)}, ${key.deviceId}, ${ts(key.connectedAt)})
    AND s."disconnected_at" >= ${ts(key.disconnectedAt)}`;
}

/** Times come back as epoch seconds (float8): decoding numbers costs a fraction of decoding timestamps. */
interface DisconnectRow {
  device_id: string;
  connected_at: number;
  disconnected_at: number;
  reason: string | null;
  keepalive_seconds: number | null;
  last_activity_at: number | null;
  inferred: boolean | null;
  reconnected_at: number | null;
}

/**
 * Epoch seconds (float8) back to epoch ms. The columns hold whole
 * milliseconds and a double's error at these magnitudes is under a
 * microsecond, so rounding restores the exact value.
 */
const msOf = (seconds: number) => Math.round(seconds * 1000);
const msOrNull = (seconds: number | null) => (seconds === null ? null : msOf(seconds));
const nonNegative = (ms: number) => (ms > 0 ? ms : 0);

function toRecord(row: DisconnectRow): DisconnectRecord {
  const connectedAt = msOf(row.connected_at);
  const disconnectedAt = msOf(row.disconnected_at);
  const lastActivityAt = msOrNull(row.last_activity_at);
  const reconnectedAt = msOrNull(row.reconnected_at);
  return {
    deviceId: row.device_id,
    connectedAt,
    disconnectedAt,
    reason: toReason(row.reason) ?? "unknown",
    keepaliveSeconds: row.keepalive_seconds,
    lastActivityAt,
    inferred: row.inferred === true,
    reconnectedAt,
    silenceMs: lastActivityAt === null ? null : nonNegative(disconnectedAt - lastActivityAt),
    sessionMs: nonNegative(disconnectedAt - connectedAt),
    offlineMs: reconnectedAt === null ? null : nonNegative(reconnectedAt - disconnectedAt),
  };
}

export const keyOf = (r: DisconnectRecord): DisconnectKey => ({
  disconnectedAt: r.disconnectedAt,
  deviceId: r.deviceId,
  connectedAt: r.connectedAt,
});

/** Joined to sessions `s`: the same device's next connect after each, as `nx."connected_at"` (null for none). */
export const NEXT_CONNECT = Prisma.sql`LEFT JOIN LATERAL (
      SELECT n."connected_at" FROM "sessions" n
      WHERE n."device_id" = s."device_id" AND n."connected_at" > s."connected_at"
      ORDER BY n."connected_at" LIMIT 1
    ) nx ON true`;

/** The disconnects matching `where` (sessions `s`), newest first, with the next connect of each device. */
async function selectDisconnects(db: Db, where: Prisma.Sql[], limit: number | null): Promise<DisconnectRecord[]> {
  const rows = await db.$queryRaw<DisconnectRow[]>`
    SELECT s."device_id", date_part('epoch', s."connected_at") AS "connected_at",
           date_part('epoch', s."disconnected_at") AS "disconnected_at", s."reason", s."keepalive_seconds",
           date_part('epoch', s."last_activity_at") AS "last_activity_at", s."inferred",
           date_part('epoch', nx."connected_at") AS "reconnected_at"
    FROM "sessions" s
    ${NEXT_CONNECT}
    WHERE ${Prisma.join(where, " AND ")}
    ORDER BY s."disconnected_at" DESC, s."device_id" DESC, s."connected_at" DESC
    ${limit === null ? Prisma.empty : Prisma.sql`LIMIT ${limit}`}`;
  return rows.map(toRecord);
}

/**
 * One page of the filter's disconnects, newest first, strictly after `after`
 * when given. Reads one row more than asked to know whether more follow.
 */
export async function getDisconnects(
  db: Db,
  opts: { filter: DisconnectFilter; after?: DisconnectKey | null; limit: number },
): Promise<DisconnectPage> {
  const limit = Math.min(Math.max(1, Math.trunc(opts.limit) || 1), MAX_DISCONNECT_PAGE);
  const where = filterConditions(opts.filter);
  if (opts.after) where.push(afterKey(opts.after));
  const rows = await selectDisconnects(db, where, limit + 1);
  const more = rows.length > limit;
  const disconnects = more ? rows.slice(0, limit) : rows;
  return { disconnects, next: more ? keyOf(disconnects[disconnects.length - 1]) : null };
}

/**
 * Where the page that starts after `after` ends: the key of its last row
 * when more rows follow (what getDisconnects returns as `next`), else null.
 * Reads only keys, and never more than one page of them (the offset is the
 * page size, not the depth into the history), so it costs a fraction of
 * the page itself.
 */
async function pageEnd(db: Db, filter: DisconnectFilter, after: DisconnectKey | null, limit: number) {
  const where = filterConditions(filter);
  if (after) where.push(afterKey(after));
  const rows = await db.$queryRaw<Array<{ disconnected_at: number; device_id: string; connected_at: number }>>`
    SELECT date_part('epoch', s."disconnected_at") AS "disconnected_at", s."device_id",
           date_part('epoch', s."connected_at") AS "connected_at"
    FROM "sessions" s
    WHERE ${Prisma.join(where, " AND ")}
    ORDER BY s."disconnected_at" DESC, s."device_id" DESC, s."connected_at" DESC
    OFFSET ${limit - 1} LIMIT 2`;
  if (rows.length < 2) return null;
  const r = rows[0];
  return { disconnectedAt: msOf(r.disconnected_at), deviceId: r.device_id, connectedAt: msOf(r.connected_at) };
}

/**
 * Every disconnect of the filter, page by page (newest first): memory holds
 * a few pages whatever the total. Each page is a range of the history order,
 * its far end found first by a cheap key-only query, then its rows read
 * between its two ends, so pages never overlap or leave a gap, even when a
 * late write lands in the range meanwhile. `readAhead` pages are requested
 * before the consumer asks for them, so the database works while the
 * consumer handles the current page; with more than one, that many queries
 * run at a time, each on its own pool connection. Stopping the iteration
 * stops the reading.
 */
export async function* iterateDisconnects(
  db: Db,
  opts: {
    filter: DisconnectFilter;
    pageSize?: number;
    /** A smaller first page gets the first rows out sooner. */
    firstPageSize?: number;
    after?: DisconnectKey | null;
    readAhead?: number;
  },
): AsyncGenerator<DisconnectRecord[], void, undefined> {
  const size = (n: number) => Math.min(Math.max(1, Math.trunc(n) || 1), MAX_DISCONNECT_PAGE);
  const limit = size(opts.pageSize ?? 5000);
  let nextLimit = size(opts.firstPageSize ?? limit);
  const ahead = Math.max(1, Math.trunc(opts.readAhead ?? 1));
  const queue: Array<Promise<DisconnectRecord[]>> = [];
  let start: DisconnectKey | null = opts.after ?? null;
  let ended = false;
  /** Requests pages until `depth` are on their way. */
  const topUp = async (depth: number) => {
    while (!ended && queue.length < depth) {
      const end = await pageEnd(db, opts.filter, start, nextLimit);
      nextLimit = limit;
      const where = filterConditions(opts.filter);
      if (start) where.push(afterKey(start));
      if (end) where.push(throughKey(end));
      const page = selectDisconnects(db, where, null);
      page.catch(() => {}); // a page read ahead and then abandoned must not surface as an unhandled rejection
      queue.push(page);
      if (end === null) ended = true;
      else start = end;
    }
  };
  // A failure while reading ahead is raised after the page already read has been handed out.
  const failure: { failed: boolean; error?: unknown } = { failed: false };
  for (;;) {
    if (failure.failed) throw failure.error;
    await topUp(1);
    const next = queue.shift();
    if (!next) return;
    const page = await next;
    await topUp(ahead).catch((error: unknown) => {
      failure.failed = true;
      failure.error = error;
    });
    if (page.length > 0) yield page;
  }
}

export interface ReasonCount {
  reason: DisconnectReason;
  count: number;
}

export interface DeviceDisconnectStats {
  deviceId: string;
  /** Disconnects of the filter in the period. */
  disconnects: number;
  /**
   * Share of the period (0–100) the device had a session open, as the uptime
   * reports define it (lib/reports/uptime.ts): its sessions clipped to the
   * period, each ending at its disconnected_at, at the device's next connect
   * if that comes first, or at `now` while still open. Every session counts,
   * whatever the reason filter. Null when the period is empty.
   */
  uptimePercent: number | null;
  /** Mean time between disconnects (ms): the period's length ÷ `disconnects`. */
  meanMsBetweenDisconnects: number | null;
}

export interface DisconnectSummary {
  /**
   * The period the figures cover: [from, to) of the filter, with `to` no
   * later than `now`. Without a `from`, it starts when the monitor first saw
   * the earliest-seen device that has a disconnect in the filter (null: no
   * such device).
   */
  period: { from: number | null; to: number };
  total: number;
  /** Distinct devices with at least one disconnect. */
  devices: number;
  /** Counts per reason, largest first (reasons with none are left out). */
  byReason: ReasonCount[];
  /** The devices with the most disconnects (ties by id), with their uptime. */
  topDevices: DeviceDisconnectStats[];
}

interface SummaryRow {
  total: number;
  devices: number;
  period_from: Date | null;
  by_reason: Array<{ reason: string; count: number }> | null;
  top_devices: Array<{ device_id: string; disconnects: number }> | null;
}

/**
 * The filter's figures in one aggregate query: counts by reason, the devices
 * that dropped most, and for those their uptime and mean time between
 * disconnects (definitions on DeviceDisconnectStats).
 */
export async function getDisconnectSummary(
  db: Db,
  opts: { filter: DisconnectFilter; top?: number; now?: number },
): Promise<DisconnectSummary> {
  const { filter } = opts;
  const top = Math.min(Math.max(1, Math.trunc(opts.top ?? 10) || 1), 1000);
  const now = opts.now ?? Date.now();
  const periodTo = Math.min(filter.to, now);
  // Without a lower bound, the period starts at the earliest first sighting among the matched devices.
  const periodFrom =
    filter.from !== null
      ? ts(filter.from)
      : Prisma.sql`(SELECT min(dv."first_seen_at") FROM "devices" dv WHERE dv."id" IN (SELECT "device_id" FROM per_device))`;
  const [row] = await db.$queryRaw<SummaryRow[]>`
    WITH matched AS MATERIALIZED (
      SELECT s."device_id",
             CASE WHEN s."reason" = ANY(${KNOWN_REASONS}::text[]) THEN s."reason" ELSE 'unknown' END AS "reason"
      FROM "sessions" s
      WHERE ${Prisma.join(filterConditions(filter), " AND ")}
    ),
    per_device AS (
      SELECT "device_id", count(*)::int AS "n" FROM matched GROUP BY "device_id"
    ),
    period AS (
      SELECT ${periodFrom} AS "from", ${ts(periodTo)} AS "to"
    ),
    top_devices AS (
      SELECT "device_id", "n" FROM per_device ORDER BY "n" DESC, "device_id" ASC LIMIT ${top}
    )
    SELECT
      (SELECT count(*)::int FROM matched) AS "total",
      (SELECT count(*)::int FROM per_device) AS "devices",
      (SELECT "from" FROM period) AS "period_from",
      (SELECT json_agg(json_build_object('reason', r."reason", 'count', r."n") ORDER BY r."n" DESC, r."reason")
         FROM (SELECT "reason", count(*)::int AS "n" FROM matched GROUP BY "reason") r) AS "by_reason",
      (SELECT json_agg(json_build_object('device_id', t."device_id", 'disconnects', t."n")
                       ORDER BY t."n" DESC, t."device_id" ASC)
         FROM top_devices t) AS "top_devices"`;

  const from = row.period_from === null ? null : row.period_from.getTime();
  const length = from === null ? null : periodTo - from;
  const topRows = row.top_devices ?? [];
  // Uptime as the reports compute it (lib/reports/uptime.ts), from the sessions that touch the period.
  const spans =
    from !== null && periodTo > from
      ? await getSessionSpans(db, { deviceIds: topRows.map((t) => t.device_id), from, to: periodTo })
      : new Map<string, SessionSpan[]>();
  return {
    period: { from, to: periodTo },
    total: row.total,
    devices: row.devices,
    byReason: (row.by_reason ?? []).map((r) => ({ reason: toReason(r.reason) ?? "unknown", count: r.count })),
    topDevices: topRows.map((t) => ({
      deviceId: t.device_id,
      disconnects: t.disconnects,
      uptimePercent: from === null ? null : uptimePercent(spans.get(t.device_id) ?? [], from, periodTo, now),
      meanMsBetweenDisconnects: length === null ? null : meanMsBetweenDisconnects(length, t.disconnects),
    })),
  };
}

/** Ended sessions per hour (epoch ms of its start) and stored reason, for `disconnected_at` in [from, to). */
export async function disconnectsByHour(
  db: Db,
  from: number,
  to: number,
): Promise<Array<{ hour: number; reason: string | null; count: number }>> {
  const rows = await db.$queryRaw<{ hour: Date; reason: string | null; n: bigint | number }[]>`
    SELECT date_trunc('hour', disconnected_at) AS hour, reason, count(*) AS n
      FROM sessions
     WHERE disconnected_at >= ${new Date(from)} AND disconnected_at < ${new Date(to)}
     GROUP BY 1, 2 ORDER BY 1`;
  return rows.map((r) => ({ hour: new Date(r.hour).getTime(), reason: r.reason, count: Number(r.n) }));
}
