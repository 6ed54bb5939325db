/** Wire shapes of channels and the delivery log (`/api/channels`, `/api/alerts/deliveries`). */
import type { ChannelTypeName } from "./channels/types";

export interface ChannelDto {
  id: number;
  name: string;
  type: ChannelTypeName;
  /** The type's settings with every secret masked ("••••" + last 4; URLs: host shown, path masked). */
  config: Record<string, unknown>;
  enabled: boolean;
  /** System alerts and incidents go here. */
  defaultForSystem: boolean;
  /** The channel's own limit (messages per minute), or null for its type's default. */
  ratePerMinute: number | null;
  /** The limit in force: its own, or its type's default; null: none. */
  effectiveRatePerMinute: number | null;
  /** Notifications waiting, and dead-lettered ones. */
  pending: number;
  dead: number;
  createdAt: string;
  updatedAt: string;
}

/** What the channel form needs to know of each type. */
export interface ChannelTypeDto {
  type: ChannelTypeName;
  label: string;
  /** Config fields that are secrets (write-only; send the masked value back to keep them). */
  secretFields: string[];
  defaultRatePerMinute: number | null;
}

/** `POST /api/channels/{id}/test`: the attempt. */
export interface TestAttemptDto {
  ok: boolean;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
}

/** One delivery attempt. */
export interface DeliveryDto {
  id: string;
  alertId: string | null;
  incidentId: string | null;
  deviceId: string | null;
  kind: string | null;
  channelId: number | null;
  /** The channel's name now (null once deleted). */
  channelName: string | null;
  channelType: string | null;
  notificationId: string | null;
  event: string;
  /** Where it went, secrets masked. */
  url: string;
  attempt: number;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  at: string;
  /** No further attempt follows this one. */
  final: boolean;
  /** Sent merged with others in one digest. */
  digest: boolean;
  /** The notification is dead-lettered now (POST /api/notifications/{notificationId}/retry sends it again). */
  dead: boolean;
}

export type DeliveryOutcome = "ok" | "failed" | "dead";
