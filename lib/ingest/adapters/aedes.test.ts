import { describe, expect, it } from "vitest";
import { aedesEvents, endReason, errorReason, refusedReason, type AedesEndFacts, type AedesObservation } from "./aedes";
import { compileDeviceTopics } from "./device-topics";

const AT = 1_795_307_000_000;
const opts = { deviceTopics: compileDeviceTopics("devices/{id}/#,tele/{id}/#") };
const noFacts: AedesEndFacts = {
  takenOver: false,
  keepaliveTimeout: false,
  disconnectPacket: false,
  brokerClosing: false,
  error: null,
};
const end = (facts: Partial<AedesEndFacts>): AedesObservation => ({
  type: "end",
  at: AT,
  clientId: "dev-1",
  facts: { ...noFacts, ...facts },
});

// Error messages and codes as Aedes 1.2 / mqtt-packet raise them (recorded against a real broker).
const recorded = {
  keepalive: { message: "keep alive timeout", code: null },
  reset: { message: "read ECONNRESET", code: "ECONNRESET" },
  secondConnect: { message: "Invalid protocol", code: null },
  garbage: { message: "Not supported auth packet for this version MQTT", code: null },
  sysPublish: { message: "$SYS/ topic is reserved", code: null },
  drain: { message: "drain timeout", code: null },
};

describe("aedes: connect", () => {
  it("carries the CONNECT keepalive, protocol, clean flag, user and address", () => {
    const events = aedesEvents(
      {
        type: "connect",
        at: AT,
        connect: {
          clientId: "probe-1",
          keepaliveSeconds: 5,
          protocolVersion: 4,
          cleanSession: true,
          username: "kw",
          address: "127.0.0.1:50412",
        },
      },
      opts,
    );
    expect(events).toEqual([
      {
        kind: "connect",
        deviceId: "probe-1",
        at: AT,
        source: "aedes",
        keepaliveSeconds: 5,
        address: "127.0.0.1:50412",
        protocol: "3.1.1",
        cleanStart: true,
        username: "kw",
      },
    ]);
  });

  it("names MQTT 3.1 and keeps keepalive 0 (no keepalive) as 0", () => {
    const [ev] = aedesEvents(
      {
        type: "connect",
        at: AT,
        connect: {
          clientId: "old",
          keepaliveSeconds: 0,
          protocolVersion: 3,
          cleanSession: false,
          username: null,
          address: null,
        },
      },
      opts,
    );
    expect(ev).toMatchObject({ protocol: "3.1", keepaliveSeconds: 0, cleanStart: false, username: null });
  });
});

describe("aedes: activity", () => {
  it("a PINGREQ is a ping of its client", () => {
    expect(aedesEvents({ type: "ping", at: AT, clientId: "dev-1" }, opts)).toEqual([
      { kind: "ping", deviceId: "dev-1", at: AT, source: "aedes" },
    ]);
  });

  it("a PUBACK or SUBSCRIBE is a control packet of its client", () => {
    expect(aedesEvents({ type: "packet", at: AT, clientId: "dev-1", packet: "puback" }, opts)).toEqual([
      { kind: "packet", deviceId: "dev-1", at: AT, source: "aedes", packet: "puback" },
    ]);
  });

  it("a publish is activity of the client that sent it, whatever the topic", () => {
    const obs: AedesObservation = {
      type: "publish",
      at: AT,
      clientId: "gw-1",
      topic: "plant/line-2/temp",
      payload: "21.5",
      will: false,
    };
    expect(aedesEvents(obs, opts)).toEqual([
      { kind: "publish", deviceId: "gw-1", at: AT, source: "aedes", topic: "plant/line-2/temp" },
    ]);
  });

  it("a publish on a device topic is also activity of the device the topic names", () => {
    const obs: AedesObservation = {
      type: "publish",
      at: AT,
      clientId: "gw-1",
      topic: "devices/sensor-7/temp",
      payload: "21.5",
      will: false,
    };
    expect(aedesEvents(obs, opts)).toEqual([
      { kind: "publish", deviceId: "gw-1", at: AT, source: "aedes", topic: "devices/sensor-7/temp" },
      { kind: "publish", deviceId: "sensor-7", at: AT, source: "device-topic", topic: "devices/sensor-7/temp" },
    ]);
  });

  it("applies status conventions to live publishes, retained or not (they are never replays here)", () => {
    const obs: AedesObservation = {
      type: "publish",
      at: AT,
      clientId: "tasmota-1",
      topic: "tele/tasmota-1/LWT",
      payload: "Online",
      will: false,
    };
    expect(aedesEvents(obs, opts)).toEqual([
      { kind: "publish", deviceId: "tasmota-1", at: AT, source: "aedes", topic: "tele/tasmota-1/LWT" },
      { kind: "publish", deviceId: "tasmota-1", at: AT, source: "device-topic", topic: "tele/tasmota-1/LWT" },
      {
        kind: "status",
        deviceId: "tasmota-1",
        at: AT,
        source: "device-topic",
        online: true,
        detail: "Online",
        retained: false,
      },
    ]);
  });

  it("a last will is a status only, never activity of the client that is gone", () => {
    const will = (topic: string, payload: string): AedesObservation => ({
      type: "publish",
      at: AT,
      clientId: "dev-1",
      topic,
      payload,
      will: true,
    });
    expect(aedesEvents(will("devices/dev-1/status", "offline"), opts)).toEqual([
      {
        kind: "status",
        deviceId: "dev-1",
        at: AT,
        source: "device-topic",
        online: false,
        detail: "offline",
        retained: false,
      },
    ]);
    expect(aedesEvents(will("devices/dev-1/lwt", "gone"), opts)).toEqual([]);
    expect(aedesEvents(will("elsewhere/dev-1", "offline"), opts)).toEqual([]);
  });

  it("ignores the broker's own messages and $-topics", () => {
    const sys: AedesObservation = {
      type: "publish",
      at: AT,
      clientId: null,
      topic: "$SYS/5d4e/heartbeat",
      payload: "5d4e",
      will: false,
    };
    expect(aedesEvents(sys, opts)).toEqual([]);
    expect(aedesEvents({ ...sys, clientId: null, topic: "devices/dev-1/status" }, opts)).toEqual([]);
    expect(aedesEvents({ ...sys, clientId: "dev-1", topic: "$share/x" }, opts)).toEqual([]);
  });

  it("without device topics, publishes are activity of their client only", () => {
    const obs: AedesObservation = {
      type: "publish",
      at: AT,
      clientId: "dev-1",
      topic: "devices/dev-1/status",
      payload: "offline",
      will: false,
    };
    expect(aedesEvents(obs, { deviceTopics: null })).toEqual([
      { kind: "publish", deviceId: "dev-1", at: AT, source: "aedes", topic: "devices/dev-1/status" },
    ]);
  });
});

