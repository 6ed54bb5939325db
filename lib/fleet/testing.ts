/**
 * Event builders and effect helpers shared by lib/fleet tests.
 */
import type {
  ConnectEvent,
  DisconnectEvent,
  DisconnectReason,
  PingEvent,
  PublishEvent,
  SignalSource,
  StatusEvent,
  TakeoverEvent,
} from "../ingest/events";
import type { DeviceStatus, FleetEffect } from "./types";

export const T0 = 1_700_000_000_000;
/** T0 plus `n` seconds. */
export const sec = (n: number): number => T0 + n * 1000;

export function connect(at: number, extra: Partial<ConnectEvent> = {}): ConnectEvent {
  return {
    kind: "connect",
    deviceId: "dev-1",
    at,
    source: "mosquitto-log",
    keepaliveSeconds: 10,
    address: "10.0.0.5:50000",
    protocol: "3.1.1",
    cleanStart: true,
    ...extra,
  };
}

export function disconnect(
  at: number,
  reason: DisconnectReason,
  extra: Partial<DisconnectEvent> = {},
): DisconnectEvent {
  return { kind: "disconnect", deviceId: "dev-1", at, source: "mosquitto-log", reason, ...extra };
}

export function takeover(at: number, extra: Partial<TakeoverEvent> = {}): TakeoverEvent {
  return { kind: "takeover", deviceId: "dev-1", at, source: "mosquitto-log", ...extra };
}

export function ping(at: number, extra: Partial<PingEvent> = {}): PingEvent {
  return { kind: "ping", deviceId: "dev-1", at, source: "mosquitto-debug", ...extra };
}

export function publish(at: number, extra: Partial<PublishEvent> = {}): PublishEvent {
  return { kind: "publish", deviceId: "dev-1", at, source: "device-topic", topic: "devices/dev-1/temp", ...extra };
}

export function status(at: number, online: boolean, extra: Partial<StatusEvent> = {}): StatusEvent {
  return { kind: "status", deviceId: "dev-1", at, source: "device-topic", online, retained: false, ...extra };
}

export const emqx = { source: "emqx" as SignalSource };

/** The sessions a stream of effects describes: key → reason (null while open). */
export function sessionTable(effects: FleetEffect[], deviceId = "dev-1"): Map<number, DisconnectReason | null> {
  const table = new Map<number, DisconnectReason | null>();
  for (const e of effects) {
    if (e.type === "session-open" && e.session.deviceId === deviceId) table.set(e.session.connectedAt, null);
    if ((e.type === "session-close" || e.type === "session-refine") && e.deviceId === deviceId)
      table.set(e.connectedAt, e.reason);
  }
  return table;
}

export const statusChanges = (effects: FleetEffect[]): [DeviceStatus | null, DeviceStatus, number][] =>
  effects.flatMap((e) =>
    e.type === "status-change" ? [[e.from, e.to, e.at] as [DeviceStatus | null, DeviceStatus, number]] : [],
  );

export const ofType = <K extends FleetEffect["type"]>(effects: FleetEffect[], type: K) =>
  effects.filter((e): e is Extract<FleetEffect, { type: K }> => e.type === type);
