/**
 * Alert queries: rules (CRUD), alerts (the engine's decisions written
 * idempotently, listing) and the webhook delivery log.
 *
 * Idempotence: a fire is an INSERT … ON CONFLICT against the partial unique
 * index "one firing alert per (device, kind)" (alerts_one_firing_idx, see the
 * alerts migration); when a firing alert already exists (written before a
 * restart, or a repeated write) that row is returned instead and marked as
 * not new, so it is not announced again. A resolve updates only a firing row,
 * so writing it twice changes nothing.
 */
import type { AlertDecision, FiringAlert } from "../alerts/engine";
import type { IncidentCause, IncidentView } from "../alerts/incidents";
import { EVENT_SAME_MS, type SystemDecision } from "../alerts/system";
import type { SystemSource } from "../alerts/dto";
import type { AlertKind, AlertRule, AlertRuleInput } from "../alerts/rules";
import { sqlOf, type Db, type SqlSession } from "./db";
import { Prisma } from "./generated/prisma/client";
import { fenceTx, type Fence } from "./cluster";
import { ensureWebhookChannel, existingChannelIds, insertNotifications, type OutboxEntry } from "./notifications";

type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

export type AlertState = "firing" | "resolved";

export interface AlertRecord {
  /** bigint id, as a decimal string. */
  id: string;
  /** null for a system alert. */
  deviceId: string | null;
  ruleId: number | null;
  kind: AlertKind | "system";
  source: SystemSource | null;
  state: AlertState;
  firedAt: number;
  resolvedAt: number | null;
  message: string;
  resolveMessage: string | null;
  lastNotifiedAt: number | null;
  incidentId: string | null;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  ackComment: string | null;
  silenced: boolean;
  silenceId: string | null;
  /** A notification for the alert itself went out. */
  notified: boolean;
}

/** An incident as stored: the tracker's view (lib/alerts/incidents.ts) with who acknowledged it. */
export interface IncidentRecord extends Omit<IncidentView, "acknowledged"> {
  lastNotifiedAt: number | null;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  ackComment: string | null;
}

/** How a device alert's fire is recorded: notified at once, or held, grouped, silenced. */
export interface FireMeta {
  notified: boolean;
  silenceId: string | null;
  incidentId: string | null;
}

/** One write of the alert service, in order. */
export type AlertWrite =
  | (AlertDecision & { meta?: FireMeta })
  | { type: "system"; decision: SystemDecision }
  /** Changes how a firing device alert is handled (released, grouped, silenced). */
  | { type: "mark"; deviceId: string; kind: AlertKind; set: Partial<FireMeta> & { silenced?: boolean } }
  /** An incident's row; `event` says which notification follows the write (none: counts only). */
  | {
      type: "incident";
      incident: IncidentView;
      notifiedAt: number | null;
      event: "opened" | "update" | "resolved" | null;
    };

/** What one write did: the row after it, and whether it changed anything. */
export interface AppliedWrite {
  write: AlertWrite;
  alert: AlertRecord | null;
  incident: IncidentRecord | null;
  /** false: a fire that found the alert already firing, a resolve or repeat of an alert no longer firing. */
  changed: boolean;
}

// ---------------------------------------------------------------- rules

interface RuleRow {
  id: number;
  name: string;
  match: string;
  offline_factor: number | null;
  offline_seconds: number | null;
  late_factor: number | null;
  flap_disconnects: number | null;
  flap_window_seconds: number | null;
  near_miss_ratio: number | null;
  resolve_after_seconds: number;
  repeat_interval_seconds: number | null;
  channel_ids: number[] | null;
  tags: string[] | null;
  enabled: boolean;
  is_default: boolean;
}

