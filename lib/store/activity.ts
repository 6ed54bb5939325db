/**
 * Per-device activity at fleet scale: the recorder that writes it and the
 * queries that read it back.
 *
 * Storage (prisma/migrations/20261122020000_activity, …040000_activity_hours):
 *   device_activity          raw points (device, time, kind[, reason]) for
 *                            ACTIVITY_RAW_HOURS (default 24)
 *   device_activity_minutes  per device-minute count and largest gap, for
 *                            the current day (and a day a late point reaches)
 *   device_activity_hours    the same minutes packed one row per device-hour
 *                            (parallel arrays), for ACTIVITY_ROLLUP_DAYS
 *                            (default 30)
 * All three are partitioned by range on time into UTC days
 * (`<table>_pYYYYMMDD`). The recorder creates today's and the next two
 * days' partitions ahead (and any day a late point needs), and retention
 * drops whole partitions once every row in them is past the window: no bulk
 * DELETE, no vacuum debt. So raw rows live between the window and the window
 * plus a day. The same SQL runs on Postgres and on the embedded PGlite
 * (Postgres 17 in WebAssembly, which supports declarative partitioning).
 *
 * Packing: a minute row costs ~107 bytes with its index entry, sixty per
 * device-hour; packed, a device-hour is one row of a few hundred bytes. Once a
 * day has been over for PACK_AFTER_MS, maintenance folds its minute partition
 * into the hour table in one transaction (INSERT … SELECT … GROUP BY, then
 * DROP of the partition): set-based, no UPDATE churn on hot rows, and nothing
 * is lost: reads unnest the arrays back into the same minutes.
 *
 * Writes are batched like lib/store/writer.ts: points and roll-ups are
 * buffered and written every flushIntervalMs (sooner when maxBatch points
 * wait) as one transaction of two multi-row statements (unnest of arrays),
 * never a statement per message. Minute roll-ups are computed in memory
 * (lib/activity/points.ts) and written once their minute is over, so a
 * roll-up row is normally inserted once; a point arriving after its minute
 * was written adds to the row (upsert). While the database fails, the
 * recorder keeps up to maxPending points (dropping the oldest beyond) and
 * retries with backoff; the fleet and the live view never wait for it.
 *
 * Partition DDL needs identifiers, which Prisma's tagged templates cannot
 * bind; the names are built here from dates only (never from input).
 */
import { JobRegistry } from "../jobs/registry";
import { DAY_MS, HOUR_MS } from "../keepalive";
import {
  ActivityAccumulator,
  kindOfCode,
  KIND_CODE,
  type ActivityKind,
  type ActivityPoint,
  type MinuteRollup,
} from "../activity/points";
import type { FleetEffect } from "../fleet/types";
import type { ActivityEvent, DisconnectReason } from "../ingest/events";
import { sqlBatch, type Db, type SqlBatch, type SqlStatement } from "./db";
import { FlushLoop } from "./flush-loop";

export const RAW_TABLE = "device_activity";
export const ROLLUP_TABLE = "device_activity_minutes";
export const HOUR_TABLE = "device_activity_hours";
/** A day's minute roll-ups are packed this long after the day ended: late points of the day still land as minutes. */
export const PACK_AFTER_MS = HOUR_MS;
/** The recorder's names among the background jobs. */
export const PACKING_JOB = "activity-packing";
export const RETENTION_JOB = "activity-retention";
type PartitionedTable = typeof RAW_TABLE | typeof ROLLUP_TABLE | typeof HOUR_TABLE;

export const DEFAULT_RAW_HOURS = 24;
export const DEFAULT_ROLLUP_DAYS = 30;

export const dayStart = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;

/** `device_activity_p20261122` for the UTC day starting at `day`. */
export function partitionName(table: PartitionedTable, day: number): string {
  return `${table}_p${new Date(day).toISOString().slice(0, 10).replace(/-/g, "")}`;
}

/** The UTC day a partition holds, from its name; null for a name that is not one of ours. */
export function partitionDay(table: PartitionedTable, name: string): number | null {
  const m = new RegExp(`^${table}_p(\\d{4})(\\d{2})(\\d{2})$`).exec(name);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
}

