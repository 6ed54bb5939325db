/**
 * Wire shapes of alerts: the HTTP API (`/api/alerts`, `/api/alert-rules`)
 * and the SSE `alerts` event. Times are ISO-8601 UTC strings.
 */
import { z } from "../zod";
import type { AlertRecord, IncidentRecord } from "../store/alerts";
import type { DeliveryRecord } from "../store/notifications";
import type { DeliveryDto } from "../notify/dto";
import { ALERT_KINDS } from "./rules";

const isoTime = z.string().meta({ format: "date-time" });
const isoOrNull = isoTime.nullable();

export const SYSTEM_SOURCES = ["broker", "database", "debug_log", "broker_restart"] as const;
export type SystemSource = (typeof SYSTEM_SOURCES)[number];

export const alertDtoSchema = z.object({
  id: z.string(),
  deviceId: z.string().nullable().describe("null for a system alert (kind `system`, see `source`)."),
  deviceName: z.string().nullable().describe("The device's name from the inventory, when it has one."),
  source: z
    .enum(SYSTEM_SOURCES)
    .nullable()
    .describe(
      "System alerts: what keepwatch watches of itself (broker, database, debug_log, broker_restart); else null.",
    ),
  ruleId: z.number().int().nullable(),
  kind: z.enum([...ALERT_KINDS, "system"]),
  state: z.enum(["firing", "resolved"]),
  firedAt: isoTime,
  resolvedAt: isoOrNull,
  message: z.string(),
  incidentId: z
    .string()
    .nullable()
    .describe("The incident the alert belongs to (it does not notify on its own), or null."),
  acknowledgedAt: isoOrNull,
  acknowledgedBy: z.string().nullable(),
  ackComment: z.string().nullable(),
  silenced: z.boolean().describe("A silence covered the device when it fired (recorded, not sent)."),
  silenceId: z.string().nullable(),
});
export type AlertDto = z.infer<typeof alertDtoSchema>;

/** One incident: many devices offline for one cause, notified once (lib/alerts/incidents.ts). */
export const incidentDtoSchema = z.object({
  id: z.string(),
  state: z.enum(["open", "resolved"]),
  openedAt: isoTime,
  resolvedAt: isoOrNull,
  cause: z.object({ kind: z.enum(["broker_restart", "mass_disconnect"]), reason: z.string() }),
  deviceCount: z.number().int(),
  stillOffline: z.number().int(),
  message: z.string(),
  acknowledgedAt: isoOrNull,
  acknowledgedBy: z.string().nullable(),
  ackComment: z.string().nullable(),
});
export type IncidentDto = z.infer<typeof incidentDtoSchema>;

/** `GET /api/incidents/{id}`: the incident and its devices. */
export const incidentDetailDtoSchema = z.object({
  incident: incidentDtoSchema,
  devices: z.array(
    z.object({
      deviceId: z.string(),
      name: z.string().nullable(),
      alertId: z.string(),
      state: z.enum(["firing", "resolved"]),
    }),
  ),
});
export type IncidentDetailDto = z.infer<typeof incidentDetailDtoSchema>;

/** A silence or maintenance window (lib/alerts/silences.ts). */
export const silenceDtoSchema = z.object({
  id: z.string(),
  match: z.string().nullable().describe("Device glob (history syntax), or null."),
  tags: z.array(z.string()).describe("Any of these tags (may be empty when `match` is set)."),
  startsAt: isoTime,
  endsAt: isoOrNull,
  recurrence: z
    .object({
      weekly: z.array(z.object({ day: z.string(), start: z.string(), minutes: z.number().int() })),
      timeZone: z.string(),
    })
    .nullable(),
  comment: z.string(),
  createdBy: z.string().nullable(),
  createdAt: isoTime,
  endedAt: isoOrNull.describe("Ended early (DELETE), or null."),
  state: z.enum(["active", "upcoming", "expired"]),
  mutingNow: z
    .boolean()
    .describe("Whether it mutes right now (a recurring window may be between its occurrences while active)."),
});
export type SilenceDto = z.infer<typeof silenceDtoSchema>;

/** SSE `alerts` event: the firing alerts (newest first, at most FEED_LIMIT) and how many fire in all. */
export const alertFeedMessageSchema = z.object({
  serverTime: isoTime,
  firingCount: z.number().int(),
  firing: z.array(alertDtoSchema),
  graceUntil: isoOrNull.describe(
    "While the monitor holds alerts back after start or a broker reconnect (ISO time), else null.",
  ),
  incidents: z.array(incidentDtoSchema).describe("Open incidents, newest first."),
});
export type AlertFeedMessage = z.infer<typeof alertFeedMessageSchema>;

export const FEED_LIMIT = 200;

const optionalNumber = z.number().nullable();

export const alertRuleDtoSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  match: z.string(),
  offlineFactor: optionalNumber,
  offlineSeconds: optionalNumber,
  lateFactor: optionalNumber,
  flapDisconnects: optionalNumber,
  flapWindowSeconds: optionalNumber,
  nearMissRatio: optionalNumber,
  resolveAfterSeconds: z.number(),
  repeatIntervalSeconds: optionalNumber,
  channelIds: z.array(z.number().int()).describe("The channels its alerts are notified on (lib/notify)."),
  tags: z.array(z.string()).describe("Devices with any of these tags (and matching the glob); empty: the glob alone."),
  enabled: z.boolean(),
  isDefault: z.boolean().describe("The catch-all rule: match `*`, cannot be deleted."),
  precedence: z.number().int().min(1).describe("Position in precedence order (1 = most specific, applied first)."),
  warnings: z
    .array(z.string())
    .describe("Why this rule cannot be fully honoured on this monitor (no ping-visible source)."),
});
export type AlertRuleDto = z.infer<typeof alertRuleDtoSchema>;

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
