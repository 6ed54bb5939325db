/**
 * Channels and the notification outbox.
 *
 * Channels: CRUD; a rule's legacy `webhookUrl` becomes a webhook channel
 * (one per distinct URL).
 *
 * Outbox (lib/notify/dispatcher.ts sends it):
 * - `insertNotifications` runs inside the alert write's own transaction, so a
 *   notification exists exactly when the change that causes it committed;
 * - `claimDue` takes due rows in a transaction: the channels first (FOR
 *   UPDATE SKIP LOCKED, only those whose rate limit allows a message now,
 *   which it pushes back by one interval), then their due notifications (FOR
 *   UPDATE SKIP LOCKED), which it leases (next attempt = now + lease, attempt
 *   counted). Two processes never claim the same row; a process that dies
 *   holding a lease lets the rows fall due again when the lease ends;
 * - `settle` records the outcome: sent, another try later, or dead-lettered,
 *   with one delivery log row per notification and attempt.
 * Times come from the database (`now()`), so processes on different clocks
 * agree on what is due.
 */
import type { Db } from "./db";
import { fenceTx, type Fence } from "./cluster";

type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0] | Db;

export interface ChannelInput {
  name: string;
  type: string;
  config: Record<string, unknown>;
  enabled: boolean;
  defaultForSystem: boolean;
  ratePerMinute: number | null;
}

export interface ChannelRecord extends ChannelInput {
  id: number;
  createdAt: number;
  updatedAt: number;
}

interface ChannelRow {
  id: number;
  name: string;
  type: string;
  config: Record<string, unknown> | string;
  enabled: boolean;
  default_for_system: boolean;
  rate_per_minute: number | null;
  created_at: Date;
  updated_at: Date;
}

const toChannel = (r: ChannelRow): ChannelRecord => ({
  id: Number(r.id),
  name: r.name,
  type: r.type,
  config: typeof r.config === "string" ? (JSON.parse(r.config) as Record<string, unknown>) : r.config,
  enabled: r.enabled,
  defaultForSystem: r.default_for_system,
  ratePerMinute: r.rate_per_minute === null ? null : Number(r.rate_per_minute),
  createdAt: r.created_at.getTime(),
  updatedAt: r.updated_at.getTime(),
});

export const MAX_CHANNELS = 200;

export async function listChannels(db: Db): Promise<ChannelRecord[]> {
  const rows = await db.$queryRaw<ChannelRow[]>`SELECT * FROM "channels" ORDER BY "id"`;
  return rows.map(toChannel);
}

export async function getChannel(db: Db, id: number): Promise<ChannelRecord | null> {
  const rows = await db.$queryRaw<ChannelRow[]>`SELECT * FROM "channels" WHERE "id" = ${id}`;
  return rows[0] ? toChannel(rows[0]) : null;
}

export async function createChannel(db: Tx, c: ChannelInput): Promise<ChannelRecord> {
  const rows = await db.$queryRaw<ChannelRow[]>`
    INSERT INTO "channels" ("name", "type", "config", "enabled", "default_for_system", "rate_per_minute")
    VALUES (${c.name}, ${c.type}, ${JSON.stringify(c.config)}::jsonb, ${c.enabled}, ${c.defaultForSystem},
            ${c.ratePerMinute}::int4)
    RETURNING *`;
  return toChannel(rows[0]);
}

export async function updateChannel(db: Db, id: number, c: ChannelInput): Promise<ChannelRecord | null> {
  const rows = await db.$queryRaw<ChannelRow[]>`
    UPDATE "channels" SET "name" = ${c.name}, "type" = ${c.type}, "config" = ${JSON.stringify(c.config)}::jsonb,
           "enabled" = ${c.enabled}, "default_for_system" = ${c.defaultForSystem},
           "rate_per_minute" = ${c.ratePerMinute}::int4, "updated_at" = now()
     WHERE "id" = ${id}
    RETURNING *`;
  return rows[0] ? toChannel(rows[0]) : null;
}

/** Deletes a channel: its waiting notifications go with it, rules stop pointing at it, the log keeps its rows. */
export async function deleteChannel(db: Db, id: number): Promise<boolean> {
  const [, deleted] = await db.$transaction([
    db.$executeRaw`UPDATE "alert_rules" SET "channel_ids" = array_remove("channel_ids", ${id}::int4)
                    WHERE ${id}::int4 = ANY("channel_ids")`,
    db.$executeRaw`DELETE FROM "channels" WHERE "id" = ${id}`,
  ]);
  return deleted > 0;
}

