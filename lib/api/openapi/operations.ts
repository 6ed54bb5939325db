/**
 * Every operation of the HTTP API, described with the zod schemas the routes
 * parse their input with and the DTO schemas their answers are built from.
 * `document.ts` turns this list into the OpenAPI 3.1 document; a route file
 * under app/api whose exported methods are not listed here fails
 * lib/api/openapi/document.test.ts.
 */
import { z } from "../../zod";
import type { Role } from "../../auth/roles";
import { ackBody, alertsQuery, deliveriesQuery, incidentsQuery, previewQuery, silencesQuery } from "../alerts";
import {
  alertDtoSchema,
  alertFeedMessageSchema,
  alertRuleDtoSchema,
  incidentDetailDtoSchema,
  incidentDtoSchema,
  silenceDtoSchema,
} from "../../alerts/dto";
import { ruleInputSchema } from "../../alerts/rules";
import { silenceInputSchema } from "../../alerts/silences";
import { labelsPatchSchema } from "../../inventory/labels";
import { channelDtoSchema, channelTypeDtoSchema, deliveryDtoSchema, testAttemptDtoSchema } from "../../notify/dto";
import {
  auditDtoSchema,
  auditQuery,
  loginBody,
  newTokenBody,
  newUserBody,
  principalDtoSchema,
  setupBody,
  tokenDtoSchema,
  userChangeBody,
  userDtoSchema,
} from "../access";
import { activityDtoSchema, activityQuery } from "../activity";
import { channelBody } from "../channels";
import { deviceDetailSchema, deviceListQuery, deviceListSchema, findingSchema } from "../devices";
import { csvQueryShape, listQueryShape, summaryQueryShape } from "../disconnects";
import {
  activityEventMessageSchema,
  deltaMessageSchema,
  deviceDtoSchema,
  deviceEventMessageSchema,
  deviceStatusSchema,
  disconnectListDtoSchema,
  disconnectSummaryDtoSchema,
  healthDtoSchema,
  sessionDtoSchema,
  snapshotMessageSchema,
  statusCountsSchema,
} from "../dto";
import { insightsDtoSchema, insightsQuery } from "../insights";
import { UptimeQuerySchema, UptimeReportSchema } from "../reports";
import { importQuery, importRefusedSchema, importResultSchema, tagCountsSchema } from "../inventory";
import { streamQuery } from "../view-query";

export type Method = "get" | "post" | "put" | "patch" | "delete";

export interface ResponseSpec {
  description: string;
  /** JSON body schema (application/json), registered under `name` in components. */
  schema?: z.ZodType;
  name?: string;
  /** A body that is not JSON: its content type and a description of it. */
  content?: { type: string; description: string };
  /** For an event stream: each event's name and the named schema of its JSON data. */
  events?: Record<string, string>;
}

export interface Operation {
  method: Method;
  /** OpenAPI path template, `{name}` for path parameters. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /** The least role, or "public" (anyone; some answer more when signed in). */
  access: Role | "public";
  pathParams?: Record<string, z.ZodType>;
  query?: z.ZodRawShape;
  body?: { schema: z.ZodType; required?: boolean } | { content: string; description: string };
  responses: Record<number, ResponseSpec>;
  /** Error statuses this operation answers besides the ones every operation may (400, 401/403, 500, 503). */
  errors?: number[];
}

/** Named schemas: shown as components (and on /docs/api under these names). */
export const NAMED_SCHEMAS: Record<string, z.ZodType> = {
  Device: deviceDtoSchema,
  DeviceStatus: deviceStatusSchema,
  StatusCounts: statusCountsSchema,
  Session: sessionDtoSchema,
  Finding: findingSchema,
  Health: healthDtoSchema,
  Alert: alertDtoSchema,
  AlertRule: alertRuleDtoSchema,
  Incident: incidentDtoSchema,
  Silence: silenceDtoSchema,
  Channel: channelDtoSchema,
  ChannelType: channelTypeDtoSchema,
  Delivery: deliveryDtoSchema,
  User: userDtoSchema,
  Token: tokenDtoSchema,
  AuditEvent: auditDtoSchema,
  Principal: principalDtoSchema,
  // The event stream's messages (GET /api/stream), by event name.
  SnapshotEvent: snapshotMessageSchema,
  DeltaEvent: deltaMessageSchema,
  DeviceEvent: deviceEventMessageSchema,
  ActivityEvent: activityEventMessageSchema,
  AlertsEvent: alertFeedMessageSchema,
  HeartbeatEvent: z.object({ serverTime: z.string().meta({ format: "date-time" }) }),
};

