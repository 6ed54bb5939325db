/** Broker restart queries (written by StoreWriter.recordRestart/saveBrokerState), and where the broker's followed debug log was read to. */
import type { SavedBrokerState } from "../broker/restarts";
import type { LogPosition } from "../ingest/log-tail";
import type { Db } from "./db";
import { ms, msOrNull } from "./rows";

/** A broker restart as recorded (lib/broker/restarts.ts decides it, StoreWriter.recordRestart writes it). */
export interface RestartRecord {
  broker: string;
  detectedAt: number;
  downAt: number;
  upAt: number;
  evidence: string[];
  sessionsClosed: number;
}

export interface BrokerRestartRow extends RestartRecord {
  id: string;
}

/** What restart detection saved about this broker in an earlier run, or null. */
/**
 * Restart detection's memory of `broker`, and when it was last written: the
 * leader writes it every second, so `writtenAt` is about when the run that
 * wrote it was last alive.
 */
export async function loadBrokerState(
  db: Db,
  broker: string,
): Promise<(SavedBrokerState & { writtenAt: number }) | null> {
  const row = await db.brokerState.findUnique({ where: { broker } });
  if (!row) return null;
  return {
    uptimeSeconds: row.uptimeSeconds,
    uptimeAt: msOrNull(row.uptimeAt),
    seenUpAt: msOrNull(row.seenUpAt),
    writtenAt: row.updatedAt.getTime(),
  };
}

/** Where the changes a shard's leader wrote end in the debug log at `file` (StoreWriter's logPosition), or null. */
export async function loadLogPosition(db: Db, shard: string, file: string): Promise<LogPosition | null> {
  const row = await db.debugLogPosition.findUnique({ where: { shard_file: { shard, file } } });
  if (!row) return null;
  return { dev: row.dev, ino: row.ino, offset: Number(row.offset), tail: row.tail };
}

/** Recorded restarts, newest first. */
export async function listBrokerRestarts(db: Db, opts: { limit?: number } = {}): Promise<BrokerRestartRow[]> {
  const rows = await db.brokerRestart.findMany({
    orderBy: { detectedAt: "desc" },
    take: Math.min(Math.max(1, opts.limit ?? 20), 1000),
  });
  return rows.map((r) => ({
    id: r.id.toString(),
    broker: r.broker,
    detectedAt: ms(r.detectedAt),
    downAt: ms(r.downAt),
    upAt: ms(r.upAt),
    evidence: r.evidence,
    sessionsClosed: r.sessionsClosed,
  }));
}
