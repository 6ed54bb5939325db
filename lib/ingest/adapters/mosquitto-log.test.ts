import { describe, expect, it } from "vitest";
import type { ActivityEvent, DisconnectReason } from "../events";
import { loadBinary, loadScenarios } from "./fixtures/recorded";
import { MAX_LINE_BYTES, matches, mosquittoLogAdapter, parse } from "./mosquitto-log";

const LOG_N = "$SYS/broker/log/N";
/** Receive time used where the line carries no usable timestamp (after every recording). */
const RX = 1_795_307_000_000;
const ctx = { receivedAt: RX, retained: false };

function connect(
  deviceId: string,
  atSeconds: number,
  address: string,
  protocol: string | null,
  cleanStart: boolean,
  keepaliveSeconds: number,
  username: string | null = null,
): ActivityEvent {
  return {
    kind: "connect",
    deviceId,
    at: atSeconds * 1000,
    source: "mosquitto-log",
    keepaliveSeconds,
    address,
    protocol,
    cleanStart,
    username,
  };
}

function disconnect(deviceId: string, atSeconds: number, reason: DisconnectReason, detail: string): ActivityEvent {
  return { kind: "disconnect", deviceId, at: atSeconds * 1000, source: "mosquitto-log", reason, detail };
}

const clean = (id: string, s: number) => disconnect(id, s, "clean", "disconnected");
const closed = (id: string, s: number) => disconnect(id, s, "connection_lost", "closed its connection");

function takeover(deviceId: string, atSeconds: number): ActivityEvent {
  return { kind: "takeover", deviceId, at: atSeconds * 1000, source: "mosquitto-log" };
}

function line(text: string, topic = LOG_N) {
  return parse(topic, text, ctx);
}

