import { describe, expect, it } from "vitest";
import type { ActivityEvent } from "../events";
import {
  compileDeviceTopics,
  createDeviceTopicsAdapter,
  DEFAULT_DEVICE_TOPICS,
  parseDeviceMessage,
} from "./device-topics";

const RX = 1_795_307_000_000;
const live = { receivedAt: RX, retained: false };
const replay = { receivedAt: RX, retained: true };

const publish = (deviceId: string, topic: string): ActivityEvent => ({
  kind: "publish",
  deviceId,
  at: RX,
  source: "device-topic",
  topic,
});

const status = (deviceId: string, online: boolean, detail: string, retained = false): ActivityEvent => ({
  kind: "status",
  deviceId,
  at: RX,
  source: "device-topic",
  online,
  detail,
  retained,
});

describe("compileDeviceTopics: subscriptions", () => {
  it("turns {id} into + (default spec)", () => {
    const t = compileDeviceTopics(DEFAULT_DEVICE_TOPICS);
    expect(t.subscriptions).toEqual(["devices/+/#"]);
    expect(t.patterns).toEqual(["devices/{id}/#"]);
  });

  it("accepts several patterns with spaces and + / # elsewhere, and drops duplicate subscriptions", () => {
    const t = compileDeviceTopics(" tele/{id}/#, homie/5/{id}/# ,site/+/{id}/status,{id}/status,tele/{id}/#");
    expect(t.patterns).toEqual(["tele/{id}/#", "homie/5/{id}/#", "site/+/{id}/status", "{id}/status", "tele/{id}/#"]);
    expect(t.subscriptions).toEqual(["tele/+/#", "homie/5/+/#", "site/+/+/status", "+/status"]);
  });
});

describe("compileDeviceTopics: invalid specs name the bad pattern", () => {
  it.each([
    ["", 'Invalid DEVICE_TOPICS pattern "": empty DEVICE_TOPICS'],
    ["   ", 'Invalid DEVICE_TOPICS pattern "   ": empty DEVICE_TOPICS'],
    ["devices/{id}/#,,tele/{id}/#", 'Invalid DEVICE_TOPICS pattern "": empty pattern'],
    ["devices/{id}/#,", 'Invalid DEVICE_TOPICS pattern "": empty pattern'],
    ["devices/#", 'Invalid DEVICE_TOPICS pattern "devices/#": no {id} level'],
    ["devices/dev-{id}/#", 'Invalid DEVICE_TOPICS pattern "devices/dev-{id}/#": {id} must be a whole topic level'],
    ["devices/{id}/#/x", "Invalid DEVICE_TOPICS pattern \"devices/{id}/#/x\": '#' must be the last level"],
    ["#/{id}", "Invalid DEVICE_TOPICS pattern \"#/{id}\": '#' must be the last level"],
    ["a/{id}/{id}", 'Invalid DEVICE_TOPICS pattern "a/{id}/{id}": more than one {id} level'],
    ["a/{id}/b#", "Invalid DEVICE_TOPICS pattern \"a/{id}/b#\": '+' and '#' must be whole topic levels"],
    ["a+/{id}", "Invalid DEVICE_TOPICS pattern \"a+/{id}\": '+' and '#' must be whole topic levels"],
    [
      "$SYS/{id}/#",
      "Invalid DEVICE_TOPICS pattern \"$SYS/{id}/#\": device topics cannot start with '$' (broker topics)",
    ],
    [
      "a/{deviceId}/#",
      'Invalid DEVICE_TOPICS pattern "a/{deviceId}/#": unknown placeholder in level "{deviceId}" (only {id})',
    ],
    ["a/{id}/\u0000", 'Invalid DEVICE_TOPICS pattern "a/{id}/\\u0000": NUL character'],
  ])("%j", (spec, message) => {
    expect(() => compileDeviceTopics(spec)).toThrow(new Error(message));
  });
});

