/**
 * Applies pending SQL migrations from prisma/migrations to DATABASE_URL.
 *   tsx scripts/migrate.ts
 * Safe to run from several processes at once (advisory lock); exits non-zero
 * with the reason when a migration fails or an applied one was edited.
 */
import { connectSqlSession } from "../lib/store/db";
import { migrate } from "../lib/store/migrate";

async function main(): Promise<void> {
  if (!process.env.DATABASE_URL) {
    console.error("migrate: DATABASE_URL is not set");
    process.exit(2);
  }
  const session = await connectSqlSession(process.env.DATABASE_URL);
  try {
    const applied = await migrate({ db: session, log: (m) => console.log(`migrate: ${m}`) });
    console.log(applied.length ? `migrate: ${applied.length} migration(s) applied` : "migrate: database is up to date");
  } finally {
    await session.end();
  }
}

main().catch((e: unknown) => {
  console.error(`migrate: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