describe("mosquitto-log: recorded Mosquitto 2.0.11 lines", () => {
  const scenarios = loadScenarios("mosquitto-2.0.log.txt");
  const TRUNCATED = { errors: 2 };

  const expected: Record<string, ActivityEvent[] | typeof TRUNCATED> = {
    "recorder-start": [],
    "clean-pub": [
      connect("dev-clean", 1795306848, "127.0.0.1:38254", "3.1.1", true, 60),
      clean("dev-clean", 1795306848),
    ],
    "clean-raw-v311": [
      connect("dev-raw-clean", 1795306849, "127.0.0.1:38258", "3.1.1", true, 30),
      clean("dev-raw-clean", 1795306849),
    ],
    "clean-user": [
      connect("dev-user", 1795306850, "127.0.0.1:51022", "3.1.1", true, 60, "alice"),
      clean("dev-user", 1795306850),
    ],
    "clean-v31": [connect("dev-v31", 1795306851, "127.0.0.1:38270", "3.1", false, 20), clean("dev-v31", 1795306851)],
    "v5-sub": [connect("dev-v5", 1795306852, "127.0.0.1:38280", "5", true, 15), clean("dev-v5", 1795306853)],
    "v5-empty-id": [
      connect("auto-FFAD2E1A-3D13-AFF2-4C87-F093DD7BB07A", 1795306854, "127.0.0.1:38284", "5", true, 10),
      clean("auto-FFAD2E1A-3D13-AFF2-4C87-F093DD7BB07A", 1795306854),
    ],
    sigkill: [
      connect("dev-killed", 1795306855, "127.0.0.1:53570", "3.1.1", true, 60),
      closed("dev-killed", 1795306856),
    ],
    "socket-close-raw": [
      connect("dev-closed", 1795306856, "127.0.0.1:53578", "3.1.1", true, 30),
      closed("dev-closed", 1795306857),
    ],
    "keepalive-timeout": [
      connect("dev-ka2", 1795306860, "127.0.0.1:53590", "3.1.1", true, 2),
      disconnect("dev-ka2", 1795306869, "keepalive_timeout", "exceeded timeout"),
    ],
    "takeover-v4": [
      connect("dev-dup", 1795306869, "127.0.0.1:34298", "3.1.1", true, 30),
      takeover("dev-dup", 1795306870),
      connect("dev-dup", 1795306870, "127.0.0.1:34306", "3.1.1", true, 30),
      clean("dev-dup", 1795306870),
    ],
    "takeover-v5": [
      connect("dev-dup", 1795306871, "127.0.0.1:34322", "5", true, 30),
      takeover("dev-dup", 1795306871),
      connect("dev-dup", 1795306871, "127.0.0.1:34336", "5", true, 30),
      clean("dev-dup", 1795306872),
    ],
    "takeover-v3": [
      connect("dev-dup", 1795306873, "127.0.0.1:34342", "3.1", true, 30),
      takeover("dev-dup", 1795306873),
      connect("dev-dup", 1795306873, "127.0.0.1:34352", "3.1", true, 30),
      clean("dev-dup", 1795306874),
    ],
    "protocol-error": [
      connect("dev-garbage", 1795306874, "127.0.0.1:34360", "3.1.1", true, 30),
      disconnect("dev-garbage", 1795306874, "protocol_error", "protocol error"),
    ],
    "protocol-error-pre-connect": [],
    "double-connect": [
      connect("dev-double", 1795306876, "127.0.0.1:50238", "3.1.1", true, 30),
      disconnect("dev-double", 1795306876, "protocol_error", "protocol error"),
    ],
    "not-authorised-anon": [],
    "not-authorised-badpw": [],
    "not-authorised-v5": [],
    "keepalive-0": [connect("dev-ka0", 1795306879, "127.0.0.1:50250", "3.1.1", true, 0), clean("dev-ka0", 1795306879)],
    "id-0": [
      connect("dev with spaces (p2, c1, k5).", 1795306885, "127.0.0.1:33796", "3.1.1", true, 30),
      clean("dev with spaces (p2, c1, k5).", 1795306885),
    ],
    "id-1": [
      connect("sensor (kitchen) #1", 1795306886, "127.0.0.1:33810", "3.1.1", true, 30, "o'brien (x)"),
      clean("sensor (kitchen) #1", 1795306886),
    ],
    "id-2": [
      connect("<img src=x onerror=alert(1)>", 1795306887, "127.0.0.1:33822", "3.1.1", true, 30),
      clean("<img src=x onerror=alert(1)>", 1795306887),
    ],
    "id-3": [
      connect('=HYPERLINK("http://x","y")', 1795306888, "127.0.0.1:33828", "3.1.1", true, 30),
      clean('=HYPERLINK("http://x","y")', 1795306888),
    ],
    "id-4": [connect("a as b", 1795306889, "127.0.0.1:33834", "3.1.1", true, 30), clean("a as b", 1795306889)],
    "id-5": [
      connect("\u05e9\u05dc\u05d5\u05dd\u200b\u200fdev\u{1F600}", 1795306890, "127.0.0.1:33840", "3.1.1", true, 30),
      clean("\u05e9\u05dc\u05d5\u05dd\u200b\u200fdev\u{1F600}", 1795306890),
    ],
    "id-6": [
      connect("Client x disconnected.", 1795306891, "127.0.0.1:33846", "3.1.1", true, 30),
      clean("Client x disconnected.", 1795306891),
    ],
    "id-7": [],
    "id-8": [],
    "id-long-600": [
      connect("L".repeat(600), 1795306893, "127.0.0.1:33872", "3.1.1", true, 30),
      clean("L".repeat(600), 1795306894),
    ],
    "id-long-utf8": [
      connect("\u00e9".repeat(400), 1795306894, "127.0.0.1:33876", "3.1.1", true, 30),
      closed("\u00e9".repeat(400), 1795306894),
    ],
    "id-long-65535": TRUNCATED,
    "session-expiry": [
      connect("dev-persist", 1795306896, "127.0.0.1:34368", "5", false, 30),
      clean("dev-persist", 1795306896),
      disconnect("dev-persist", 1795306899, "session_expired", "session expired"),
    ],
    rst: [connect("dev-rst", 1795306913, "127.0.0.1:36380", "3.1.1", true, 30), closed("dev-rst", 1795306913)],
    "rst-with-pending": [
      connect("dev-rst2", 1795306914, "127.0.0.1:36384", "3.1.1", true, 30),
      closed("dev-rst2", 1795306914),
    ],
    "utf8-cut": [],
    "others-and-bridge": [
      connect("kw-stats", 1795306920, "127.0.0.1:43738", "3.1.1", true, 60),
      clean("kw-stats", 1795306932),
      closed("vm.kw-bridge", 1795306938),
    ],
    // 2026-11-22T00:22:02 with the broker in UTC
    "timestamp-format": [
      connect("dev-fmt", 1795306922, "127.0.0.1:54582", "3.1.1", true, 60, "bob"),
      clean("dev-fmt", 1795306922),
    ],
    "no-timestamp": [
      connect("dev-fmt", RX / 1000, "127.0.0.1:53578", "3.1.1", true, 60, "bob"),
      clean("dev-fmt", RX / 1000),
    ],
  };

  it("has an expectation for every recorded scenario", () => {
    expect([...scenarios.keys()].sort()).toEqual(Object.keys(expected).sort());
  });

  for (const [scenario, want] of Object.entries(expected)) {
    it(`scenario ${scenario}`, () => {
      const messages = scenarios.get(scenario) ?? [];
      // the strftime scenario was received half a second after 00:22:02
      const receivedAt = scenario === "timestamp-format" ? 1795306922_500 : RX;
      const results = messages.map((m) => parse(m.topic, m.payload, { receivedAt, retained: false }));
      const events = results.flatMap((r) => r.events);
      const errors = results.flatMap((r) => (r.error ? [r.error] : []));
      if (Array.isArray(want)) {
        expect(errors).toEqual([]);
        expect(events).toEqual(want);
      } else {
        expect(events).toEqual([]);
        expect(errors).toHaveLength(want.errors);
        for (const e of errors) expect(e).toMatch(/cut at 999 bytes/);
      }
    });
  }

  it("reports the recorded lines cut inside a UTF-8 sequence as truncated", () => {
    const messages = loadBinary("mosquitto-2.0.binary.json");
    expect(messages).toHaveLength(2);
    for (const m of messages) {
      expect(m.payload.length).toBe(MAX_LINE_BYTES);
      expect(parse(m.topic, m.payload, ctx)).toEqual({
        events: [],
        error: "log line cut at 999 bytes by Mosquitto: the client id is too long to attribute the line",
      });
    }
  });

  it("emits the takeover before the new session's connect (the order the fleet relies on)", () => {
    const kinds = (scenarios.get("takeover-v4") ?? [])
      .flatMap((m) => parse(m.topic, m.payload, ctx).events)
      .map((e) => `${e.kind}@${e.at}`);
    expect(kinds).toEqual([
      "connect@1795306869000",
      "takeover@1795306870000",
      "connect@1795306870000",
      "disconnect@1795306870000",
    ]);
  });
});

