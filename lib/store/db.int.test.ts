/** The process-wide Prisma client and the migrator's SQL session. */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { arrayLiteral, closeDb, connectSqlSession, createPool, databaseUrl, getDb, sqlBatch } from "./db";
import { openDatabase } from "./open";
import { migrate } from "./migrate";
import { createTestDatabase, MIGRATIONS_DIR, withAdmin, type TestDatabase } from "./testing";

let testDb: TestDatabase;
const savedUrl = process.env.DATABASE_URL;

beforeAll(async () => {
  testDb = await createTestDatabase();
});

afterAll(async () => {
  await closeDb();
  if (savedUrl === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = savedUrl;
  await testDb?.drop();
});

describe("db", () => {
  it("getDb() is one client per process, on DATABASE_URL", async () => {
    process.env.DATABASE_URL = testDb.url;
    const db = getDb();
    expect(getDb()).toBe(db);
    const rows = await db.$queryRaw<{ name: string }[]>`SELECT current_database() AS name`;
    expect(rows).toEqual([{ name: testDb.name }]);
    await closeDb();
    expect(getDb()).not.toBe(db);
    await closeDb();
  });

  it("says what is missing when DATABASE_URL is unset", () => {
    const url = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      expect(() => databaseUrl()).toThrow(/DATABASE_URL is not set/);
    } finally {
      process.env.DATABASE_URL = url;
    }
  });

  it("connectSqlSession() gives the migrator one connection of its own", async () => {
    const session = await connectSqlSession(testDb.url);
    try {
      const a = (await session.query("SELECT pg_backend_pid() AS pid")).rows[0].pid as number;
      const b = (await session.query("SELECT pg_backend_pid() AS pid")).rows[0].pid as number;
      expect(a).toBe(b);
    } finally {
      await session.end();
    }
  });

  it("cancels reads past the statement timeout; the batched writers have connections of their own", async () => {
    const database = openDatabase(testDb.url, { statementTimeoutMs: 3_000 });
    try {
      // A read past the timeout is cancelled by the server.
      const quick = openDatabase(testDb.url, { statementTimeoutMs: 300 });
      await expect(quick.prisma.$queryRaw`SELECT 1 AS x FROM pg_sleep(1)`).rejects.toThrow(/statement timeout/);
      // The writers' pool has no such limit.
      await quick.batch([{ text: "SELECT pg_sleep(0.5)", values: [] }]);
      await quick.close();

      // Every read connection busy: a batched write still goes through at once, before any of them ends.
      const order: string[] = [];
      const reads = Array.from({ length: 12 }, (_, i) =>
        database.prisma.$queryRaw`SELECT 1 AS x FROM pg_sleep(1.5)`.then(() => order.push(`read ${i}`)),
      );
      await new Promise((r) => setTimeout(r, 200));
      await database.batch([{ text: "SELECT 1", values: [] }]);
      order.push("write");
      await Promise.all(reads);
      expect(order[0]).toBe("write");
    } finally {
      await database.close();
    }
  });

  it("a pool's checked-out connection that the server ends does not crash the process", async () => {
    // A separate process: an unhandled "error" event would end it with an uncaught exception.
    const dir = await mkdtemp(path.join(tmpdir(), "kw-db-"));
    const script = path.join(dir, "checkout.mts");
    const db = fileURLToPath(new URL("./db.ts", import.meta.url));
    await writeFile(
      script,
      `import { createPool } from ${JSON.stringify(db)};
       const pool = createPool(process.env.URL!, 2);
       const client = await pool.connect();
       await client.query("BEGIN");
       const pid = (await client.query("SELECT pg_backend_pid() AS pid")).rows[0].pid;
       const ended = new Promise((r) => client.once("end", r));
       console.log("pid " + pid);
       await ended;
       await new Promise((r) => setTimeout(r, 300));
       await client.query("COMMIT").catch((e) => console.log("commit refused: " + e.message));
       client.release(true);
       await pool.end();
       console.log("still running");`,
    );
    try {
      const child = spawn(process.execPath, ["--import", "tsx", script], {
        env: { ...process.env, URL: testDb.url },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stderr.on("data", (d) => (err += d));
      const exited = new Promise<number | null>((r) => child.on("exit", r));
      const pid = await new Promise<number>((resolve, reject) => {
        child.stdout.on("data", (d) => {
          out += d;
          const m = /pid (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.on("exit", () => reject(new Error(`child ended before its query: ${err}`)));
      });
      await withAdmin((admin) => admin.query("SELECT pg_terminate_backend($1)", [pid]));
      expect(await exited, err).toBe(0);
      expect(out).toMatch(/commit refused: .+/);
      expect(out).toContain("still running");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it("batched statements send arrays as literals that Postgres reads back exactly", async () => {
    const pool = createPool(testDb.url, 2);
    try {
      await pool.query(`CREATE TABLE array_check (n int4, at timestamptz, s text, f float8, b bool)`);
      const s = ["dev-1", "", "NULL", "null", 'say "hi"', "back\\slash", "a,b", "{x}", " padded ", "ünï", null, "x y"];
      const at = s.map((_, i) => (i === 3 ? null : new Date(Date.UTC(2026, 11, 5, 1, 2, 3, i)).toISOString()));
      const f = s.map((_, i) => (i === 4 ? null : i / 3 - 2));
      const b = s.map((_, i) => (i === 5 ? null : i % 2 === 0));
      const insert = (from: number, to: number) => ({
        text: `INSERT INTO array_check SELECT * FROM unnest($1::int4[], $2::timestamptz[], $3::text[], $4::float8[], $5::bool[])`,
        values: [
          s.map((_, i) => i).slice(from, to),
          at.slice(from, to),
          s.slice(from, to),
          f.slice(from, to),
          b.slice(from, to),
        ],
      });
      const batch = sqlBatch(pool);
      await batch([insert(0, 6)]); // one statement: the pool's own query
      await batch([insert(6, 9), insert(9, s.length)]); // a transaction on a checked-out connection
      const rows = (await pool.query(`SELECT n, at, s, f, b FROM array_check ORDER BY n`)).rows;
      expect(rows.map((r) => r.s)).toEqual(s);
      expect(rows.map((r) => (r.at === null ? null : (r.at as Date).toISOString()))).toEqual(at);
      expect(rows.map((r) => r.f)).toEqual(f);
      expect(rows.map((r) => r.b)).toEqual(b);
    } finally {
      await pool.end();
    }
  });

  it("arrayLiteral() joins plain elements, quotes the rest, and leaves what it cannot write to pg", () => {
    expect(arrayLiteral(["esp32-01", "2026-12-05T01:02:03.456Z", 7, -1.5, true])).toBe(
      "{esp32-01,2026-12-05T01:02:03.456Z,7,-1.5,true}",
    );
    expect(arrayLiteral(["a b", null, "Null", 'q"', "\\", ""])).toBe('{"a b",NULL,"Null","q\\"","\\\\",""}');
    expect(arrayLiteral([])).toBe("{}");
    expect(arrayLiteral([new Date(0)])).toBeNull();
    expect(arrayLiteral([["nested"]])).toBeNull();
  });

  it("openDatabase() shares one pool between Prisma and the migrator, and closes both", async () => {
    const database = openDatabase(testDb.url);
    expect(await migrate({ db: database.queryable, migrationsDir: MIGRATIONS_DIR })).toEqual([]);
    expect(await database.prisma.device.count()).toBe(0);
    await database.close();
    await database.close(); // idempotent
    await expect(database.queryable.query("SELECT 1")).rejects.toThrow(/after calling end on the pool/);
  });
});
