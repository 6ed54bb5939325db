import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ActivityEvent, DisconnectReason } from "../events";
import { emqxAdapter, mapEmqxReason, matches, parse, parseEmqxTopic, reasonAtom } from "./emqx";

const RX = 1_795_307_000_000;
const ctx = { receivedAt: RX, retained: false };
const NODE = "$SYS/brokers/emqx@127.0.0.1";

interface FixtureMessage {
  id: string;
  topic: string;
  payload: string;
}
const fixtures = (
  JSON.parse(readFileSync(new URL("./fixtures/emqx.json", import.meta.url), "utf8")) as { messages: FixtureMessage[] }
).messages;

describe("emqx: payload shapes from the EMQX docs and source (fixtures/emqx.json)", () => {
  const expected: Record<string, ActivityEvent> = {
    "5x-docs-connected": {
      kind: "connect",
      deviceId: "sensor-0042",
      at: 1795306800120,
      source: "emqx",
      keepaliveSeconds: 60,
      address: "10.1.2.3",
      protocol: "3.1.1",
      cleanStart: true,
      username: "plant-a",
    },
    "5x-docs-disconnected": {
      kind: "disconnect",
      deviceId: "sensor-0042",
      at: 1795306900450,
      source: "emqx",
      reason: "connection_lost",
      detail: "tcp_closed",
      sessionConnectedAt: null,
    },
    "5x-source-connected": {
      kind: "connect",
      deviceId: "line/3/plc",
      at: 1795306801000,
      source: "emqx",
      keepaliveSeconds: 30,
      address: "10.9.8.7",
      protocol: "5",
      cleanStart: false,
      username: null,
    },
    "5x-source-disconnected": {
      kind: "disconnect",
      deviceId: "line/3/plc",
      at: 1795306847000,
      source: "emqx",
      reason: "keepalive_timeout",
      detail: "keepalive_timeout",
      sessionConnectedAt: 1795306801000,
    },
    "5x-source-gateway-connected": {
      kind: "connect",
      deviceId: "sn-7",
      at: 1795306802000,
      source: "emqx",
      keepaliveSeconds: 10,
      address: "10.9.8.9",
      protocol: "MQTT-SN 1.2",
      cleanStart: true,
      username: null,
    },
    "4x-source-connected": {
      kind: "connect",
      deviceId: "meter 7 (basement)",
      at: 1795306803000,
      source: "emqx",
      keepaliveSeconds: 120,
      address: "192.168.1.40",
      protocol: "3.1",
      cleanStart: false,
      username: "meters",
    },
    "4x-source-disconnected": {
      kind: "disconnect",
      deviceId: "meter 7 (basement)",
      at: 1795306804000,
      source: "emqx",
      reason: "taken_over",
      detail: "takenover",
      sessionConnectedAt: null,
    },
    "40-source-connected": {
      kind: "connect",
      deviceId: "old-gw",
      at: 1795306805000,
      source: "emqx",
      keepaliveSeconds: 60,
      address: "172.16.0.2",
      protocol: "3.1.1",
      cleanStart: true,
      username: "gw",
    },
    "40-source-disconnected": {
      kind: "disconnect",
      deviceId: "old-gw",
      at: 1795306806000,
      source: "emqx",
      reason: "taken_over",
      detail: "discarded",
      sessionConnectedAt: null,
    },
    "old-seconds-connected": {
      kind: "connect",
      deviceId: "legacy-1",
      at: 1795306807000,
      source: "emqx",
      keepaliveSeconds: 60,
      address: "172.16.0.3",
      protocol: "3.1.1",
      cleanStart: true,
      username: "legacy",
    },
    "old-seconds-disconnected": {
      kind: "disconnect",
      deviceId: "legacy-1",
      at: 1795306808000,
      source: "emqx",
      reason: "connection_lost",
      detail: "{shutdown,tcp_closed}",
      sessionConnectedAt: null,
    },
  };

  it("has an expectation for every fixture", () => {
    expect(fixtures.map((f) => f.id).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const f of fixtures) {
    it(f.id, () => {
      expect(matches(f.topic)).toBe(true);
      expect(parse(f.topic, Buffer.from(f.payload), ctx)).toEqual({ events: [expected[f.id]] });
    });
  }
});

describe("emqx: reasons", () => {
  it.each<[string, DisconnectReason]>([
    ["normal", "clean"],
    ["keepalive_timeout", "keepalive_timeout"],
    ["takenover", "taken_over"],
    ["takeovered", "taken_over"],
    ["discarded", "taken_over"],
    ["kicked", "admin"],
    ["tcp_closed", "connection_lost"],
    ["sock_closed", "connection_lost"],
    ["closed", "connection_lost"],
    ["ssl_closed", "connection_lost"],
    ["einval", "connection_lost"],
    ["etimedout", "connection_lost"],
    ["{shutdown,tcp_closed}", "connection_lost"],
    ["{shutdown, keepalive_timeout}", "keepalive_timeout"],
    ["{tcp_error,etimedout}", "connection_lost"],
    ["not_authorized", "not_authorized"],
    ["banned", "not_authorized"],
    ["protocol_error", "protocol_error"],
    ["frame_too_large", "protocol_error"],
    ["malformed", "protocol_error"],
    ["internal_error", "unknown"],
    ["{shutdown,{badmatch,1}}", "unknown"],
    ["", "unknown"],
  ])("%s → %s", (raw, reason) => {
    expect(mapEmqxReason(raw)).toEqual({ reason, detail: raw });
  });

  it("keeps a non-string reason as JSON detail and a missing one as null", () => {
    expect(mapEmqxReason({ a: 1 })).toEqual({ reason: "unknown", detail: '{"a":1}' });
    expect(mapEmqxReason(undefined)).toEqual({ reason: "unknown", detail: null });
    expect(mapEmqxReason(null)).toEqual({ reason: "unknown", detail: null });
  });

  it("reduces tuple strings like EMQX does", () => {
    expect(reasonAtom("{shutdown,tcp_closed}")).toBe("tcp_closed");
    expect(reasonAtom("{tcp_error,etimedout}")).toBe("tcp_error");
    expect(reasonAtom(" normal ")).toBe("normal");
  });
});

describe("emqx: topics", () => {
  it("splits node, client id (with slashes) and event", () => {
    expect(parseEmqxTopic(`${NODE}/clients/a/b/c/connected`)).toEqual({
      kind: "connected",
      node: "emqx@127.0.0.1",
      clientId: "a/b/c",
    });
    expect(parseEmqxTopic(`${NODE}/clients/x/disconnected/connected`)).toEqual({
      kind: "connected",
      node: "emqx@127.0.0.1",
      clientId: "x/disconnected",
    });
    expect(parseEmqxTopic(`${NODE}/gateway/coap/clients/c1/disconnected`)).toEqual({
      kind: "disconnected",
      node: "emqx@127.0.0.1",
      clientId: "c1",
    });
    expect(parseEmqxTopic(`${NODE}/version`)).toEqual({ kind: "version", node: "emqx@127.0.0.1" });
  });

  it("does not take other $SYS topics", () => {
    for (const topic of [
      `${NODE}/clients/x/subscribed`,
      `${NODE}/stats/connections/count`,
      `${NODE}/datetime`,
      "$SYS/brokers/connected",
      "$SYS/brokers/client_status/clients/x/connected", // NanoMQ, client id "clients/x"
      "$SYS/brokers/client_status/version",
      "$SYS/broker/version",
      "devices/emqx@1/clients/x/connected",
    ]) {
      expect(matches(topic)).toBe(false);
    }
  });

  it("reads the node's uptime for restart detection: 5.x milliseconds, 4.x words", () => {
    expect(parse(`${NODE}/uptime`, "3600042", ctx)).toEqual({
      events: [],
      stats: [{ key: "uptime/emqx@127.0.0.1", value: 3600, at: ctx.receivedAt }],
    });
    expect(parse(`${NODE}/uptime`, "1 days, 2 hours, 3 minutes, 4 seconds", ctx).stats?.[0].value).toBe(93_784);
    expect(parse(`${NODE}/uptime`, "12 seconds", ctx).stats?.[0].value).toBe(12);
    expect(parse(`${NODE}/uptime`, "soon", ctx).error).toMatch(/EMQX uptime/);
  });

  it("prefers the JSON clientid over the ambiguous topic, falls back to the topic", () => {
    const topic = `${NODE}/clients/a/b/connected`;
    expect(parse(topic, '{"clientid":"a/b","keepalive":5,"ts":1795306800000}', ctx).events[0].deviceId).toBe("a/b");
    expect(parse(topic, '{"keepalive":5,"ts":1795306800000}', ctx).events[0].deviceId).toBe("a/b");
    expect(parse(topic, '{"clientid":"","keepalive":5}', ctx).events[0].deviceId).toBe("a/b");
    expect(parse(`${NODE}/clients/topic-id/connected`, '{"clientid":"json-id"}', ctx).events[0].deviceId).toBe(
      "json-id",
    );
  });

  it("reports the broker version", () => {
    expect(parse(`${NODE}/version`, "5.8.4", ctx)).toEqual({ events: [], brokerVersion: "5.8.4" });
    expect(parse(`${NODE}/version`, "  ", ctx)).toEqual({ events: [], error: "EMQX version payload is empty" });
    expect(emqxAdapter.name).toBe("emqx");
  });
});

describe("emqx: degraded and malformed payloads", () => {
  const topic = `${NODE}/clients/dev-1/connected`;

  it("fills what is missing with null and the receive time", () => {
    expect(parse(topic, "{}", ctx)).toEqual({
      events: [
        {
          kind: "connect",
          deviceId: "dev-1",
          at: RX,
          source: "emqx",
          keepaliveSeconds: null,
          address: null,
          protocol: null,
          cleanStart: null,
          username: null,
        },
      ],
    });
  });

  it("rejects impossible keepalives and timestamps", () => {
    const [e] = parse(topic, '{"keepalive":70000,"connected_at":12,"ts":-5}', ctx).events;
    expect(e).toMatchObject({ keepaliveSeconds: null, at: RX });
    const [micro] = parse(topic, '{"connected_at":1795306800000000}', ctx).events;
    expect(micro).toMatchObject({ at: RX });
    const [f] = parse(topic, '{"keepalive":"45","connected_at":"1795306800000"}', ctx).events;
    expect(f).toMatchObject({ keepaliveSeconds: 45, at: 1795306800000 });
  });

  it.each([
    ["truncated JSON", '{"clientid":"dev-1","keepal', /^EMQX connected event: payload is not valid JSON/],
    ["empty", "", /^EMQX connected event: empty payload$/],
    ["array", "[1,2]", /^EMQX connected event: payload is JSON but not an object$/],
    ["string", '"dev-1"', /^EMQX connected event: payload is JSON but not an object$/],
  ])("%s → error, no events", (_label, payload, error) => {
    const result = parse(topic, payload, ctx);
    expect(result.events).toEqual([]);
    expect(result.error).toMatch(error);
  });

  it("rejects binary garbage", () => {
    expect(parse(topic, Buffer.from([0x7b, 0xff, 0xfe, 0x00]), ctx)).toEqual({
      events: [],
      error: "EMQX connected payload is not valid UTF-8",
    });
  });

  it("rejects an event with no client id anywhere", () => {
    expect(parse(`${NODE}/clients//disconnected`, '{"reason":"normal"}', ctx)).toEqual({
      events: [],
      error: "EMQX disconnected event without a client id",
    });
  });
});

describe("emqx: hostile client ids round-trip", () => {
  const ids = [
    "<img src=x onerror=alert(1)>",
    '=HYPERLINK("http://x","y")',
    "\u202Eevil\u200b\u{1F600}/#/+",
    "line\nbreak\u0000nul",
    "z".repeat(100 * 1024),
  ];
  it.each(ids.map((id) => [id.slice(0, 30), id]))("%s", (_label, id) => {
    const payload = JSON.stringify({ clientid: id, reason: "normal", disconnected_at: 1795306800000 });
    expect(parse(`${NODE}/clients/${id}/disconnected`, payload, ctx)).toEqual({
      events: [
        {
          kind: "disconnect",
          deviceId: id,
          at: 1795306800000,
          source: "emqx",
          reason: "clean",
          detail: "normal",
          sessionConnectedAt: null,
        },
      ],
    });
  });
});
