/**
 * The one Prisma client of the process: Prisma 7 (no Rust engine) over
 * node-postgres through @prisma/adapter-pg, kept on globalThis so hot reloads
 * in `next dev` do not open a new pool each time; or, without DATABASE_URL,
 * over the embedded PGlite through pglite-prisma-adapter (opened by
 * pglite.ts).
 *
 * Queries live in the domain modules next to this file (devices.ts,
 * sessions.ts, gaps.ts, writer.ts), never here.
 */
import type { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "./generated/prisma/client";

export type Db = PrismaClient;

/**
 * The adapter-agnostic SQL interface the migrator works through. A pg
 * Client or PoolClient satisfies it, and so does an embedded PGlite.
 * Row shapes are the caller's to declare.
 */
export interface SqlSession {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows are typed by each query
  query(sql: string, params?: unknown[]): Promise<{ rows: any[] }>;
  /** Runs a multi-statement script (PGlite); without it `query(script)` is used. */
  exec?(sql: string): Promise<unknown>;
}

/** A Prisma client as a plain SQL session (where no pool or PGlite session is at hand). */
export function sqlOf(db: Db): SqlSession {
  return { query: async (sql, params = []) => ({ rows: await db.$queryRawUnsafe(sql, ...params) }) };
}

/** A SqlSession on its own connection, to be closed by its owner. */
export interface OwnedSqlSession extends SqlSession {
  end(): Promise<void>;
}

export function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set (expected postgresql://user:pass@host:port/db)");
  return url;
}

export interface PoolOptions {
  statementTimeoutMs?: number;
  idleInTransactionMs?: number;
  applicationName?: string;
}

/**
 * Pool settings that keep a database outage from hanging callers: a connect
 * attempt gives up after 5 s and TCP keepalive notices dead peers.
 * `statementTimeoutMs`: the server cancels any statement of this pool's
 * connections that runs longer (Postgres' statement_timeout).
 * `idleInTransactionMs`: the server ends a session that sits inside a
 * transaction this long, so a paused process cannot hold its locks (and a
 * takeover waiting on them, lib/cluster) for ever.
 * `applicationName`: how the sessions show in pg_stat_activity; a takeover
 * ends the expired leader's open transactions by it (lib/store/cluster.ts).
 */
export function createPool(connectionString: string, max = 10, opts: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    ...(opts.statementTimeoutMs !== undefined && { statement_timeout: opts.statementTimeoutMs }),
    ...(opts.idleInTransactionMs !== undefined && {
      idle_in_transaction_session_timeout: opts.idleInTransactionMs,
    }),
    ...(opts.applicationName !== undefined && { application_name: opts.applicationName }),
  });
  // A client whose server went away emits "error"; unhandled, that would
  // crash the process. The pool forwards an idle client's to its own "error";
  // a checked-out one (a transaction of sqlBatch, the migrator's session) has
  // no listener of the pool's while it is out, so each client gets one for
  // life. Queries report their own failures.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  return pool;
}

/**
 * A Prisma client on its own pool. Tests and tools use this; the application
 * uses getDb(). `$disconnect()` closes the pool it created.
 */
export function createDb(opts: { connectionString?: string; pool?: pg.Pool } = {}): Db {
  const pool = opts.pool ?? createPool(opts.connectionString ?? databaseUrl());
  const adapter = new PrismaPg(pool, { disposeExternalPool: !opts.pool });
  return new PrismaClient({ adapter });
}

/** A Prisma client on an open PGlite database (the embedded one). */
export function createEmbeddedDb(pglite: PGlite): Db {
  return new PrismaClient({ adapter: new PrismaPGlite(pglite) });
}

const holder = globalThis as typeof globalThis & { __keepwatchDb?: Db };

/** The process-wide Prisma client (DATABASE_URL). */
export function getDb(): Db {
  holder.__keepwatchDb ??= createDb();
  return holder.__keepwatchDb;
}

/** Disconnects the process-wide client, if one was created. */
export async function closeDb(): Promise<void> {
  const db = holder.__keepwatchDb;
  holder.__keepwatchDb = undefined;
  await db?.$disconnect();
}

/**
 * A dedicated connection for the migrator: migrations need one session for
 * their advisory lock and transactions, which a pool cannot promise.
 */
export async function connectSqlSession(connectionString: string = databaseUrl()): Promise<OwnedSqlSession> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 });
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** One statement with positional parameters ($1, $2, …). */
export interface SqlStatement {
  text: string;
  values: unknown[];
}