const toRule = (r: RuleRow): AlertRule => ({
  id: Number(r.id),
  name: r.name,
  match: r.match,
  offlineFactor: r.offline_factor === null ? null : Number(r.offline_factor),
  offlineSeconds: r.offline_seconds,
  lateFactor: r.late_factor === null ? null : Number(r.late_factor),
  flapDisconnects: r.flap_disconnects,
  flapWindowSeconds: r.flap_window_seconds,
  nearMissRatio: r.near_miss_ratio === null ? null : Number(r.near_miss_ratio),
  resolveAfterSeconds: r.resolve_after_seconds,
  repeatIntervalSeconds: r.repeat_interval_seconds,
  channelIds: (r.channel_ids ?? []).map(Number),
  tags: r.tags ?? [],
  enabled: r.enabled,
  isDefault: r.is_default,
});

export async function listAlertRules(db: Db): Promise<AlertRule[]> {
  const rows = await db.$queryRaw<RuleRow[]>`SELECT * FROM "alert_rules" ORDER BY "id"`;
  return rows.map(toRule);
}

export async function getAlertRule(db: Db, id: number): Promise<AlertRule | null> {
  const rows = await db.$queryRaw<RuleRow[]>`SELECT * FROM "alert_rules" WHERE "id" = ${id}`;
  return rows[0] ? toRule(rows[0]) : null;
}

/** The rule's channels: its `channelIds` that exist, plus the webhook channel of a legacy `webhookUrl`. */
async function channelIdsOf(db: Db, r: AlertRuleInput): Promise<number[]> {
  const ids = new Set(await existingChannelIds(db, r.channelIds ?? []));
  if (r.webhookUrl) ids.add(await ensureWebhookChannel(db, r.webhookUrl));
  return [...ids].sort((a, b) => a - b);
}

export async function createAlertRule(db: Db, r: AlertRuleInput): Promise<AlertRule> {
  const channelIds = await channelIdsOf(db, r);
  const rows = await db.$queryRaw<RuleRow[]>`
    INSERT INTO "alert_rules" ("name", "match", "offline_factor", "offline_seconds", "late_factor", "flap_disconnects",
      "flap_window_seconds", "near_miss_ratio", "resolve_after_seconds", "repeat_interval_seconds", "channel_ids", "tags", "enabled")
    VALUES (${r.name}, ${r.match}, ${r.offlineFactor}::float8, ${r.offlineSeconds}::int4, ${r.lateFactor}::float8,
      ${r.flapDisconnects}::int4, ${r.flapWindowSeconds}::int4, ${r.nearMissRatio}::float8, ${r.resolveAfterSeconds}::int4,
      ${r.repeatIntervalSeconds}::int4, ${channelIds}::int4[], ${r.tags}::text[], ${r.enabled})
    RETURNING *`;
  return toRule(rows[0]);
}

/** Replaces a rule's fields; null when there is no such rule. The default rule keeps matching `*`. */
export async function updateAlertRule(db: Db, id: number, r: AlertRuleInput): Promise<AlertRule | null> {
  const channelIds = await channelIdsOf(db, r);
  const rows = await db.$queryRaw<RuleRow[]>`
    UPDATE "alert_rules" SET "name" = ${r.name},
      "match" = CASE WHEN "is_default" THEN '*' ELSE ${r.match} END,
      "offline_factor" = ${r.offlineFactor}::float8, "offline_seconds" = ${r.offlineSeconds}::int4,
      "late_factor" = ${r.lateFactor}::float8, "flap_disconnects" = ${r.flapDisconnects}::int4,
      "flap_window_seconds" = ${r.flapWindowSeconds}::int4, "near_miss_ratio" = ${r.nearMissRatio}::float8,
      "resolve_after_seconds" = ${r.resolveAfterSeconds}::int4, "repeat_interval_seconds" = ${r.repeatIntervalSeconds}::int4,
      "channel_ids" = ${channelIds}::int4[], "tags" = ${r.tags}::text[], "enabled" = ${r.enabled}, "updated_at" = now()
    WHERE "id" = ${id}
    RETURNING *`;
  return rows[0] ? toRule(rows[0]) : null;
}

