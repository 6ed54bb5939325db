/**
 * Applies pending SQL migrations from prisma/migrations:
 *   tsx scripts/migrate.ts
 * to DATABASE_URL, or, when it is unset, to the embedded PGlite database
 * under KEEPWATCH_DATA_DIR (default ./data; not while keepwatch has it open).
 * Safe to run from several processes at once on Postgres (advisory lock);
 * exits non-zero with the reason when a migration fails or an applied one
 * was edited.
 */
import { connectSqlSession } from "../lib/store/db";
import { migrate } from "../lib/store/migrate";
import { openEmbeddedDatabase } from "../lib/store/open";

async function main(): Promise<void> {
  const log = (m: string) => console.log(`migrate: ${m}`);
  let applied: string[];
  if (process.env.DATABASE_URL) {
    const session = await connectSqlSession(process.env.DATABASE_URL);
    try {
      applied = await migrate({ db: session, log });
    } finally {
      await session.end();
    }
  } else {
    const db = await openEmbeddedDatabase(process.env.KEEPWATCH_DATA_DIR || "./data");
    log(`DATABASE_URL is not set: the embedded database in ${db.location}`);
    try {
      applied = await migrate({ db: db.queryable, log });
    } finally {
      await db.close();
    }
  }
  console.log(applied.length ? `migrate: ${applied.length} migration(s) applied` : "migrate: database is up to date");
}

main().catch((e: unknown) => {
  console.error(`migrate: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