/** Creates the partition for one day if it does not exist (safe when two processes race). */
export async function ensurePartition(db: Db, table: PartitionedTable, day: number): Promise<void> {
  const name = partitionName(table, day);
  const from = new Date(day).toISOString();
  const to = new Date(day + DAY_MS).toISOString();
  try {
    await db.$executeRawUnsafe(
      `CREATE TABLE IF NOT EXISTS "${name}" PARTITION OF "${table}" FOR VALUES FROM ('${from}') TO ('${to}')`,
    );
  } catch (e) {
    // Another process created it between IF NOT EXISTS and CREATE.
    if (!/already exists/i.test(String((e as Error).message))) throw e;
  }
}

/** Days (UTC starts) of the partitions a table has, sorted. */
export async function listPartitions(db: Db, table: PartitionedTable): Promise<number[]> {
  const rows = await db.$queryRaw<{ name: string }[]>`
    SELECT c.relname AS name FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
      JOIN pg_class p ON p.oid = i.inhparent
      JOIN pg_namespace n ON n.oid = p.relnamespace
     WHERE p.relname = ${table} AND n.nspname = current_schema()`;
  return rows
    .map((r) => partitionDay(table, r.name))
    .filter((d): d is number => d !== null)
    .sort((a, b) => a - b);
}

/** Drops the partitions whose whole day ended before `cutoff`; returns the days dropped. */
export async function dropPartitionsBefore(db: Db, table: PartitionedTable, cutoff: number): Promise<number[]> {
  const dropped: number[] = [];
  for (const day of await listPartitions(db, table)) {
    if (day + DAY_MS > cutoff) continue;
    await db.$executeRawUnsafe(`DROP TABLE IF EXISTS "${partitionName(table, day)}"`);
    dropped.push(day);
  }
  return dropped;
}

/**
 * Folds one day's minute partition into the hour table and drops it, in one
 * transaction (the partition is locked against writes first, so a late write
 * to it waits and then lands in a partition created afresh; reads go on). A device-hour already
 * packed (late points of a day packed before) gets the new minutes appended.
 * Returns false when the day had no minute partition.
 */
export async function packMinutes(db: Db, sql: SqlBatch, day: number): Promise<boolean> {
  const name = partitionName(ROLLUP_TABLE, day);
  if (!(await listPartitions(db, ROLLUP_TABLE)).includes(day)) return false;
  await ensurePartition(db, HOUR_TABLE, day);
  // Epoch arithmetic, not date_trunc: hours in UTC whatever the session's time zone (and any Postgres version).
  await sql([
    // EXCLUSIVE: reads go on (they see the minutes until the commit), writes to the day wait.
    { text: `LOCK TABLE "${name}" IN EXCLUSIVE MODE`, values: [] },
    {
      text: `
      INSERT INTO device_activity_hours AS h (device_id, hour, minutes, counts, max_gaps_ms)
      SELECT device_id, to_timestamp(floor(extract(epoch FROM minute) / 3600) * 3600),
             array_agg(((extract(epoch FROM minute)::bigint % 3600) / 60)::int2 ORDER BY minute),
             array_agg(count ORDER BY minute),
             array_agg(max_gap_ms ORDER BY minute)
        FROM "${name}"
       GROUP BY 1, 2
      ON CONFLICT (device_id, hour) DO UPDATE
        SET minutes = h.minutes || EXCLUDED.minutes,
            counts = h.counts || EXCLUDED.counts,
            max_gaps_ms = h.max_gaps_ms || EXCLUDED.max_gaps_ms`,
      values: [],
    },
    { text: `DROP TABLE "${name}"`, values: [] },
  ]);
  return true;
}

export interface ActivityRecorderOptions {
  db: Db;
  /** How batches reach the database (Database.batch); without it, through `db` (see sqlBatch in db.ts). */
  sql?: SqlBatch;
  /** Raw points are kept this long (hours). Default 24. */
  rawRetentionHours?: number;
  /** Roll-ups (minutes, packed by hour once their day is over) are kept this long (days). Default 30. */
  rollupRetentionDays?: number;
  /** Time between flushes (ms). Default 500. */
  flushIntervalMs?: number;
  /** Points per statement; reaching it triggers a flush. Default 10,000. */
  maxBatch?: number;
  /** Points kept while the database is unreachable. Default 1,000,000. */
  maxPending?: number;
  /** How often partitions are created ahead and old ones dropped (ms). Default 1 h. */
  maintenanceIntervalMs?: number;
  /** Where packing and retention run (lib/jobs/registry.ts, jobs `activity-packing`, `activity-retention`); its own when not given. */
  jobs?: JobRegistry;
  /** Client ids never recorded (the monitor's own). */
  ignore?: ReadonlySet<string>;
  now?: () => number;
  onError?(e: unknown): void;
}

