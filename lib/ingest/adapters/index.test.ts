import { describe, expect, it } from "vitest";
import { adapters, type CompiledDeviceTopics, compileDeviceTopics, route } from "./index";

const RX = 1_795_307_000_000;
const ctx = { receivedAt: RX, retained: false };
const deviceTopics = compileDeviceTopics("devices/{id}/#,{id}/status");
const auto = { kind: "auto" as const, deviceTopics };

describe("route", () => {
  it("sends a Mosquitto log line to the log adapter", () => {
    expect(
      route("$SYS/broker/log/E", "1795306870: Client dev-dup already connected, closing old connection.", ctx, auto),
    ).toEqual({
      events: [{ kind: "takeover", deviceId: "dev-dup", at: 1795306870000, source: "mosquitto-log" }],
    });
  });

  it("sends Mosquitto stats and version to broker-stats", () => {
    expect(route("$SYS/broker/clients/connected", "3", ctx, auto)).toEqual({
      events: [],
      stats: [{ key: "clients/connected", value: 3, at: RX }],
    });
    expect(route("$SYS/broker/version", "mosquitto version 2.0.11", ctx, auto)).toEqual({
      events: [],
      brokerVersion: "mosquitto version 2.0.11",
    });
  });

  it("sends EMQX and NanoMQ presence to their adapters", () => {
    expect(
      route(
        "$SYS/brokers/emqx@127.0.0.1/clients/d1/disconnected",
        '{"clientid":"d1","reason":"kicked","disconnected_at":1795306800000}',
        ctx,
        auto,
      ),
    ).toEqual({
      events: [
        {
          kind: "disconnect",
          deviceId: "d1",
          at: 1795306800000,
          source: "emqx",
          reason: "admin",
          detail: "kicked",
          sessionConnectedAt: null,
        },
      ],
    });
    expect(
      route(
        "$SYS/brokers/disconnected",
        '{"username":"(null)","ts":1795306800000,"reason_code":"98","client_id":"d2"}',
        ctx,
        auto,
      ),
    ).toEqual({
      events: [
        {
          kind: "disconnect",
          deviceId: "d2",
          at: 1795306800000,
          source: "nanomq",
          reason: "admin",
          detail: "0x98 administrative action",
        },
      ],
    });
  });

  it("honours the configured broker kind", () => {
    const line = "1795306848: Client dev-1 disconnected.";
    expect(route("$SYS/broker/log/N", line, ctx, { kind: "emqx", deviceTopics }).events).toEqual([]);
    expect(route("$SYS/broker/log/N", line, ctx, { kind: "mosquitto", deviceTopics }).events).toHaveLength(1);
    expect(route("$SYS/broker/log/N", line, ctx, { kind: "unknown", deviceTopics }).events).toHaveLength(1);
    expect(route("$SYS/broker/log/N", line, ctx, { kind: "aedes", deviceTopics }).events).toEqual([]);
    expect(
      route("$SYS/brokers/connected", '{"client_id":"x"}', ctx, { kind: "mosquitto", deviceTopics }).events,
    ).toEqual([]);
  });

  it("never reads a $ topic as a device topic, even when a pattern would fit", () => {
    const greedy = compileDeviceTopics("{id}/#");
    expect(route("$SYS/status", "online", ctx, { kind: "auto", deviceTopics: greedy })).toEqual({ events: [] });
    expect(route("$SYS/broker/uptime", "5 seconds", ctx, { kind: "emqx", deviceTopics: greedy })).toEqual({
      events: [],
    });
  });

  it("keeps $ topics from device topics on its own, whatever the device matcher says", () => {
    const matchesEverything: CompiledDeviceTopics = {
      patterns: ["{id}/#"],
      subscriptions: ["+/#"],
      match: (topic) => ({ deviceId: topic.split("/")[0], pattern: "{id}/#", idLevel: 0 }),
    };
    const options = { kind: "auto" as const, deviceTopics: matchesEverything };
    expect(route("$SYS/x/status", "online", ctx, options)).toEqual({ events: [] });
    expect(route("$share/x/status", "online", ctx, options)).toEqual({ events: [] });
    expect(route("plain/x", "1", ctx, options).events).toHaveLength(1);
  });

  it("sends other topics to the device topics", () => {
    expect(route("esp-1/status", "offline", ctx, auto)).toEqual({
      events: [
        {
          kind: "status",
          deviceId: "esp-1",
          at: RX,
          source: "device-topic",
          online: false,
          detail: "offline",
          retained: false,
        },
      ],
    });
    expect(route("devices/d1/temp", "1", ctx, { kind: "auto", deviceTopics: null })).toEqual({ events: [] });
    expect(route("other/d1/temp", "1", ctx, auto)).toEqual({ events: [] });
  });

  it("names the adapter in errors", () => {
    expect(route("$SYS/broker/log/N", "", ctx, auto)).toEqual({ events: [], error: "mosquitto-log: empty log line" });
    expect(route("$SYS/brokers/connected", "{", ctx, auto).error).toMatch(
      /^nanomq: NanoMQ connected event: payload is not valid JSON/,
    );
  });

  it("gives nothing for $SYS topics no adapter reads", () => {
    expect(route("$SYS/broker/heap/current", "50568", ctx, auto)).toEqual({ events: [] });
  });

  it("has $SYS adapters whose topics do not overlap", () => {
    const topics = [
      "$SYS/broker/log/N",
      "$SYS/broker/clients/connected",
      "$SYS/broker/version",
      "$SYS/brokers/emqx@h/clients/x/connected",
      "$SYS/brokers/emqx@h/version",
      "$SYS/brokers/connected",
      "$SYS/brokers/client_status/x",
    ];
    for (const topic of topics) {
      expect(adapters.filter((a) => a.matches(topic)).map((a) => a.name)).toHaveLength(1);
    }
  });
});
