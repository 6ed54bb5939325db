/**
 * Which broker is on the other end: configured by MQTT_BROKER_KIND, or detected
 * from the first telling $SYS message (the worker subscribes to $SYS/# anyway;
 * the version topics are retained, so they arrive right after subscribing).
 */
import type { BrokerKind } from "../events";
import { matches as isEmqxEvent } from "./emqx";
import { matches as isNanomqEvent } from "./nanomq";
import { decodeUtf8 } from "./payload";

export type ConfiguredBrokerKind = "mosquitto" | "emqx" | "nanomq" | "auto";
const CONFIGURABLE: readonly ConfiguredBrokerKind[] = ["mosquitto", "emqx", "nanomq", "auto"];

/** MQTT_BROKER_KIND: unset or empty → "auto"; case and surrounding spaces ignored. */
export function parseBrokerKind(env: string | undefined): ConfiguredBrokerKind {
  const value = (env ?? "").trim().toLowerCase();
  if (value === "") return "auto";
  const kind = CONFIGURABLE.find((k) => k === value);
  if (!kind) {
    throw new Error(`Invalid MQTT_BROKER_KIND ${JSON.stringify(env)}: expected one of ${CONFIGURABLE.join(", ")}`);
  }
  return kind;
}

/** `$SYS/brokers/<node>/version` or `/sysdescr`. */
const BROKERS_INFO = /^\$SYS\/brokers\/([^/]+)\/(version|sysdescr)$/;

function textOf(payload: Buffer | string): string {
  return (decodeUtf8(payload) ?? "").toLowerCase();
}

/** The broker kind this message reveals, or null when it says nothing about it. */
export function detectBrokerKind(topic: string, payload: Buffer | string): BrokerKind | null {
  if (!topic.startsWith("$SYS/")) return null;
  if (topic === "$SYS/broker/version") return textOf(payload).includes("mosquitto") ? "mosquitto" : null;
  if (topic.startsWith("$SYS/broker/log/")) return "mosquitto"; // only Mosquitto publishes its log there
  if (isNanomqEvent(topic)) return "nanomq";

  const info = BROKERS_INFO.exec(topic);
  if (info) {
    const text = textOf(payload);
    if (text.includes("nanomq")) return "nanomq";
    if (text.includes("emq")) return "emqx"; // "EMQX", "EMQ X Broker", "EMQX Enterprise"
    return info[1].includes("@") ? "emqx" : null; // an Erlang node name: EMQX (its version is just "5.8.4")
  }
  return isEmqxEvent(topic) ? "emqx" : null;
}
