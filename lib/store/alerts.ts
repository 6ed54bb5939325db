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
import type { AlertKind, AlertRule, AlertRuleInput } from "../alerts/rules";
import type { Db } from "./db";

export type AlertState = "firing" | "resolved";

export interface AlertRecord {
  /** bigint id, as a decimal string. */
  id: string;
  deviceId: string;
  ruleId: number | null;
  kind: AlertKind;
  state: AlertState;
  firedAt: number;
  resolvedAt: number | null;
  message: string;
  resolveMessage: string | null;
  lastNotifiedAt: number | null;
}

/** What writing one decision did: the row after it, and whether it changed anything. */
export interface AppliedDecision {
  decision: AlertDecision;
  alert: AlertRecord;
  /** false: a fire that found the alert already firing, a resolve or repeat of an alert no longer firing. */
  changed: boolean;
}

export interface DeliveryRecord {
  id: string;
  alertId: string;
  deviceId: string | null;
  kind: string | null;
  event: "fired" | "resolved" | "repeat";
  url: string;
  attempt: number;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  at: number;
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
  webhook_url: string | null;
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
  webhookUrl: r.webhook_url,
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

export async function createAlertRule(db: Db, r: AlertRuleInput): Promise<AlertRule> {
  const rows = await db.$queryRaw<RuleRow[]>`
    INSERT INTO "alert_rules" ("name", "match", "offline_factor", "offline_seconds", "late_factor", "flap_disconnects",
      "flap_window_seconds", "near_miss_ratio", "resolve_after_seconds", "repeat_interval_seconds", "webhook_url", "enabled")
    VALUES (${r.name}, ${r.match}, ${r.offlineFactor}::float8, ${r.offlineSeconds}::int4, ${r.lateFactor}::float8,
      ${r.flapDisconnects}::int4, ${r.flapWindowSeconds}::int4, ${r.nearMissRatio}::float8, ${r.resolveAfterSeconds}::int4,
      ${r.repeatIntervalSeconds}::int4, ${r.webhookUrl}::text, ${r.enabled})
    RETURNING *`;
  return toRule(rows[0]);
}

/** Replaces a rule's fields; null when there is no such rule. The default rule keeps matching `*`. */
export async function updateAlertRule(db: Db, id: number, r: AlertRuleInput): Promise<AlertRule | null> {
  const rows = await db.$queryRaw<RuleRow[]>`
    UPDATE "alert_rules" SET "name" = ${r.name},
      "match" = CASE WHEN "is_default" THEN '*' ELSE ${r.match} END,
      "offline_factor" = ${r.offlineFactor}::float8, "offline_seconds" = ${r.offlineSeconds}::int4,
      "late_factor" = ${r.lateFactor}::float8, "flap_disconnects" = ${r.flapDisconnects}::int4,
      "flap_window_seconds" = ${r.flapWindowSeconds}::int4, "near_miss_ratio" = ${r.nearMissRatio}::float8,
      "resolve_after_seconds" = ${r.resolveAfterSeconds}::int4, "repeat_interval_seconds" = ${r.repeatIntervalSeconds}::int4,
      "webhook_url" = ${r.webhookUrl}::text, "enabled" = ${r.enabled}, "updated_at" = now()
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
  device_id: string;
  rule_id: number | null;
  kind: string;
  state: string;
  fired_at: Date;
  resolved_at: Date | null;
  message: string;
  resolve_message: string | null;
  last_notified_at: Date | null;
  changed?: boolean;
}

const ms = (d: Date | string | null): number | null => (d === null ? null : new Date(d).getTime());

const toAlert = (r: AlertRow): AlertRecord => ({
  id: String(r.id),
  deviceId: r.device_id,
  ruleId: r.rule_id === null ? null : Number(r.rule_id),
  kind: r.kind as AlertKind,
  state: r.state as AlertState,
  firedAt: ms(r.fired_at)!,
  resolvedAt: ms(r.resolved_at),
  message: r.message,
  resolveMessage: r.resolve_message,
  lastNotifiedAt: ms(r.last_notified_at),
});

const iso = (t: number) => new Date(t).toISOString();
/** Postgres text cannot hold NUL (device ids are untrusted). */
const clean = (s: string) => (s.includes("\u0000") ? s.replace(/\u0000/g, "\uFFFD") : s);

export async function loadFiringAlerts(db: Db): Promise<AlertRecord[]> {
  const rows = await db.$queryRaw<AlertRow[]>`SELECT * FROM "alerts" WHERE "state" = 'firing' ORDER BY "fired_at"`;
  return rows.map(toAlert);
}

export function toFiringAlert(a: AlertRecord): FiringAlert {
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
  opts: { state?: AlertState; deviceId?: string; limit?: number } = {},
): Promise<AlertRecord[]> {
  const limit = Math.min(Math.max(opts.limit ?? 100, 1), 1000);
  const state = opts.state ?? null;
  const device = opts.deviceId ?? null;
  const rows = await db.$queryRaw<AlertRow[]>`
    SELECT * FROM "alerts"
    WHERE (${state}::text IS NULL OR "state" = ${state}::text)
      AND (${device}::text IS NULL OR "device_id" = ${device}::text)
    ORDER BY "fired_at" DESC, "id" DESC
    LIMIT ${limit}`;
  return rows.map(toAlert);
}

/**
 * Writes the engine's decisions, in order, in one transaction; returns what
 * each did. Foreign keys: a fire whose rule was deleted meanwhile is stored
 * without a rule.
 */
export async function applyAlertDecisions(db: Db, decisions: readonly AlertDecision[]): Promise<AppliedDecision[]> {
  if (decisions.length === 0) return [];
  const statements = decisions.map((d) => {
    const device = clean(d.deviceId);
    switch (d.type) {
      case "fire":
        return db.$queryRaw<AlertRow[]>`
          WITH ins AS (
            INSERT INTO "alerts" ("device_id", "rule_id", "kind", "state", "fired_at", "message", "last_notified_at")
            SELECT ${device}, (SELECT "id" FROM "alert_rules" WHERE "id" = ${d.ruleId}::int4), ${d.kind}, 'firing',
                   ${iso(d.at)}::timestamptz, ${clean(d.message)}, ${iso(d.at)}::timestamptz
            ON CONFLICT ("device_id", "kind") WHERE "state" = 'firing' DO NOTHING
            RETURNING *)
          SELECT *, true AS changed FROM ins
          UNION ALL
          SELECT *, false AS changed FROM "alerts"
           WHERE "device_id" = ${device} AND "kind" = ${d.kind} AND "state" = 'firing' AND NOT EXISTS (SELECT 1 FROM ins)`;
      case "resolve":
        return db.$queryRaw<AlertRow[]>`
          UPDATE "alerts" SET "state" = 'resolved', "resolved_at" = GREATEST("fired_at", ${iso(d.at)}::timestamptz),
                 "resolve_message" = ${clean(d.message)}
           WHERE "device_id" = ${device} AND "kind" = ${d.kind} AND "state" = 'firing'
          RETURNING *, true AS changed`;
      case "repeat":
        return db.$queryRaw<AlertRow[]>`
          UPDATE "alerts" SET "last_notified_at" = ${iso(d.at)}::timestamptz
           WHERE "device_id" = ${device} AND "kind" = ${d.kind} AND "state" = 'firing'
          RETURNING *, true AS changed`;
    }
  });
  const results = await db.$transaction(statements);
  const out: AppliedDecision[] = [];
  results.forEach((rows, i) => {
    const row = rows[0];
    if (row) out.push({ decision: decisions[i], alert: toAlert(row), changed: Boolean(row.changed) });
  });
  return out;
}

// ---------------------------------------------------------------- deliveries

export interface NewDelivery {
  alertId: string;
  event: DeliveryRecord["event"];
  url: string;
  attempt: number;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  at: number;
}

export async function recordDeliveries(db: Db, entries: readonly NewDelivery[]): Promise<void> {
  if (entries.length === 0) return;
  await db.$executeRaw`
    INSERT INTO "alert_deliveries" ("alert_id", "event", "url", "attempt", "ok", "status_code", "error", "duration_ms", "at")
    SELECT u.alert_id, u.event, u.url, u.attempt, u.ok, u.status_code, u.error, u.duration_ms, u.at
    FROM unnest(${entries.map((e) => e.alertId)}::bigint[], ${entries.map((e) => e.event)}::text[],
                ${entries.map((e) => e.url)}::text[], ${entries.map((e) => e.attempt)}::int4[],
                ${entries.map((e) => e.ok)}::boolean[], ${entries.map((e) => e.statusCode)}::int4[],
                ${entries.map((e) => (e.error === null ? null : clean(e.error).slice(0, 500)))}::text[],
                ${entries.map((e) => Math.round(e.durationMs))}::int4[], ${entries.map((e) => iso(e.at))}::timestamptz[])
         AS u(alert_id, event, url, attempt, ok, status_code, error, duration_ms, at)
    WHERE EXISTS (SELECT 1 FROM "alerts" a WHERE a."id" = u.alert_id)`;
}

export async function listDeliveries(db: Db, opts: { limit?: number } = {}): Promise<DeliveryRecord[]> {
  const limit = Math.min(Math.max(opts.limit ?? 100, 1), 1000);
  const rows = await db.$queryRaw<
    {
      id: bigint;
      alert_id: bigint;
      device_id: string | null;
      kind: string | null;
      event: string;
      url: string;
      attempt: number;
      ok: boolean;
      status_code: number | null;
      error: string | null;
      duration_ms: number;
      at: Date;
    }[]
  >`
    SELECT d.*, a."device_id", a."kind" FROM "alert_deliveries" d LEFT JOIN "alerts" a ON a."id" = d."alert_id"
    ORDER BY d."at" DESC, d."id" DESC LIMIT ${limit}`;
  return rows.map((r) => ({
    id: String(r.id),
    alertId: String(r.alert_id),
    deviceId: r.device_id,
    kind: r.kind,
    event: r.event as DeliveryRecord["event"],
    url: r.url,
    attempt: r.attempt,
    ok: r.ok,
    statusCode: r.status_code,
    error: r.error,
    durationMs: r.duration_ms,
    at: ms(r.at)!,
  }));
}
