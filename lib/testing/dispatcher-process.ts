/**
 * A process that only sends the outbox, as a keepwatch process does, for the
 * tests that kill one mid-send or run two on one database:
 *
 *   DATABASE_URL=… tsx lib/testing/dispatcher-process.ts
 *
 * Destinations on 127.0.0.1 are allowed. NOTIFY_LEASE_SECONDS and
 * NOTIFY_TIMEOUT_SECONDS (fractions allowed) keep a crashed claim short.
 * Prints "ready" once started; stops cleanly on SIGTERM.
 */
import { parseAllowList } from "../alerts/egress";
import { Dispatcher } from "../notify/dispatcher";
import { createDb } from "../store/db";

const db = createDb({ connectionString: process.env.DATABASE_URL });
const seconds = (name: string, fallback: number) => Number(process.env[name] ?? fallback) * 1000;
const dispatcher = new Dispatcher({
  db: () => db,
  log: (m) => console.error(m),
  allow: parseAllowList("127.0.0.1"),
  leaseMs: seconds("NOTIFY_LEASE_SECONDS", 2),
  timeoutMs: seconds("NOTIFY_TIMEOUT_SECONDS", 1),
  baseDelayMs: seconds("NOTIFY_RETRY_BASE_SECONDS", 0.2),
  pollMs: 100,
});
dispatcher.start();
console.log("ready");

process.on("SIGTERM", () => {
  void dispatcher
    .stop(1_000)
    .then(() => db.$disconnect())
    .then(() => process.exit(0));
});