export interface ActivityRecorderHealth {
  pendingPoints: number;
  pendingRollups: number;
  droppedPoints: number;
  writtenPoints: number;
  /** Days of minute roll-ups packed into hour rows since start. */
  packedDays: number;
  lastError: string | null;
}

/** Raw points as parallel columns (see RawBuffer). */
interface RawColumns {
  ids: string[];
  at: number[];
  kind: number[];
  reason: (string | null)[];
}

/**
 * Raw points waiting to be written, as parallel arrays rather than an object
 * per point: they wait for the next flush, long enough to be promoted to V8's
 * old generation, where hundreds of thousands of short-lived objects leave the
 * heap fragmented (resident memory that outlives them). Times are stored
 * unboxed in a double array.
 */
class RawBuffer implements RawColumns {
  ids: string[] = [];
  at: number[] = [];
  kind: number[] = [];
  reason: (string | null)[] = [];

  get length(): number {
    return this.ids.length;
  }

  push(id: string, at: number, kind: number, reason: string | null): void {
    this.ids.push(id);
    this.at.push(at);
    this.kind.push(kind);
    this.reason.push(reason);
  }

  /** Removes and returns the n oldest points; all of them without a copy (the usual case). */
  take(n: number): RawColumns {
    if (n >= this.length) {
      const all: RawColumns = { ids: this.ids, at: this.at, kind: this.kind, reason: this.reason };
      this.drop(n);
      return all;
    }
    const front: RawColumns = {
      ids: this.ids.slice(0, n),
      at: this.at.slice(0, n),
      kind: this.kind.slice(0, n),
      reason: this.reason.slice(0, n),
    };
    this.drop(n);
    return front;
  }

  /** Puts points taken by take() back in front (a failed write), keeping their order. */
  restore(front: RawColumns): void {
    this.ids = front.ids.concat(this.ids);
    this.at = front.at.concat(this.at);
    this.kind = front.kind.concat(this.kind);
    this.reason = front.reason.concat(this.reason);
  }

  /** Removes the n oldest points. */
  drop(n: number): void {
    if (n >= this.length) {
      this.ids = [];
      this.at = [];
      this.kind = [];
      this.reason = [];
      return;
    }
    this.ids.splice(0, n);
    this.at.splice(0, n);
    this.kind.splice(0, n);
    this.reason.splice(0, n);
  }
}

const clean = (s: string): string => (s.includes("\u0000") ? s.replace(/\u0000/g, "\uFFFD") : s);
const lastLine = (e: unknown): string =>
  (e instanceof Error ? e.message : String(e))
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1) ?? "unknown error";

export class ActivityRecorder {
  private readonly db: Db;
  private readonly sql: SqlBatch;
  private readonly acc: ActivityAccumulator;
  private readonly now: () => number;
  readonly rawRetentionMs: number;
  readonly rollupRetentionMs: number;
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  private readonly maxPending: number;
  private readonly maintenanceIntervalMs: number;
  private raw = new RawBuffer();
  /** Points of the batch being written (still pending until it is). */
  private inFlight = 0;
  /** Minute roll-ups taken from the accumulator, not yet written. */
  private rollups = new Map<string, MinuteRollup>();
  private readonly partitions = new Set<string>();
  private readonly jobs: JobRegistry;
  private readonly loop: FlushLoop;
  private dropped = 0;
  private written = 0;
  private packedDays = 0;
  private stamp = 0;
  private lastError: string | null = null;

  constructor(private readonly opts: ActivityRecorderOptions) {
    this.db = opts.db;
    this.sql = opts.sql ?? sqlBatch(opts.db);
    this.acc = new ActivityAccumulator(opts.ignore);
    this.now = opts.now ?? Date.now;
    this.rawRetentionMs = (opts.rawRetentionHours ?? DEFAULT_RAW_HOURS) * HOUR_MS;
    this.rollupRetentionMs = (opts.rollupRetentionDays ?? DEFAULT_ROLLUP_DAYS) * DAY_MS;
    this.flushIntervalMs = opts.flushIntervalMs ?? 500;
    this.maxBatch = Math.max(1, opts.maxBatch ?? 10_000);
    this.maxPending = Math.max(1, opts.maxPending ?? 1_000_000);
    this.maintenanceIntervalMs = opts.maintenanceIntervalMs ?? HOUR_MS;
    this.jobs = opts.jobs ?? new JobRegistry();
    this.loop = new FlushLoop({
      intervalMs: this.flushIntervalMs,
      maxRetryDelayMs: 5_000,
      drain: () => this.drain(false),
      full: () => this.raw.length >= this.maxBatch,
    });
  }