describe("compileDeviceTopics: match", () => {
  const t = compileDeviceTopics("devices/{id}/#,site/+/{id}/status,{id}/status");

  it("reads the id from its level", () => {
    expect(t.match("devices/dev-1/temp")).toEqual({ deviceId: "dev-1", pattern: "devices/{id}/#", idLevel: 1 });
    expect(t.match("devices/dev-1/a/b/c")).toEqual({ deviceId: "dev-1", pattern: "devices/{id}/#", idLevel: 1 });
    expect(t.match("devices/dev-1")).toEqual({ deviceId: "dev-1", pattern: "devices/{id}/#", idLevel: 1 });
    expect(t.match("site/north/pump-2/status")).toEqual({
      deviceId: "pump-2",
      pattern: "site/+/{id}/status",
      idLevel: 2,
    });
    expect(t.match("esp-9/status")).toEqual({ deviceId: "esp-9", pattern: "{id}/status", idLevel: 0 });
  });

  it("rejects topics that do not fit, empty ids and broker topics", () => {
    for (const topic of [
      "devices",
      "devices//temp",
      "site/north/pump-2/state",
      "site/north/pump-2/status/x",
      "esp-9/status/x",
      "/status",
      "$SYS/broker/log/N",
      "$SYS/devices/x/status",
      "$share/g/devices/x",
      "other/dev-1/temp",
    ]) {
      expect(t.match(topic)).toBeNull();
    }
  });

  it("never matches a $ topic, even with a pattern that fits any topic", () => {
    const any = compileDeviceTopics("{id}/#");
    expect(any.match("x/y")?.deviceId).toBe("x");
    expect(any.match("$SYS/broker/log/N")).toBeNull();
    expect(any.match("$SYS")).toBeNull();
  });

  it("first pattern wins when several match", () => {
    const both = compileDeviceTopics("{id}/status,devices/{id}/#");
    expect(both.match("devices/status")?.deviceId).toBe("devices");
  });

  // an id read from a topic is one level: it cannot contain "/" (or "+" / "#")
  it.each([
    "<img src=x onerror=alert(1)>",
    '=HYPERLINK("https:x.example","y")',
    "\u05e9\u05dc\u05d5\u05dd\u200b\u200f\u{1F600}",
    "id with spaces (1)",
    "x".repeat(100 * 1024),
  ])("hostile id round-trips: %s", (id) => {
    expect(t.match(`devices/${id}/temp`)?.deviceId).toBe(id);
    expect(parseDeviceMessage(t, `devices/${id}/status`, "offline", live)).toEqual({
      events: [status(id, false, "offline")],
    });
  });
});

describe("device topics: activity", () => {
  const t = compileDeviceTopics("devices/{id}/#");

  it("a fresh publish is activity", () => {
    expect(parseDeviceMessage(t, "devices/dev-1/temp", "21.5", live)).toEqual({
      events: [publish("dev-1", "devices/dev-1/temp")],
    });
  });

  it("a retained replay is not activity", () => {
    expect(parseDeviceMessage(t, "devices/dev-1/temp", "21.5", replay)).toEqual({ events: [] });
  });

  it("any payload counts, binary and empty included, without error", () => {
    expect(parseDeviceMessage(t, "devices/dev-1/blob", Buffer.from([0xff, 0x00, 0xfe]), live)).toEqual({
      events: [publish("dev-1", "devices/dev-1/blob")],
    });
    expect(parseDeviceMessage(t, "devices/dev-1/blob", Buffer.alloc(0), live)).toEqual({
      events: [publish("dev-1", "devices/dev-1/blob")],
    });
  });

  it("topics outside the patterns give nothing", () => {
    expect(parseDeviceMessage(t, "tele/dev-1/LWT", "Offline", live)).toEqual({ events: [] });
    expect(parseDeviceMessage(t, "$SYS/broker/uptime", "5 seconds", live)).toEqual({ events: [] });
  });

  it("works as an Adapter", () => {
    const adapter = createDeviceTopicsAdapter(t);
    expect(adapter.name).toBe("device-topics");
    expect(adapter.matches("devices/dev-1/x")).toBe(true);
    expect(adapter.matches("$SYS/broker/log/N")).toBe(false);
    expect(adapter.parse("devices/dev-1/x", "1", live)).toEqual({ events: [publish("dev-1", "devices/dev-1/x")] });
  });
});