describe("mosquitto-log: other versions and lines not recorded here", () => {
  it("reads Mosquitto 1.x connect lines (no port, optional p, username without p)", () => {
    expect(line("1600000000: New client connected from 10.0.0.5 as dev-1 (c1, k60).").events).toEqual([
      connect("dev-1", 1600000000, "10.0.0.5", null, true, 60),
    ]);
    expect(line("1600000000: New client connected from 10.0.0.5 as dev-1 (p2, c0, k60, u'x').").events).toEqual([
      connect("dev-1", 1600000000, "10.0.0.5", "3.1.1", false, 60, "x"),
    ]);
    expect(line("1600000000: New client connected from 10.0.0.5 as dev-1 (c1, k60, u'x').").events).toEqual([
      connect("dev-1", 1600000000, "10.0.0.5", null, true, 60, "x"),
    ]);
  });

  it("keeps an IPv6 address whole", () => {
    expect(line("1795306848: New client connected from ::1:57776 as dev-1 (p2, c1, k5).").events).toEqual([
      connect("dev-1", 1795306848, "::1:57776", "3.1.1", true, 5),
    ]);
  });

  it.each<[string, DisconnectReason, string]>([
    ["Socket error on client dev-1, disconnecting.", "connection_lost", "socket error"],
    ["Client dev-1 disconnected, no longer authorised.", "not_authorized", "no longer authorised"],
    ["Client dev-1 disconnected, not authorised.", "not_authorized", "not authorised"],
    ["Client dev-1 disconnected due to malformed packet.", "protocol_error", "malformed packet"],
    ["Client dev-1 disconnected due to oversize packet.", "protocol_error", "oversize packet"],
    ["Client dev-1 disconnected due to oversize payload.", "protocol_error", "oversize payload"],
    [
      "Client dev-1 disconnected due to QoS too high or retain not supported.",
      "protocol_error",
      "QoS too high or retain not supported",
    ],
    ["Client dev-1 disconnected due to out of memory.", "unknown", "broker out of memory"],
    ["Client dev-1 been disconnected by administrative action.", "admin", "disconnected by administrative action"],
    ["Client dev-1 disconnected: Connection reset by peer.", "connection_lost", "Connection reset by peer"],
    ["Client dev-1 disconnected: Broken pipe.", "connection_lost", "Broken pipe"],
    ["Client dev-1 disconnected: Connection timed out.", "connection_lost", "Connection timed out"],
    ["Client dev-1 disconnected: Invalid argument.", "unknown", "Invalid argument"],
    [
      "Bad socket read/write on client dev-1: The client is not currently connected.",
      "connection_lost",
      "The client is not currently connected.",
    ],
  ])("%s", (text, reason, detail) => {
    expect(line(`1795306848: ${text}`).events).toEqual([disconnect("dev-1", 1795306848, reason, detail)]);
  });

  it("ignores lines that say nothing about a device, without error", () => {
    for (const text of [
      "1795306827: mosquitto version 2.0.11 running",
      "1795306827: Opening ipv4 listen socket on port 18931.",
      "1795306920: New connection from 127.0.0.1:43744 on port 18931.",
      "1795306920: New bridge connected from 127.0.0.1:43744 as vm.kw-bridge (p2, c0, k60).",
      "1795306876: Bad client dev-double sending multiple CONNECT messages.",
      "1795306876: Client <unknown> disconnected, not authorised.",
      "1795306876: Client <unknown> closed its connection.",
      "1795306876: Outgoing messages are being dropped for client dev-1.",
    ]) {
      expect(line(text)).toEqual({ events: [] });
    }
  });

  it("never reads a subscription trace as a connection line", () => {
    // a client named "Client" subscribing to "x disconnected." would print this
    expect(line("1795306852: Client 0 x disconnected.", "$SYS/broker/log/M/subscribe")).toEqual({ events: [] });
    expect(line("1795306852: Client 0 x disconnected.", "$SYS/broker/log/M/unsubscribe")).toEqual({ events: [] });
  });
});