  /** Activity of an ingest batch (PINGREQs, publishes, other packets). Never throws. */
  recordEvents(events: readonly ActivityEvent[]): void {
    this.guard(() => this.push(this.acc.events(events)));
  }

  /** Connects and disconnects, from the fleet's session effects. Never throws. */
  recordEffects(effects: readonly FleetEffect[]): void {
    this.guard(() => this.push(this.acc.effects(effects)));
  }

  /**
   * Odd while a write is under way (its rows may be committed and still in
   * memory); changes with every write. A read that merges the database with
   * pendingRollups() is consistent when this was even and unchanged across it.
   */
  get writeStamp(): number {
    return this.stamp;
  }

  /** Roll-ups of the device's minutes not written yet (the current one), for reads that want them live. */
  pendingRollups(deviceId: string): MinuteRollup[] {
    const written = [...this.rollups.values()].filter((r) => r.deviceId === deviceId);
    return [...written, ...this.acc.pendingRollups(deviceId)].sort((a, b) => a.minute - b.minute);
  }

  /** Creates partitions ahead, starts the periodic flush, and packs and drops old days behind. */
  async start(): Promise<void> {
    if (this.loop.running) return;
    this.loop.start();
    // Partitions first, writes need them; packing and retention (a while after a long stop) go on behind.
    await this.ensureAhead().catch((e) => this.fail(e));
    for (const [name, step] of [
      [PACKING_JOB, () => this.pack()],
      [RETENTION_JOB, () => this.retain()],
    ] as const)
      this.jobs.register({
        name,
        intervalMs: this.maintenanceIntervalMs,
        immediate: true,
        run: () =>
          this.loop.chained(step).catch((e: unknown) => {
            this.fail(e);
            throw e;
          }),
      });
  }

  private stopMaintenance(): void {
    void this.jobs.stop(PACKING_JOB);
    void this.jobs.stop(RETENTION_JOB);
  }

  /**
   * A standby (lib/cluster): stops writing and maintaining, and drops what is
   * buffered, which the leader writes. start() takes up again.
   */
  pause(): void {
    this.loop.pause();
    this.stopMaintenance();
    this.raw = new RawBuffer();
    this.rollups.clear();
  }

  /** Writes everything, including the current minute's roll-ups, and stops. */
  async stop(): Promise<void> {
    this.loop.pause();
    this.stopMaintenance();
    await this.flush({ all: true }).catch(() => {});
  }

  /**
   * Writes what is buffered (roll-ups of minutes that have ended; all of them
   * with `all`). Rejects when the database fails; the rows stay buffered.
   */
  flush(opts: { all?: boolean } = {}): Promise<void> {
    return this.loop.flush(() => this.drain(opts.all === true));
  }

  /**
   * Partitions for today and the next two days; packs the minute roll-ups
   * of days over for PACK_AFTER_MS; drops partitions past retention. Runs
   * in the write chain, so it never interleaves with a flush.
   */
  maintain(): Promise<void> {
    return this.loop.chained(async () => {
      await this.pack();
      await this.retain();
    });
  }

  private async ensureAhead(): Promise<void> {
    const today = dayStart(this.now());
    for (const table of [RAW_TABLE, ROLLUP_TABLE] as const) {
      for (let d = 0; d <= 2; d++) await this.ensure(table, today + d * DAY_MS);
    }
  }

  /** Partitions ahead; the minute roll-ups of days over for PACK_AFTER_MS packed by hour. */
  private async pack(): Promise<void> {
    await this.ensureAhead(); // hour partitions are made when a day is packed
    const now = this.now();
    for (const day of await listPartitions(this.db, ROLLUP_TABLE)) {
      if (day + DAY_MS + PACK_AFTER_MS > now) continue;
      this.partitions.delete(`${ROLLUP_TABLE}:${day}`);
      if (await packMinutes(this.db, this.sql, day)) this.packedDays++;
    }
  }

