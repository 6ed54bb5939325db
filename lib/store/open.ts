/**
 * Opens the database for the running application: one pg pool shared by
 * the Prisma client (queries, batched writes) and the migrator.
 */
import { createDb, createPool, type Db, type SqlSession } from "./db";
import type { SqlSessionPool } from "./migrate";

export interface Database {
  prisma: Db;
  /** For migrate(): it takes one connection from the pool for its run. */
  queryable: SqlSession & SqlSessionPool;
  close(): Promise<void>;
}

export function openDatabase(url: string): Database {
  const pool = createPool(url);
  const prisma = createDb({ pool });
  let closed: Promise<void> | null = null;
  return {
    prisma,
    queryable: pool,
    close: () =>
      (closed ??= (async () => {
        await prisma.$disconnect();
        await pool.end();
      })()),
  };
}