/**
 * The webhook channel for a rule's legacy `webhookUrl`, created (named after
 * its host) when there is none. Like the channels the migration made from
 * such URLs, it also gets system alerts and incidents, which went to every
 * rule's webhook before channels existed.
 */
export async function ensureWebhookChannel(db: Tx, url: string): Promise<number> {
  const found = await db.$queryRaw<{ id: number }[]>`
    SELECT "id" FROM "channels" WHERE "type" = 'webhook' AND "config"->>'url' = ${url} ORDER BY "id" LIMIT 1`;
  if (found[0]) return Number(found[0].id);
  let host = url;
  try {
    host = new URL(url).host;
  } catch {
    // named after the whole URL
  }
  const created = await createChannel(db, {
    name: `Webhook ${host}`.slice(0, 100),
    type: "webhook",
    config: { url },
    enabled: true,
    defaultForSystem: true,
    ratePerMinute: null,
  });
  return created.id;
}

/** The ids among these that name a channel. */
export async function existingChannelIds(db: Db, ids: readonly number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await db.$queryRaw<{ id: number }[]>`
    SELECT "id" FROM "channels" WHERE "id" = ANY(${[...ids]}::int4[]) ORDER BY "id"`;
  return rows.map((r) => Number(r.id));
}

/** Notifications waiting and dead-lettered, per channel. */
export type ChannelCounts = Map<number, { pending: number; dead: number }>;

export async function channelCounts(db: Db): Promise<ChannelCounts> {
  const rows = await db.$queryRaw<{ channel_id: number; pending: bigint; dead: bigint }[]>`
    SELECT "channel_id", count(*) FILTER (WHERE "state" = 'pending') AS pending,
           count(*) FILTER (WHERE "state" = 'dead') AS dead
      FROM "notifications" WHERE "state" <> 'sent' GROUP BY "channel_id"`;
  return new Map(rows.map((r) => [Number(r.channel_id), { pending: Number(r.pending), dead: Number(r.dead) }]));
}

// ---------------------------------------------------------------- outbox

/** One event to send, to these channels (enabled ones only) and, for `system`, to every default-for-system channel. */
export interface OutboxEntry {
  eventId: string;
  event: string;
  alertId: string | null;
  incidentId: string | null;
  payload: unknown;
  channelIds: readonly number[];
  system: boolean;
}

/** Writes the entries' rows (one per event and channel); returns how many. Call inside the change's transaction. */
export async function insertNotifications(tx: Tx, entries: readonly OutboxEntry[]): Promise<number> {
  if (entries.length === 0) return 0;
  return tx.$executeRaw`
    INSERT INTO "notifications" ("event_id", "channel_id", "event", "alert_id", "incident_id", "payload")
    SELECT e.event_id, c."id", e.event, e.alert_id, e.incident_id, e.payload
      FROM unnest(${entries.map((e) => e.eventId)}::text[], ${entries.map((e) => e.event)}::text[],
                  ${entries.map((e) => e.alertId)}::bigint[], ${entries.map((e) => e.incidentId)}::text[],
                  ${entries.map((e) => JSON.stringify(e.payload))}::jsonb[], ${entries.map((e) => e.system)}::boolean[],
                  ${entries.map((e) => e.channelIds.join(","))}::text[])
           AS e(event_id, event, alert_id, incident_id, payload, system, channels)
      JOIN "channels" c ON c."enabled"
       AND (c."id" = ANY(string_to_array(NULLIF(e.channels, ''), ',')::int4[]) OR (e.system AND c."default_for_system"))
    ON CONFLICT ("event_id", "channel_id") DO NOTHING`;
}

export interface ClaimedNotification {
  id: string;
  eventId: string;
  event: string;
  alertId: string | null;
  incidentId: string | null;
  payload: unknown;
  /** Attempts including this one. */
  attempts: number;
}

export interface ClaimedChannel {
  channel: ChannelRecord;
  notifications: ClaimedNotification[];
}

export interface ClaimOptions {
  /** The channel's messages per minute (its own, or its type's default); null: no limit. */
  rateOf(channel: ChannelRecord): number | null;
  /** How long claimed rows stay away from other claimers (ms). */
  leaseMs: number;
  /** Rows claimed at most per channel without a rate limit (each is its own message). */
  perChannel: number;
  /** Rows merged into one digest at most (rate-limited channels). */
  perDigest: number;
  /** Channels looked at per claim. */
  channels: number;
  /** Only the leader sends (lib/store/cluster.ts). */
  fence?: Fence;
}

