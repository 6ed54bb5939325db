/** Wire shapes of channels and the delivery log (`/api/channels`, `/api/alerts/deliveries`), as zod schemas. */
import { z } from "../zod";
import { CHANNEL_TYPES } from "./channels/types";

const isoTime = z.string().meta({ format: "date-time" });

export const channelDtoSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  type: z.enum(CHANNEL_TYPES),
  config: z
    .record(z.string(), z.unknown())
    .describe('The type\'s settings with every secret masked ("••••" + last 4; URLs: host shown, path masked).'),
  enabled: z.boolean(),
  defaultForSystem: z.boolean().describe("System alerts and incidents go here."),
  ratePerMinute: z
    .number()
    .nullable()
    .describe("The channel's own limit (messages per minute), or null for its type's default."),
  effectiveRatePerMinute: z
    .number()
    .nullable()
    .describe("The limit in force: its own, or its type's default; null: none."),
  pending: z.number().int().describe("Notifications waiting."),
  dead: z.number().int().describe("Dead-lettered notifications."),
  createdAt: isoTime,
  updatedAt: isoTime,
});
export type ChannelDto = z.infer<typeof channelDtoSchema>;

/** What the channel form needs to know of each type. */
export const channelTypeDtoSchema = z.object({
  type: z.enum(CHANNEL_TYPES),
  label: z.string(),
  secretFields: z
    .array(z.string())
    .describe("Config fields that are secrets (write-only; send the masked value back to keep them)."),
  defaultRatePerMinute: z.number().nullable(),
});
export type ChannelTypeDto = z.infer<typeof channelTypeDtoSchema>;

/** `POST /api/channels/{id}/test`: the attempt. */
export const testAttemptDtoSchema = z.object({
  ok: z.boolean(),
  statusCode: z.number().int().nullable(),
  durationMs: z.number(),
  error: z.string().nullable(),
});
export type TestAttemptDto = z.infer<typeof testAttemptDtoSchema>;

/** One delivery attempt. */
export const deliveryDtoSchema = z.object({
  id: z.string(),
  alertId: z.string().nullable(),
  incidentId: z.string().nullable(),
  deviceId: z.string().nullable(),
  kind: z.string().nullable(),
  channelId: z.number().int().nullable(),
  channelName: z.string().nullable().describe("The channel's name now (null once deleted)."),
  channelType: z.string().nullable(),
  notificationId: z.string().nullable(),
  event: z.string(),
  url: z.string().describe("Where it went, secrets masked."),
  attempt: z.number().int(),
  ok: z.boolean(),
  statusCode: z.number().int().nullable(),
  error: z.string().nullable(),
  durationMs: z.number(),
  at: isoTime,
  final: z.boolean().describe("No further attempt follows this one."),
  digest: z.boolean().describe("Sent merged with others in one digest."),
  dead: z
    .boolean()
    .describe("The notification is dead-lettered now (POST /api/notifications/{notificationId}/retry sends it again)."),
});
export type DeliveryDto = z.infer<typeof deliveryDtoSchema>;

export type DeliveryOutcome = "ok" | "failed" | "dead";