/** Deletes a rule unless it is the default one. Its alerts keep their history (rule_id becomes null). */
export async function deleteAlertRule(db: Db, id: number): Promise<"deleted" | "not-found" | "default"> {
  const rows = await db.$queryRaw<{ is_default: boolean }[]>`
    WITH target AS (SELECT "id", "is_default" FROM "alert_rules" WHERE "id" = ${id}),
         gone AS (DELETE FROM "alert_rules" WHERE "id" IN (SELECT "id" FROM target WHERE NOT "is_default") RETURNING "id")
    SELECT "is_default" FROM target`;
  if (rows.length === 0) return "not-found";
  return rows[0].is_default ? "default" : "deleted";
}

// ---------------------------------------------------------------- alerts

interface AlertRow {
  id: bigint | string;
  device_id: string | null;
  rule_id: number | null;
  kind: string;
  source: string | null;
  state: string;
  /** Times: Date from Prisma, epoch ms from FIRING_COLUMNS. */
  fired_at: Date | number;
  resolved_at: Date | number | null;
  message: string;
  resolve_message: string | null;
  last_notified_at: Date | number | null;
  incident_id: string | null;
  acknowledged_at: Date | number | null;
  acknowledged_by: string | null;
  ack_comment: string | null;
  silenced: boolean;
  silence_id: string | null;
  notified: boolean;
  changed?: boolean;
}

interface IncidentRow {
  id: string;
  state: string;
  opened_at: Date;
  resolved_at: Date | null;
  cause_kind: string;
  cause_reason: string;
  device_count: number;
  still_offline: number;
  message: string;
  resolve_message: string | null;
  last_notified_at: Date | null;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  ack_comment: string | null;
  changed?: boolean;
}

const ms = (d: Date | string | number | null): number | null =>
  d === null ? null : typeof d === "number" ? d : new Date(d).getTime();

/**
 * One string per kind, state and source for every alert held in memory: a
 * row's text is a fresh string each time, and a mass outage keeps hundreds of
 * thousands of firing alerts.
 */
const SHARED = new Map<string, string>();
const shared = <T extends string | null>(s: T): T => {
  if (s === null) return s;
  const known = SHARED.get(s);
  if (known !== undefined) return known as T;
  if (SHARED.size < 64) SHARED.set(s, s); // a handful of enumerated values; never unbounded
  return s;
};

const toAlert = (r: AlertRow): AlertRecord => ({
  id: String(r.id),
  deviceId: r.device_id,
  ruleId: r.rule_id === null ? null : Number(r.rule_id),
  kind: shared(r.kind as AlertKind),
  source: shared(r.source as SystemSource | null),
  state: shared(r.state as AlertState),
  firedAt: ms(r.fired_at)!,
  resolvedAt: ms(r.resolved_at),
  message: r.message,
  resolveMessage: r.resolve_message,
  lastNotifiedAt: ms(r.last_notified_at),
  incidentId: r.incident_id,
  acknowledgedAt: ms(r.acknowledged_at),
  acknowledgedBy: r.acknowledged_by,
  ackComment: r.ack_comment,
  silenced: r.silenced,
  silenceId: r.silence_id,
  notified: r.notified,
});

export const toIncident = (r: IncidentRow): IncidentRecord => ({
  id: r.id,
  state: r.state as IncidentRecord["state"],
  openedAt: ms(r.opened_at)!,
  resolvedAt: ms(r.resolved_at),
  cause: { kind: r.cause_kind as IncidentCause["kind"], reason: r.cause_reason },
  deviceCount: r.device_count,
  stillOffline: r.still_offline,
  message: r.message,
  resolveMessage: r.resolve_message,
  lastNotifiedAt: ms(r.last_notified_at),
  acknowledgedAt: ms(r.acknowledged_at),
  acknowledgedBy: r.acknowledged_by,
  ackComment: r.ack_comment,
});

const iso = (t: number) => new Date(t).toISOString();
/** Postgres text cannot hold NUL (device ids are untrusted). */
const clean = (s: string) => (s.includes("\u0000") ? s.replace(/\u0000/g, "\uFFFD") : s);

