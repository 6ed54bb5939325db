/**
 * Throwaway Postgres databases for integration tests: each test file gets its
 * own freshly migrated database and drops it afterwards.
 *
 * The server comes from DATABASE_URL_TEST_ADMIN (a role allowed to create
 * databases), by default the local cluster as user kw.
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { connectSqlSession } from "./db";
import { migrate } from "./migrate";

/** The project's migrations, independent of the working directory. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));

export const TEST_ADMIN_URL = process.env.DATABASE_URL_TEST_ADMIN ?? "postgresql://kw:kw@127.0.0.1:5432/postgres";

export interface TestDatabase {
  /** Connection URL of the new database. */
  url: string;
  /** Database name (kw_store_test_<random>). */
  name: string;
  /** Drops the database, disconnecting whoever is still connected. */
  drop(): Promise<void>;
}

/** Runs `fn` on a connection to the admin database. */
export async function withAdmin<T>(fn: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: TEST_ADMIN_URL, connectionTimeoutMillis: 10_000 });
  admin.on("error", () => {});
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

export function databaseUrlFor(name: string): string {
  const url = new URL(TEST_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Creates an empty database and applies the project's migrations to it
 * (`migrate: false` leaves it empty, for testing the migrator itself).
 */
export async function createTestDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `kw_store_test_${randomBytes(6).toString("hex")}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE "${name}"`));
  const url = databaseUrlFor(name);
  const drop = () => withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => {});
  if (opts.migrate !== false) {
    try {
      const session = await connectSqlSession(url);
      try {
        await migrate({ db: session, migrationsDir: MIGRATIONS_DIR });
      } finally {
        await session.end();
      }
    } catch (e) {
      await drop();
      throw e;
    }
  }
  return { url, name, drop };
}
