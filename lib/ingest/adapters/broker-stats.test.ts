import { describe, expect, it } from "vitest";
import { brokerStatsAdapter, matches, parse, statKey } from "./broker-stats";
import { loadSysStats } from "./fixtures/recorded";

const RX = 1_795_307_000_000;
const ctx = { receivedAt: RX, retained: false };

describe("broker-stats: recorded Mosquitto 2.0.11 $SYS/broker/#", () => {
  const messages = loadSysStats("mosquitto-2.0-sys.txt");
  const retained = messages.filter((m) => m.retained);

  it("reads the retained replay exactly", () => {
    const results = retained
      .filter((m) => matches(m.topic))
      .map((m) => parse(m.topic, m.payload, { receivedAt: RX, retained: true }));
    expect(results.flatMap((r) => (r.error ? [r.error] : []))).toEqual([]);
    expect(results.flatMap((r) => r.events)).toEqual([]);
    const stats = results.flatMap((r) => r.stats ?? []).sort((a, b) => a.key.localeCompare(b.key));
    expect(stats).toEqual(
      [
        ["clients/connected", 2],
        ["clients/disconnected", 2],
        ["clients/expired", 1],
        ["clients/maximum", 5],
        ["clients/total", 4],
        ["load/bytes/received/15min", 4388.02],
        ["load/bytes/received/1min", 30617.81],
        ["load/bytes/received/5min", 11794.45],
        ["load/bytes/sent/15min", 2281.42],
        ["load/bytes/sent/1min", 15131.11],
        ["load/bytes/sent/5min", 6048.11],
        ["load/connections/15min", 2.59],
        ["load/connections/1min", 14.05],
        ["load/connections/5min", 6.68],
        ["load/messages/received/15min", 4.57],
        ["load/messages/received/1min", 25],
        ["load/messages/received/5min", 11.76],
        ["load/messages/sent/15min", 21.42],
        ["load/messages/sent/1min", 134.45],
        ["load/messages/sent/5min", 56.19],
        ["load/publish/received/1min", 0.39],
        ["load/publish/received/5min", 0.29],
        ["load/publish/sent/15min", 18.39],
        ["load/publish/sent/1min", 117.33],
        ["load/publish/sent/5min", 48.36],
        ["load/sockets/15min", 2.59],
        ["load/sockets/1min", 14.05],
        ["load/sockets/5min", 6.68],
        ["uptime", 121],
      ].map(([key, value]) => ({ key, value, at: RX })),
    );
    expect(results.flatMap((r) => (r.brokerVersion ? [r.brokerVersion] : []))).toEqual(["mosquitto version 2.0.11"]);
  });

  it("reads every live update without error", () => {
    const live = messages.filter((m) => !m.retained && matches(m.topic));
    expect(live).toHaveLength(26);
    for (const m of live) {
      const r = parse(m.topic, m.payload, ctx);
      expect(r.error).toBeUndefined();
      expect(r.stats).toHaveLength(1);
    }
    const uptime = live.find((m) => m.topic === "$SYS/broker/uptime");
    expect(uptime && parse(uptime.topic, uptime.payload, ctx).stats).toEqual([{ key: "uptime", value: 132, at: RX }]);
  });

  it("leaves the other recorded $SYS topics alone", () => {
    const others = [...new Set(messages.filter((m) => !matches(m.topic)).map((m) => m.topic))].sort();
    expect(others).toEqual([
      "$SYS/broker/bytes/received",
      "$SYS/broker/bytes/sent",
      "$SYS/broker/clients/active",
      "$SYS/broker/clients/inactive",
      "$SYS/broker/connection/vm.kw-bridge/state",
      "$SYS/broker/heap/current",
      "$SYS/broker/heap/maximum",
      "$SYS/broker/messages/received",
      "$SYS/broker/messages/sent",
      "$SYS/broker/messages/stored",
      "$SYS/broker/publish/bytes/received",
      "$SYS/broker/publish/bytes/sent",
      "$SYS/broker/publish/messages/sent",
      "$SYS/broker/retained messages/count",
      "$SYS/broker/store/messages/bytes",
      "$SYS/broker/store/messages/count",
      "$SYS/broker/subscriptions/count",
    ]);
  });
});

describe("broker-stats: keys and malformed values", () => {
  it("names the keys", () => {
    expect(statKey("$SYS/broker/clients/connected")).toBe("clients/connected");
    expect(statKey("$SYS/broker/load/publish/dropped/1min")).toBe("load/publish/dropped/1min");
    expect(statKey("$SYS/broker/uptime")).toBe("uptime");
    expect(statKey("$SYS/broker/load")).toBeNull();
    expect(statKey("$SYS/broker/load/")).toBeNull();
    expect(statKey("$SYS/broker/load//1min")).toBeNull();
    expect(statKey("$SYS/broker/log/N")).toBeNull();
    expect(statKey("devices/x/clients/connected")).toBeNull();
    expect(matches("$SYS/broker/version")).toBe(true);
    expect(brokerStatsAdapter.name).toBe("broker-stats");
  });

  it.each([
    ["$SYS/broker/clients/connected", "lots", 'expected a non-negative number, got "lots"'],
    ["$SYS/broker/clients/connected", "-1", 'expected a non-negative number, got "-1"'],
    ["$SYS/broker/clients/connected", "", 'expected a non-negative number, got ""'],
    ["$SYS/broker/clients/connected", "1e3", 'expected a non-negative number, got "1e3"'],
    ["$SYS/broker/load/messages/received/1min", "NaN", 'expected a non-negative number, got "NaN"'],
    ["$SYS/broker/uptime", "121", 'expected "<n> seconds", got "121"'],
    ["$SYS/broker/uptime", "121 minutes", 'expected "<n> seconds", got "121 minutes"'],
  ])("%s %j → error", (topic, payload, error) => {
    expect(parse(topic, payload, ctx)).toEqual({ events: [], error: `${topic}: ${error}` });
  });

  it("rejects binary garbage and an empty version", () => {
    expect(parse("$SYS/broker/clients/total", Buffer.from([0xff, 0x31]), ctx)).toEqual({
      events: [],
      error: "$SYS/broker/clients/total: payload is not valid UTF-8",
    });
    expect(parse("$SYS/broker/version", "", ctx)).toEqual({ events: [], error: "$SYS/broker/version: empty version" });
  });

  it("escapes and shortens a hostile value in the error", () => {
    const r = parse("$SYS/broker/clients/total", `<img src=x onerror=alert(1)>${"9".repeat(1000)}`, ctx);
    expect(r.error).toBe(
      `$SYS/broker/clients/total: expected a non-negative number, got "<img src=x onerror=alert(1)>${"9".repeat(32)}…"`,
    );
  });
});