const id = (what: string) => ({ id: z.string().describe(what) });
const json = (schema: z.ZodType, name?: string, description = "OK"): ResponseSpec => ({ description, schema, name });
const noContent: ResponseSpec = { description: "Done; no body." };

/** Answers several operations share (one component each). */
const ruleAnswer = z.object({ rule: alertRuleDtoSchema });
const alertAnswer = z.object({ alert: alertDtoSchema });
const incidentAnswer = z.object({ incident: incidentDtoSchema });
const silenceAnswer = z.object({ silence: silenceDtoSchema });
const channelAnswer = z.object({ channel: channelDtoSchema });
const userAnswer = z.object({ user: userDtoSchema });
const signedIn = z.object({ user: principalDtoSchema });

/** The stream's `limit` bound as documented: KEEPWATCH_STREAM_WINDOW_MAX's default. */
const DOCUMENTED_WINDOW_MAX = 500;

export const OPERATIONS: Operation[] = [
  // ---------------------------------------------------------------- system
  {
    method: "get",
    path: "/api/health",
    operationId: "getHealth",
    tag: "System",
    summary: "Health of the monitor, its broker link, database, outbox and cluster",
    description: "Without credentials only `{ ok }` (a load balancer's check); signed in, the whole picture.",
    access: "public",
    responses: {
      200: json(z.union([healthDtoSchema, z.object({ ok: z.boolean() })]), "HealthAnswer"),
    },
  },
  {
    method: "get",
    path: "/api/openapi.json",
    operationId: "getOpenApi",
    tag: "System",
    summary: "This document (OpenAPI 3.1)",
    description: "Public, like `GET /api/health`: the list of routes is not a secret; what they answer is.",
    access: "public",
    responses: { 200: json(z.record(z.string(), z.unknown()), "OpenApiDocument", "The OpenAPI 3.1 document") },
  },
  {
    method: "get",
    path: "/api/stream",
    operationId: "stream",
    tag: "System",
    summary: "Server-sent events: one window of one fleet view, one device, or the alert feed",
    description:
      "Each event's data is JSON: `snapshot` (SnapshotEvent) then `delta` (DeltaEvent) for a fleet window; `device` (DeviceEvent) and `activity` (ActivityEvent) with `?device=`; `alerts` (AlertsEvent) on every stream, alone with `?only=alerts`; `heartbeat` every 15 s. `only` and `device` exclude each other.",
    access: "viewer",
    query: streamQuery(DOCUMENTED_WINDOW_MAX),
    responses: {
      200: {
        description: "An event stream",
        content: { type: "text/event-stream", description: "Server-sent events, each with JSON data" },
        events: {
          snapshot: "SnapshotEvent",
          delta: "DeltaEvent",
          device: "DeviceEvent",
          activity: "ActivityEvent",
          alerts: "AlertsEvent",
          heartbeat: "HeartbeatEvent",
        },
      },
    },
    errors: [429],
  },
  {
    method: "get",
    path: "/metrics",
    operationId: "getMetrics",
    tag: "System",
    summary: "Prometheus metrics",
    description: "The viewer role or above however it is held, or anyone with METRICS_ANONYMOUS=1.",
    access: "public",
    responses: {
      200: {
        description: "Metrics",
        content: { type: "text/plain", description: "Prometheus text exposition format" },
      },
    },
  },
  // ---------------------------------------------------------------- devices
  {
    method: "get",
    path: "/api/devices",
    operationId: "listDevices",
    tag: "Devices",
    summary: "One page of devices, filtered, in natural id order",
    access: "viewer",
    query: deviceListQuery,
    responses: { 200: json(deviceListSchema, "DeviceList") },
  },
  {
    method: "get",
    path: "/api/devices/{id}",
    operationId: "getDevice",
    tag: "Devices",
    summary: "A device with its recent sessions and diagnosis",
    access: "viewer",
    pathParams: id("the device id, URL-encoded"),
    responses: { 200: json(deviceDetailSchema, "DeviceDetail") },
    errors: [404],
  },
  {
    method: "patch",
    path: "/api/devices/{id}",
    operationId: "labelDevice",
    tag: "Devices",
    summary: "Set a device's name, tags and notes",
    access: "operator",
    pathParams: id("the device id, URL-encoded"),
    body: { schema: labelsPatchSchema },
    responses: { 200: json(z.object({ device: deviceDtoSchema }), "DeviceAnswer") },
    errors: [404],
  },
  {
    method: "get",
    path: "/api/devices/{id}/activity",
    operationId: "getDeviceActivity",
    tag: "Devices",
    summary: "A device's keepalive timeline: points, minute roll-ups, sessions",
    access: "viewer",
    pathParams: id("the device id, URL-encoded"),
    query: activityQuery,
    responses: { 200: json(activityDtoSchema, "Activity") },
    errors: [404],
  },
  {
    method: "post",
    path: "/api/devices/import",
    operationId: "importDevices",
    tag: "Devices",
    summary: "Bulk import of names, tags and notes (CSV)",
    description: "`device_id,name,tags,notes`, tags separated by `;`. A file with any error changes nothing.",
    access: "operator",
    query: importQuery,
    body: { content: "text/csv", description: "CSV with a header line `device_id,name,tags,notes`" },
    responses: {
      200: json(importResultSchema, "ImportResult"),
      400: json(importRefusedSchema, "ImportRefused", "The file was refused: every error by line"),
    },
  },
  {
    method: "get",
    path: "/api/tags",
    operationId: "listTags",
    tag: "Devices",
    summary: "Every tag in use, with the status counts of its devices",
    access: "viewer",
    query: {},
    responses: { 200: json(z.object({ tags: z.array(tagCountsSchema) }), "TagList") },
  },
  {
    method: "get",
    path: "/api/insights",
    operationId: "getInsights",
    tag: "Devices",
    summary: "Keepalive distribution and disconnect reasons per hour",
    access: "viewer",
    query: insightsQuery,
    responses: { 200: json(insightsDtoSchema, "Insights") },
  },
  // ---------------------------------------------------------------- history
  {
    method: "get",
    path: "/api/disconnects",
    operationId: "listDisconnects",
    tag: "History",
    summary: "Disconnect history, newest first, a page at a time",
    access: "viewer",
    query: listQueryShape,
    responses: { 200: json(disconnectListDtoSchema, "DisconnectList") },
  },
  {
    method: "get",
    path: "/api/disconnects/summary",
    operationId: "summarizeDisconnects",
    tag: "History",
    summary: "Counts by reason, top devices, uptime for the same filter",
    access: "viewer",
    query: summaryQueryShape,
    responses: { 200: json(disconnectSummaryDtoSchema, "DisconnectSummary") },
  },
  {
    method: "get",
    path: "/api/disconnects.csv",
    operationId: "exportDisconnects",
    tag: "History",
    summary: "The filter's disconnects as streamed CSV",
    access: "viewer",
    query: csvQueryShape,
    responses: {
      200: {
        description: "A CSV attachment",
        content: { type: "text/csv", description: "RFC 4180 CSV with a header line" },
      },
    },
    errors: [429],
  },
  {
    method: "get",
    path: "/api/reports/uptime",
    operationId: "uptimeReport",
    tag: "History",
    summary: "Uptime per device and per tag for a period, as JSON or CSV",
    description:
      "The period is at most KEEPWATCH_REPORT_MAX_DAYS long; devices are paged by id, at most KEEPWATCH_REPORT_MAX_DEVICES a page (nextCursor, or the x-next-cursor header for CSV).",
    access: "viewer",
    query: UptimeQuerySchema.shape,
    responses: {
      200: {
        description: "The report (format=json, the default), or its devices as a CSV attachment (format=csv)",
        schema: UptimeReportSchema,
        name: "UptimeReport",
        content: { type: "text/csv", description: "RFC 4180 CSV with a header line, one record per device" },
      },
    },
  },
  // ---------------------------------------------------------------- alerts
  {
    method: "get",
    path: "/api/alert-rules",
    operationId: "listAlertRules",
    tag: "Alerts",
    summary: "Alert rules in precedence order",
    access: "viewer",
    query: {},
    responses: {
      200: json(z.object({ rules: z.array(alertRuleDtoSchema), pingsVisible: z.boolean() }), "AlertRuleList"),
    },
  },
  {
    method: "post",
    path: "/api/alert-rules",
    operationId: "createAlertRule",
    tag: "Alerts",
    summary: "Add an alert rule",
    access: "operator",
    body: { schema: ruleInputSchema },
    responses: { 201: json(ruleAnswer, "AlertRuleAnswer", "Created") },
    errors: [409],
  },
  {
    method: "get",
    path: "/api/alert-rules/{id}",
    operationId: "getAlertRule",
    tag: "Alerts",
    summary: "One alert rule",
    access: "viewer",
    pathParams: id("the rule id"),
    responses: { 200: json(ruleAnswer, "AlertRuleAnswer") },
    errors: [404],
  },
  {
    method: "put",
    path: "/api/alert-rules/{id}",
    operationId: "updateAlertRule",
    tag: "Alerts",
    summary: "Replace an alert rule",
    access: "operator",
    pathParams: id("the rule id"),
    body: { schema: ruleInputSchema },
    responses: { 200: json(ruleAnswer, "AlertRuleAnswer") },
    errors: [404],
  },
  {
    method: "delete",
    path: "/api/alert-rules/{id}",
    operationId: "deleteAlertRule",
    tag: "Alerts",
    summary: "Delete an alert rule (not the default one)",
    access: "operator",
    pathParams: id("the rule id"),
    responses: { 204: noContent },
    errors: [404, 409],
  },
  {
    method: "get",
    path: "/api/alert-rules/preview",
    operationId: "previewAlertRules",
    tag: "Alerts",
    summary: "Which rule applies to a device, and which others match",
    access: "viewer",
    query: previewQuery,
    responses: {
      200: json(
        z.object({
          deviceId: z.string(),
          rule: alertRuleDtoSchema.nullable(),
          matching: z.array(alertRuleDtoSchema),
          device: z.object({ keepaliveSeconds: z.number().nullable(), status: deviceStatusSchema }).nullable(),
          thresholds: z
            .object({
              offlineAfterSeconds: z.number().nullable(),
              lateAfterSeconds: z.number().nullable(),
              brokerDeadlineSeconds: z.number().nullable(),
              nearMissAboveSeconds: z.number().nullable(),
            })
            .nullable(),
        }),
        "AlertRulePreview",
      ),
    },
  },
  {
    method: "get",
    path: "/api/alerts",
    operationId: "listAlerts",
    tag: "Alerts",
    summary: "Alerts, newest first",
    access: "viewer",
    query: alertsQuery,
    responses: { 200: json(z.object({ alerts: z.array(alertDtoSchema) }), "AlertList") },
  },
  {
    method: "post",
    path: "/api/alerts/{id}/ack",
    operationId: "ackAlert",
    tag: "Alerts",
    summary: "Acknowledge an alert: repeat notifications stop",
    access: "operator",
    pathParams: id("the alert id"),
    body: { schema: ackBody, required: false },
    responses: { 200: json(alertAnswer, "AlertAnswer") },
    errors: [404],
  },
  {
    method: "delete",
    path: "/api/alerts/{id}/ack",
    operationId: "unackAlert",
    tag: "Alerts",
    summary: "Undo an alert's acknowledgement",
    access: "operator",
    pathParams: id("the alert id"),
    responses: { 200: json(alertAnswer, "AlertAnswer") },
    errors: [404],
  },
  {
    method: "get",
    path: "/api/alerts/deliveries",
    operationId: "listDeliveries",
    tag: "Alerts",
    summary: "The delivery log, newest first, one entry per attempt",
    access: "viewer",
    query: deliveriesQuery,
    responses: { 200: json(z.object({ deliveries: z.array(deliveryDtoSchema) }), "DeliveryList") },
  },
  {
    method: "post",
    path: "/api/notifications/{id}/retry",
    operationId: "retryNotification",
    tag: "Alerts",
    summary: "Put a dead-lettered notification back in the queue",
    access: "operator",
    pathParams: id("the notification id"),
    responses: {
      200: json(
        z.object({ notification: z.object({ id: z.string(), state: z.literal("pending") }) }),
        "NotificationRetry",
      ),
    },
    errors: [404, 409],
  },
  // ---------------------------------------------------------------- incidents
  {
    method: "get",
    path: "/api/incidents",
    operationId: "listIncidents",
    tag: "Incidents",
    summary: "Incidents, newest first",
    access: "viewer",
    query: incidentsQuery,
    responses: { 200: json(z.object({ incidents: z.array(incidentDtoSchema) }), "IncidentList") },
  },
  {
    method: "get",
    path: "/api/incidents/{id}",
    operationId: "getIncident",
    tag: "Incidents",
    summary: "One incident and its devices",
    access: "viewer",
    pathParams: id("the incident id (inc_…)"),
    responses: { 200: json(incidentDetailDtoSchema, "IncidentDetail") },
    errors: [404],
  },
  {
    method: "post",
    path: "/api/incidents/{id}/ack",
    operationId: "ackIncident",
    tag: "Incidents",
    summary: "Acknowledge an incident: its updates stop",
    access: "operator",
    pathParams: id("the incident id (inc_…)"),
    body: { schema: ackBody, required: false },
    responses: { 200: json(incidentAnswer, "IncidentAnswer") },
    errors: [404],
  },
  {
    method: "delete",
    path: "/api/incidents/{id}/ack",
    operationId: "unackIncident",
    tag: "Incidents",
    summary: "Undo an incident's acknowledgement",
    access: "operator",
    pathParams: id("the incident id (inc_…)"),
    responses: { 200: json(incidentAnswer, "IncidentAnswer") },
    errors: [404],
  },
  // ---------------------------------------------------------------- silences
  {
    method: "get",
    path: "/api/silences",
    operationId: "listSilences",
    tag: "Silences",
    summary: "Silences and maintenance windows by state",
    access: "viewer",
    query: silencesQuery,
    responses: { 200: json(z.object({ silences: z.array(silenceDtoSchema) }), "SilenceList") },
  },
  {
    method: "post",
    path: "/api/silences",
    operationId: "createSilence",
    tag: "Silences",
    summary: "Silence devices, once or weekly",
    access: "operator",
    body: { schema: silenceInputSchema },
    responses: { 201: json(silenceAnswer, "SilenceAnswer", "Created") },
  },
  {
    method: "delete",
    path: "/api/silences/{id}",
    operationId: "endSilence",
    tag: "Silences",
    summary: "End a silence now (it stays listed as expired)",
    access: "operator",
    pathParams: id("the silence id (sil_…)"),
    responses: { 200: json(silenceAnswer, "SilenceAnswer") },
    errors: [404],
  },
  // ---------------------------------------------------------------- channels
  {
    method: "get",
    path: "/api/channels",
    operationId: "listChannels",
    tag: "Channels",
    summary: "Every channel (secrets masked) and the channel types",
    access: "viewer",
    query: {},
    responses: {
      200: json(z.object({ channels: z.array(channelDtoSchema), types: z.array(channelTypeDtoSchema) }), "ChannelList"),
    },
  },
  {
    method: "post",
    path: "/api/channels",
    operationId: "createChannel",
    tag: "Channels",
    summary: "Add a channel (setting a secret needs the admin role)",
    access: "operator",
    body: { schema: channelBody },
    responses: { 201: json(channelAnswer, "ChannelAnswer", "Created") },
    errors: [409],
  },
  {
    method: "get",
    path: "/api/channels/{id}",
    operationId: "getChannel",
    tag: "Channels",
    summary: "One channel (secrets masked)",
    access: "viewer",
    pathParams: id("the channel id"),
    responses: { 200: json(channelAnswer, "ChannelAnswer") },
    errors: [404],
  },
  {
    method: "put",
    path: "/api/channels/{id}",
    operationId: "updateChannel",
    tag: "Channels",
    summary: "Replace a channel (changing or clearing a secret needs the admin role)",
    access: "operator",
    pathParams: id("the channel id"),
    body: { schema: channelBody },
    responses: { 200: json(channelAnswer, "ChannelAnswer") },
    errors: [404],
  },
  {
    method: "delete",
    path: "/api/channels/{id}",
    operationId: "deleteChannel",
    tag: "Channels",
    summary: "Delete a channel with its waiting notifications",
    access: "operator",
    pathParams: id("the channel id"),
    responses: { 204: noContent },
    errors: [404],
  },
  {
    method: "post",
    path: "/api/channels/{id}/test",
    operationId: "testChannel",
    tag: "Channels",
    summary: "Send a test message now",
    access: "operator",
    pathParams: id("the channel id"),
    responses: { 200: json(z.object({ attempt: testAttemptDtoSchema }), "TestAttempt") },
    errors: [404],
  },
  // ---------------------------------------------------------------- access
  {
    method: "post",
    path: "/api/auth/login",
    operationId: "login",
    tag: "Access",
    summary: "Sign in: the session cookie",
    access: "public",
    body: { schema: loginBody },
    responses: { 200: json(signedIn, "SignedIn") },
    errors: [429],
  },
  {
    method: "post",
    path: "/api/auth/logout",
    operationId: "logout",
    tag: "Access",
    summary: "Sign out: the session ends everywhere",
    access: "viewer",
    responses: { 204: noContent },
  },
  {
    method: "get",
    path: "/api/auth/me",
    operationId: "whoAmI",
    tag: "Access",
    summary: "Who the request is from",
    access: "viewer",
    responses: {
      200: json(z.object({ user: principalDtoSchema, via: z.enum(["session", "token", "anonymous"]) }), "Me"),
    },
  },
  {
    method: "post",
    path: "/api/setup",
    operationId: "setup",
    tag: "Access",
    summary: "The first admin, with the one-time token from the start-up log",
    access: "public",
    body: { schema: setupBody },
    responses: { 201: json(signedIn, "SignedIn", "Created and signed in") },
    errors: [409],
  },
  {
    method: "get",
    path: "/api/users",
    operationId: "listUsers",
    tag: "Access",
    summary: "Users",
    access: "admin",
    responses: { 200: json(z.object({ users: z.array(userDtoSchema) }), "UserList") },
  },
  {
    method: "post",
    path: "/api/users",
    operationId: "createUser",
    tag: "Access",
    summary: "Add a user",
    access: "admin",
    body: { schema: newUserBody },
    responses: { 201: json(userAnswer, "UserAnswer", "Created") },
    errors: [409],
  },
  {
    method: "put",
    path: "/api/users/{username}",
    operationId: "updateUser",
    tag: "Access",
    summary: "Change a user's password or role (its sessions end)",
    access: "admin",
    pathParams: { username: z.string().describe("the user name, URL-encoded") },
    body: { schema: userChangeBody },
    responses: { 200: json(userAnswer, "UserAnswer") },
    errors: [404, 409],
  },
  {
    method: "delete",
    path: "/api/users/{username}",
    operationId: "deleteUser",
    tag: "Access",
    summary: "Delete a user (not the last admin)",
    access: "admin",
    pathParams: { username: z.string().describe("the user name, URL-encoded") },
    responses: { 204: noContent },
    errors: [404, 409],
  },
  {
    method: "get",
    path: "/api/tokens",
    operationId: "listTokens",
    tag: "Access",
    summary: "API tokens in use (never the token itself)",
    access: "admin",
    responses: { 200: json(z.object({ tokens: z.array(tokenDtoSchema) }), "TokenList") },
  },
  {
    method: "post",
    path: "/api/tokens",
    operationId: "createToken",
    tag: "Access",
    summary: "Create an API token: it is shown this once",
    access: "admin",
    body: { schema: newTokenBody },
    responses: {
      201: json(tokenDtoSchema.extend({ token: z.string().describe("The secret (kw_…), shown once.") }), "NewToken"),
    },
  },
  {
    method: "delete",
    path: "/api/tokens/{id}",
    operationId: "revokeToken",
    tag: "Access",
    summary: "Revoke a token at once (its open streams end)",
    access: "admin",
    pathParams: id("the token id"),
    responses: { 204: noContent },
    errors: [404],
  },
  {
    method: "get",
    path: "/api/audit",
    operationId: "listAudit",
    tag: "Access",
    summary: "The audit log, newest first",
    access: "admin",
    query: auditQuery,
    responses: { 200: json(z.object({ events: z.array(auditDtoSchema) }), "AuditLog") },
  },
];
