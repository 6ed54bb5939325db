/**
 * The embedded database: PGlite (Postgres compiled to WebAssembly, running in
 * this process) persisted under KEEPWATCH_DATA_DIR, used when DATABASE_URL is
 * not set. Same schema, same migrations, same Prisma client (through
 * pglite-prisma-adapter) and same SQL as on a Postgres server.
 *
 * Only one process may open a PGlite directory: PGlite runs Postgres in
 * single-user mode and does not lock its files, so two processes would
 * corrupt each other's writes. A lock file next to the database directory
 * (`pglite.lock`, holding the owner's pid) keeps a second keepwatch out with a
 * clear error; a lock left by a process that no longer runs is taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { createEmbeddedDb, type Db, type SqlSession } from "./db";

/** Where the database lives inside KEEPWATCH_DATA_DIR. */
export const PGLITE_SUBDIR = "pglite";
const LOCK_FILE = "pglite.lock";

export class DataDirLockedError extends Error {
  readonly code = "DATA_DIR_LOCKED";
  constructor(
    readonly dataDir: string,
    readonly holderPid: number | null,
    detail: string,
  ) {
    super(
      `the embedded database in ${dataDir} is in use ${detail}. Only one keepwatch process can open it: ` +
        `stop the other one, or give this one its own KEEPWATCH_DATA_DIR (or a Postgres DATABASE_URL).`,
    );
    this.name = "DataDirLockedError";
  }
}

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

/** Lock files this process holds: a pid equal to ours is stale unless listed here. */
const heldHere = new Set<string>();

function readOwner(lockPath: string): LockOwner | null {
  try {
    const parsed = JSON.parse(readFileSync(lockPath, "utf8")) as Partial<LockOwner>;
    return typeof parsed.pid === "number" && typeof parsed.host === "string"
      ? { pid: parsed.pid, host: parsed.host, since: String(parsed.since ?? "") }
      : null;
  } catch {
    return null; // unreadable or half-written: treated as stale
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

/** The owner still holds the lock (a crashed owner's lock is stale). */
function isLive(lockPath: string, owner: LockOwner | null): boolean {
  if (owner === null) return false;
  if (owner.host !== hostname()) return true; // cannot check another machine's processes
  if (owner.pid === process.pid) return heldHere.has(lockPath);
  return isRunning(owner.pid);
}

/**
 * Takes the data directory's lock or throws DataDirLockedError. Returns the
 * function that releases it.
 */
export function lockDataDir(dataDir: string): () => void {
  const dir = path.resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const lockPath = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(lockPath, "wx");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const owner = readOwner(lockPath);
      if (isLive(lockPath, owner)) {
        const who =
          owner!.pid === process.pid
            ? "by this process"
            : `by process ${owner!.pid}${owner!.host !== hostname() ? ` on ${owner!.host}` : ""} since ${owner!.since}`;
        throw new DataDirLockedError(
          dir,
          owner!.pid,
          `${who} (lock file ${lockPath}; delete it only if no keepwatch is running)`,
        );
      }
      try {
        unlinkSync(lockPath); // stale: its owner is gone
      } catch {
        // another process removed it first; try again
      }
      continue;
    }
    try {
      const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
      writeSync(fd, JSON.stringify(owner));
    } finally {
      closeSync(fd);
    }
    heldHere.add(lockPath);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      heldHere.delete(lockPath);
      const owner = readOwner(lockPath);
      if (owner?.pid === process.pid && owner.host === hostname()) {
        try {
          unlinkSync(lockPath);
        } catch {
          // already gone
        }
      }
    };
  }
  throw new DataDirLockedError(dir, null, `(could not take the lock file ${lockPath})`);
}

export interface EmbeddedDb {
  /** Absolute path of the PGlite directory. */
  dir: string;
  pglite: PGlite;
  prisma: Db;
  /** The migrator's session: PGlite is one session, so the lock and transactions share it. */
  session: SqlSession;
  close(): Promise<void>;
}

/**
 * Opens (creating on first use) the PGlite database in `${dataDir}/pglite`
 * with a Prisma client on it. Throws DataDirLockedError when another process
 * has it open.
 */
export async function openPGlite(dataDir: string): Promise<EmbeddedDb> {
  const release = lockDataDir(dataDir);
  const dir = path.join(path.resolve(dataDir), PGLITE_SUBDIR);
  let pglite: PGlite;
  try {
    mkdirSync(dir, { recursive: true });
    pglite = await PGlite.create({ dataDir: dir });
    // The adapter reads timestamptz text as UTC; make sure the server writes it so.
    await pglite.exec("SET TIME ZONE 'UTC'");
  } catch (e) {
    release();
    throw e;
  }
  const prisma = createEmbeddedDb(pglite);
  let closed: Promise<void> | null = null;
  return {
    dir,
    pglite,
    prisma,
    session: pglite,
    close: () =>
      (closed ??= (async () => {
        try {
          await prisma.$disconnect();
          await pglite.close();
        } finally {
          release();
        }
      })()),
  };
}
