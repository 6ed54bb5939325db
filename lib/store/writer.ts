/**
 * Batched persistence of what lib/fleet decides. The fleet hands over effects
 * and changed device states as they happen; the writer buffers them and
 * writes them every flushIntervalMs (or sooner when maxBatch rows wait), each
 * batch in one transaction of a few multi-row statements:
 *
 *   1. upsert changed devices (coalesced: the latest state per id)
 *   2. make sure every device a session refers to exists (placeholder rows)
 *   3. insert opened sessions, ON CONFLICT DO NOTHING
 *   4. apply closes as an upsert by (device, connect time): the first close
 *      of a session wins; a close whose open was never written still records
 *      the session
 *   5. apply refined reasons of closed sessions (a late broker report)
 *   6. monitor gaps, broker restarts and restart detection's memory of the broker
 *
 * Every statement is idempotent, so a batch whose COMMIT outcome is unknown
 * (connection lost mid-commit) is simply written again. A batch the database
 * refuses for what it holds (a constraint, a value too long for an index,
 * invalid text) is halved until the refused rows are found: those are dropped,
 * logged and counted (`rejectedRows`), everything else is written.
 *
 * Batches go straight to the database (`sql`: a client of the pg pool, or
 * PGlite's own transaction), not through Prisma: Prisma's query log keeps the
 * parameters of recent queries, and a batch's parameters run to megabytes.
 *
 * When the database is unreachable nothing is thrown at the caller: the
 * writer keeps everything, retries with backoff (capped at maxRetryDelayMs),
 * and health() says so. Device rows are bounded by the fleet size (one
 * pending state per device); session changes are bounded by maxPending, past
 * which the oldest are dropped and counted in droppedWrites.
 *
 * Status changes are not stored as history: the device row carries the
 * current status and since when. Of a DeviceState, the state machine's
 * transient fields (lastClosed, takeoverWillPending) are not stored.
 */
import type { DeviceState, FleetEffect, SessionRecord } from "../fleet/types";
import type { LogPosition } from "../ingest/log-tail";
import type { RestartRecord } from "./broker";
import { arrayLiteral, sqlBatch, type Db, type SqlBatch, type SqlStatement } from "./db";
import { FlushLoop } from "./flush-loop";
import { Queue } from "../queue";

export interface StoreWriterOptions {
  db: Db;
  /**
   * How batches reach the database (Database.batch: the pg pool or PGlite
   * directly). Without it they go through `db`, whose query log keeps the
   * last batches' parameters reachable (see sqlBatch in db.ts).
   */
  sql?: SqlBatch;
  /** Time between flushes (ms). Default 250. */
  flushIntervalMs?: number;
  /** Rows per statement and per transaction; reaching it triggers a flush. Default 5000. */
  maxBatch?: number;
  /** Session opens/closes kept while the database is unreachable. Default 1,000,000. */
  maxPending?: number;
  /** Longest wait between retries while the database fails (ms). Default 5000. */
  maxRetryDelayMs?: number;
  /** How long stop() keeps retrying what is left (ms). Default 10000. */
  stopTimeoutMs?: number;
  /** Told about every failed flush, dropped write and invalid record. */
  onError?(e: unknown): void;
  /**
   * Where the followed debug log's lines have been applied to (read when a
   * batch is taken): written with a batch that takes everything buffered, so
   * the position never runs ahead of the changes written.
   */
  logPosition?(): LogPositionRecord | null;
}

export interface StoreWriterHealth {
  ok: boolean;
  pendingWrites: number;
  droppedWrites: number;
  /** Rows the database refused for what they hold (too long, invalid), isolated and dropped. */
  rejectedRows: number;
  lastError: string | null;
  lastFlushAt: number | null;
}

/**
 * The fleet's session effects themselves, kept by reference until written:
 * like device states they are never mutated once handed over, and a copy per
 * effect would only be more short-lived garbage at fleet scale.
 */
type SessionOp = Extract<FleetEffect, { type: "session-open" | "session-close" | "session-refine" }>;
type CloseOp = Extract<SessionOp, { type: "session-close" }>;
type RefineOp = Extract<SessionOp, { type: "session-refine" }>;

type GapOp = { kind: "open"; at: number; reason: string } | { kind: "close"; at: number };

/** What restart detection keeps of a broker (lib/broker/restarts.ts SavedBrokerState), keyed by broker. */
export interface BrokerStateRecord {
  broker: string;
  uptimeSeconds: number | null;
  uptimeAt: number | null;
  seenUpAt: number | null;
}

