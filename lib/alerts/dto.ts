/**
 * Wire shapes of alerts: the HTTP API (`/api/alerts`, `/api/alert-rules`)
 * and the SSE `alerts` event. Times are ISO-8601 UTC strings.
 */
import type { AlertRecord, IncidentRecord } from "../store/alerts";
import type { DeliveryRecord } from "../store/notifications";
import type { DeliveryDto } from "../notify/dto";
import type { AlertKind, AlertRule } from "./rules";

export interface AlertDto {
  id: string;
  /** null for a system alert (kind `system`, see `source`). */
  deviceId: string | null;
  /** The device's name from the inventory, when it has one. */
  deviceName: string | null;
  /** System alerts: what keepwatch watches of itself (broker, database, debug_log, broker_restart); else null. */
  source: SystemSource | null;
  ruleId: number | null;
  kind: AlertKind | "system";
  state: "firing" | "resolved";
  firedAt: string;
  resolvedAt: string | null;
  message: string;
  /** The incident the alert belongs to (it does not notify on its own), or null. */
  incidentId: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  ackComment: string | null;
  /** A silence covered the device when it fired (recorded, not sent). */
  silenced: boolean;
  silenceId: string | null;
}

export type SystemSource = "broker" | "database" | "debug_log" | "broker_restart";

/** One incident: many devices offline for one cause, notified once (lib/alerts/incidents.ts). */
export interface IncidentDto {
  id: string;
  state: "open" | "resolved";
  openedAt: string;
  resolvedAt: string | null;
  cause: { kind: "broker_restart" | "mass_disconnect"; reason: string };
  deviceCount: number;
  stillOffline: number;
  message: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  ackComment: string | null;
}

/** `GET /api/incidents/{id}`: the incident and its devices. */
export interface IncidentDetailDto {
  incident: IncidentDto;
  devices: { deviceId: string; name: string | null; alertId: string; state: "firing" | "resolved" }[];
}

/** A silence or maintenance window (lib/alerts/silences.ts). */
export interface SilenceDto {
  id: string;
  /** Device glob (history syntax), or null. */
  match: string | null;
  /** Any of these tags (may be empty when `match` is set). */
  tags: string[];
  startsAt: string;
  endsAt: string | null;
  recurrence: { weekly: { day: string; start: string; minutes: number }[]; timeZone: string } | null;
  comment: string;
  createdBy: string | null;
  createdAt: string;
  /** Ended early (DELETE), or null. */
  endedAt: string | null;
  state: "active" | "upcoming" | "expired";
  /** Whether it mutes right now (a recurring window may be between its occurrences while active). */
  mutingNow: boolean;
}

/** SSE `alerts` event: the firing alerts (newest first, at most FEED_LIMIT) and how many fire in all. */
export interface AlertFeedMessage {
  serverTime: string;
  firingCount: number;
  firing: AlertDto[];
  /** While the monitor holds alerts back after start or a broker reconnect (ISO time), else null. */
  graceUntil: string | null;
  /** Open incidents, newest first. */
  incidents: IncidentDto[];
}

export const FEED_LIMIT = 200;

export interface AlertRuleDto extends AlertRule {
  /** Position in precedence order (1 = most specific, applied first). */
  precedence: number;
  /** Why this rule cannot be fully honoured on this monitor (no ping-visible source). */
  warnings: string[];
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A device's name from the inventory (none known: null). */
export type NameOf = (deviceId: string) => string | null;

export function toAlertDto(a: AlertRecord, nameOf: NameOf = () => null): AlertDto {
  return {
    id: a.id,
    deviceId: a.deviceId,
    deviceName: a.deviceId === null ? null : nameOf(a.deviceId),
    source: a.source,
    ruleId: a.ruleId,
    kind: a.kind,
    state: a.state,
    firedAt: new Date(a.firedAt).toISOString(),
    resolvedAt: iso(a.resolvedAt),
    message: a.message,
    incidentId: a.incidentId,
    acknowledgedAt: iso(a.acknowledgedAt),
    acknowledgedBy: a.acknowledgedBy,
    ackComment: a.ackComment,
    silenced: a.silenced,
    silenceId: a.silenceId,
  };
}

export function toIncidentDto(i: IncidentRecord): IncidentDto {
  return {
    id: i.id,
    state: i.state,
    openedAt: new Date(i.openedAt).toISOString(),
    resolvedAt: iso(i.resolvedAt),
    cause: i.cause,
    deviceCount: i.deviceCount,
    stillOffline: i.stillOffline,
    message: i.resolveMessage && i.state === "resolved" ? `${i.message}; ${i.resolveMessage}` : i.message,
    acknowledgedAt: iso(i.acknowledgedAt),
    acknowledgedBy: i.acknowledgedBy,
    ackComment: i.ackComment,
  };
}

export function toDeliveryDto(d: DeliveryRecord): DeliveryDto {
  return { ...d, at: new Date(d.at).toISOString() };
}