describe("mosquitto-log: timestamps", () => {
  const id = "dev-1";
  const at = (text: string, receivedAt = RX) =>
    parse(LOG_N, `${text}Client ${id} disconnected.`, { receivedAt, retained: false }).events.map((e) => e.at);

  it("uses unix seconds", () => {
    expect(at("1795306848: ")).toEqual([1795306848000]);
  });

  it("falls back to the receive time for an implausible unix stamp (unset clock)", () => {
    expect(at("1234: ")).toEqual([RX]);
  });

  it("uses ISO stamps with a zone", () => {
    expect(at("2026-11-22T00:22:02Z: ")).toEqual([1795306922000]);
    expect(at("2026-11-22T01:22:02+01:00: ")).toEqual([1795306922000]);
    expect(at("2026-11-22T05:52:02+0530: ")).toEqual([1795306922000]);
    expect(at("2026-11-22 00:22:02.250Z: ")).toEqual([1795306922250]);
  });

  it("infers the broker's zone for a zone-less stamp from the receive time", () => {
    // broker at UTC+02:00 writes 02:22:02 for 00:22:02Z; received 0.7 s later
    expect(at("2026-11-22T02:22:02: ", 1795306922_700)).toEqual([1795306922000]);
    // broker at UTC-09:30
    expect(at("2026-11-21T14:52:02: ", 1795306922_700)).toEqual([1795306922000]);
    // the clocks disagree by more than any zone: receive time
    expect(at("2026-11-20T00:22:02: ", 1795306922_700)).toEqual([1795306922_700]);
  });

  it("falls back to the receive time for an invalid ISO date", () => {
    expect(at("2026-13-45T00:22:02Z: ")).toEqual([RX]);
  });

  it("finds the message after an unknown strftime prefix and uses the receive time", () => {
    expect(at("Nov 22 00:22:02: ")).toEqual([RX]);
    expect(at("Time error: ")).toEqual([RX]);
    expect(line("[22/11/2026 00:22] level: Client dev-1 disconnected.").events).toEqual([
      disconnect("dev-1", RX / 1000, "clean", "disconnected"),
    ]);
  });

  it("reads a line without prefix whose id contains ': '", () => {
    expect(line("Client a: b disconnected.").events).toEqual([disconnect("a: b", RX / 1000, "clean", "disconnected")]);
  });
});

