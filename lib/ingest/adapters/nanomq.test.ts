import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ActivityEvent, DisconnectReason } from "../events";
import { matches, nanomqAdapter, parse } from "./nanomq";
import { fromMqtt5ReasonCode } from "./reason-codes";

const RX = 1_795_307_000_000;
const ctx = { receivedAt: RX, retained: false };

interface FixtureMessage {
  id: string;
  topic: string;
  payload: string;
}
const fixtures = (
  JSON.parse(readFileSync(new URL("./fixtures/nanomq.json", import.meta.url), "utf8")) as {
    messages: FixtureMessage[];
  }
).messages;

function disconnect(deviceId: string, at: number, reason: DisconnectReason, detail: string): ActivityEvent {
  return { kind: "disconnect", deviceId, at, source: "nanomq", reason, detail };
}

describe("nanomq: payloads from NanoMQ's printf templates (fixtures/nanomq.json)", () => {
  const expected: Record<string, ActivityEvent[]> = {
    "0.24-online": [
      {
        kind: "connect",
        deviceId: "pump-17",
        at: 1795306810111,
        source: "nanomq",
        keepaliveSeconds: 60,
        address: "10.0.4.17",
        protocol: "3.1.1",
        cleanStart: true,
        username: null,
      },
    ],
    "0.24-offline": [disconnect("pump-17", 1795306870222, "keepalive_timeout", "0x8D keep alive timeout")],
    "0.23-connected": [
      {
        kind: "connect",
        deviceId: "valve-3",
        at: 1795306811000,
        source: "nanomq",
        keepaliveSeconds: 30,
        address: null,
        protocol: "5",
        cleanStart: false,
        username: "plant",
      },
    ],
    "0.23-connected-ipv4": [
      {
        kind: "connect",
        deviceId: "valve-4",
        at: 1795306812000,
        source: "nanomq",
        keepaliveSeconds: 20,
        address: "10.0.4.4",
        protocol: "3.1",
        cleanStart: true,
        username: null,
      },
    ],
    "0.23-disconnected": [disconnect("valve-3", 1795306813000, "taken_over", "0x8E session taken over")],
    "0.23-disconnected-ipv4": [disconnect("valve-4", 1795306814000, "clean", "0x00 normal disconnection")],
    "monotonic-ts": [disconnect("valve-5", RX, "keepalive_timeout", "0x8D keep alive timeout")],
    "refused-connect": [],
    "quote-in-id": [disconnect('=HYPERLINK("http://x","y")\\b', 1795306816000, "admin", "0x98 administrative action")],
    "cut-at-255": [disconnect("k".repeat(300), RX, "unknown", "payload cut short")],
  };

  it("has an expectation for every fixture", () => {
    expect(fixtures.map((f) => f.id).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const f of fixtures) {
    it(f.id, () => {
      expect(matches(f.topic)).toBe(true);
      expect(parse(f.topic, Buffer.from(f.payload), ctx)).toEqual({ events: expected[f.id] });
    });
  }
});

describe("nanomq: reason codes", () => {
  it.each<[number, DisconnectReason, string]>([
    [0x00, "clean", "0x00 normal disconnection"],
    [0x04, "clean", "0x04 disconnect with will message"],
    [0x8d, "keepalive_timeout", "0x8D keep alive timeout"],
    [0x8e, "taken_over", "0x8E session taken over"],
    [0x87, "not_authorized", "0x87 not authorized"],
    [0x81, "protocol_error", "0x81 malformed packet"],
    [0x82, "protocol_error", "0x82 protocol error"],
    [0x98, "admin", "0x98 administrative action"],
    [0x8b, "unknown", "0x8B server shutting down"],
    [0x80, "unknown", "0x80 unspecified error"],
    [0x1f, "unknown", "reason code 0x1F"],
  ])("0x%s", (code, reason, detail) => {
    expect(fromMqtt5ReasonCode(code)).toEqual({ reason, detail });
  });
});

describe("nanomq: other layouts and degraded payloads", () => {
  it("reads properly encoded JSON (escaped strings, numeric codes) when no printf template fits", () => {
    const payload = JSON.stringify({ client_id: 'a"b\\c', reason_code: 141, ts: 1795306800000, extra: true });
    expect(parse("$SYS/brokers/disconnected", payload, ctx)).toEqual({
      events: [disconnect('a"b\\c', 1795306800000, "keepalive_timeout", "0x8D keep alive timeout")],
    });
  });

  it("uses the id from the client_status topic over the unescaped JSON copy", () => {
    const payload =
      '{"status":"offline", "username":"(null)","ts":1795306800000,"reason_code":"0","client_id":"x","IPv4":"1.2.3.4"}';
    expect(parse("$SYS/brokers/client_status/real/id", payload, ctx).events[0].deviceId).toBe("real/id");
    expect(parse("$SYS/brokers/client_status", payload, ctx).events[0].deviceId).toBe("x");
  });

  it("does not let a greedy client id swallow the IPv4 field", () => {
    const payload = '{"username":"(null)","ts":1795306800000,"reason_code":"0","client_id":"x\\"}","IPv4":"1.2.3.4"}';
    const raw = '{"username":"(null)","ts":1795306800000,"reason_code":"0","client_id":"x"}","IPv4":"1.2.3.4"}';
    expect(parse("$SYS/brokers/disconnected", raw, ctx).events[0].deviceId).toBe('x"}');
    expect(parse("$SYS/brokers/disconnected", payload, ctx).events[0].deviceId).toBe('x\\"}');
  });

  it("reports a missing reason code as unknown", () => {
    expect(parse("$SYS/brokers/disconnected", '{"client_id":"d1","ts":1795306800000}', ctx)).toEqual({
      events: [disconnect("d1", 1795306800000, "unknown", "no reason code")],
    });
  });

  it.each([
    [
      "truncated JSON",
      "$SYS/brokers/connected",
      '{"username":"(null)", "ts":17953',
      /^NanoMQ connected event: payload is not valid JSON/,
    ],
    ["empty", "$SYS/brokers/disconnected", "", /^NanoMQ disconnected event: empty payload$/],
    ["a number", "$SYS/brokers/disconnected", "42", /^NanoMQ disconnected event: payload is JSON but not an object$/],
    [
      "no client id",
      "$SYS/brokers/disconnected",
      '{"reason_code":"0"}',
      /^NanoMQ disconnected event without a client id$/,
    ],
    [
      "unknown status",
      "$SYS/brokers/client_status/d1",
      '{"status":"zombie","client_id":"d1"}',
      /^NanoMQ client_status event with unknown status "zombie"$/,
    ],
    ["cut without topic id", "$SYS/brokers/client_status", '{"status":"offline", "username":"(nu', /not valid JSON/],
  ])("%s → error, no events", (_label, topic, payload, error) => {
    const result = parse(topic, payload, ctx);
    expect(result.events).toEqual([]);
    expect(result.error).toMatch(error);
  });

  it("rejects binary garbage", () => {
    expect(parse("$SYS/brokers/connected", Buffer.from([0xde, 0xad, 0xbe, 0xef]), ctx)).toEqual({
      events: [],
      error: "NanoMQ connected event: payload is not valid UTF-8",
    });
  });

  it("an id that repeats the fields after it cannot speak for another client", () => {
    const id = 'x","ts":1,"reason_code":"0","client_id":"victim';
    const payload = `{"username":"u","ts":1795306813000,"reason_code":"8d","client_id":"${id}"}`;
    expect(parse("$SYS/brokers/disconnected", payload, ctx).events).toMatchObject([
      { kind: "disconnect", deviceId: id, reason: "keepalive_timeout" },
    ]);
    const connectId =
      'x", "ts":1,"proto_name":"MQTT","keepalive":60,"return_code":"0","proto_ver":4,"client_id":"victim';
    const connected = `{"username":"u", "ts":1795306811000,"proto_name":"MQTT","keepalive":30,"return_code":"0","proto_ver":5,"client_id":"${connectId}", "clean_start":0}`;
    expect(parse("$SYS/brokers/connected", connected, ctx).events).toMatchObject([
      { kind: "connect", deviceId: connectId, keepaliveSeconds: 30, username: "u" },
    ]);
  });

  it("keeps a refused connect refused when its payload was cut after the return code", () => {
    const text = `{"status":"online", "username":"(null)", "ts":1795306810111,"proto_name":"MQTT","keepalive":60,"return_code":"5","proto_ver":4,"client_id":"${"k".repeat(300)}", "clean_start":1}`;
    const cut = Buffer.from(text).subarray(0, 255);
    expect(parse(`$SYS/brokers/client_status/${"k".repeat(300)}`, cut, ctx)).toEqual({ events: [] });
    const accepted = Buffer.from(text.replace('"return_code":"5"', '"return_code":"0"')).subarray(0, 255);
    expect(parse(`$SYS/brokers/client_status/${"k".repeat(300)}`, accepted, ctx).events).toMatchObject([
      { kind: "connect", deviceId: "k".repeat(300) },
    ]);
  });

  it("salvages a client_status payload cut inside a UTF-8 sequence", () => {
    const cut = Buffer.concat([
      Buffer.from('{"status":"online", "username":"(null)", "ts":17953068'),
      Buffer.from([0xc3]),
    ]);
    expect(parse("$SYS/brokers/client_status/\u00e9t\u00e9", cut, ctx)).toEqual({
      events: [
        {
          kind: "connect",
          deviceId: "\u00e9t\u00e9",
          at: RX,
          source: "nanomq",
          keepaliveSeconds: null,
          address: null,
          protocol: null,
          cleanStart: null,
          username: null,
        },
      ],
    });
  });

  it("keeps a 100 KB JSON-encoded id (no template attempt on big payloads)", () => {
    const id = "n".repeat(100 * 1024);
    const payload = JSON.stringify({ client_id: id, reason_code: "0", ts: 1795306800000 });
    const started = performance.now();
    expect(parse("$SYS/brokers/disconnected", payload, ctx).events).toEqual([
      disconnect(id, 1795306800000, "clean", "0x00 normal disconnection"),
    ]);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("stays fast on a hostile near-template payload", () => {
    const payload = `{"username":"${'", "ts":1,"'.repeat(90)}`;
    const started = performance.now();
    expect(parse("$SYS/brokers/connected", payload, ctx).events).toEqual([]);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it.each(["<img src=x onerror=alert(1)>", "\u202Eevil\u200b\u{1F600}", "a'b"])("round-trips the id %s", (id) => {
    const payload = `{"status":"online", "username":"(null)", "ts":1795306800000,"proto_name":"MQTT","keepalive":15,"return_code":"0","proto_ver":5,"client_id":"${id}","clean_start":0, "IPv4":"::1"}`;
    expect(parse("$SYS/brokers/client_status", payload, ctx).events).toEqual([
      {
        kind: "connect",
        deviceId: id,
        at: 1795306800000,
        source: "nanomq",
        keepaliveSeconds: 15,
        address: "::1",
        protocol: "5",
        cleanStart: false,
        username: null,
      },
    ]);
  });
});

describe("nanomq: topics", () => {
  it("matches only NanoMQ presence topics", () => {
    expect(matches("$SYS/brokers/connected")).toBe(true);
    expect(matches("$SYS/brokers/disconnected")).toBe(true);
    expect(matches("$SYS/brokers/client_status")).toBe(true);
    expect(matches("$SYS/brokers/client_status/d1")).toBe(true);
    expect(matches("$SYS/brokers/emqx@127.0.0.1/clients/d1/connected")).toBe(false);
    expect(matches("$SYS/brokers")).toBe(false);
    expect(matches("$SYS/brokers/connected/x")).toBe(false);
    expect(nanomqAdapter.name).toBe("nanomq");
  });
});