  /** Partitions past retention dropped; idle devices' accumulators forgotten. */
  private async retain(): Promise<void> {
    const now = this.now();
    for (const day of await dropPartitionsBefore(this.db, RAW_TABLE, now - this.rawRetentionMs))
      this.partitions.delete(`${RAW_TABLE}:${day}`);
    for (const table of [ROLLUP_TABLE, HOUR_TABLE] as const)
      for (const day of await dropPartitionsBefore(this.db, table, now - this.rollupRetentionMs))
        this.partitions.delete(`${table}:${day}`);
    this.acc.forgetIdleBefore(now - DAY_MS);
  }

  health(): ActivityRecorderHealth {
    return {
      pendingPoints: this.raw.length + this.inFlight,
      pendingRollups: this.rollups.size + this.acc.pendingRollupCount,
      droppedPoints: this.dropped,
      writtenPoints: this.written,
      packedDays: this.packedDays,
      lastError: this.lastError,
    };
  }

  // -------------------------------------------------------------------------

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.opts.onError?.(e);
    }
  }

  private push(points: ActivityPoint[]): void {
    for (const p of points) {
      if (!Number.isFinite(p.at)) continue;
      this.raw.push(clean(p.deviceId), p.at, KIND_CODE[p.kind], p.reason);
    }
    this.trim();
    this.loop.nudge();
  }

  /** Keeps at most maxPending points, dropping the oldest. */
  private trim(): void {
    const excess = this.raw.length - this.maxPending;
    if (excess > 0) {
      this.raw.drop(excess);
      this.dropped += excess;
    }
  }

  private fail(e: unknown): void {
    this.lastError = lastLine(e);
    this.opts.onError?.(e);
  }

  private async ensure(table: PartitionedTable, day: number): Promise<void> {
    const key = `${table}:${day}`;
    if (this.partitions.has(key)) return;
    await ensurePartition(this.db, table, day);
    this.partitions.add(key);
  }

  private async drain(all: boolean): Promise<void> {
    const now = this.now();
    // A minute's end holds a roll-up per active device: taken in slices, with I/O and verdicts between them.
    for (;;) {
      const taken = this.acc.takeRollups(all ? Number.POSITIVE_INFINITY : now - 5_000, this.maxBatch);
      for (const r of taken) {
        const key = `${r.deviceId}\u0000${r.minute}`;
        const held = this.rollups.get(key);
        if (!held) this.rollups.set(key, { ...r, deviceId: clean(r.deviceId) });
        else {
          held.count += r.count;
          if (r.maxGapMs !== null) held.maxGapMs = Math.max(held.maxGapMs ?? 0, r.maxGapMs);
        }
      }
      if (taken.length < this.maxBatch) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    // The roll-ups held now, in slices: taking each slice off the front of the map (up to one per device at a
    // minute's end) would walk over the entries deleted before it, every time.
    const queue = Array.from(this.rollups.values());
    let queued = 0;
    let rounds = Math.ceil(Math.max(this.raw.length, queue.length) / this.maxBatch) + 1;
    while (rounds-- > 0 && (this.raw.length > 0 || queued < queue.length)) {
      const raw = this.raw.take(this.maxBatch);
      const rollups = queue.slice(queued, queued + this.maxBatch);
      this.inFlight = raw.at.length;
      this.stamp++;
      try {
        await this.write(raw, rollups, now);
      } catch (e) {
        this.stamp++;
        this.inFlight = 0;
        this.raw.restore(raw);
        this.trim();
        this.partitions.clear(); // a dropped or missing partition is re-created on the next try
        this.fail(e);
        throw e;
      }
      this.inFlight = 0;
      queued += rollups.length;
      for (const r of rollups) this.rollups.delete(`${r.deviceId}\u0000${r.minute}`);
      this.stamp++;
      this.written += raw.ids.length;
      this.lastError = null;
    }
  }

  private async write(raw: RawColumns, rollups: MinuteRollup[], now: number): Promise<void> {
    // Points outside the kept window (a stale backlog, a broker clock far ahead) are not stored.
    const rawFrom = dayStart(now - this.rawRetentionMs);
    const rollupFrom = dayStart(now - this.rollupRetentionMs);
    const horizon = now + DAY_MS;
    let rows = raw;
    const days = new Set<number>();
    let inWindow = 0;
    for (const at of raw.at) {
      if (at < rawFrom || at >= horizon) continue;
      inWindow++;
      days.add(dayStart(at));
    }
    if (inWindow < raw.at.length) {
      rows = { ids: [], at: [], kind: [], reason: [] };
      for (let i = 0; i < raw.at.length; i++) {
        if (raw.at[i] < rawFrom || raw.at[i] >= horizon) continue;
        rows.ids.push(raw.ids[i]);
        rows.at.push(raw.at[i]);
        rows.kind.push(raw.kind[i]);
        rows.reason.push(raw.reason[i]);
      }
    }
    const mins = rollups.filter((r) => r.minute >= rollupFrom && r.minute < horizon);
    this.dropped += raw.at.length - rows.at.length;
    for (const day of days) await this.ensure(RAW_TABLE, day);
    for (const day of new Set(mins.map((r) => dayStart(r.minute)))) await this.ensure(ROLLUP_TABLE, day);
    const statements: SqlStatement[] = [];
    if (rows.at.length > 0) {
      // Times go as epoch milliseconds (float8, exact for them): no ISO string per point.
      statements.push({
        text: `
        INSERT INTO device_activity (device_id, at, kind, reason)
        SELECT u.device_id, to_timestamp(u.at / 1000), u.kind, u.reason
          FROM unnest($1::text[], $2::float8[], $3::int2[], $4::text[]) AS u(device_id, at, kind, reason)
        ON CONFLICT DO NOTHING`,
        values: [rows.ids, rows.at, rows.kind, rows.reason],
      });
    }
    if (mins.length > 0) {
      statements.push({
        text: `
        INSERT INTO device_activity_minutes AS m (device_id, minute, count, max_gap_ms)
        SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::int4[], $4::int4[])
        ON CONFLICT (device_id, minute) DO UPDATE
          SET count = m.count + EXCLUDED.count,
              max_gap_ms = GREATEST(m.max_gap_ms, EXCLUDED.max_gap_ms)`,
        values: [
          mins.map((r) => r.deviceId),
          mins.map((r) => new Date(r.minute).toISOString()),
          mins.map((r) => r.count),
          mins.map((r) => r.maxGapMs),
        ],
      });
    }
    await this.sql(statements);
  }
}