export async function claimDue(db: Db, opts: ClaimOptions): Promise<ClaimedChannel[]> {
  return db.$transaction(
    async (tx) => {
      await fenceTx(tx, opts.fence);
      const channels = (
        await tx.$queryRaw<ChannelRow[]>`
        SELECT c.* FROM "channels" c
         WHERE c."enabled" AND c."next_send_at" <= now()
           AND EXISTS (SELECT 1 FROM "notifications" n
                        WHERE n."channel_id" = c."id" AND n."state" = 'pending' AND n."next_attempt_at" <= now())
         ORDER BY c."next_send_at", c."id"
         LIMIT ${opts.channels}
         FOR UPDATE SKIP LOCKED`
      ).map(toChannel);
      const out: ClaimedChannel[] = [];
      for (const channel of channels) {
        const rate = opts.rateOf(channel);
        const limit = rate === null ? opts.perChannel : opts.perDigest;
        const rows = await tx.$queryRaw<NotificationRow[]>`
          SELECT "id", "event_id", "event", "alert_id", "incident_id", "payload", "attempts" FROM "notifications"
           WHERE "channel_id" = ${channel.id} AND "state" = 'pending' AND "next_attempt_at" <= now()
           ORDER BY "id" LIMIT ${limit}
           FOR UPDATE SKIP LOCKED`;
        if (rows.length === 0) continue;
        const ids = rows.map((r) => r.id);
        await tx.$executeRaw`
          UPDATE "notifications" SET "attempts" = "attempts" + 1,
                 "next_attempt_at" = now() + ${opts.leaseMs}::int8 * interval '1 millisecond'
           WHERE "id" = ANY(${ids}::bigint[])`;
        if (rate !== null)
          await tx.$executeRaw`
            UPDATE "channels" SET "next_send_at" = now() + ${Math.ceil(60_000 / rate)}::int8 * interval '1 millisecond'
             WHERE "id" = ${channel.id}`;
        out.push({
          channel,
          notifications: rows.map((r) => ({
            id: String(r.id),
            eventId: r.event_id,
            event: r.event,
            alertId: r.alert_id === null ? null : String(r.alert_id),
            incidentId: r.incident_id,
            payload: typeof r.payload === "string" ? JSON.parse(r.payload) : r.payload,
            attempts: r.attempts + 1,
          })),
        });
      }
      return out;
    },
    { maxWait: 10_000, timeout: 30_000 },
  );
}

interface NotificationRow {
  id: bigint;
  event_id: string;
  event: string;
  alert_id: bigint | null;
  incident_id: string | null;
  payload: unknown;
  attempts: number;
}

/** The outcome of one attempt for one claimed notification. */
export interface Settlement {
  notificationId: string;
  /** sent; or retry after `retryInMs`; or dead (no more attempts). */
  outcome: "sent" | "retry" | "dead";
  retryInMs: number;
  error: string | null;
  log: {
    alertId: string | null;
    incidentId: string | null;
    channelId: number;
    event: string;
    url: string;
    attempt: number;
    ok: boolean;
    statusCode: number | null;
    durationMs: number;
    digest: boolean;
  };
}

