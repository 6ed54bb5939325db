/**
 * Wire shapes shared by the HTTP API, the SSE stream and the browser, as zod
 * schemas: the TypeScript types are inferred from them, and the OpenAPI
 * document (lib/api/openapi/document.ts) is generated from them, so the two
 * cannot drift. Times are ISO-8601 UTC strings, null where unknown.
 */
import { z } from "../zod";
import { DISCONNECT_REASONS, SIGNAL_SOURCES } from "../ingest/events";
import { DEVICE_STATUSES, type DeviceState, type SessionRecord } from "../fleet/types";
import { ACTIVITY_KINDS } from "../activity/points";

/** An ISO-8601 UTC time as the API writes it. */
export const isoTime = z.string().meta({ format: "date-time" });
const isoOrNull = isoTime.nullable();
const count = z.number().int().min(0);

export const disconnectReasonSchema = z.enum(DISCONNECT_REASONS);
export const deviceStatusSchema = z.enum(DEVICE_STATUSES);

export const deviceDtoSchema = z.object({
  id: z.string(),
  status: deviceStatusSchema,
  statusSince: isoTime,
  keepaliveSeconds: z.number().nullable(),
  lastSeenAt: isoOrNull,
  connectedAt: isoOrNull,
  sessionOpen: z
    .boolean()
    .describe("A connection session is open (connect seen, no end yet); may be true while `unknown` in a gap."),
  lastDisconnectAt: isoOrNull,
  lastDisconnectReason: disconnectReasonSchema.nullable(),
  disconnectCount: count,
  sources: z.array(z.enum(SIGNAL_SOURCES)).readonly(),
  name: z.string().nullable().describe("The operator's name for the device (lib/inventory), null when none."),
  tags: z.array(z.string()).readonly().describe("The operator's tags, sorted."),
  expected: z.boolean().describe('Inventory says the device should exist; it has never been seen ("never seen").'),
  muted: z.boolean().describe("An active silence covers the device now: its alerts are recorded, not sent."),
});
export type DeviceDto = z.infer<typeof deviceDtoSchema>;

/** What the inventory and the silences add to a device's state on the wire. */
export interface DeviceLabels {
  name: string | null;
  tags: readonly string[];
  /** Imported as expected and not seen since. */
  expected: boolean;
  muted: boolean;
}

export const NO_LABELS: DeviceLabels = { name: null, tags: [], expected: false, muted: false };

export const sessionDtoSchema = z.object({
  connectedAt: isoTime,
  disconnectedAt: isoOrNull,
  reason: disconnectReasonSchema.nullable(),
  keepaliveSeconds: z.number().nullable(),
  inferred: z
    .boolean()
    .describe("The end was inferred after a monitoring gap (no sign of life once watched again), not reported."),
});
export type SessionDto = z.infer<typeof sessionDtoSchema>;

export const statusCountsSchema = z.object({
  online: count,
  late: count,
  offline: count,
  unknown: count,
  total: count,
});
export type StatusCounts = z.infer<typeof statusCountsSchema>;

export const clusterDtoSchema = z.object({
  instanceId: z.string(),
  role: z.enum(["leader", "standby", "single"]),
  epoch: z.number().int().nullable().describe("The current leadership term (null: single, or no term read yet)."),
  leaderId: z.string().nullable(),
  leaderSince: isoOrNull,
  peers: z.array(z.object({ instanceId: z.string(), role: z.string(), lastSeenAt: isoTime })),
});
export type ClusterDto = z.infer<typeof clusterDtoSchema>;

export const brokerRestartDtoSchema = z.object({
  detectedAt: isoTime.describe("When keepwatch noticed."),
  downAt: isoTime.describe("Best estimate of when the broker went down: the sessions open then ended here."),
  upAt: isoTime.describe("When its new run started, as far as known."),
  evidence: z.array(z.string()).describe("What showed the restart."),
  devices: count.describe("Devices the restart dropped."),
  notBack: count.describe("Of those, how many are not back (not online or late) now."),
});
export type BrokerRestartDto = z.infer<typeof brokerRestartDtoSchema>;

/**
 * `GET /api/health` for a signed-in caller (and the SSE `health` field). Each
 * part is its own object below, so a new part is one more key here.
 */
/** A background job of lib/jobs/registry.ts, as `GET /api/health` lists it. */
export const jobDtoSchema = z.object({
  name: z.string(),
  intervalMs: count,
  running: z.boolean(),
  lastStartedAt: isoOrNull,
  lastDurationMs: z.number().nullable(),
  lastSuccessAt: isoOrNull,
  lastError: z
    .string()
    .nullable()
    .describe("The last failure's message; compare lastSuccessAt to see if it is current."),
  runs: count,
  overlaps: count.describe("Intervals skipped because the previous run was still going."),
});

