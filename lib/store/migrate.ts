/**
 * Applies the SQL migrations in prisma/migrations (Prisma's layout) without
 * Prisma's schema engine, keeping Prisma's own `_prisma_migrations`
 * bookkeeping so `prisma migrate status|deploy` agree on a machine that has
 * the engine.
 *
 * - One run at a time per database: Prisma's advisory lock (72707369), held
 *   for the whole run. A second process waits, then finds nothing to do.
 * - Each migration runs in its own transaction together with its
 *   bookkeeping row: it is applied entirely or not at all.
 * - A failing migration is rolled back, recorded with its error in `logs`
 *   (and `rolled_back_at`, which is what happened), and stops the run.
 * - An applied migration whose file changed since (checksum mismatch) stops
 *   the run: it is never re-applied silently.
 *
 * Works through SqlSession (one connection: pg Client/PoolClient, PGlite)
 * or a pool of them (pg.Pool), from which it takes one connection for the
 * whole run: the lock and the transactions must share a session.
 */
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { SqlSession } from "./db";

/** A pool of sessions, as pg.Pool is. */
export interface SqlSessionPool {
  connect(): Promise<SqlSession & { release(err?: Error | boolean): void }>;
  readonly totalCount: number;
}

function isSessionPool(db: SqlSession | SqlSessionPool): db is SqlSessionPool {
  return (
    typeof (db as Partial<SqlSessionPool>).connect === "function" &&
    typeof (db as Partial<SqlSessionPool>).totalCount === "number"
  );
}

/** Prisma's advisory lock key for migrations. */
export const MIGRATION_LOCK_KEY = 72707369;

/** Exactly the table Prisma's schema engine creates. */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface MigrationFile {
  name: string;
  sql: string;
  /** sha256 (hex) of migration.sql's bytes, as Prisma computes it. */
  checksum: string;
}

export class MigrationError extends Error {
  constructor(
    readonly code: "CHECKSUM_MISMATCH" | "MIGRATION_FAILED" | "FAILED_MIGRATION_IN_DATABASE" | "BAD_MIGRATIONS_DIR",
    readonly migration: string | null,
    message: string,
  ) {
    super(message);
    this.name = "MigrationError";
  }
}

interface MigrationRow {
  id: string;
  checksum: string;
  migration_name: string;
  finished_at: Date | string | null;
  rolled_back_at: Date | string | null;
  logs: string | null;
}

/** prisma/migrations under the working directory (where `npm start` runs). */
export function defaultMigrationsDir(): string {
  return path.join(/*turbopackIgnore: true*/ process.cwd(), "prisma", "migrations");
}

export function checksumOf(sql: string | Buffer): string {
  return createHash("sha256").update(sql).digest("hex");
}

/**
 * Prisma accepts a script whose line endings were changed by git (CRLF/LF)
 * since it was applied; so does this.
 */
function matchesChecksum(file: MigrationFile, recorded: string): boolean {
  if (file.checksum === recorded) return true;
  const lf = file.sql.replace(/\r\n/g, "\n");
  return checksumOf(lf) === recorded || checksumOf(lf.replace(/\n/g, "\r\n")) === recorded;
}

/** Reads `<dir>/<name>/migration.sql` for every migration, sorted by name. */
export async function readMigrations(dir: string = defaultMigrationsDir()): Promise<MigrationFile[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new MigrationError("BAD_MIGRATIONS_DIR", null, `Cannot read migrations directory ${dir}: ${errorText(e)}`);
  }
  const lock = entries.find((e) => e.isFile() && e.name === "migration_lock.toml");
  if (lock) {
    const toml = await readFile(path.join(/*turbopackIgnore: true*/ dir, lock.name), "utf8");
    const provider = /^\s*provider\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
    if (provider && provider !== "postgresql") {
      throw new MigrationError(
        "BAD_MIGRATIONS_DIR",
        null,
        `${dir}/migration_lock.toml is for "${provider}", not "postgresql"`,
      );
    }
  }
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const files: MigrationFile[] = [];
  for (const name of names) {
    let bytes: Buffer;
    try {
      bytes = await readFile(path.join(/*turbopackIgnore: true*/ dir, name, "migration.sql"));
    } catch (e) {
      throw new MigrationError(
        "BAD_MIGRATIONS_DIR",
        name,
        `Migration ${name} has no readable migration.sql: ${errorText(e)}`,
      );
    }
    files.push({ name, sql: bytes.toString("utf8"), checksum: checksumOf(bytes) });
  }
  return files;
}

/**
 * Applies pending migrations. Resolves with the names of the migrations this
 * run applied (empty when the database was up to date); rejects with a
 * MigrationError, or the database's own error when it is unreachable.
 */