/** Times as epoch ms (a float8 each) and the id as text: cheaper to read than Dates and bigints. */
const epochMs = (column: string) => `round(extract(epoch from "${column}") * 1000)::float8 AS "${column}"`;
const FIRING_COLUMNS = [
  `"id"::text AS "id"`,
  `"device_id"`,
  `"rule_id"`,
  `"kind"`,
  `"source"`,
  `"state"`,
  epochMs("fired_at"),
  epochMs("resolved_at"),
  `"message"`,
  `"resolve_message"`,
  epochMs("last_notified_at"),
  `"incident_id"`,
  epochMs("acknowledged_at"),
  `"acknowledged_by"`,
  `"ack_comment"`,
  `"silenced"`,
  `"silence_id"`,
  `"notified"`,
].join(", ");
/** Firing alerts per read: a mass outage holds hundreds of thousands. */
const FIRING_PAGE = 50_000;

/**
 * Every firing alert, in the order they were written, read in pages by id
 * straight on the pool or PGlite (`q`). 900,000 of them: 5.0–6.8 s on the
 * pool, 7.3–7.7 s through Prisma in these pages, against 11–12 s for one
 * Prisma query of every column (2 cores, the database on the same machine).
 */
export async function loadFiringAlerts(q: SqlSession, pageSize = FIRING_PAGE): Promise<AlertRecord[]> {
  const out: AlertRecord[] = [];
  // Ids start at 1. One plain condition, so each page is a range of the primary key (no sort).
  let after = "0";
  for (;;) {
    const { rows } = (await q.query(
      `SELECT ${FIRING_COLUMNS} FROM "alerts"
        WHERE "alerts"."id" > $1::bigint AND "state" = 'firing' ORDER BY "alerts"."id" LIMIT $2`,
      [after, pageSize],
    )) as { rows: AlertRow[] };
    for (const r of rows) out.push(toAlert(r));
    if (rows.length < pageSize) return out;
    after = String(rows[rows.length - 1].id);
  }
}

/**
 * What a follower (a standby) reads. With `since` null: every firing alert.
 * Otherwise every alert written by a transaction from `since` on: fired,
 * repeated, acknowledged or resolved (`changed_xid`, see its migration).
 * `horizon` is where the next read starts: the oldest transaction still
 * running before this read, so one that commits after a younger one is read
 * next time (an alert may come twice; applying it is idempotent).
 */
export async function loadAlertChanges(
  db: Db,
  since: bigint | null,
  q: SqlSession = sqlOf(db),
): Promise<{ horizon: bigint; alerts: AlertRecord[] }> {
  const [{ horizon }] = await db.$queryRaw<{ horizon: string }[]>`
    SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS "horizon"`;
  const alerts =
    since === null
      ? await loadFiringAlerts(q)
      : (
          await db.$queryRaw<AlertRow[]>`
            SELECT * FROM "alerts" WHERE "changed_xid" >= ${since.toString()}::bigint ORDER BY "changed_xid", "id"`
        ).map(toAlert);
  return { horizon: BigInt(horizon), alerts };
}

/** A firing device alert as the engine continues it (system alerts are not the engine's). */
export function toFiringAlert(a: AlertRecord & { deviceId: string; kind: AlertKind }): FiringAlert {
  return {
    deviceId: a.deviceId,
    kind: a.kind,
    ruleId: a.ruleId,
    firedAt: a.firedAt,
    message: a.message,
    lastNotifiedAt: a.lastNotifiedAt ?? a.firedAt,
  };
}

export async function listAlerts(
  db: Db,
  opts: { state?: AlertState; deviceId?: string; incidentId?: string; limit?: number } = {},
): Promise<AlertRecord[]> {
  const limit = Math.min(Math.max(opts.limit ?? 100, 1), opts.incidentId ? 1_000_000 : 1000);
  const state = opts.state ?? null;
  const device = opts.deviceId ?? null;
  const incident = opts.incidentId ?? null;
  const rows = await db.$queryRaw<AlertRow[]>`
    SELECT * FROM "alerts"
    WHERE (${state}::text IS NULL OR "state" = ${state}::text)
      AND (${device}::text IS NULL OR "device_id" = ${device}::text)
      AND (${incident}::text IS NULL OR "incident_id" = ${incident}::text)
    ORDER BY "fired_at" DESC, "id" DESC
    LIMIT ${limit}`;
  return rows.map(toAlert);
}