export const healthDtoSchema = z.object({
  ok: z.boolean(),
  broker: z.object({
    connected: z.boolean(),
    kind: z.string(),
    version: z.string().nullable(),
    url: z.string(),
    since: isoOrNull.describe("When the current connection (or outage) began."),
    lastError: z.string().nullable(),
    stats: z
      .record(z.string(), z.number())
      .describe("Broker-wide aggregates ($SYS/broker/clients/*, load/*), when the broker offers them."),
    lastRestart: brokerRestartDtoSchema
      .nullable()
      .describe("The last broker restart since keepwatch started (lib/broker/restarts.ts), or null."),
  }),
  db: z.object({
    ok: z.boolean(),
    pendingWrites: count,
    droppedWrites: count,
    rejectedRows: count.describe(
      "Rows the database refused for what they hold, isolated and dropped (the rest was written).",
    ),
    alertWrites: z
      .object({ pending: count, dropped: count })
      .describe(
        "Alert writes (fires, resolutions, incident changes) waiting for the database, and dropped since start past ALERT_MAX_PENDING_WRITES.",
      ),
    lastError: z.string().nullable(),
    kind: z
      .enum(["postgres", "pglite"])
      .optional()
      .describe("Postgres (DATABASE_URL) or the embedded PGlite; absent until the database is opened."),
  }),
  ingest: z
    .object({
      rejected: z.record(z.string(), count.optional()),
      forgottenDevices: count
        .optional()
        .describe("Devices dropped from memory since start after FORGET_AFTER_DAYS without a sign of life."),
      maxDevices: count.optional().describe("MAX_DEVICES: beyond it, new ids are refused (`rejected.max_devices`)."),
    })
    .describe(
      "Events refused at ingest, by cause (lib/ingest/limits.ts): a device id too long, empty, or not valid text.",
    ),
  notifications: z
    .object({
      pending: count,
      dead: count,
      oldestPendingSeconds: z.number().nullable(),
      lastError: z.string().nullable(),
    })
    .describe(
      "The notification outbox (lib/notify): waiting, dead-lettered, the oldest waiting's age, and the last error reading it.",
    ),
  cluster: clusterDtoSchema.describe(
    'Leader and standbys sharing the database (lib/cluster); role "single" on the embedded database or broker.',
  ),
  monitor: z.object({
    startedAt: isoTime,
    gapSince: isoOrNull.describe("Open monitoring gap: the monitor is not hearing the broker since this time."),
    pingsVisible: z.boolean().describe("Whether any source that sees PINGREQs is active (silence verdicts possible)."),
    deviceTopics: z.array(z.string()),
    relearning: z
      .object({ since: isoTime, devices: count })
      .nullable()
      .describe(
        "After a gap (or keepwatch's own start): devices still `unknown` while being re-learned, and since when the monitor hears the broker again. Null when nothing is being re-learned.",
      ),
    debugLog: z
      .object({
        file: z.string(),
        seen: z.boolean(),
        stalled: z.boolean(),
        lastLineAt: isoOrNull,
        readOn: z
          .object({
            reading: z.boolean().describe("Still reading what was logged while keepwatch was away."),
            offset: count.nullable().describe("Byte where reading on began (null: it began at the end)."),
            bytes: count.nullable().describe("Bytes logged while keepwatch was away, read on."),
            reason: z
              .string()
              .nullable()
              .describe("Why it began at the end instead (rotated, truncated, over the limit)."),
          })
          .nullable()
          .optional()
          .describe(
            "At start-up: whether the log was read on from where the last run's stored changes end (MOSQUITTO_LOG_REPLAY_MAX_MB). Null when there was no earlier position.",
          ),
      })
      .optional()
      .describe(
        "With MOSQUITTO_LOG_FILE: whether it has shown debug lines, whether it stalled since, and how it was read on after a restart.",
      ),
  }),
  jobs: z
    .array(jobDtoSchema)
    .optional()
    .describe("The background jobs (lib/jobs/registry.ts); in `GET /api/health`, not in the live streams."),
});
export type HealthDto = z.infer<typeof healthDtoSchema>;

/** Where a stream's window stands in its view: the rows shown, in order. */
export const windowDtoSchema = z.object({
  offset: count.describe("Position of the first id in the view (clamped to the view)."),
  total: count.describe("Devices the view holds (the filter's matches)."),
  ids: z.array(z.string()),
});
export type WindowDto = z.infer<typeof windowDtoSchema>;

/** SSE `snapshot` event payload: the stream's window, the first message on every connection. */
export const snapshotMessageSchema = z.object({
  serverTime: isoTime,
  window: windowDtoSchema,
  devices: z.array(deviceDtoSchema).describe("The window's devices, in its order."),
  counts: statusCountsSchema,
  health: healthDtoSchema,
});
export type SnapshotMessage = z.infer<typeof snapshotMessageSchema>;