describe("aedes: end of a connection", () => {
  it("a takeover is reported as a takeover, not as a disconnect", () => {
    expect(aedesEvents(end({ takenOver: true }), opts)).toEqual([
      { kind: "takeover", deviceId: "dev-1", at: AT, source: "aedes" },
    ]);
  });

  it("the broker's keepalive timer: keepalive_timeout", () => {
    expect(aedesEvents(end({ keepaliveTimeout: true, error: recorded.keepalive }), opts)).toEqual([
      {
        kind: "disconnect",
        deviceId: "dev-1",
        at: AT,
        source: "aedes",
        reason: "keepalive_timeout",
        detail: "keep alive timeout",
      },
    ]);
  });

  it("DISCONNECT: clean; a socket that just closed: connection_lost", () => {
    expect(aedesEvents(end({ disconnectPacket: true }), opts)).toMatchObject([{ reason: "clean" }]);
    expect(aedesEvents(end({}), opts)).toEqual([
      {
        kind: "disconnect",
        deviceId: "dev-1",
        at: AT,
        source: "aedes",
        reason: "connection_lost",
        detail: "socket closed without DISCONNECT",
      },
    ]);
  });

  it("keepwatch shutting its broker down: admin", () => {
    expect(aedesEvents(end({ brokerClosing: true }), opts)).toMatchObject([
      { reason: "broker_restart", detail: "embedded broker shut down" },
    ]);
  });

  it("reads the recorded errors", () => {
    expect(aedesEvents(end({ error: recorded.reset }), opts)).toMatchObject([
      { reason: "connection_lost", detail: "ECONNRESET: read ECONNRESET" },
    ]);
    expect(errorReason(recorded.secondConnect)).toBe("protocol_error");
    expect(errorReason(recorded.garbage)).toBe("protocol_error");
    expect(errorReason(recorded.sysPublish)).toBe("not_authorized");
    expect(errorReason(recorded.drain)).toBe("connection_lost");
    expect(errorReason(recorded.keepalive)).toBe("keepalive_timeout");
  });

  it("a takeover wins over what the old connection did after it (its socket then closes)", () => {
    expect(aedesEvents(end({ takenOver: true, error: recorded.reset }), opts)[0].kind).toBe("takeover");
    expect(endReason({ ...noFacts, keepaliveTimeout: true, brokerClosing: true }).reason).toBe("keepalive_timeout");
    expect(endReason({ ...noFacts, disconnectPacket: true, brokerClosing: true }).reason).toBe("clean");
  });
});

describe("aedes: refused CONNECT", () => {
  it("maps CONNACK return codes", () => {
    expect([1, 2, 3, 4, 5, 6, 99].map(refusedReason)).toEqual([
      "protocol_error",
      "protocol_error",
      "unknown",
      "not_authorized",
      "not_authorized",
      "protocol_error",
      "unknown",
    ]);
  });

  it("reports the refused client id with the broker's wording, and nothing for an empty id", () => {
    const refused: AedesObservation = {
      type: "refused",
      at: AT,
      clientId: "v5-device",
      returnCode: 1,
      message: "unacceptable protocol version",
    };
    expect(aedesEvents(refused, opts)).toEqual([
      {
        kind: "disconnect",
        deviceId: "v5-device",
        at: AT,
        source: "aedes",
        reason: "protocol_error",
        detail: "connection refused (1): unacceptable protocol version",
      },
    ]);
    expect(aedesEvents({ ...refused, clientId: "" }, opts)).toEqual([]);
  });
});
