/**
 * Wire shapes of alerts: the HTTP API (`/api/alerts`, `/api/alert-rules`)
 * and the SSE `alerts` event. Times are ISO-8601 UTC strings.
 */
import type { AlertRecord, DeliveryRecord } from "../store/alerts";
import type { AlertKind, AlertRule } from "./rules";

export interface AlertDto {
  id: string;
  deviceId: string;
  ruleId: number | null;
  kind: AlertKind;
  state: "firing" | "resolved";
  firedAt: string;
  resolvedAt: string | null;
  message: string;
}

/** SSE `alerts` event: the firing alerts (newest first, at most FEED_LIMIT) and how many fire in all. */
export interface AlertFeedMessage {
  serverTime: string;
  firingCount: number;
  firing: AlertDto[];
  /** While the monitor holds alerts back after start or a broker reconnect (ISO time), else null. */
  graceUntil: string | null;
}

export const FEED_LIMIT = 200;

export interface AlertRuleDto extends AlertRule {
  /** Position in precedence order (1 = most specific, applied first). */
  precedence: number;
  /** Why this rule cannot be fully honoured on this monitor (no ping-visible source). */
  warnings: string[];
}

/** A delivery log entry on the wire: the stored record with its time as ISO-8601. */
export type DeliveryDto = Omit<DeliveryRecord, "at"> & { at: string };

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toAlertDto(a: AlertRecord): AlertDto {
  return {
    id: a.id,
    deviceId: a.deviceId,
    ruleId: a.ruleId,
    kind: a.kind,
    state: a.state,
    firedAt: new Date(a.firedAt).toISOString(),
    resolvedAt: iso(a.resolvedAt),
    message: a.message,
  };
}

export function toDeliveryDto(d: DeliveryRecord): DeliveryDto {
  return { ...d, at: new Date(d.at).toISOString() };
}