/** Records outcomes: the rows' new state and the delivery log, in one transaction. */
export async function settle(db: Db, items: readonly Settlement[]): Promise<void> {
  if (items.length === 0) return;
  const ids = items.map((i) => i.notificationId);
  await db.$transaction([
    db.$executeRaw`
      UPDATE "notifications" n SET
             "state" = CASE u.outcome WHEN 'retry' THEN 'pending' ELSE u.outcome END,
             "sent_at" = CASE WHEN u.outcome = 'sent' THEN now() ELSE n."sent_at" END,
             "next_attempt_at" = CASE WHEN u.outcome = 'retry' THEN now() + u.retry_ms * interval '1 millisecond'
                                      ELSE n."next_attempt_at" END,
             "last_error" = u.error
        FROM unnest(${ids}::bigint[], ${items.map((i) => i.outcome)}::text[],
                    ${items.map((i) => Math.round(i.retryInMs))}::int8[], ${items.map((i) => trim(i.error))}::text[])
             AS u(id, outcome, retry_ms, error)
       WHERE n."id" = u.id AND n."state" = 'pending'`,
    db.$executeRaw`
      INSERT INTO "alert_deliveries" ("alert_id", "incident_id", "channel_id", "notification_id", "event", "url",
                                      "attempt", "ok", "status_code", "error", "duration_ms", "at", "final", "digest")
      SELECT (SELECT a."id" FROM "alerts" a WHERE a."id" = u.alert_id),
             (SELECT i."id" FROM "incidents" i WHERE i."id" = u.incident_id),
             (SELECT c."id" FROM "channels" c WHERE c."id" = u.channel_id),
             (SELECT n."id" FROM "notifications" n WHERE n."id" = u.notification_id),
             u.event, u.url, u.attempt, u.ok, u.status_code, u.error, u.duration_ms, now(), u.final, u.digest
        FROM unnest(${items.map((i) => i.log.alertId)}::bigint[], ${items.map((i) => i.log.incidentId)}::text[],
                    ${items.map((i) => i.log.channelId)}::int4[], ${ids}::bigint[],
                    ${items.map((i) => i.log.event)}::text[], ${items.map((i) => i.log.url)}::text[],
                    ${items.map((i) => i.log.attempt)}::int4[], ${items.map((i) => i.log.ok)}::boolean[],
                    ${items.map((i) => i.log.statusCode)}::int4[], ${items.map((i) => trim(i.error))}::text[],
                    ${items.map((i) => Math.round(i.log.durationMs))}::int4[],
                    ${items.map((i) => i.outcome !== "retry")}::boolean[], ${items.map((i) => i.log.digest)}::boolean[])
             AS u(alert_id, incident_id, channel_id, notification_id, event, url, attempt, ok, status_code, error,
                  duration_ms, final, digest)`,
  ]);
}

/** Lets claimed rows that were not sent (shutdown) fall due again at once; their attempt does not count. */
export async function releaseClaims(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.$executeRaw`
    UPDATE "notifications" SET "next_attempt_at" = now(), "attempts" = GREATEST(0, "attempts" - 1)
     WHERE "id" = ANY(${[...ids]}::bigint[]) AND "state" = 'pending'`;
}

/** A dead-lettered notification goes back to the queue with fresh attempts; false when it is not dead. */
export async function retryNotification(db: Db, id: string): Promise<boolean> {
  const n = await db.$executeRaw`
    UPDATE "notifications" SET "state" = 'pending', "attempts" = 0, "next_attempt_at" = now(), "last_error" = NULL
     WHERE "id" = ${id}::bigint AND "state" = 'dead'`;
  return n > 0;
}

/** A notification's state (pending, sent, dead), or null when there is none. */
export async function notificationState(db: Db, id: string): Promise<string | null> {
  const rows = await db.$queryRaw<{ state: string }[]>`SELECT "state" FROM "notifications" WHERE "id" = ${id}::bigint`;
  return rows[0]?.state ?? null;
}

/** Writes one attempt made outside the outbox (a channel test, or a notification sent while the database was away). */
export async function logDirectAttempt(db: Db, a: Settlement["log"] & { error: string | null; final: boolean }) {
  await db.$executeRaw`
    INSERT INTO "alert_deliveries" ("alert_id", "incident_id", "channel_id", "event", "url", "attempt", "ok",
                                    "status_code", "error", "duration_ms", "at", "final", "digest")
    VALUES ((SELECT "id" FROM "alerts" WHERE "id" = ${a.alertId}::bigint),
            (SELECT "id" FROM "incidents" WHERE "id" = ${a.incidentId}::text),
            (SELECT "id" FROM "channels" WHERE "id" = ${a.channelId}::int4),
            ${a.event}, ${a.url}, ${a.attempt}::int4, ${a.ok}, ${a.statusCode}::int4, ${trim(a.error)}::text,
            ${Math.round(a.durationMs)}::int4, now(), ${a.final}, ${a.digest})`;
}

export interface OutboxStats {
  pending: number;
  dead: number;
  /** Age of the oldest notification waiting (s), or null. */
  oldestPendingSeconds: number | null;
}