export async function getAlert(db: Db, id: string): Promise<AlertRecord | null> {
  const rows = await db.$queryRaw<AlertRow[]>`SELECT * FROM "alerts" WHERE "id" = ${id}::bigint`;
  return rows[0] ? toAlert(rows[0]) : null;
}

type Ack = { by: string; comment: string | null; at: number } | null;

/**
 * Sets or clears the acknowledgement of one alert or incident (`by` null
 * undoes it) and writes the notifications `notify` derives from the result
 * in the same transaction; only a new acknowledgement is told (acknowledging
 * again changes the comment, quietly). Null when there is no such row.
 */
async function setAck<Row, Rec>(
  db: Db,
  target: { table: "alerts" | "incidents"; id: Prisma.Sql },
  ack: Ack,
  toRecord: (row: Row) => Rec,
  notify: (record: Rec) => OutboxEntry[],
): Promise<Rec | null> {
  const table = Prisma.raw(`"${target.table}"`);
  return db.$transaction(async (tx) => {
    const before = await tx.$queryRaw<{ acknowledged_at: Date | null }[]>`
      SELECT "acknowledged_at" FROM ${table} WHERE "id" = ${target.id} FOR UPDATE`;
    if (!before[0]) return null;
    const rows = await tx.$queryRaw<Row[]>`
      UPDATE ${table} SET "acknowledged_at" = ${ack ? iso(ack.at) : null}::timestamptz,
             "acknowledged_by" = ${ack?.by ?? null}::text, "ack_comment" = ${ack?.comment ?? null}::text
       WHERE "id" = ${target.id} RETURNING *`;
    const record = toRecord(rows[0]);
    if (before[0].acknowledged_at === null) await insertNotifications(tx, notify(record));
    return record;
  });
}

/** Sets or clears an alert's acknowledgement (see setAck). */
export const setAlertAck = (db: Db, id: string, ack: Ack, notify: (a: AlertRecord) => OutboxEntry[] = () => []) =>
  setAck(db, { table: "alerts", id: Prisma.sql`${id}::bigint` }, ack, toAlert, notify);

export async function listIncidents(
  db: Db,
  opts: { state?: IncidentRecord["state"]; limit?: number } = {},
): Promise<IncidentRecord[]> {
  const limit = Math.min(Math.max(opts.limit ?? 100, 1), 1000);
  const state = opts.state ?? null;
  const rows = await db.$queryRaw<IncidentRow[]>`
    SELECT * FROM "incidents" WHERE (${state}::text IS NULL OR "state" = ${state}::text)
    ORDER BY "opened_at" DESC, "id" DESC LIMIT ${limit}`;
  return rows.map(toIncident);
}

export async function getIncident(db: Db, id: string): Promise<IncidentRecord | null> {
  const rows = await db.$queryRaw<IncidentRow[]>`SELECT * FROM "incidents" WHERE "id" = ${id}`;
  return rows[0] ? toIncident(rows[0]) : null;
}

/** Sets or clears an incident's acknowledgement (see setAck). */
export const setIncidentAck = (db: Db, id: string, ack: Ack, notify: (i: IncidentRecord) => OutboxEntry[] = () => []) =>
  setAck(db, { table: "incidents", id: Prisma.sql`${id}` }, ack, toIncident, notify);

/**
 * Writes the alert service's writes, in order, in one transaction; returns
 * what each did, with the notifications `plan` derives from it written in
 * the same transaction (the outbox). Foreign keys: a fire whose rule was deleted meanwhile is
 * stored without a rule.
 */