// ---------------------------------------------------------------------------
// Queries

export interface StoredPoint {
  at: number;
  kind: ActivityKind;
  reason: DisconnectReason | null;
}

/**
 * A device's raw points in [from, to), oldest first: the newest `limit` when
 * there are more (`truncated`). Served by the primary key (device, at, kind)
 * of each day's partition.
 */
export async function getActivityPoints(
  db: Db,
  deviceId: string,
  from: number,
  to: number,
  opts: { kinds?: readonly ActivityKind[]; limit?: number } = {},
): Promise<{ points: StoredPoint[]; truncated: boolean }> {
  const limit = Math.max(1, Math.min(opts.limit ?? 50_000, 200_000));
  const codes = (opts.kinds ?? ["connect", "pingreq", "publish", "disconnect", "packet"]).map((k) => KIND_CODE[k]);
  const rows = await db.$queryRaw<{ at: Date; kind: number; reason: string | null }[]>`
    SELECT at, kind, reason FROM device_activity
     WHERE device_id = ${deviceId} AND at >= ${new Date(from)} AND at < ${new Date(to)}
       AND kind = ANY(${codes}::int2[])
     ORDER BY at DESC, kind DESC
     LIMIT ${limit + 1}`;
  const truncated = rows.length > limit;
  const points: StoredPoint[] = [];
  for (let i = Math.min(rows.length, limit) - 1; i >= 0; i--) {
    const r = rows[i];
    const kind = kindOfCode(Number(r.kind));
    if (kind)
      points.push({ at: new Date(r.at).getTime(), kind, reason: (r.reason as DisconnectReason | null) ?? null });
  }
  return { points, truncated };
}

/**
 * A device's minute roll-ups in [from, to), oldest first: the minute rows and
 * the packed hours unnested back into minutes, a minute found in both (or
 * twice in an hour) merged.
 */