export async function outboxStats(db: Db): Promise<OutboxStats> {
  const rows = await db.$queryRaw<{ pending: bigint; dead: bigint; oldest: number | null }[]>`
    SELECT count(*) FILTER (WHERE "state" = 'pending') AS pending,
           count(*) FILTER (WHERE "state" = 'dead') AS dead,
           EXTRACT(EPOCH FROM now() - min("created_at") FILTER (WHERE "state" = 'pending'))::float8 AS oldest
      FROM "notifications" WHERE "state" <> 'sent'`;
  const r = rows[0];
  return {
    pending: Number(r?.pending ?? 0),
    dead: Number(r?.dead ?? 0),
    oldestPendingSeconds: r?.oldest === null || r?.oldest === undefined ? null : Math.round(Number(r.oldest)),
  };
}

/** Forgets sent notifications older than `keepMs` (the delivery log keeps their attempts). */
export async function pruneSent(db: Db, keepMs: number): Promise<number> {
  return db.$executeRaw`
    DELETE FROM "notifications" WHERE "state" = 'sent' AND "sent_at" < now() - ${keepMs}::int8 * interval '1 millisecond'`;
}

const trim = (s: string | null) => (s === null ? null : s.replace(/\u0000/g, "").slice(0, 500));

// ---------------------------------------------------------------- the delivery log

export interface DeliveryRecord {
  id: string;
  alertId: string | null;
  incidentId: string | null;
  deviceId: string | null;
  kind: string | null;
  channelId: number | null;
  channelName: string | null;
  channelType: string | null;
  notificationId: string | null;
  event: string;
  url: string;
  attempt: number;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  at: number;
  final: boolean;
  digest: boolean;
  dead: boolean;
}

export interface DeliveryFilter {
  limit?: number;
  channelId?: number;
  /** ok: succeeded; failed: an attempt that failed; dead: attempts of notifications dead-lettered now. */
  outcome?: "ok" | "failed" | "dead";
}

/** The delivery log, newest first: one entry per attempt, with the channel and the notification's state now. */
export async function listDeliveries(db: Db, f: DeliveryFilter = {}): Promise<DeliveryRecord[]> {
  const limit = Math.min(Math.max(f.limit ?? 100, 1), 1000);
  const channel = f.channelId ?? null;
  const outcome = f.outcome ?? null;
  const rows = await db.$queryRaw<
    {
      id: bigint;
      alert_id: bigint | null;
      incident_id: string | null;
      device_id: string | null;
      kind: string | null;
      channel_id: number | null;
      channel_name: string | null;
      channel_type: string | null;
      notification_id: bigint | null;
      event: string;
      url: string;
      attempt: number;
      ok: boolean;
      status_code: number | null;
      error: string | null;
      duration_ms: number;
      at: Date;
      final: boolean;
      digest: boolean;
      dead: boolean;
    }[]
  >`
    SELECT d."id", d."alert_id", d."incident_id", a."device_id", a."kind", d."channel_id", c."name" AS channel_name,
           c."type" AS channel_type, d."notification_id", d."event", d."url", d."attempt", d."ok", d."status_code",
           d."error", d."duration_ms", d."at", d."final", d."digest", COALESCE(n."state" = 'dead', false) AS dead
      FROM "alert_deliveries" d
      LEFT JOIN "alerts" a ON a."id" = d."alert_id"
      LEFT JOIN "channels" c ON c."id" = d."channel_id"
      LEFT JOIN "notifications" n ON n."id" = d."notification_id"
     WHERE (${channel}::int4 IS NULL OR d."channel_id" = ${channel}::int4)
       AND (${outcome}::text IS NULL
            OR (${outcome}::text = 'ok' AND d."ok")
            OR (${outcome}::text = 'failed' AND NOT d."ok")
            OR (${outcome}::text = 'dead' AND n."state" = 'dead'))
     ORDER BY d."at" DESC, d."id" DESC LIMIT ${limit}`;
  return rows.map((r) => ({
    id: String(r.id),
    alertId: r.alert_id === null ? null : String(r.alert_id),
    incidentId: r.incident_id,
    deviceId: r.device_id,
    kind: r.kind,
    channelId: r.channel_id === null ? null : Number(r.channel_id),
    channelName: r.channel_name,
    channelType: r.channel_type,
    notificationId: r.notification_id === null ? null : String(r.notification_id),
    event: r.event,
    url: r.url,
    attempt: r.attempt,
    ok: r.ok,
    statusCode: r.status_code,
    error: r.error,
    durationMs: r.duration_ms,
    at: r.at.getTime(),
    final: r.final,
    digest: r.digest,
    dead: r.dead,
  }));
}