export async function applyAlertWrites(
  db: Db,
  writes: readonly AlertWrite[],
  plan: (applied: AppliedWrite[]) => OutboxEntry[] = () => [],
  fence?: Fence,
): Promise<AppliedWrite[]> {
  if (writes.length === 0) return [];
  return db.$transaction(
    async (tx) => {
      await fenceTx(tx, fence);
      const out: AppliedWrite[] = [];
      for (let i = 0; i < writes.length;) {
        const w = writes[i];
        if (w.type === "fire") {
          // A run of fires is one statement: a mass outage fires thousands at once.
          const run = fireRun(writes, i);
          const fired = await fireStatement(tx, run);
          run.forEach((f, j) => {
            const r = fired[j];
            if (r) out.push({ write: f, alert: r.alert, incident: null, changed: r.changed });
          });
          i += run.length;
          continue;
        }
        i++;
        const rows = (await writeStatement(tx, w)) as (AlertRow | IncidentRow)[];
        const row = rows[0];
        if (!row) continue;
        if (w.type === "incident")
          out.push({ write: w, alert: null, incident: toIncident(row as IncidentRow), changed: true });
        else out.push({ write: w, alert: toAlert(row as AlertRow), incident: null, changed: Boolean(row.changed) });
      }
      await insertNotifications(tx, plan(out));
      return out;
    },
    { maxWait: 10_000, timeout: 60_000 },
  );
}

type FireWrite = Extract<AlertWrite, { type: "fire" }>;

/** The fires from `from` on, up to the first other write or the first device and kind already in the run. */
function fireRun(writes: readonly AlertWrite[], from: number): FireWrite[] {
  const run: FireWrite[] = [];
  const keys = new Set<string>();
  for (let i = from; i < writes.length; i++) {
    const w = writes[i];
    if (w.type !== "fire") break;
    const k = `${w.kind}\0${w.deviceId}`;
    if (keys.has(k)) break;
    keys.add(k);
    run.push(w);
  }
  return run;
}

/**
 * Fires alerts, idempotent against "alerts_one_firing_idx": one result per
 * fire, in order, either the new alert (`changed`) or the one already firing
 * for its device and kind. A fire whose rule or incident is gone is stored
 * without it. The run's devices and kinds are distinct (fireRun).
 *
 * A new alert's record is built from its write and the few columns the
 * database decides (id, rule, incident): a mass outage fires hundreds of
 * thousands, and reading every column back would cost a row object, its
 * dates and a second copy of its id and message each, all kept while the
 * alert fires. The ones already firing (rare) are read whole.
 */