/**
 * SSE `delta` event payload: the window's devices that changed or entered it
 * since the last message, and the window itself when its rows or their order
 * moved (a device that left is simply no longer in `window.ids`).
 */
export const deltaMessageSchema = z.object({
  serverTime: isoTime,
  window: windowDtoSchema.optional(),
  devices: z.array(deviceDtoSchema),
  counts: statusCountsSchema,
  health: healthDtoSchema,
});
export type DeltaMessage = z.infer<typeof deltaMessageSchema>;

/**
 * SSE `device` event payload of a device stream (`GET /api/stream?device=`):
 * the device's live state, sent on subscribe and whenever it changes; null
 * while the monitor holds no such device.
 */
export const deviceEventMessageSchema = z.object({ serverTime: isoTime, device: deviceDtoSchema.nullable() });
export type DeviceEventMessage = z.infer<typeof deviceEventMessageSchema>;

export const activityPointDtoSchema = z.object({
  at: isoTime,
  kind: z.enum(ACTIVITY_KINDS),
  reason: disconnectReasonSchema.nullable().optional().describe("Disconnects only."),
});
export type ActivityPointDto = z.infer<typeof activityPointDtoSchema>;

/** SSE `activity` event payload of a device stream: the device's points since the last one. */
export const activityEventMessageSchema = z.object({ serverTime: isoTime, points: z.array(activityPointDtoSchema) });
export type ActivityEventMessage = z.infer<typeof activityEventMessageSchema>;

export const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

export function toDeviceDto(d: DeviceState, labels: DeviceLabels = NO_LABELS): DeviceDto {
  return {
    id: d.id,
    status: d.status,
    statusSince: new Date(d.statusSince).toISOString(),
    keepaliveSeconds: d.keepaliveSeconds,
    lastSeenAt: iso(d.lastSeenAt),
    connectedAt: iso(d.connectedAt),
    sessionOpen: d.sessionOpen,
    lastDisconnectAt: iso(d.lastDisconnectAt),
    lastDisconnectReason: d.lastDisconnectReason,
    disconnectCount: d.disconnectCount,
    sources: d.sources,
    name: labels.name,
    tags: labels.tags,
    expected: labels.expected,
    muted: labels.muted,
  };
}

export function toSessionDto(s: SessionRecord): SessionDto {
  return {
    connectedAt: new Date(s.connectedAt).toISOString(),
    disconnectedAt: iso(s.disconnectedAt),
    reason: s.reason,
    keepaliveSeconds: s.keepaliveSeconds,
    inferred: s.inferred === true,
  };
}

/** One disconnect (a session's end) with what led to it and what followed; durations in seconds. */
export const disconnectDtoSchema = z.object({
  deviceId: z.string(),
  deviceName: z.string().nullable().describe("The operator's name for the device, or null."),
  disconnectedAt: isoTime,
  reason: disconnectReasonSchema,
  keepaliveSeconds: z.number().nullable(),
  lastActivityAt: isoOrNull.describe("Last sign of life in the session, when known."),
  inferred: z
    .boolean()
    .describe(
      "Nobody saw this disconnect: after a monitoring gap the device showed no sign of life (ended at its last).",
    ),
  silenceSeconds: z.number().nullable().describe("How long the device had been silent before the drop."),
  connectedAt: isoTime.describe("Start of the session that ended."),
  sessionSeconds: z.number(),
  reconnectedAt: isoOrNull.describe("Start of the device's next session; null while it has not come back."),
  offlineSeconds: z.number().nullable(),
});
export type DisconnectDto = z.infer<typeof disconnectDtoSchema>;

export const disconnectListDtoSchema = z.object({
  disconnects: z.array(disconnectDtoSchema),
  nextCursor: z.string().nullable().describe("Pass back as `cursor` for the next (older) page; null on the last page."),
});
export type DisconnectListDto = z.infer<typeof disconnectListDtoSchema>;

export const deviceDisconnectStatsDtoSchema = z.object({
  deviceId: z.string(),
  deviceName: z.string().nullable(),
  disconnects: count,
  uptimePercent: z
    .number()
    .min(0)
    .max(100)
    .nullable()
    .describe("Share of the period (0–100) the device had a session open; null for an empty period."),
  meanSecondsBetweenDisconnects: z
    .number()
    .nullable()
    .describe("The period's length divided by the device's disconnects."),
});
export type DeviceDisconnectStatsDto = z.infer<typeof deviceDisconnectStatsDtoSchema>;

export const disconnectSummaryDtoSchema = z.object({
  period: z
    .object({ from: isoOrNull, to: isoTime })
    .describe("What the figures cover: [from, to), `to` no later than the time of the request."),
  total: count,
  devices: count,
  byReason: z.array(z.object({ reason: disconnectReasonSchema, count })),
  topDevices: z.array(deviceDisconnectStatsDtoSchema),
});
export type DisconnectSummaryDto = z.infer<typeof disconnectSummaryDtoSchema>;
