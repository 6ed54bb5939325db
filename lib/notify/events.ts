/**
 * The one event model every notification is built from, whatever the
 * channel: an alert fired, resolved, repeated or was acknowledged; an
 * incident opened, was updated or resolved; or a test. Channels render it
 * (lib/notify/channels/*); the webhook channel sends it as it is.
 *
 * An event is immutable once written to the outbox: its `id` is the
 * Idempotency-Key of every attempt to send it, on every channel.
 */
import { randomBytes } from "node:crypto";
import type { AlertDto, IncidentDto } from "../alerts/dto";

export const EVENT_TYPES = [
  "fired",
  "resolved",
  "repeat",
  "acknowledged",
  "incident_opened",
  "incident_update",
  "incident_resolved",
  "test",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface NotificationEvent {
  /** Unique per event (`evt_…`): the Idempotency-Key. */
  id: string;
  event: EventType;
  /** When it happened (ISO-8601). */
  at: string;
  /** The alert (device or system), or null for an incident's or a test event. */
  alert: AlertDto | null;
  incident: IncidentDto | null;
  /** Why it resolved, for `resolved`; the comment, for `acknowledged`. */
  note: string | null;
  rule: { id: number; name: string } | null;
  /** The device's page (or the alerts page) on KEEPWATCH_PUBLIC_URL, or null when that is not set. */
  link: string | null;
}

/** Several events merged into one message because the channel's rate limit was reached. */
export interface Digest {
  /** Derived from the events' ids: the same set gives the same key. */
  id: string;
  events: NotificationEvent[];
}

/** What a channel sends: one event, or a digest. */
export type Message = { kind: "event"; event: NotificationEvent } | { kind: "digest"; digest: Digest };

/** Random bytes drawn 4 KiB at a time: one call into the system's generator per 512 ids, not one per id. */
let pool = Buffer.alloc(0);
let poolAt = 0;

export function newEventId(): string {
  if (poolAt + 8 > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  poolAt += 8;
  return `evt_${Date.now().toString(36)}${pool.toString("hex", poolAt - 8, poolAt)}`;
}

/** The page an event points to: the device's, or the alerts page. */
export function eventLink(
  publicUrl: string | null | undefined,
  alert: Pick<AlertDto, "deviceId"> | null,
  incident: Pick<IncidentDto, "id"> | null = null,
): string | null {
  if (!publicUrl) return null;
  const base = publicUrl.replace(/\/+$/, "");
  if (alert?.deviceId) return `${base}/devices/${encodeURIComponent(alert.deviceId)}`;
  if (incident) return `${base}/alerts?incident=${encodeURIComponent(incident.id)}`;
  return `${base}/alerts`;
}

// ---------------------------------------------------------------- words shared by the templates

export const EVENT_TITLES: Record<EventType, string> = {
  fired: "Alert",
  resolved: "Resolved",
  repeat: "Still firing",
  acknowledged: "Acknowledged",
  incident_opened: "Incident",
  incident_update: "Incident update",
  incident_resolved: "Incident resolved",
  test: "Test",
};

/** Who or what the event is about, in a few words: "pump-1 (Pump 1)", "broker", "12 devices". */
export function subjectOf(e: NotificationEvent): string {
  if (e.alert?.deviceId) return e.alert.deviceName ? `${e.alert.deviceName} (${e.alert.deviceId})` : e.alert.deviceId;
  if (e.alert) return `keepwatch ${e.alert.source ?? "system"}`;
  if (e.incident) return `${e.incident.deviceCount} devices`;
  return "keepwatch";
}

/** One line: "Alert: pump-1 offline". */
export function headline(e: NotificationEvent): string {
  const kind = e.alert ? (e.alert.kind === "system" ? (e.alert.source ?? "system") : e.alert.kind) : null;
  if (e.event === "test") return "Test: keepwatch can reach this channel";
  if (e.incident && !e.alert) return `${EVENT_TITLES[e.event]}: ${e.incident.message}`;
  return `${EVENT_TITLES[e.event]}: ${subjectOf(e)}${kind ? ` ${kind}` : ""}`;
}

/** The details as label/value pairs, in the order every template shows them. */
export function facts(e: NotificationEvent): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (e.alert) {
    if (e.alert.deviceId) out.push(["Device", subjectOf(e)]);
    out.push(["Kind", e.alert.kind === "system" ? `system (${e.alert.source ?? "?"})` : e.alert.kind]);
    out.push(["Since", e.alert.firedAt]);
    out.push(["Reason", e.alert.message]);
    if (e.alert.resolvedAt) out.push(["Resolved", e.alert.resolvedAt]);
  }
  if (e.incident) {
    out.push(["Cause", `${e.incident.cause.kind} (${e.incident.cause.reason})`]);
    out.push(["Devices", `${e.incident.stillOffline} of ${e.incident.deviceCount} still offline`]);
    out.push(["Since", e.incident.openedAt]);
    if (!e.alert) out.push(["Reason", e.incident.message]);
  }
  if (e.note) out.push([e.event === "acknowledged" ? "Comment" : "Note", e.note]);
  if (e.rule) out.push(["Rule", e.rule.name]);
  if (e.event === "test") out.push(["Sent", e.at]);
  return out;
}

/** "12 fired, 3 resolved, 1 incident opened": how a digest sums up its events. */
export function digestSummary(events: readonly NotificationEvent[]): string {
  const counts = new Map<EventType, number>();
  for (const e of events) counts.set(e.event, (counts.get(e.event) ?? 0) + 1);
  const words: Record<EventType, string> = {
    fired: "fired",
    resolved: "resolved",
    repeat: "still firing",
    acknowledged: "acknowledged",
    incident_opened: "incidents opened",
    incident_update: "incident updates",
    incident_resolved: "incidents resolved",
    test: "tests",
  };
  const parts = EVENT_TYPES.filter((t) => counts.has(t)).map((t) => `${counts.get(t)} ${words[t]}`);
  return `${events.length} notifications: ${parts.join(", ")}`;
}

/** At most this many events are itemised in a digest; the rest are counted. */
export const DIGEST_ITEMS = 20;

/** The message a channel's test button sends. */
export function testEvent(publicUrl: string | null | undefined, now = new Date()): NotificationEvent {
  return {
    id: newEventId(),
    event: "test",
    at: now.toISOString(),
    alert: null,
    incident: null,
    note: "Sent from Settings → Channels to check that keepwatch can reach this channel.",
    rule: null,
    link: eventLink(publicUrl, null),
  };
}