async function fireStatement(db: Tx, run: readonly FireWrite[]): Promise<{ alert: AlertRecord; changed: boolean }[]> {
  const meta = (w: FireWrite) => w.meta ?? { notified: true, silenceId: null, incidentId: null };
  const rows = await db.$queryRaw<
    { ord: bigint; id: string | null; rule_id: number | null; incident_id: string | null }[]
  >`
    WITH input AS (
      SELECT * FROM unnest(
        ${run.map((w) => clean(w.deviceId))}::text[], ${run.map((w) => w.ruleId)}::int4[], ${run.map((w) => w.kind)}::text[],
        ${run.map((w) => iso(w.at))}::timestamptz[], ${run.map((w) => clean(w.message))}::text[],
        ${run.map((w) => (meta(w).notified ? iso(w.at) : null))}::timestamptz[], ${run.map((w) => meta(w).notified)}::bool[],
        ${run.map((w) => meta(w).silenceId)}::text[], ${run.map((w) => meta(w).incidentId)}::text[])
        WITH ORDINALITY AS t("device_id", "rule_id", "kind", "fired_at", "message", "last_notified_at", "notified",
                             "silence_id", "incident_id", "ord")),
    ins AS (
      INSERT INTO "alerts" ("device_id", "rule_id", "kind", "state", "fired_at", "message", "last_notified_at",
                            "notified", "silenced", "silence_id", "incident_id")
      SELECT i."device_id", r."id", i."kind", 'firing', i."fired_at", i."message", i."last_notified_at",
             i."notified", i."silence_id" IS NOT NULL, i."silence_id", n."id"
        FROM input i
        LEFT JOIN "alert_rules" r ON r."id" = i."rule_id"
        LEFT JOIN "incidents" n ON n."id" = i."incident_id"
       ORDER BY i."ord"
      ON CONFLICT ("device_id", "kind") WHERE "state" = 'firing' DO NOTHING
      RETURNING "id", "device_id", "kind", "rule_id", "incident_id")
    SELECT i."ord", ins."id"::text AS "id", ins."rule_id", ins."incident_id"
      FROM input i
      LEFT JOIN ins ON ins."device_id" = i."device_id" AND ins."kind" = i."kind"
     ORDER BY i."ord"`;
  const out: { alert: AlertRecord; changed: boolean }[] = new Array(run.length);
  const firing: FireWrite[] = [];
  for (const r of rows) {
    const j = Number(r.ord) - 1;
    const w = run[j];
    if (r.id === null) {
      firing.push(w);
      continue;
    }
    const m = meta(w);
    out[j] = {
      changed: true,
      alert: {
        id: r.id,
        deviceId: clean(w.deviceId),
        ruleId: r.rule_id === null ? null : Number(r.rule_id),
        kind: w.kind,
        source: null,
        state: "firing",
        firedAt: w.at,
        resolvedAt: null,
        message: clean(w.message),
        resolveMessage: null,
        lastNotifiedAt: m.notified ? w.at : null,
        incidentId: r.incident_id,
        acknowledgedAt: null,
        acknowledgedBy: null,
        ackComment: null,
        silenced: m.silenceId !== null,
        silenceId: m.silenceId,
        notified: m.notified,
      },
    };
  }
  if (firing.length > 0) {
    const existing = await db.$queryRaw<AlertRow[]>`
      SELECT a.* FROM "alerts" a
        JOIN unnest(${firing.map((w) => clean(w.deviceId))}::text[], ${firing.map((w) => w.kind)}::text[])
             AS t("device_id", "kind") ON a."device_id" = t."device_id" AND a."kind" = t."kind"
       WHERE a."state" = 'firing'`;
    const byKey = new Map(existing.map((a) => [`${a.kind}\0${a.device_id}`, a]));
    run.forEach((w, j) => {
      const a = out[j] === undefined ? byKey.get(`${w.kind}\0${clean(w.deviceId)}`) : undefined;
      if (a) out[j] = { changed: false, alert: toAlert(a) };
    });
  }
  return out;
}

function writeStatement(db: Tx, w: Exclude<AlertWrite, FireWrite>) {
  {
    switch (w.type) {
      case "resolve":
        return db.$queryRaw<AlertRow[]>`
          UPDATE "alerts" SET "state" = 'resolved', "resolved_at" = GREATEST("fired_at", ${iso(w.at)}::timestamptz),
                 "resolve_message" = ${clean(w.message)}
           WHERE "device_id" = ${clean(w.deviceId)} AND "kind" = ${w.kind} AND "state" = 'firing'
          RETURNING *, true AS changed`;
      case "repeat":
        return db.$queryRaw<AlertRow[]>`
          UPDATE "alerts" SET "last_notified_at" = ${iso(w.at)}::timestamptz
           WHERE "device_id" = ${clean(w.deviceId)} AND "kind" = ${w.kind} AND "state" = 'firing'
          RETURNING *, true AS changed`;
      case "mark": {
        const set = w.set;
        const has = (k: keyof typeof set) => set[k] !== undefined;
        return db.$queryRaw<AlertRow[]>`
          UPDATE "alerts" SET
                 "notified" = CASE WHEN ${has("notified")} THEN ${set.notified ?? false} ELSE "notified" END,
                 "last_notified_at" = CASE WHEN ${set.notified === true} THEN now() ELSE "last_notified_at" END,
                 "incident_id" = CASE WHEN ${has("incidentId")}
                                 THEN (SELECT "id" FROM "incidents" WHERE "id" = ${set.incidentId ?? null}::text)
                                 ELSE "incident_id" END,
                 "silenced" = CASE WHEN ${has("silenced")} THEN ${set.silenced ?? false} ELSE "silenced" END,
                 "silence_id" = CASE WHEN ${has("silenceId")} THEN ${set.silenceId ?? null}::text ELSE "silence_id" END
           WHERE "device_id" = ${clean(w.deviceId)} AND "kind" = ${w.kind} AND "state" = 'firing'
          RETURNING *, true AS changed`;
      }
      case "system":
        return systemStatement(db, w.decision);
      case "incident": {
        const i = w.incident;
        return db.$queryRaw<IncidentRow[]>`
          INSERT INTO "incidents" ("id", "state", "opened_at", "resolved_at", "cause_kind", "cause_reason", "device_count",
                                   "still_offline", "message", "resolve_message", "last_notified_at")
          VALUES (${i.id}, ${i.state}, ${iso(i.openedAt)}::timestamptz, ${i.resolvedAt === null ? null : iso(i.resolvedAt)}::timestamptz,
                  ${i.cause.kind}, ${i.cause.reason}, ${i.deviceCount}::int4, ${i.stillOffline}::int4, ${i.message},
                  ${i.resolveMessage}::text, ${w.notifiedAt === null ? null : iso(w.notifiedAt)}::timestamptz)
          ON CONFLICT ("id") DO UPDATE SET "state" = EXCLUDED."state", "resolved_at" = EXCLUDED."resolved_at",
                 "device_count" = EXCLUDED."device_count", "still_offline" = EXCLUDED."still_offline",
                 "resolve_message" = EXCLUDED."resolve_message", "message" = EXCLUDED."message",
                 "last_notified_at" = COALESCE(EXCLUDED."last_notified_at", "incidents"."last_notified_at")
          RETURNING *, true AS changed`;
      }
    }
  }
}

