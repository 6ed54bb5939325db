/**
 * The SQL migrator against a real Postgres: Prisma-compatible bookkeeping,
 * one transaction per migration, the advisory lock under concurrency, and
 * clear refusals (failed migration, edited migration).
 */
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connectSqlSession, createPool, type OwnedSqlSession } from "./db";
import { checksumOf, migrate, MigrationError, MIGRATION_LOCK_KEY } from "./migrate";
import { createTestDatabase, MIGRATIONS_DIR, type TestDatabase } from "./testing";

const INIT = "20261122002113_init";
const run = promisify(execFile);

let testDb: TestDatabase;
let session: OwnedSqlSession;
let dir: string;

beforeEach(async () => {
  testDb = await createTestDatabase({ migrate: false });
  session = await connectSqlSession(testDb.url);
  dir = await mkdtemp(path.join(tmpdir(), "kw-migrations-"));
  // The first real migration is the fixture; the project's later ones are not this test's business.
  await cp(path.join(MIGRATIONS_DIR, INIT), path.join(dir, INIT), { recursive: true });
  await cp(path.join(MIGRATIONS_DIR, "migration_lock.toml"), path.join(dir, "migration_lock.toml"));
});

afterEach(async () => {
  await session?.end();
  await testDb?.drop();
  await rm(dir, { recursive: true, force: true });
});

async function addMigration(name: string, sql: string): Promise<void> {
  await mkdir(path.join(dir, name));
  await writeFile(path.join(dir, name, "migration.sql"), sql);
}

interface Row {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}
const bookkeeping = async (): Promise<Row[]> =>
  (await session.query(`SELECT * FROM "_prisma_migrations" ORDER BY started_at, migration_name`)).rows as Row[];

const tableExists = async (name: string): Promise<boolean> =>
  (await session.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [name])).rows[0].present as boolean;

async function rejection(p: Promise<unknown>): Promise<MigrationError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(MigrationError);
  return e as MigrationError;
}

