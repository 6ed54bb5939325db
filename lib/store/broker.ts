/** Broker restart queries (written by StoreWriter.recordRestart/saveBrokerState). */
import type { SavedBrokerState } from "../broker/restarts";
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
export async function loadBrokerState(db: Db, broker: string): Promise<SavedBrokerState | null> {
  const row = await db.brokerState.findUnique({ where: { broker } });
  if (!row) return null;
  return { uptimeSeconds: row.uptimeSeconds, uptimeAt: msOrNull(row.uptimeAt), seenUpAt: msOrNull(row.seenUpAt) };
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