/** Where in which followed log the changes written so far end (lib/ingest/log-tail.ts LogPosition). */
export interface LogPositionRecord extends LogPosition {
  /** The writing leader's shard (several write their own positions in one file). */
  shard: string;
  file: string;
}

/** Devices restored with nothing but a new status (Fleet.restore): one bulk update, not a row each. */
interface StatusMark {
  ids: string[];
  status: string;
  at: number;
}

interface Batch {
  marks: StatusMark[];
  devices: DeviceState[];
  ops: SessionOp[];
  gaps: GapOp[];
  restarts: RestartRecord[];
  brokerState: BrokerStateRecord | null;
  logPosition: LogPositionRecord | null;
}

// Postgres timestamps accept far more, but ISO strings only go to year 9999.
const MIN_TIME = Date.parse("0001-01-01T00:00:00.000Z");
const MAX_TIME = Date.parse("9999-12-31T23:59:59.999Z");
const INT4_MAX = 2_147_483_647;

const isTime = (v: unknown): v is number =>
  typeof v === "number" && Number.isFinite(v) && v >= MIN_TIME && v <= MAX_TIME;
const isOptTime = (v: unknown) => v === null || isTime(v);
const isCount = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= INT4_MAX;
const isOptInt = (v: unknown) => v === null || isCount(v);
const isText = (v: unknown): v is string => typeof v === "string";
const isOptText = (v: unknown) => v === null || isText(v);
/** A device id: text, not empty. */
const isId = (v: unknown): v is string => isText(v) && v.length > 0;

/** Postgres text cannot hold NUL; every string is cleaned the same way, so ids stay consistent. */
const clean = (s: string): string => (s.includes("\u0000") ? s.replace(/\u0000/g, "\uFFFD") : s);
const cleanOpt = (s: string | null): string | null => (s === null ? null : clean(s));

/** A device's sources as one text[] literal, once per shared list (the fleet shares them: sourceSet). */
const SOURCES_LITERAL = new WeakMap<readonly string[], string>();
function sourcesLiteral(sources: readonly string[]): string {
  let lit = SOURCES_LITERAL.get(sources);
  if (lit === undefined) {
    lit = arrayLiteral(sources.map(clean))!; // strings only: never left to pg
    SOURCES_LITERAL.set(sources, lit);
  }
  return lit;
}

/** The device upsert's columns, in its unnest() order. */
function deviceColumns(devices: readonly DeviceState[]): unknown[][] {
  const n = devices.length;
  const cols = Array.from({ length: 20 }, () => new Array<unknown>(n));
  for (let i = 0; i < n; i++) {
    const d = devices[i];
    cols[0][i] = clean(d.id);
    cols[1][i] = clean(d.status);
    cols[2][i] = d.statusSince;
    cols[3][i] = d.keepaliveSeconds;
    cols[4][i] = d.lastSeenAt;
    cols[5][i] = d.lastPingAt;
    cols[6][i] = d.lastMessageAt;
    cols[7][i] = d.lastConfirmedAt ?? null;
    cols[8][i] = d.connectedAt;
    cols[9][i] = d.connectReportedAt ?? null;
    cols[10][i] = d.sessionOpen;
    cols[11][i] = d.lastDisconnectAt;
    cols[12][i] = cleanOpt(d.lastDisconnectReason);
    cols[13][i] = d.disconnectCount;
    cols[14][i] = d.takeoverCount ?? 0;
    cols[15][i] = cleanOpt(d.address);
    cols[16][i] = cleanOpt(d.protocol);
    cols[17][i] = d.cleanStart;
    cols[18][i] = sourcesLiteral(d.sources);
    cols[19][i] = d.firstSeenAt;
  }
  return cols;
}
const iso = (ms: number): string => new Date(ms).toISOString();
const isoOpt = (ms: number | null): string | null => (ms === null ? null : iso(ms));

function validDevice(d: DeviceState): boolean {
  const { statusSince, firstSeenAt, lastSeenAt, lastPingAt, lastMessageAt, connectedAt, lastDisconnectAt } = d;
  const times =
    isTime(statusSince) &&
    isTime(firstSeenAt) &&
    [lastSeenAt, lastPingAt, lastMessageAt, connectedAt, lastDisconnectAt].every(isOptTime);
  const texts = isId(d.id) && isText(d.status) && [d.lastDisconnectReason, d.address, d.protocol].every(isOptText);
  const counts = isOptInt(d.keepaliveSeconds) && isCount(d.disconnectCount);
  // Fields added to DeviceState later may be missing from older producers.
  const later = [d.connectReportedAt, d.lastConfirmedAt].every((t) => t === undefined || isOptTime(t));
  const flags = (d.cleanStart === null || typeof d.cleanStart === "boolean") && typeof d.sessionOpen === "boolean";
  return (
    times &&
    texts &&
    counts &&
    later &&
    (d.takeoverCount === undefined || isCount(d.takeoverCount)) &&
    flags &&
    Array.isArray(d.sources) &&
    d.sources.every(isText)
  );
}