/**
 * A system alert's fire (idempotent against "alerts_one_firing_system_idx") or
 * resolve. An event (a broker restart) is fired and resolved at once, so the
 * index does not hold it: instances that saw the same one (shards) take a
 * lock on its source and store it once (none of the same source within
 * EVENT_SAME_MS); the others' fire and resolve then change nothing, and
 * nothing is notified twice.
 */
async function systemStatement(db: Tx, d: SystemDecision) {
  if (d.type === "fire" && d.event) {
    await db.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`keepwatch system event ${d.source}`}))`;
    return db.$queryRaw<AlertRow[]>`
      INSERT INTO "alerts" ("device_id", "rule_id", "kind", "source", "state", "fired_at", "message", "last_notified_at")
      SELECT NULL, NULL, 'system', ${d.source}, 'firing', ${iso(d.at)}::timestamptz, ${clean(d.message)},
             ${iso(d.at)}::timestamptz
       WHERE NOT EXISTS (
         SELECT 1 FROM "alerts" WHERE "device_id" IS NULL AND "source" = ${d.source}
            AND "fired_at" BETWEEN ${iso(d.at - EVENT_SAME_MS)}::timestamptz AND ${iso(d.at + EVENT_SAME_MS)}::timestamptz)
      ON CONFLICT ("source") WHERE "state" = 'firing' AND "device_id" IS NULL DO NOTHING
      RETURNING *, true AS changed`;
  }
  if (d.type === "fire")
    return db.$queryRaw<AlertRow[]>`
      WITH ins AS (
        INSERT INTO "alerts" ("device_id", "rule_id", "kind", "source", "state", "fired_at", "message", "last_notified_at")
        VALUES (NULL, NULL, 'system', ${d.source}, 'firing', ${iso(d.at)}::timestamptz, ${clean(d.message)},
                ${iso(d.at)}::timestamptz)
        ON CONFLICT ("source") WHERE "state" = 'firing' AND "device_id" IS NULL DO NOTHING
        RETURNING *)
      SELECT *, true AS changed FROM ins
      UNION ALL
      SELECT *, false AS changed FROM "alerts"
       WHERE "device_id" IS NULL AND "source" = ${d.source} AND "state" = 'firing' AND NOT EXISTS (SELECT 1 FROM ins)`;
  return db.$queryRaw<AlertRow[]>`
    UPDATE "alerts" SET "state" = 'resolved', "resolved_at" = GREATEST("fired_at", ${iso(d.at)}::timestamptz),
           "resolve_message" = ${clean(d.message)}
     WHERE "device_id" IS NULL AND "source" = ${d.source} AND "state" = 'firing'
    RETURNING *, true AS changed`;
}