/**
 * Runs statements in one transaction (a single statement on its own).
 *
 * The batched writers (writer.ts, activity.ts) go through this rather than
 * Prisma: Prisma keeps the arguments of its last 100 queries for its debug
 * log in a module-level buffer, so a multi-megabyte batch parameter would
 * stay reachable long after it was written (~130 MB at 100k devices).
 */
export type SqlBatch = (statements: readonly SqlStatement[]) => Promise<void>;

/** What a transaction body runs its statements on: the migrator's minimal interface. */
type Session = Pick<SqlSession, "query">;

/** PGlite's own transaction: exclusive on its one session, so no other query lands inside it. */
interface TransactionalSession extends Session {
  transaction<T>(fn: (tx: Session) => Promise<T>): Promise<T>;
}

/** `wire`: the session is node-postgres, which sends every parameter as text (see arrayLiteral). */
async function runAll(s: Session, statements: readonly SqlStatement[], wire = false): Promise<void> {
  for (const st of statements) await s.query(st.text, wire ? wireValues(st.values) : st.values);
}

/** Array elements written as they are in an array literal: no quotes, no escapes (ids, numbers, ISO times). */
const BARE_ELEMENT = /^[A-Za-z0-9_.:+-]+$/;

function bare(v: unknown): v is string | number | boolean {
  if (typeof v === "number" || typeof v === "boolean") return true;
  return typeof v === "string" && BARE_ELEMENT.test(v) && !(v.length === 4 && v.toLowerCase() === "null");
}

/**
 * A Postgres array literal ('{a,b,NULL}') for an array of strings, numbers,
 * booleans and nulls: the text node-postgres itself sends for the array (it
 * sends every parameter as text, typed by the statement: `$1::text[]`). pg builds it element by
 * element with string concatenation and a regular expression per element;
 * for the batched writers' unnest() columns at tens of thousands of rows a
 * second that garbage was the largest share of everything the process
 * allocated. Here elements that need no quotes are joined as they are.
 * Anything else (nested arrays, dates, buffers) is left to pg: returns null.
 */
export function arrayLiteral(values: readonly unknown[]): string | null {
  let plain = true;
  // Indexed loops: no iterator results, however the function is compiled.
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (bare(v)) continue;
    if (v !== null && v !== undefined && typeof v !== "string") return null;
    plain = false;
  }
  if (plain) return `{${values.join(",")}}`;
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) parts[i] = "NULL";
    else if (bare(v)) parts[i] = String(v);
    else parts[i] = `"${(v as string).replace(/["\\]/g, "\\$&")}"`;
  }
  return `{${parts.join(",")}}`;
}

/** Statement parameters as sent: arrays as literals where arrayLiteral() can write them. */
function wireValues(values: readonly unknown[]): unknown[] {
  return values.map((v) => (Array.isArray(v) ? (arrayLiteral(v) ?? v) : v));
}

/**
 * The batch runner for a database handle: a pg pool (a client of its own for
 * BEGIN … COMMIT), the embedded PGlite (its `transaction`), or, for callers
 * that only hold a Prisma client, Prisma's raw queries (with the retention
 * described above).
 */
export function sqlBatch(target: pg.Pool | TransactionalSession | Db): SqlBatch {
  if (target instanceof pg.Pool) {
    const pool = target;
    return async (statements) => {
      if (statements.length === 0) return;
      if (statements.length === 1) {
        await pool.query(statements[0].text, wireValues(statements[0].values));
        return;
      }
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query("BEGIN");
        await runAll(client, statements, true);
        await client.query("COMMIT");
      } catch (e) {
        await client.query("ROLLBACK").catch((r: Error) => (broken = r));
        throw e;
      } finally {
        // A client whose ROLLBACK failed is in an unknown state: the pool discards it.
        client.release(broken);
      }
    };
  }
  if ("transaction" in target && typeof target.transaction === "function") {
    const session = target as TransactionalSession;
    return async (statements) => {
      if (statements.length === 0) return;
      if (statements.length === 1) await session.query(statements[0].text, statements[0].values);
      else await session.transaction((tx) => runAll(tx, statements));
    };
  }
  const prisma = target as Db;
  return async (statements) => {
    if (statements.length === 0) return;
    await prisma.$transaction(statements.map((s) => prisma.$executeRawUnsafe(s.text, ...s.values)));
  };
}