function validSession(s: SessionRecord): boolean {
  const times = isTime(s.connectedAt) && isOptTime(s.disconnectedAt) && isOptTime(s.lastActivityAt);
  return isId(s.deviceId) && times && isOptText(s.reason) && isOptInt(s.keepaliveSeconds);
}

function validClose(c: CloseOp): boolean {
  return (
    isText(c.deviceId) &&
    c.deviceId.length > 0 &&
    isTime(c.connectedAt) &&
    isTime(c.disconnectedAt) &&
    isText(c.reason) &&
    isOptTime(c.lastActivityAt)
  );
}

function validRefine(r: RefineOp): boolean {
  return isText(r.deviceId) && r.deviceId.length > 0 && isTime(r.connectedAt) && isText(r.reason);
}

/**
 * Whether the database refused what a batch holds, rather than being out of
 * reach: SQLSTATE classes 22 (data exception, e.g. invalid encoding), 23
 * (integrity constraint), 54 (program limit exceeded, e.g. an index row over
 * 2,704 bytes) and 42 (a statement the data made invalid). Writing the same
 * rows again would fail again; every other error (connection lost, admin
 * shutdown, too many connections, serialization) is retried as it is.
 */
export function isRowError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^(22|23|54|42)[0-9A-Z]{3}$/.test(code);
}

/** A batch cut into single rows (devices, session changes, gaps, restarts, broker state), in order. */
function unitsOf(b: Batch): Batch[] {
  const empty = (): Batch => ({
    marks: [],
    devices: [],
    ops: [],
    gaps: [],
    restarts: [],
    brokerState: null,
    logPosition: null,
  });
  return [
    ...(b.marks.length > 0 ? [{ ...empty(), marks: b.marks }] : []),
    ...b.devices.map((d) => ({ ...empty(), devices: [d] })),
    ...b.ops.map((o) => ({ ...empty(), ops: [o] })),
    ...b.gaps.map((g) => ({ ...empty(), gaps: [g] })),
    ...b.restarts.map((r) => ({ ...empty(), restarts: [r] })),
    ...(b.brokerState ? [{ ...empty(), brokerState: b.brokerState }] : []),
    ...(b.logPosition ? [{ ...empty(), logPosition: b.logPosition }] : []),
  ];
}

function joinUnits(units: readonly Batch[]): Batch {
  return {
    marks: units.flatMap((u) => u.marks),
    devices: units.flatMap((u) => u.devices),
    ops: units.flatMap((u) => u.ops),
    gaps: units.flatMap((u) => u.gaps),
    restarts: units.flatMap((u) => u.restarts),
    brokerState: units.find((u) => u.brokerState)?.brokerState ?? null,
    logPosition: units.find((u) => u.logPosition)?.logPosition ?? null,
  };
}

/**
 * One line for health(): Prisma prefixes database errors with lines about the
 * invocation; the last line carries the database's own message.
 */
function errorMessage(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.at(-1) ?? (e instanceof Error ? e.name : "unknown error");
}

