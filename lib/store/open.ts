/**
 * Opens the database for the running application:
 * - DATABASE_URL set: Postgres with two pg pools. The Prisma client (API
 *   reads, alerts, accounts) and the migrator share one whose statements are
 *   cancelled past DB_STATEMENT_TIMEOUT_SECONDS; the batched writes of the
 *   fleet and the activity recorder have a small pool of their own, so no
 *   read, however heavy or many, can starve them of connections;
 * - DATABASE_URL unset: the embedded PGlite under KEEPWATCH_DATA_DIR
 *   (see pglite.ts), one in-process session for both.
 * Everything above this module (migrations, writer, queries) is the same SQL
 * on both.
 */
import { redactUrl } from "../config";
import { sessionName } from "./cluster";
import { createDb, createPool, sqlBatch, type Db, type PoolOptions, type SqlBatch, type SqlSession } from "./db";
import type { SqlSessionPool } from "./migrate";
import { openPGlite } from "./pglite";

export type DatabaseKind = "postgres" | "pglite";

export interface Database {
  kind: DatabaseKind;
  /** For logs and health: the redacted URL, or the PGlite directory. */
  location: string;
  prisma: Db;
  /** For migrate(): a pool it takes one connection from, or the one session. */
  queryable: SqlSession | (SqlSession & SqlSessionPool);
  /**
   * Batched writes in one transaction, straight on the pg pool or PGlite
   * rather than through Prisma (whose query log would keep their large
   * parameters reachable).
   */
  batch: SqlBatch;
  close(): Promise<void>;
}

/** Connections of the writers' own pool (batched fleet and activity writes). */
export const WRITER_POOL_SIZE = 3;

export function openDatabase(url: string, opts: PoolOptions = {}): Database {
  const pool = createPool(url, 10, opts);
  const writers = createPool(url, WRITER_POOL_SIZE, { ...opts, statementTimeoutMs: undefined });
  const prisma = createDb({ pool });
  let closed: Promise<void> | null = null;
  return {
    kind: "postgres",
    location: redactUrl(url),
    prisma,
    queryable: pool,
    batch: sqlBatch(writers),
    close: () =>
      (closed ??= (async () => {
        await prisma.$disconnect();
        await pool.end();
        await writers.end();
      })()),
  };
}

/** The embedded PGlite database in `${dataDir}/pglite` (throws DataDirLockedError if another process has it). */
export async function openEmbeddedDatabase(dataDir: string): Promise<Database> {
  const db = await openPGlite(dataDir);
  return {
    kind: "pglite",
    location: db.dir,
    prisma: db.prisma,
    queryable: db.session,
    batch: sqlBatch(db.pglite),
    close: db.close,
  };
}

/** DATABASE_URL when set, the embedded database otherwise; `instanceId` names the Postgres sessions. */
export async function openConfiguredDatabase(
  config: {
    DATABASE_URL?: string;
    KEEPWATCH_DATA_DIR: string;
    DB_STATEMENT_TIMEOUT_SECONDS?: number;
    /** With an outside broker, several instances may share Postgres (lib/cluster). */
    MQTT_URL?: string;
    KEEPWATCH_FAILOVER_SECONDS?: number;
  },
  instanceId?: string,
): Promise<Database> {
  const statementTimeoutMs =
    config.DB_STATEMENT_TIMEOUT_SECONDS === undefined ? undefined : config.DB_STATEMENT_TIMEOUT_SECONDS * 1000;
  // A paused leader's open transaction would hold back a takeover (lib/store/cluster.ts tryLead).
  const idleInTransactionMs = config.MQTT_URL
    ? Math.max(5_000, (config.KEEPWATCH_FAILOVER_SECONDS ?? 5) * 1000)
    : undefined;
  return config.DATABASE_URL
    ? openDatabase(config.DATABASE_URL, {
        statementTimeoutMs,
        idleInTransactionMs,
        applicationName: instanceId === undefined ? undefined : sessionName(instanceId),
      })
    : openEmbeddedDatabase(config.KEEPWATCH_DATA_DIR);
}
