/**
 * The cluster's queries: the leadership lease (one row, `cluster_leader`),
 * the members' own reports (`cluster_members`), the fence every leader write
 * carries, and the `keepwatch` NOTIFY channel instances tell each other about
 * changes on. Run on the leadership loop's own connection (lib/cluster/leadership.ts),
 * except `fencedBatch`, which wraps the writers' batches.
 *
 * All times are the database's (`now()`), so instances' clocks never decide
 * who leads.
 */
import type { SqlBatch, SqlSession } from "./db";

/** The NOTIFY channel (payload: JSON `{ kind, from, … }`). */
export const CLUSTER_CHANNEL = "keepwatch";

/** SQLSTATE of a write refused by the fence: a newer leadership epoch exists. */
export const FENCED_SQLSTATE = "KW409";

export interface LeaderView {
  epoch: number;
  leaderId: string | null;
  leaderSince: number | null;
  /** Whether the lease is still valid by the database's clock. */
  leaseValid: boolean;
}

export interface MemberView {
  instanceId: string;
  shard: string;
  role: string;
  clientId: string;
  startedAt: number;
  /** On this process's clock: the database says how long ago, so a skew between the two clocks does not matter. */
  lastSeenAt: number;
}

const ms = (v: Date | string | null): number | null => (v === null ? null : new Date(v).getTime());

/**
 * Takes the lease if it is free, expired or already this instance's (a
 * restart of the same instance): a new term with the next epoch. Locks the
 * row FOR UPDATE first, so the term starts only after every transaction the
/** The shard of every device: one leader for the whole fleet. */
export const WHOLE_FLEET = "1/1";

/** A leadership term: the shard led and its epoch. */
export interface Term {
  shard: string;
  epoch: number;
}

/**
 * Takes the shard's lease if it is free, expired or already this instance's
 * (a restart of the same instance): a new term with the next epoch. Locks
 * the row FOR UPDATE first, so the term starts only after every transaction
 * the old epoch's fence let in has ended. Null: another instance holds a valid lease.
 */
export async function tryLead(
  s: SqlSession,
  shard: string,
  instanceId: string,
  leaseMs: number,
): Promise<{ epoch: number; since: number } | null> {
  await s.query(`INSERT INTO "cluster_leader" ("shard") VALUES ($1) ON CONFLICT DO NOTHING`, [shard]);
  const { rows } = await s.query(
    `WITH locked AS (SELECT "shard" FROM "cluster_leader" WHERE "shard" = $3 FOR UPDATE)
     UPDATE "cluster_leader" l
        SET "epoch" = l."epoch" + 1, "leader_id" = $1, "leader_since" = now(),
            "lease_until" = now() + $2 * interval '1 millisecond'
       FROM locked
      WHERE l."shard" = locked."shard"
        AND (l."leader_id" IS NULL OR l."leader_id" = $1 OR l."lease_until" IS NULL OR l."lease_until" < now())
     RETURNING l."epoch", l."leader_since"`,
    [instanceId, leaseMs, shard],
  );
  const row = rows[0] as { epoch: string; leader_since: Date } | undefined;
  return row ? { epoch: Number(row.epoch), since: ms(row.leader_since)! } : null;
}

/** How an instance's Postgres sessions are named (application_name, at most 63 bytes). */
export function sessionName(instanceId: string): string {
  let name = `keepwatch ${instanceId}`;
  while (Buffer.byteLength(name) > 63) name = name.slice(0, -1);
  return name;
}

/**
 * Once a shard's lease has lapsed, ends the transactions its last leader
 * left open, idle or with a statement still running (paused while the
 * server sends it a result, or behind a lock): either would hold the row
 * lock a takeover waits for until the leader wakes, or until the server's
 * idle-in-transaction timeout. Its writes would be refused by the fence
 * anyway. Sessions outside a transaction are left alone. Returns how many
 * sessions ended.
 */
export async function endLapsedTerm(s: SqlSession, shard: string, instanceId: string): Promise<number> {
  const { rows } = await s.query(
    `SELECT "leader_id" FROM "cluster_leader"
      WHERE "shard" = $1 AND "leader_id" IS NOT NULL AND "leader_id" <> $2
        AND ("lease_until" IS NULL OR "lease_until" < now())`,
    [shard, instanceId],
  );
  const lapsed = (rows[0] as { leader_id: string } | undefined)?.leader_id;
  if (lapsed === undefined) return 0;
  const ended = await s.query(
    `SELECT pg_terminate_backend("pid") AS ended FROM pg_stat_activity
      WHERE "datname" = current_database() AND "application_name" = $1
        AND "xact_start" IS NOT NULL AND "pid" <> pg_backend_pid()`,
    [sessionName(lapsed)],
  );
  return (ended.rows as { ended: boolean }[]).filter((r) => r.ended).length;
}

/** Extends this term's lease; false when the term is over (another instance took the lease). */
export async function renewLease(s: SqlSession, term: Term, instanceId: string, leaseMs: number): Promise<boolean> {
  const { rows } = await s.query(
    `UPDATE "cluster_leader" SET "lease_until" = now() + $3 * interval '1 millisecond'
      WHERE "shard" = $4 AND "leader_id" = $1 AND "epoch" = $2
     RETURNING "epoch"`,
    [instanceId, term.epoch, leaseMs, term.shard],
  );
  return rows.length === 1;
}