/** A refused row for the log, cut short (the row may be what was too long). */
function preview(unit: Batch | undefined): string {
  let text: string;
  try {
    text = JSON.stringify(unit);
  } catch {
    text = String(unit);
  }
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

export class StoreWriter {
  private readonly sql: SqlBatch;
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  private readonly maxPending: number;
  private readonly maxRetryDelayMs: number;
  private readonly stopTimeoutMs: number;
  private readonly reportError: (e: unknown) => void;

  /** Latest state per device id, enqueued since the last batch was taken. */
  private devices = new Map<string, DeviceState>();
  /**
   * States taken out of `devices` as a whole and written maxBatch at a time
   * from `backlogAt` on (one superseded by a newer state in `devices` is
   * skipped). Taking a batch never deletes from the map: deleting a few
   * thousand ids from the front of a map of hundreds of thousands leaves
   * tombstones that every later batch walks over, and the map's rehash
   * stalled the fleet's tick for hundreds of milliseconds.
   */
  private backlog: DeviceState[] = [];
  private backlogAt = 0;
  private ops = new Queue<SessionOp>();
  /** Session changes ever enqueued, and that count at moments while paused (forgetBefore). */
  private pushed = 0;
  private marks: { at: number; pushed: number }[] = [];
  private gaps: GapOp[] = [];
  private statusMarks: StatusMark[] = [];
  private restarts: RestartRecord[] = [];
  private brokerState: BrokerStateRecord | null = null;
  private readonly logPosition: (() => LogPositionRecord | null) | undefined;
  /** Rows of the batch being written (counted as pending). */
  private inFlight = 0;

  private readonly loop: FlushLoop;

  private droppedWrites = 0;
  private rejectedRows = 0;
  private lastError: string | null = null;
  private lastFlushAt: number | null = null;

  constructor(opts: StoreWriterOptions) {
    this.sql = opts.sql ?? sqlBatch(opts.db);
    this.flushIntervalMs = opts.flushIntervalMs ?? 250;
    this.maxBatch = Math.max(1, opts.maxBatch ?? 5000);
    this.maxPending = Math.max(1, opts.maxPending ?? 1_000_000);
    this.maxRetryDelayMs = opts.maxRetryDelayMs ?? 5000;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 10_000;
    this.logPosition = opts.logPosition;
    this.loop = new FlushLoop({
      intervalMs: this.flushIntervalMs,
      maxRetryDelayMs: this.maxRetryDelayMs,
      drain: () => this.drain(),
      full: () => this.ops.length + this.pendingDevices() >= this.maxBatch,
    });
    const onError = opts.onError;
    this.reportError = (e) => {
      try {
        onError?.(e);
      } catch {
        // a failing error handler must not break the writer
      }
    };
  }

  /**
   * Buffers effects and changed states for the next flush. Never blocks, never throws.
   *
   * Device states are kept by reference and validated when their batch is
   * taken: the fleet hands over a new object for every change and never
   * mutates one it has handed out (lib/fleet/machine.ts), and a busy device
   * changes many times between two flushes, so checking and copying here
   * would be repeated work for states that are replaced before they are written.
   */
  enqueue(effects: FleetEffect[], changed: DeviceState[]): void {
    try {
      for (const d of changed) {
        if (typeof d?.id !== "string") {
          this.invalid("device state", d);
          continue;
        }
        this.devices.set(clean(d.id), d);
      }
      const before = this.ops.length;
      for (const e of effects) {
        if (e.type === "session-open") {
          if (validSession(e.session)) this.ops.push(e);
          else this.invalid("session open", e.session);
        } else if (e.type === "session-close") {
          if (validClose(e)) this.ops.push(e);
          else this.invalid("session close", e);
        } else if (e.type === "session-refine") {
          if (validRefine(e)) this.ops.push(e);
          else this.invalid("session refine", e);
        }
        // status-change: carried by the device row (status, status_since)
      }
      this.pushed += this.ops.length - before;
      this.enforceBound();
      if (this.inFlight === 0) this.loop.nudge();
    } catch (e) {
      this.reportError(e);
    }
  }

  /**
   * Devices restored whose rows need nothing but this status (Fleet.restore's
   * return): written as one bulk update before any row of theirs.
   */
  restoredAs(ids: readonly string[], status: string, at: number): void {
    if (ids.length === 0) return;
    if (!isText(status) || !isTime(at)) return this.invalid("restored status", { status, at });
    this.statusMarks.push({ ids: [...ids], status, at });
  }

  /** Forgets the restored statuses not written yet (a standby: the leader's rows are the truth). */
  dropRestored(): void {
    this.statusMarks = [];
  }

  /** Records the start of a monitoring gap (the monitor lost the broker). */
  openGap(at: number, reason: string): void {
    if (!isTime(at) || !isText(reason)) return this.invalid("gap open", { at, reason });
    this.gaps.push({ kind: "open", at, reason: clean(reason) });
  }

  /** Ends the open monitoring gap, if any. */
  closeGap(at: number): void {
    if (!isTime(at)) return this.invalid("gap close", { at });
    this.gaps.push({ kind: "close", at });
  }

  /** Records a broker restart (after the session closes it caused, in the same or a later batch). */
  recordRestart(r: RestartRecord): void {
    const ok =
      isText(r.broker) && isTime(r.detectedAt) && isTime(r.downAt) && isTime(r.upAt) && isCount(r.sessionsClosed);
    if (!ok || !Array.isArray(r.evidence)) return this.invalid("broker restart", r);
    this.restarts.push({ ...r, broker: clean(r.broker), evidence: r.evidence.map(clean) });
  }

  /** Saves restart detection's memory of the broker (the latest call wins). */
  saveBrokerState(state: BrokerStateRecord): void {
    const ok =
      isText(state.broker) && isOptInt(state.uptimeSeconds) && isOptTime(state.uptimeAt) && isOptTime(state.seenUpAt);
    if (!ok) return this.invalid("broker state", state);
    this.brokerState = { ...state, broker: clean(state.broker) };
  }

  /**
   * Writes everything buffered so far. Resolves once it is durable; rejects
   * with the database error when a batch fails (the batch stays buffered).
   */
  flush(): Promise<void> {
    return this.loop.flush();
  }

  /**
   * Stops writing and keeps buffering (a standby, lib/cluster): what is
   * enqueued is written once start() is called again, or forgotten by
   * forgetBefore() while another instance writes it.
   */
  pause(): void {
    this.loop.pause();
  }

  /**
   * While paused: drops session changes enqueued before `at`, and gaps and
   * restarts from before it (another instance leads and has written them;
   * what is newer is written again on a takeover, every statement being
   * idempotent). Device states stay: one per device, the newest.
   */
  forgetBefore(at: number, now = Date.now()): void {
    if (this.loop.running) return;
    this.marks.push({ at: now, pushed: this.pushed });
    let until = -1;
    while (this.marks.length > 0 && this.marks[0].at <= at) until = this.marks.shift()!.pushed;
    const front = this.pushed - this.ops.length;
    if (until > front) this.ops.drop(until - front);
    this.gaps = this.gaps.filter((g) => g.at >= at);
    this.restarts = this.restarts.filter((r) => r.detectedAt >= at);
  }

  /** Starts the periodic flush. */
  start(): void {
    this.loop.start();
  }

  /**
   * Stops the periodic flush and writes what is left, retrying for up to
   * stopTimeoutMs. Never rejects; what could not be written is reported.
   */
  async stop(): Promise<void> {
    this.loop.pause();
    const deadline = Date.now() + this.stopTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.flush();
        return;
      } catch {
        const wait = Math.min(this.loop.retryDelay(attempt), deadline - Date.now());
        if (wait <= 0) break;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
    this.reportError(
      new Error(
        `store writer stopped with ${this.pendingCount()} writes not persisted: ${this.lastError ?? "unknown error"}`,
      ),
    );
  }

  health(): StoreWriterHealth {
    return {
      ok: this.lastError === null,
      pendingWrites: this.pendingCount(),
      droppedWrites: this.droppedWrites,
      rejectedRows: this.rejectedRows,
      lastError: this.lastError,
      lastFlushAt: this.lastFlushAt,
    };
  }

  // -------------------------------------------------------------------------

  private pendingDevices(): number {
    return this.devices.size + this.backlog.length - this.backlogAt;
  }

  private pendingCount(): number {
    return (
      this.pendingDevices() +
      this.ops.length +
      this.gaps.length +
      this.statusMarks.length +
      this.restarts.length +
      (this.brokerState ? 1 : 0) +
      this.inFlight
    );
  }

  private invalid(what: string, value: unknown): void {
    this.droppedWrites++;
    let shown: string;
    try {
      shown = JSON.stringify(value);
    } catch {
      shown = String(value);
    }
    this.reportError(new Error(`store writer dropped an invalid ${what}: ${shown}`));
  }

  private enforceBound(): void {
    const excess = this.ops.length - this.maxPending;
    if (excess > 0) {
      this.ops.drop(excess);
      this.droppedWrites += excess;
      this.reportError(
        new Error(`store writer buffer full (${this.maxPending} session writes): dropped the ${excess} oldest`),
      );
    }
  }

  /** Writes batches until what was pending when it started is written. */
  private async drain(): Promise<void> {
    let rounds = Math.ceil(Math.max(this.ops.length, this.pendingDevices()) / this.maxBatch) + 1;
    while (rounds-- > 0 && this.pendingCount() > 0) {
      const batch = this.takeBatch();
      this.inFlight =
        batch.devices.length +
        batch.ops.length +
        batch.gaps.length +
        batch.restarts.length +
        (batch.brokerState ? 1 : 0);
      try {
        await this.writeIsolating(batch);
      } catch (e) {
        this.inFlight = 0;
        this.putBack(batch);
        this.lastError = errorMessage(e);
        this.reportError(e);
        throw e;
      }
      this.inFlight = 0;
      this.lastError = null;
      this.lastFlushAt = Date.now();
    }
  }

  private takeBatch(): Batch {
    if (this.backlogAt >= this.backlog.length) {
      this.backlog = Array.from(this.devices.values());
      this.backlogAt = 0;
      this.devices = new Map();
    }
    const devices: DeviceState[] = [];
    while (devices.length < this.maxBatch && this.backlogAt < this.backlog.length) {
      const state = this.backlog[this.backlogAt++];
      if (this.devices.has(clean(state.id))) continue; // a newer state follows
      if (validDevice(state)) devices.push(state);
      else this.invalid("device state", state);
    }
    if (this.backlogAt >= this.backlog.length) this.backlog = [];
    this.backlogAt = Math.min(this.backlogAt, this.backlog.length);
    const ops = this.ops.take(this.maxBatch);
    const { statusMarks: marks, gaps, restarts, brokerState } = this;
    this.statusMarks = [];
    this.gaps = [];
    this.restarts = [];
    this.brokerState = null;
    // Only with the last of what is buffered: lines before the position made no change still waiting.
    const drained = this.ops.length === 0 && this.pendingDevices() === 0;
    const logPosition = drained ? (this.logPosition?.() ?? null) : null;
    return { marks, devices, ops, gaps, restarts, brokerState, logPosition };
  }

  private putBack(batch: Batch): void {
    // Back in front of the backlog; a newer state enqueued meanwhile still wins (takeBatch skips the older).
    this.backlog = batch.devices.concat(this.backlog.slice(this.backlogAt));
    this.backlogAt = 0;
    this.ops.restore(batch.ops);
    this.enforceBound();
    this.statusMarks = batch.marks.concat(this.statusMarks);
    this.gaps = batch.gaps.concat(this.gaps);
    this.restarts = batch.restarts.concat(this.restarts);
    this.brokerState ??= batch.brokerState;
  }

  /**
   * Writes a batch; when the database refuses what it holds (isRowError),
   * halves it until the refused rows are found, drops and reports those and
   * writes the rest, in order. Other errors are thrown for the retry.
   */
  private async writeIsolating(batch: Batch): Promise<void> {
    try {
      await this.write(batch);
    } catch (e) {
      if (!isRowError(e)) throw e;
      const units = unitsOf(batch);
      if (units.length <= 1) {
        this.rejectedRows += units.length;
        this.reportError(new Error(`store writer rejected a row: ${errorMessage(e)}: ${preview(units[0])}`));
        return;
      }
      const half = Math.ceil(units.length / 2);
      await this.writeIsolating(joinUnits(units.slice(0, half)));
      await this.writeIsolating(joinUnits(units.slice(half)));
    }
  }

  private async write(batch: Batch): Promise<void> {
    const statements: SqlStatement[] = [];

    // First: device rows written in the same or a later batch are newer.
    for (const m of batch.marks)
      statements.push({
        text: `
        UPDATE "devices" SET "status" = $2::text, "status_since" = to_timestamp($3::float8 / 1000), "updated_at" = now()
         WHERE "id" = ANY($1::text[]) AND "status" <> $2::text`,
        values: [m.ids.map(clean), m.status, m.at],
      });

    if (batch.devices.length > 0) {
      // One array per column (unnest), not a JSON document of row objects: a busy fleet rewrites tens of
      // thousands of device rows a second, and the columns are a fraction of the JSON's size (no keys) and
      // short-lived. Times go as epoch milliseconds (exact through float8 and to_timestamp).
      const c = deviceColumns(batch.devices);
      statements.push({
        text: `
        INSERT INTO "devices" ("id", "status", "status_since", "keepalive_seconds", "last_seen_at", "last_ping_at",
          "last_message_at", "last_confirmed_at", "connected_at", "connect_reported_at", "session_open",
          "last_disconnect_at", "last_disconnect_reason", "disconnect_count", "takeover_count", "address",
          "protocol", "clean_start", "sources", "first_seen_at", "updated_at")
        SELECT r.id, r.status, to_timestamp(r.status_since / 1000), r.keepalive_seconds,
          to_timestamp(r.last_seen_at / 1000), to_timestamp(r.last_ping_at / 1000),
          to_timestamp(r.last_message_at / 1000), to_timestamp(r.last_confirmed_at / 1000),
          to_timestamp(r.connected_at / 1000), to_timestamp(r.connect_reported_at / 1000), r.session_open,
          to_timestamp(r.last_disconnect_at / 1000), r.last_disconnect_reason, r.disconnect_count, r.takeover_count,
          r.address, r.protocol, r.clean_start, COALESCE(r.sources::text[], '{}'), to_timestamp(r.first_seen_at / 1000),
          now()
        FROM unnest($1::text[], $2::text[], $3::float8[], $4::int4[], $5::float8[], $6::float8[], $7::float8[],
          $8::float8[], $9::float8[], $10::float8[], $11::boolean[], $12::float8[], $13::text[], $14::int4[],
          $15::int4[], $16::text[], $17::text[], $18::boolean[], $19::text[], $20::float8[]) AS r(
          id, status, status_since, keepalive_seconds, last_seen_at, last_ping_at, last_message_at,
          last_confirmed_at, connected_at, connect_reported_at, session_open, last_disconnect_at,
          last_disconnect_reason, disconnect_count, takeover_count, address, protocol, clean_start, sources,
          first_seen_at)
        ON CONFLICT ("id") DO UPDATE SET
          "status" = EXCLUDED."status",
          "status_since" = EXCLUDED."status_since",
          "keepalive_seconds" = EXCLUDED."keepalive_seconds",
          "last_seen_at" = EXCLUDED."last_seen_at",
          "last_ping_at" = EXCLUDED."last_ping_at",
          "last_message_at" = EXCLUDED."last_message_at",
          "last_confirmed_at" = EXCLUDED."last_confirmed_at",
          "connected_at" = EXCLUDED."connected_at",
          "connect_reported_at" = EXCLUDED."connect_reported_at",
          "session_open" = EXCLUDED."session_open",
          "last_disconnect_at" = EXCLUDED."last_disconnect_at",
          "last_disconnect_reason" = EXCLUDED."last_disconnect_reason",
          "disconnect_count" = EXCLUDED."disconnect_count",
          "takeover_count" = EXCLUDED."takeover_count",
          "address" = EXCLUDED."address",
          "protocol" = EXCLUDED."protocol",
          "clean_start" = EXCLUDED."clean_start",
          "sources" = EXCLUDED."sources",
          "first_seen_at" = LEAST("devices"."first_seen_at", EXCLUDED."first_seen_at"),
          "updated_at" = EXCLUDED."updated_at"`,
        values: c,
      });
    }

    // Opens: first one per key wins (a repeat changes nothing).
    const opens = new Map<string, SessionRecord>();
    // Closes: first one per key wins, as in the database.
    const closes = new Map<string, CloseOp>();
    // Refined reasons: the latest per key wins.
    const refines = new Map<string, RefineOp>();
    // Devices the sessions refer to that this batch does not upsert.
    const referenced = new Map<string, number>();
    const upserted = new Set(batch.devices.map((d) => clean(d.id)));
    for (const op of batch.ops) {
      const deviceId = clean(op.type === "session-open" ? op.session.deviceId : op.deviceId);
      const connectedAt = op.type === "session-open" ? op.session.connectedAt : op.connectedAt;
      const key = `${connectedAt}\u0000${deviceId}`;
      if (op.type === "session-refine") {
        refines.set(key, op); // only updates an existing session: no device needed
        continue;
      }
      if (op.type === "session-open") {
        if (!opens.has(key)) opens.set(key, op.session);
      } else if (!closes.has(key)) closes.set(key, op);
      if (!upserted.has(deviceId))
        referenced.set(deviceId, Math.min(referenced.get(deviceId) ?? connectedAt, connectedAt));
    }

    if (referenced.size > 0) {
      statements.push({
        text: `
        INSERT INTO "devices" ("id", "status", "status_since", "first_seen_at")
        SELECT u.id, 'unknown', u.at, u.at
        FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at)
        ON CONFLICT ("id") DO NOTHING`,
        values: [[...referenced.keys()], [...referenced.values()].map(iso)],
      });
    }

    if (opens.size > 0) {
      const s = [...opens.values()];
      statements.push({
        text: `
        INSERT INTO "sessions" ("device_id", "connected_at", "disconnected_at", "reason", "keepalive_seconds", "last_activity_at")
        SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::text[], $5::int4[], $6::timestamptz[])
        ON CONFLICT ("device_id", "connected_at") DO NOTHING`,
        values: [
          s.map((x) => clean(x.deviceId)),
          s.map((x) => iso(x.connectedAt)),
          s.map((x) => isoOpt(x.disconnectedAt)),
          s.map((x) => cleanOpt(x.reason)),
          s.map((x) => x.keepaliveSeconds),
          s.map((x) => isoOpt(x.lastActivityAt)),
        ],
      });
    }

    if (closes.size > 0) {
      const c = [...closes.values()];
      statements.push({
        text: `
        INSERT INTO "sessions" AS s ("device_id", "connected_at", "disconnected_at", "reason", "last_activity_at", "inferred")
        SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::text[], $5::timestamptz[], $6::boolean[])
        ON CONFLICT ("device_id", "connected_at") DO UPDATE SET
          "disconnected_at" = EXCLUDED."disconnected_at",
          "reason" = EXCLUDED."reason",
          "last_activity_at" = COALESCE(EXCLUDED."last_activity_at", s."last_activity_at"),
          "inferred" = EXCLUDED."inferred"
        WHERE s."disconnected_at" IS NULL`,
        values: [
          c.map((x) => clean(x.deviceId)),
          c.map((x) => iso(x.connectedAt)),
          c.map((x) => iso(x.disconnectedAt)),
          c.map((x) => clean(x.reason)),
          c.map((x) => isoOpt(x.lastActivityAt)),
          c.map((x) => x.inferred === true),
        ],
      });
    }

    if (refines.size > 0) {
      const r = [...refines.values()];
      statements.push({
        text: `
        UPDATE "sessions" AS s SET "reason" = u.reason
        FROM unnest($1::text[], $2::timestamptz[], $3::text[]) AS u(device_id, connected_at, reason)
        WHERE s."device_id" = u.device_id AND s."connected_at" = u.connected_at AND s."disconnected_at" IS NOT NULL`,
        values: [r.map((x) => clean(x.deviceId)), r.map((x) => iso(x.connectedAt)), r.map((x) => clean(x.reason))],
      });
    }

    for (const g of batch.gaps) {
      if (g.kind === "open") {
        // One open gap at a time; a repeat of an already written open is a no-op.
        statements.push({
          text: `
          INSERT INTO "monitor_gaps" ("started_at", "reason")
          SELECT $1::timestamptz, $2::text
          WHERE NOT EXISTS (SELECT 1 FROM "monitor_gaps"
                             WHERE "ended_at" IS NULL OR "started_at" = $1::timestamptz)`,
          values: [iso(g.at), g.reason],
        });
      } else {
        statements.push({
          text: `
          UPDATE "monitor_gaps" SET "ended_at" = GREATEST("started_at", $1::timestamptz)
          WHERE "ended_at" IS NULL`,
          values: [iso(g.at)],
        });
      }
    }

    for (const r of batch.restarts) {
      statements.push({
        text: `
        INSERT INTO "broker_restarts" ("broker", "detected_at", "down_at", "up_at", "evidence", "sessions_closed")
        SELECT $1::text, $2::timestamptz, $3::timestamptz, $4::timestamptz, $5::text[], $6::int4
        WHERE NOT EXISTS (SELECT 1 FROM "broker_restarts" WHERE "broker" = $1::text AND "up_at" = $4::timestamptz)`,
        values: [r.broker, iso(r.detectedAt), iso(r.downAt), iso(r.upAt), r.evidence, r.sessionsClosed],
      });
    }

    if (batch.brokerState) {
      const b = batch.brokerState;
      statements.push({
        text: `
        INSERT INTO "broker_state" ("broker", "uptime_seconds", "uptime_at", "seen_up_at", "updated_at")
        VALUES ($1::text, $2::int4, $3::timestamptz, $4::timestamptz, now())
        ON CONFLICT ("broker") DO UPDATE SET
          "uptime_seconds" = EXCLUDED."uptime_seconds",
          "uptime_at" = EXCLUDED."uptime_at",
          "seen_up_at" = GREATEST("broker_state"."seen_up_at", EXCLUDED."seen_up_at"),
          "updated_at" = EXCLUDED."updated_at"`,
        values: [b.broker, b.uptimeSeconds, isoOpt(b.uptimeAt), isoOpt(b.seenUpAt)],
      });
    }

    if (batch.logPosition) {
      const p = batch.logPosition;
      statements.push({
        text: `
        INSERT INTO "debug_log_positions" ("shard", "file", "dev", "ino", "offset", "tail", "updated_at")
        VALUES ($1::text, $2::text, $3::text, $4::text, $5::int8, $6::text, now())
        ON CONFLICT ("shard", "file") DO UPDATE SET
          "dev" = EXCLUDED."dev", "ino" = EXCLUDED."ino", "offset" = EXCLUDED."offset",
          "tail" = EXCLUDED."tail", "updated_at" = EXCLUDED."updated_at"`,
        values: [p.shard, p.file, p.dev, p.ino, p.offset, p.tail],
      });
    }

    await this.sql(statements);
  }
}