describe("device topics: status conventions", () => {
  const t = compileDeviceTopics(
    "devices/{id}/#,tele/{id}/#,homie/5/{id}/#,homie/{id}/#,{id}/status,zigbee2mqtt/{id}/#,shellies/{id}/#",
  );
  const run = (topic: string, payload: string | Buffer, ctx = live) =>
    parseDeviceMessage(t, topic, payload, ctx).events;

  it.each<[string, string, boolean, string]>([
    ["devices/d1/status", "online", true, "online"],
    ["devices/d1/status", "ONLINE\n", true, "ONLINE"],
    ["devices/d1/status", "Offline", false, "Offline"],
    ["devices/d1/status", '{"status":"online"}', true, "online"],
    ["devices/d1/status", '{"state":"OFFLINE","battery":3}', false, "OFFLINE"],
    ["tele/d1/LWT", "Online", true, "Online"],
    ["tele/d1/LWT", "Offline", false, "Offline"],
    ["homie/d1/$state", "ready", true, "ready"],
    ["homie/d1/$state", "init", true, "init"],
    ["homie/d1/$state", "alert", true, "alert"],
    ["homie/d1/$state", "disconnected", false, "disconnected"],
    ["homie/d1/$state", "lost", false, "lost"],
    ["homie/d1/$state", "sleeping", false, "sleeping"],
    ["homie/5/d1/$state", "ready", true, "ready"],
    ["homie/5/d1/$state", "lost", false, "lost"],
    ["d1/status", "online", true, "online"],
    ["d1/status", "offline", false, "offline"],
    ["zigbee2mqtt/d1/availability", '{"state":"online"}', true, "online"],
    ["zigbee2mqtt/d1/availability", "offline", false, "offline"],
    ["shellies/d1/online", "true", true, "true"],
    ["shellies/d1/online", "false", false, "false"],
  ])("%s %j", (topic, payload, online, detail) => {
    const events = run(topic, payload);
    // online: also a sign of life; offline (usually the last will): state only
    expect(events).toEqual(online ? [publish("d1", topic), status("d1", true, detail)] : [status("d1", false, detail)]);
  });

  it("a retained status replay tells state without activity", () => {
    expect(run("tele/d1/LWT", "Online", replay)).toEqual([status("d1", true, "Online", true)]);
    expect(run("homie/d1/$state", "lost", replay)).toEqual([status("d1", false, "lost", true)]);
  });

  it("an unrecognized status payload is just activity", () => {
    for (const payload of ["maybe", "", '{"status":42}', '{"status":"online"', "onlineX", "x".repeat(300)]) {
      expect(run("devices/d1/status", payload)).toEqual([publish("d1", "devices/d1/status")]);
    }
    // words that name Object's own properties are not status words
    for (const payload of ["__proto__", "constructor", "toString", "hasOwnProperty", '{"status":"__proto__"}']) {
      expect(run("devices/d1/status", payload)).toEqual([publish("d1", "devices/d1/status")]);
      expect(run("shellies/d1/online", payload)).toEqual([publish("d1", "shellies/d1/online")]);
    }
    expect(run("devices/d1/status", Buffer.from([0x6f, 0xff]))).toEqual([publish("d1", "devices/d1/status")]);
    expect(run("devices/d1/status", "maybe", replay)).toEqual([]);
  });

  it("a convention applies only where its topic shape fits the matched id", () => {
    // Tasmota word on a non-LWT topic, and LWT one level deeper
    expect(run("tele/d1/STATE", "Offline")).toEqual([publish("d1", "tele/d1/STATE")]);
    expect(run("devices/d1/x/status", "offline")).toEqual([publish("d1", "devices/d1/x/status")]);
    // Homie 5 topics under homie/{id}/# would give id "5": listed first, homie/5/{id}/# wins here
    expect(run("homie/5/d1/$state", "ready")[0]).toEqual(publish("d1", "homie/5/d1/$state"));
  });

  it("a convention needs a configured pattern", () => {
    const only = compileDeviceTopics("devices/{id}/#");
    expect(parseDeviceMessage(only, "tele/d1/LWT", "Offline", live)).toEqual({ events: [] });
    expect(parseDeviceMessage(only, "homie/d1/$state", "lost", live)).toEqual({ events: [] });
  });
});