/** Ends this term's lease at once (a hand-over) and tells the standbys. */
export async function releaseLease(s: SqlSession, term: Term, instanceId: string): Promise<void> {
  await s.query(
    `UPDATE "cluster_leader" SET "lease_until" = now() - interval '1 millisecond'
      WHERE "shard" = $3 AND "leader_id" = $1 AND "epoch" = $2`,
    [instanceId, term.epoch, term.shard],
  );
  await notifyCluster(s, { kind: "released", from: instanceId, shard: term.shard });
}

export async function readLeader(s: SqlSession, shard: string): Promise<LeaderView> {
  const { rows } = await s.query(
    `SELECT "epoch", "leader_id", "leader_since", "lease_until" IS NOT NULL AND "lease_until" >= now() AS valid
       FROM "cluster_leader" WHERE "shard" = $1`,
    [shard],
  );
  type Row = { epoch: string; leader_id: string | null; leader_since: Date | null; valid: boolean };
  const r = rows[0] as Row | undefined;
  if (!r) return { epoch: 0, leaderId: null, leaderSince: null, leaseValid: false };
  return { epoch: Number(r.epoch), leaderId: r.leader_id, leaderSince: ms(r.leader_since), leaseValid: r.valid };
}

/** This instance's report of itself (shard, role and MQTT client id), refreshed every round. */
export async function reportMember(
  s: SqlSession,
  m: { instanceId: string; shard: string; role: string; clientId: string; startedAt: number },
): Promise<void> {
  await s.query(
    `INSERT INTO "cluster_members" ("instance_id", "shard", "role", "client_id", "started_at", "last_seen_at")
     VALUES ($1, $2, $3, $4, $5, now())
     ON CONFLICT ("instance_id") DO UPDATE
       SET "shard" = EXCLUDED."shard", "role" = EXCLUDED."role", "client_id" = EXCLUDED."client_id",
           "started_at" = EXCLUDED."started_at", "last_seen_at" = now()`,
    [m.instanceId, m.shard, m.role, m.clientId, new Date(m.startedAt).toISOString()],
  );
}

/**
 * Members heard from within `withinMs` (by the database's clock, as their
 * reports are stamped); older reports are deleted after a day.
 */
export async function listMembers(s: SqlSession, withinMs: number): Promise<MemberView[]> {
  await s.query(`DELETE FROM "cluster_members" WHERE "last_seen_at" < now() - interval '1 day'`);
  const { rows } = await s.query(
    `SELECT "instance_id", "shard", "role", "client_id", "started_at",
            (extract(epoch FROM now() - "last_seen_at") * 1000)::float8 AS "age_ms"
       FROM "cluster_members"
      WHERE "last_seen_at" >= now() - $1 * interval '1 millisecond' ORDER BY "instance_id"`,
    [withinMs],
  );
  const readAt = Date.now();
  type Row = {
    instance_id: string;
    shard: string;
    role: string;
    client_id: string;
    started_at: Date;
    age_ms: number;
  };
  return (rows as Row[]).map((r) => ({
    instanceId: r.instance_id,
    shard: r.shard,
    role: r.role,
    clientId: r.client_id,
    startedAt: ms(r.started_at)!,
    lastSeenAt: readAt - Math.max(0, r.age_ms),
  }));
}

export async function leaveCluster(s: SqlSession, instanceId: string): Promise<void> {
  await s.query(`DELETE FROM "cluster_members" WHERE "instance_id" = $1`, [instanceId]);
}

export async function notifyCluster(
  s: SqlSession,
  message: { kind: string; from: string; [key: string]: unknown },
): Promise<void> {
  await s.query(`SELECT pg_notify($1, $2)`, [CLUSTER_CHANNEL, JSON.stringify(message)]);
}

/** The fence as the first statement of a transaction (see the migration's keepwatch_fence). */
export function fenceStatement(term: Term) {
  return { text: `SELECT keepwatch_fence($1, $2)`, values: [term.shard, term.epoch] };
}

export class NotLeaderError extends Error {
  readonly code = FENCED_SQLSTATE;
  constructor() {
    super("this instance is not the leader: it does not write");
  }
}

/** Whether an error is the fence refusing a write (or a write attempted without leading). */
export function isFenced(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === FENCED_SQLSTATE;
}

/**
 * A writer's batches with the fence first, inside the same transaction:
 * refused by the database once a newer epoch exists, or at once while this
 * instance does not lead (`term()` null).
 */
export function fencedBatch(batch: SqlBatch, term: () => Term | null): SqlBatch {
  return async (statements) => {
    if (statements.length === 0) return;
    const t = term();
    if (t === null) throw new NotLeaderError();
    await batch([fenceStatement(t), ...statements]);
  };
}

/** Where a Prisma transaction's writes are fenced: the term while leading, null while not; undefined for a single instance. */
export type Fence = (() => Term | null) | undefined;

/** The fence as the first statement of a Prisma interactive transaction (nothing for a single instance). */
export async function fenceTx(
  tx: { $executeRawUnsafe(sql: string, ...values: unknown[]): Promise<number> },
  fence: Fence,
): Promise<void> {
  if (!fence) return;
  const term = fence();
  if (term === null) throw new NotLeaderError();
  await tx.$executeRawUnsafe(`SELECT keepwatch_fence($1, $2::int8)`, term.shard, term.epoch);
}