describe("migrate", () => {
  it("applies pending migrations once, with Prisma's bookkeeping", async () => {
    expect(await migrate({ db: session, migrationsDir: dir })).toEqual([INIT]);
    expect(await tableExists("devices")).toBe(true);

    const rows = await bookkeeping();
    expect(rows).toHaveLength(1);
    const sql = await readFile(path.join(MIGRATIONS_DIR, INIT, "migration.sql"));
    expect(rows[0]).toMatchObject({
      migration_name: INIT,
      checksum: checksumOf(sql),
      logs: null,
      rolled_back_at: null,
      applied_steps_count: 1,
    });
    expect(rows[0].id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(rows[0].finished_at!.getTime()).toBeGreaterThanOrEqual(rows[0].started_at.getTime());

    expect(await migrate({ db: session, migrationsDir: dir })).toEqual([]);
    expect(await bookkeeping()).toHaveLength(1);
  });

  it("creates _prisma_migrations exactly as Prisma does", async () => {
    await migrate({ db: session, migrationsDir: dir });
    const { rows } = await session.query(
      `SELECT column_name, data_type, character_maximum_length AS len, is_nullable, column_default
         FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(rows).toEqual([
      { column_name: "id", data_type: "character varying", len: 36, is_nullable: "NO", column_default: null },
      { column_name: "checksum", data_type: "character varying", len: 64, is_nullable: "NO", column_default: null },
      {
        column_name: "finished_at",
        data_type: "timestamp with time zone",
        len: null,
        is_nullable: "YES",
        column_default: null,
      },
      {
        column_name: "migration_name",
        data_type: "character varying",
        len: 255,
        is_nullable: "NO",
        column_default: null,
      },
      { column_name: "logs", data_type: "text", len: null, is_nullable: "YES", column_default: null },
      {
        column_name: "rolled_back_at",
        data_type: "timestamp with time zone",
        len: null,
        is_nullable: "YES",
        column_default: null,
      },
      {
        column_name: "started_at",
        data_type: "timestamp with time zone",
        len: null,
        is_nullable: "NO",
        column_default: "now()",
      },
      { column_name: "applied_steps_count", data_type: "integer", len: null, is_nullable: "NO", column_default: "0" },
    ]);
    const pk = await session.query(
      `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = '_prisma_migrations'::regclass AND i.indisprimary`,
    );
    expect(pk.rows).toEqual([{ attname: "id" }]);
  });

  it("lets two processes start at once: one applies, the other waits on Prisma's lock and finds nothing to do", async () => {
    // A slow migration keeps the first run inside the lock long enough to see the second one wait.
    await addMigration("20990101000000_slow", "SELECT pg_sleep(0.8);\nCREATE TABLE slow_done (id INTEGER);\n");
    const other = await connectSqlSession(testDb.url);
    const observer = await connectSqlSession(testDb.url);
    try {
      const both = Promise.all([
        migrate({ db: session, migrationsDir: dir }),
        migrate({ db: other, migrationsDir: dir }),
      ]);
      both.catch(() => {}); // awaited below; keeps a failed assertion from also reporting it as unhandled
      let waiting = 0;
      for (let i = 0; i < 40 && waiting === 0; i++) {
        await new Promise((r) => setTimeout(r, 25));
        const { rows } = await observer.query(
          `SELECT count(*) FILTER (WHERE granted)::int AS held, count(*) FILTER (WHERE NOT granted)::int AS waiting
             FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
          [MIGRATION_LOCK_KEY],
        );
        if (rows[0].held === 1) waiting = rows[0].waiting as number;
      }
      expect(waiting).toBe(1);
      const [a, b] = await both;
      expect([...a, ...b]).toEqual([INIT, "20990101000000_slow"]);
      expect(a.length === 0 || b.length === 0).toBe(true);
      expect((await bookkeeping()).map((r) => r.migration_name)).toEqual([INIT, "20990101000000_slow"]);
    } finally {
      await other.end();
      await observer.end();
    }
  });

  it("rolls back a failing migration entirely, records why, and stops", async () => {
    await addMigration(
      "20990101000000_broken",
      "CREATE TABLE half_done (id INTEGER);\nSELECT no_such_column FROM devices;\n",
    );
    await addMigration("20990102000000_after", "CREATE TABLE after_broken (id INTEGER);\n");

    const e = await rejection(migrate({ db: session, migrationsDir: dir }));
    expect(e.code).toBe("MIGRATION_FAILED");
    expect(e.migration).toBe("20990101000000_broken");
    expect(e.message).toMatch(
      /20990101000000_broken failed and was rolled back: column "no_such_column" does not exist, SQLSTATE 42703/,
    );

    expect(await tableExists("devices")).toBe(true); // the migration before it stays applied
    expect(await tableExists("half_done")).toBe(false); // nothing of the failed one remains
    expect(await tableExists("after_broken")).toBe(false); // the run stopped
    const failed = (await bookkeeping()).find((r) => r.migration_name === "20990101000000_broken")!;
    expect(failed.finished_at).toBeNull();
    expect(failed.rolled_back_at).not.toBeNull();
    expect(failed.logs).toContain('column "no_such_column" does not exist');

    // Fixed, it applies on the next run (a rolled-back record does not block, as in Prisma).
    await writeFile(path.join(dir, "20990101000000_broken", "migration.sql"), "CREATE TABLE half_done (id INTEGER);\n");
    expect(await migrate({ db: session, migrationsDir: dir })).toEqual([
      "20990101000000_broken",
      "20990102000000_after",
    ]);
    expect(await tableExists("half_done")).toBe(true);
  });

  it("refuses a migration edited after it was applied, and never re-applies it", async () => {
    await migrate({ db: session, migrationsDir: dir });
    const file = path.join(dir, INIT, "migration.sql");
    await writeFile(file, (await readFile(file, "utf8")) + "\nCREATE TABLE sneaky (id INTEGER);\n");
    await addMigration("20990101000000_next", "CREATE TABLE next_one (id INTEGER);\n");

    const e = await rejection(migrate({ db: session, migrationsDir: dir }));
    expect(e.code).toBe("CHECKSUM_MISMATCH");
    expect(e.message).toMatch(new RegExp(`Migration ${INIT} was modified after it was applied`));
    expect(await tableExists("sneaky")).toBe(false);
    expect(await tableExists("next_one")).toBe(false);
    expect(await bookkeeping()).toHaveLength(1);
  });

  it("accepts an applied migration whose line endings git changed", async () => {
    await migrate({ db: session, migrationsDir: dir });
    const file = path.join(dir, INIT, "migration.sql");
    await writeFile(file, (await readFile(file, "utf8")).replace(/\n/g, "\r\n"));
    expect(await migrate({ db: session, migrationsDir: dir })).toEqual([]);
  });

  it("refuses to continue past a migration another tool left unfinished", async () => {
    await migrate({ db: session, migrationsDir: dir });
    await session.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs) VALUES ('x', 'y', '20990101000000_manual', 'boom')`,
    );
    await addMigration("20990102000000_next", "CREATE TABLE next_one (id INTEGER);\n");
    const e = await rejection(migrate({ db: session, migrationsDir: dir }));
    expect(e.code).toBe("FAILED_MIGRATION_IN_DATABASE");
    expect(e.message).toContain("20990101000000_manual is recorded as started but not finished (boom)");
    expect(await tableExists("next_one")).toBe(false);
  });

  it("works on a pg.Pool, holding one connection for the whole run and giving it back", async () => {
    const pool = createPool(testDb.url, 3);
    try {
      expect(await migrate({ db: pool, migrationsDir: dir })).toEqual([INIT]);
      expect(pool.totalCount - pool.idleCount).toBe(0);
      const locks = await pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`);
      expect(locks.rows[0].n).toBe(0);
    } finally {
      await pool.end();
    }
  });

  it("has a command line: tsx scripts/migrate.ts", async () => {
    const env = { ...process.env, DATABASE_URL: testDb.url };
    const cwd = path.resolve(MIGRATIONS_DIR, "../..");
    const first = await run("node_modules/.bin/tsx", ["scripts/migrate.ts"], { cwd, env });
    expect(first.stdout).toContain(`migrate: applied migration ${INIT}`);
    const second = await run("node_modules/.bin/tsx", ["scripts/migrate.ts"], { cwd, env });
    expect(second.stdout).toContain("migrate: database is up to date");

    const bad = await run("node_modules/.bin/tsx", ["scripts/migrate.ts"], {
      cwd,
      env: { ...env, DATABASE_URL: testDb.url.replace(testDb.name, `${testDb.name}_missing`) },
    }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad?.code).toBe(1);
    expect(bad?.stderr).toMatch(/migrate: database ".*_missing" does not exist/);
  });
});