describe("mosquitto-log: hostile client ids round-trip", () => {
  const ids = [
    "<img src=x onerror=alert(1)>",
    '=HYPERLINK("http://x","y")',
    "\u202Egnp.exe\u200d\u{1F4A9}",
    "x disconnected: y",
    "x closed its connection. Client y",
    "dev (p2, c1, k5, u'root').",
    "' OR 1=1 --",
  ];

  it.each(ids.map((id) => [id.length > 80 ? `${id.slice(0, 20)}… (${id.length} chars)` : id, id]))(
    "%s",
    (_label, id) => {
      expect(line(`1795306848: New client connected from 127.0.0.1:1 as ${id} (p5, c1, k60, u'u').`).events).toEqual([
        connect(id, 1795306848, "127.0.0.1:1", "5", true, 60, "u"),
      ]);
      expect(line(`1795306848: Client ${id} has exceeded timeout, disconnecting.`).events).toEqual([
        disconnect(id, 1795306848, "keepalive_timeout", "exceeded timeout"),
      ]);
      expect(line(`1795306848: Client ${id} already connected, closing old connection.`).events).toEqual([
        takeover(id, 1795306848),
      ]);
      expect(line(`1795306848: Client ${id} disconnected.`).events).toEqual([clean(id, 1795306848)]);
    },
  );

  it("no line of 999 bytes or more is attributed: Mosquitto cuts there, and the cut can fall inside a crafted id", () => {
    // Recorded from Mosquitto 2.0.11: the client id `victim disconnected: ` + 958 × "a" + `.zzzz`, sending DISCONNECT.
    const spoof = `1796346831: Client victim disconnected: ${"a".repeat(958)}.`;
    expect(Buffer.byteLength(spoof)).toBe(999);
    const cut = "log line cut at 999 bytes by Mosquitto: the client id is too long to attribute the line";
    expect(line(spoof)).toEqual({ events: [], error: cut });
    const id = "a".repeat(100 * 1024);
    for (const text of [
      `1795306848: New client connected from 127.0.0.1:1 as ${id} (p5, c1, k60, u'u').`,
      `1795306848: Client ${id} has exceeded timeout, disconnecting.`,
      `1795306848: Client ${id} already connected, closing old connection.`,
      `1795306848: Client ${id} disconnected.`,
      `Jan 02 03:04:05: Client ${id.slice(0, 990)}`, // cut, after a custom log_timestamp_format
      `1795306848: Bad socket read/write on client ${id.slice(0, 940)}: The client is not currently connected.`,
    ])
      expect(line(text), text.slice(0, 40)).toEqual({ events: [], error: cut });
  });

  it("a keepalive Mosquitto cannot print (over 16 bits) is no keepalive", () => {
    for (const k of ["65536", "9".repeat(400)])
      expect(line(`1795306848: New client connected from 127.0.0.1:1 as dev (p2, c1, k${k}).`).events).toMatchObject([
        { kind: "connect", deviceId: "dev", keepaliveSeconds: null },
      ]);
  });

  it("a client literally named <unknown> cannot be told from a pre-CONNECT connection", () => {
    expect(line("1795306848: Client <unknown> disconnected.").events).toEqual([]);
  });
});

describe("mosquitto-log: malformed payloads", () => {
  it("rejects bytes that are not UTF-8", () => {
    expect(parse(LOG_N, Buffer.from([0x31, 0x3a, 0x20, 0xff, 0xfe, 0x00, 0xc3]), ctx)).toEqual({
      events: [],
      error: "log line is not valid UTF-8",
    });
  });

  it("rejects an empty line", () => {
    expect(parse(LOG_N, Buffer.alloc(0), ctx)).toEqual({ events: [], error: "empty log line" });
  });

  it("rejects unrecognized text with control characters", () => {
    expect(parse(LOG_N, "\u0001\u0002binary\u0000junk", ctx)).toEqual({
      events: [],
      error: "log line contains control characters: not a Mosquitto log line",
    });
  });

  it("reports a client line cut at 999 bytes", () => {
    const cut = `1795306895: Client ${"X".repeat(MAX_LINE_BYTES - 19)}`;
    expect(Buffer.byteLength(cut)).toBe(MAX_LINE_BYTES);
    expect(line(cut).error).toMatch(/cut at 999 bytes/);
    expect(line(cut).events).toEqual([]);
  });

  it("accepts a string payload like a Buffer", () => {
    const text = "1795306848: Client dev-1 disconnected.";
    expect(parse(LOG_N, text, ctx)).toEqual(parse(LOG_N, Buffer.from(text), ctx));
    expect(parse(LOG_N, text, ctx).events).toHaveLength(1);
  });
});

describe("mosquitto-log: topic matching", () => {
  it("matches only $SYS/broker/log/#", () => {
    expect(matches("$SYS/broker/log/N")).toBe(true);
    expect(matches("$SYS/broker/log/E")).toBe(true);
    expect(matches("$SYS/broker/log/M/subscribe")).toBe(true);
    expect(matches("$SYS/broker/clients/connected")).toBe(false);
    expect(matches("devices/dev-1/status")).toBe(false);
    expect(mosquittoLogAdapter.name).toBe("mosquitto-log");
  });
});
