/**
 * Opens the database for the running application:
 * - DATABASE_URL set: Postgres, one pg pool shared by the Prisma client
 *   (queries, batched writes) and the migrator;
 * - DATABASE_URL unset: the embedded PGlite under KEEPWATCH_DATA_DIR
 *   (see pglite.ts), one in-process session for both.
 * Everything above this module (migrations, writer, queries) is the same SQL
 * on both.
 */
import { redactUrl } from "../config";
import { createDb, createPool, sqlBatch, type Db, type SqlBatch, type SqlSession } from "./db";
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

export function openDatabase(url: string): Database {
  const pool = createPool(url);
  const prisma = createDb({ pool });
  let closed: Promise<void> | null = null;
  return {
    kind: "postgres",
    location: redactUrl(url),
    prisma,
    queryable: pool,
    batch: sqlBatch(pool),
    close: () =>
      (closed ??= (async () => {
        await prisma.$disconnect();
        await pool.end();
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

/** DATABASE_URL when set, the embedded database otherwise. */
export async function openConfiguredDatabase(config: {
  DATABASE_URL?: string;
  KEEPWATCH_DATA_DIR: string;
}): Promise<Database> {
  return config.DATABASE_URL ? openDatabase(config.DATABASE_URL) : openEmbeddedDatabase(config.KEEPWATCH_DATA_DIR);
}