export async function getActivityRollups(db: Db, deviceId: string, from: number, to: number): Promise<MinuteRollup[]> {
  const f = new Date(from);
  const t = new Date(to);
  const rows = await db.$queryRaw<{ minute: Date; count: bigint | number; max_gap_ms: number | null }[]>`
    SELECT minute, sum(count) AS count, max(max_gap_ms) AS max_gap_ms FROM (
      SELECT minute, count, max_gap_ms FROM device_activity_minutes
       WHERE device_id = ${deviceId} AND minute >= ${f} AND minute < ${t}
      UNION ALL
      SELECT h.hour + make_interval(mins => u.m) AS minute, u.c, u.g
        FROM device_activity_hours h,
             unnest(h.minutes, h.counts, h.max_gaps_ms) AS u(m, c, g)
       WHERE h.device_id = ${deviceId} AND h.hour > ${new Date(from - HOUR_MS)} AND h.hour < ${t}
    ) r
     WHERE minute >= ${f} AND minute < ${t}
     GROUP BY minute
     ORDER BY minute`;
  return rows.map((r) => ({
    deviceId,
    minute: new Date(r.minute).getTime(),
    count: Number(r.count),
    maxGapMs: r.max_gap_ms === null ? null : Number(r.max_gap_ms),
  }));
}

export interface SessionActivity {
  connectedAt: number;
  disconnectedAt: number;
  /** The session's connect was recorded: without it the counts below are not evidence of anything. */
  recorded: boolean;
  pings: number;
  publishes: number;
  packets: number;
}

/**
 * For closed sessions of one device: how many PINGREQs, publishes and other
 * packets were recorded between connect and disconnect. One query.
 */
export async function getSessionActivity(
  db: Db,
  deviceId: string,
  sessions: readonly { connectedAt: number; disconnectedAt: number }[],
): Promise<SessionActivity[]> {
  if (sessions.length === 0) return [];
  const rows = await db.$queryRaw<
    {
      connected_at: Date;
      disconnected_at: Date;
      connects: bigint | number;
      pings: bigint | number;
      publishes: bigint | number;
      packets: bigint | number;
    }[]
  >`
    SELECT s.connected_at, s.disconnected_at,
           count(a.kind) FILTER (WHERE a.kind = ${KIND_CODE.connect} AND a.at = s.connected_at) AS connects,
           count(a.kind) FILTER (WHERE a.kind = ${KIND_CODE.pingreq}) AS pings,
           count(a.kind) FILTER (WHERE a.kind = ${KIND_CODE.publish}) AS publishes,
           count(a.kind) FILTER (WHERE a.kind = ${KIND_CODE.packet}) AS packets
      FROM unnest(${sessions.map((s) => new Date(s.connectedAt).toISOString())}::timestamptz[],
                  ${sessions.map((s) => new Date(s.disconnectedAt).toISOString())}::timestamptz[])
           AS s(connected_at, disconnected_at)
      LEFT JOIN device_activity a
        ON a.device_id = ${deviceId} AND a.at >= s.connected_at AND a.at <= s.disconnected_at
     GROUP BY s.connected_at, s.disconnected_at`;
  return rows.map((r) => ({
    connectedAt: new Date(r.connected_at).getTime(),
    disconnectedAt: new Date(r.disconnected_at).getTime(),
    recorded: Number(r.connects) > 0,
    pings: Number(r.pings),
    publishes: Number(r.publishes),
    packets: Number(r.packets),
  }));
}

/** Sessions of a device overlapping [from, to), newest first (at most `limit`). */
export async function getSessionsOverlapping(
  db: Db,
  deviceId: string,
  from: number,
  to: number,
  limit = 2000,
): Promise<
  {
    connectedAt: number;
    disconnectedAt: number | null;
    reason: DisconnectReason | null;
    keepaliveSeconds: number | null;
  }[]
> {
  const rows = await db.session.findMany({
    where: {
      deviceId,
      connectedAt: { lt: new Date(to) },
      OR: [{ disconnectedAt: null }, { disconnectedAt: { gte: new Date(from) } }],
    },
    orderBy: { connectedAt: "desc" },
    take: limit,
  });
  return rows.map((s) => ({
    connectedAt: s.connectedAt.getTime(),
    disconnectedAt: s.disconnectedAt?.getTime() ?? null,
    reason: (s.reason as DisconnectReason | null) ?? null,
    keepaliveSeconds: s.keepaliveSeconds,
  }));
}