export async function migrate({
  db,
  migrationsDir = defaultMigrationsDir(),
  log = () => {},
}: {
  db: SqlSession | SqlSessionPool;
  migrationsDir?: string;
  log?: (message: string) => void;
}): Promise<string[]> {
  const files = await readMigrations(migrationsDir);
  if (!isSessionPool(db)) return migrateOn(db, files, migrationsDir, log);
  const session = await db.connect();
  let broken = false;
  try {
    // The pool's reads may have a statement timeout (DB_STATEMENT_TIMEOUT_SECONDS); a migration has none.
    await session.query("SET statement_timeout = 0");
    const applied = await migrateOn(session, files, migrationsDir, log);
    await session.query("RESET statement_timeout");
    return applied;
  } catch (e) {
    // A connection whose unlock may not have run, or whose timeout is still off, must not go back to the pool.
    broken =
      !(e instanceof MigrationError) ||
      !(await session.query("RESET statement_timeout").then(
        () => true,
        () => false,
      ));
    throw e;
  } finally {
    session.release(broken);
  }
}

async function migrateOn(
  db: SqlSession,
  files: MigrationFile[],
  migrationsDir: string,
  log: (message: string) => void,
): Promise<string[]> {
  await db.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
  try {
    await db.query(CREATE_MIGRATIONS_TABLE);
    const rows = (
      await db.query(
        `SELECT id, checksum, migration_name, finished_at, rolled_back_at, logs
           FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
      )
    ).rows as MigrationRow[];

    // Rows marked rolled back do not count; Prisma ignores them too.
    const live = rows.filter((r) => r.rolled_back_at === null);
    const unfinished = live.find((r) => r.finished_at === null);
    if (unfinished) {
      throw new MigrationError(
        "FAILED_MIGRATION_IN_DATABASE",
        unfinished.migration_name,
        `Migration ${unfinished.migration_name} is recorded as started but not finished` +
          (unfinished.logs ? ` (${unfinished.logs.trim()})` : "") +
          `. Check the database, then mark it rolled back (prisma migrate resolve --rolled-back ${unfinished.migration_name}, or set rolled_back_at) before migrating again.`,
      );
    }
    const done = new Map(live.map((r) => [r.migration_name, r]));
    const onDisk = new Set(files.map((f) => f.name));
    for (const name of done.keys()) {
      if (!onDisk.has(name))
        log(`warning: migration ${name} is applied in the database but missing from ${migrationsDir}`);
    }

    const applied: string[] = [];
    for (const file of files) {
      const row = done.get(file.name);
      if (row) {
        if (!matchesChecksum(file, row.checksum)) {
          throw new MigrationError(
            "CHECKSUM_MISMATCH",
            file.name,
            `Migration ${file.name} was modified after it was applied (checksum ${row.checksum} in the database, ${file.checksum} on disk). ` +
              `Applied migrations must not be edited: restore the file and put the change in a new migration.`,
          );
        }
        continue;
      }
      await applyOne(db, file);
      log(`applied migration ${file.name}`);
      applied.push(file.name);
    }
    return applied;
  } finally {
    await db.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`).catch(() => {
      // The session is gone; the server released its locks with it.
    });
  }
}

async function applyOne(db: SqlSession, file: MigrationFile): Promise<void> {
  const id = randomUUID();
  await db.query("BEGIN");
  try {
    await db.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), 0)`,
      [id, file.checksum, file.name],
    );
    if (db.exec) await db.exec(file.sql);
    else await db.query(file.sql);
    await db.query(
      `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1`,
      [id],
    );
    await db.query("COMMIT");
  } catch (e) {
    await db.query("ROLLBACK").catch(() => {});
    const message = errorText(e);
    // Keep a record of the failure, as Prisma does, marked rolled back
    // because the transaction undid every statement of the migration.
    await db
      .query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, logs, rolled_back_at, applied_steps_count)
         VALUES ($1, $2, $3, now(), $4, now(), 0)`,
        [id, file.checksum, file.name, message],
      )
      .catch(() => {});
    throw new MigrationError(
      "MIGRATION_FAILED",
      file.name,
      `Migration ${file.name} failed and was rolled back: ${message}`,
    );
  }
}

function errorText(e: unknown): string {
  if (e instanceof Error) {
    const pgError = e as Error & { code?: string; position?: string };
    const parts = [e.message];
    if (pgError.code) parts.push(`SQLSTATE ${pgError.code}`);
    if (pgError.position) parts.push(`at character ${pgError.position}`);
    return parts.join(", ");
  }
  return String(e);
}
