/**
 * The ingest adapters and the one routing function the worker calls per MQTT
 * message. The $SYS adapters' topics do not overlap, so at most one of them
 * takes a given $SYS message; a `$`-topic is never read as a device topic.
 */
import type { AdapterResult, BrokerKind } from "../events";
import { brokerStatsAdapter } from "./broker-stats";
import type { ConfiguredBrokerKind } from "./detect";
import { type CompiledDeviceTopics, parseDeviceMessage } from "./device-topics";
import { emqxAdapter } from "./emqx";
import { mosquittoLogAdapter } from "./mosquitto-log";
import { nanomqAdapter } from "./nanomq";
import type { Adapter, AdapterContext } from "./types";

export type { Adapter, AdapterContext } from "./types";
export { compileDeviceTopics, createDeviceTopicsAdapter, DEFAULT_DEVICE_TOPICS } from "./device-topics";
export type { CompiledDeviceTopics, DeviceTopicMatch } from "./device-topics";
export { detectBrokerKind, parseBrokerKind } from "./detect";
export type { ConfiguredBrokerKind } from "./detect";

/** The broker-side adapters (device topics are configured: see compileDeviceTopics). */
export const adapters: readonly Adapter[] = [mosquittoLogAdapter, brokerStatsAdapter, emqxAdapter, nanomqAdapter];

const SYS_ADAPTERS: Readonly<Record<BrokerKind | ConfiguredBrokerKind, readonly Adapter[]>> = {
  mosquitto: [mosquittoLogAdapter, brokerStatsAdapter],
  emqx: [emqxAdapter],
  nanomq: [nanomqAdapter],
  aedes: [], // the embedded broker reports in-process, not through $SYS payloads
  unknown: adapters,
  auto: adapters,
};

export interface RouteOptions {
  /** Configured or detected broker; "auto"/"unknown" try every $SYS adapter. */
  kind: BrokerKind | ConfiguredBrokerKind;
  /** Compiled DEVICE_TOPICS; null when device topics are not watched. */
  deviceTopics: CompiledDeviceTopics | null;
}

/** A result combine() would return unchanged: no error to prefix, no empty optional fields to drop. */
const isPlain = (r: AdapterResult): boolean =>
  r.error === undefined && (r.stats === undefined || r.stats.length > 0) && r.brokerVersion === undefined;

function combine(parts: ReadonlyArray<{ adapter: string; result: AdapterResult }>): AdapterResult {
  // Nearly every message has one adapter and a plain result: that is the answer (this runs per message).
  if (parts.length === 1 && isPlain(parts[0].result)) return parts[0].result;
  const combined: AdapterResult = { events: parts.flatMap((p) => p.result.events) };
  const stats = parts.flatMap((p) => p.result.stats ?? []);
  if (stats.length > 0) combined.stats = stats;
  const version = parts.find((p) => p.result.brokerVersion)?.result.brokerVersion;
  if (version) combined.brokerVersion = version;
  const errors = parts.flatMap((p) => (p.result.error ? [`${p.adapter}: ${p.result.error}`] : []));
  if (errors.length > 0) combined.error = errors.join("; ");
  return combined;
}

/** Hands one MQTT message to the adapter(s) for its topic and merges what they say. */
export function route(
  topic: string,
  payload: Buffer | string,
  ctx: AdapterContext,
  options: RouteOptions,
): AdapterResult {
  if (topic.startsWith("$")) {
    const parts: { adapter: string; result: AdapterResult }[] = [];
    for (const a of SYS_ADAPTERS[options.kind])
      if (a.matches(topic)) parts.push({ adapter: a.name, result: a.parse(topic, payload, ctx) });
    return combine(parts);
  }
  if (options.deviceTopics === null) return { events: [] };
  const result = parseDeviceMessage(options.deviceTopics, topic, payload, ctx);
  return isPlain(result) ? result : combine([{ adapter: "device-topics", result }]);
}
