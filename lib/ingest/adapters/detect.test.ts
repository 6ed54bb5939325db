import { describe, expect, it } from "vitest";
import type { BrokerKind } from "../events";
import { detectBrokerKind, parseBrokerKind } from "./detect";

describe("parseBrokerKind (MQTT_BROKER_KIND)", () => {
  it.each([
    [undefined, "auto"],
    ["", "auto"],
    ["  ", "auto"],
    ["mosquitto", "mosquitto"],
    ["EMQX", "emqx"],
    [" nanomq ", "nanomq"],
    ["auto", "auto"],
  ])("%j → %s", (env, kind) => {
    expect(parseBrokerKind(env)).toBe(kind);
  });

  it.each(["hivemq", "aedes", "unknown", "mosquitto,emqx", "<img src=x>"])("rejects %j", (env) => {
    expect(() => parseBrokerKind(env)).toThrow(
      new Error(`Invalid MQTT_BROKER_KIND ${JSON.stringify(env)}: expected one of mosquitto, emqx, nanomq, auto`),
    );
  });
});

describe("detectBrokerKind", () => {
  it.each<[string, string | Buffer, BrokerKind | null]>([
    ["$SYS/broker/version", "mosquitto version 2.0.11", "mosquitto"], // recorded
    ["$SYS/broker/version", Buffer.from("Mosquitto version 1.6.9"), "mosquitto"],
    ["$SYS/broker/version", "SomeOtherBroker 1.0", null],
    ["$SYS/broker/version", Buffer.from([0xff, 0xfe]), null],
    ["$SYS/broker/log/N", "1795306848: Client dev-1 disconnected.", "mosquitto"],
    ["$SYS/broker/uptime", "121 seconds", null],
    ["$SYS/brokers/emqx@127.0.0.1/sysdescr", "EMQX", "emqx"],
    ["$SYS/brokers/node1/sysdescr", "EMQ X Broker", "emqx"],
    ["$SYS/brokers/emqx@127.0.0.1/version", "5.8.4", "emqx"],
    ["$SYS/brokers/node1/version", "5.8.4", null],
    ["$SYS/brokers/node1/version", "NanoMQ 0.24.1", "nanomq"],
    ["$SYS/brokers/emqx@127.0.0.1/clients/d1/connected", "{}", "emqx"],
    ["$SYS/brokers/connected", "{}", "nanomq"],
    ["$SYS/brokers/disconnected", "{}", "nanomq"],
    ["$SYS/brokers/client_status/d1", "{}", "nanomq"],
    ["$SYS/brokers", "emqx@127.0.0.1", null],
    ["devices/mosquitto/status", "mosquitto version 2.0.11", null],
    ["broker/version", "mosquitto", null],
  ])("%s %j → %s", (topic, payload, kind) => {
    expect(detectBrokerKind(topic, payload)).toBe(kind);
  });
});
