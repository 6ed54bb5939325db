import { describe, expect, it } from "vitest";
import { isDebugLine, lineTime, parseDebugLine, parseLifecycleLine, splitStamp } from "./mosquitto-debug";

const S = 1795309837;
/** Read 40 ms after the stamped second began. */
const ctx = { receivedAt: S * 1000 + 40 };

describe("mosquitto-debug: recorded Mosquitto 2.0.11 lines", () => {
  it("reads a PINGREQ as a ping at the receive time inside the stamped second", () => {
    expect(parseDebugLine(`${S}: Received PINGREQ from dev-1`, ctx)).toEqual([
      { kind: "ping", deviceId: "dev-1", at: S * 1000 + 40, source: "mosquitto-debug" },
    ]);
  });

  it("keeps ids with spaces, parentheses and ' as '", () => {
    const id = "dbg (x) as y";
    expect(parseDebugLine(`${S}: Received PINGREQ from ${id}`, ctx)[0]).toMatchObject({ deviceId: id });
    expect(
      parseDebugLine(`${S}: Received PUBLISH from ${id} (d0, q1, r0, m1, 'devices/a/t', ... (2 bytes))`, ctx),
    ).toEqual([{ kind: "publish", deviceId: id, at: S * 1000 + 40, source: "mosquitto-debug", topic: "devices/a/t" }]);
    expect(parseDebugLine(`${S}: Received SUBSCRIBE from ${id}`, ctx)).toEqual([
      { kind: "packet", deviceId: id, at: S * 1000 + 40, source: "mosquitto-debug", packet: "subscribe" },
    ]);
  });

  it("names nobody on a line of 999 bytes or more: Mosquitto cut it there", () => {
    // Recorded: a 1,200-character client id; every line about it ends after 999 bytes.
    const cut = `${S}: Received PINGREQ from ${"d".repeat(1200)}`.slice(0, 999);
    expect(parseDebugLine(cut, ctx)).toEqual([]);
    expect(parseDebugLine(`${S}: Received SUBSCRIBE from ${"d".repeat(1200)}`.slice(0, 999), ctx)).toEqual([]);
    // A cut inside an id crafted to end like another client's whole PUBLISH line.
    const tail = "', ... (2 bytes))";
    const head = `${S}: Received PUBLISH from victim (d0, q0, r0, m1, '`;
    const spoof = head + "a".repeat(999 - head.length - tail.length) + tail;
    expect(Buffer.byteLength(spoof)).toBe(999);
    expect(parseDebugLine(spoof, ctx)).toEqual([]);
    // One byte shorter is a line Mosquitto printed whole.
    expect(parseDebugLine(spoof.replace("aa", "a"), ctx)).toMatchObject([{ kind: "publish", deviceId: "victim" }]);
  });

  it("never reads a prefix of the sender's id as the id (a crafted id cannot speak for another client)", () => {
    const id = "victim (d0, q0, r0, m1, 'x', ... (2 bytes))";
    expect(
      parseDebugLine(`${S}: Received PUBLISH from ${id} (d0, q1, r0, m5, 'devices/a/t', ... (4 bytes))`, ctx),
    ).toMatchObject([{ kind: "publish", deviceId: id, topic: "devices/a/t" }]);
  });

  it("reads acknowledgements as packets", () => {
    expect(parseDebugLine(`${S}: Received PUBACK from dev-2 (Mid: 3, RC:0)`, ctx)[0]).toMatchObject({
      kind: "packet",
      deviceId: "dev-2",
      packet: "puback",
    });
    expect(parseDebugLine(`${S}: Received PUBREL from dev-2 (Mid: 7)`, ctx)[0]).toMatchObject({ packet: "pubrel" });
  });

  it("ignores what the broker sends, connects, subscriptions and start-up lines", () => {
    for (const line of [
      `${S}: Sending PINGRESP to dev-1`,
      `${S}: Sending PUBACK to dev-1 (m1, rc0)`,
      `${S}: New client connected from 127.0.0.1:46591 as dev-1 (p2, c1, k2).`,
      `${S}: \tx/# (QoS 1)`,
      `${S}: dev-1 1 x/#`,
      `${S}: mosquitto version 2.0.11 running`,
      `${S}: Received DISCONNECT from dev-1`,
      `${S}: Received PINGREQ from `,
      "",
    ]) {
      expect(parseDebugLine(line, ctx), line).toEqual([]);
    }
  });

  it("tolerates CRLF line ends", () => {
    expect(parseDebugLine(`${S}: Received PINGREQ from dev-1\r`, ctx)[0]).toMatchObject({ deviceId: "dev-1" });
  });

  it("uses the receive time when the line has no stamp (log_timestamp false or a custom format)", () => {
    expect(parseDebugLine("Received PINGREQ from dev-1", ctx)[0]).toMatchObject({ at: ctx.receivedAt });
    expect(splitStamp("12: Received PINGREQ from x")).toEqual([null, "12: Received PINGREQ from x"]);
  });

  it("tells debug lines from others", () => {
    expect(isDebugLine(`${S}: Sending PINGRESP to dev-1`)).toBe(true);
    expect(isDebugLine(`${S}: New connection from 127.0.0.1:1 on port 1883.`)).toBe(false);
  });
});

describe("mosquitto-debug: line times", () => {
  it("takes the receive time while it is inside the stamped second", () => {
    expect(lineTime(S, S * 1000 + 999)).toBe(S * 1000 + 999);
  });
  it("keeps a line read in the next second inside its own second", () => {
    expect(lineTime(S, S * 1000 + 1300)).toBe(S * 1000 + 999);
  });
  it("takes the stamp for a backlog read later, or a receive clock behind the stamp", () => {
    expect(lineTime(S, S * 1000 + 60_000)).toBe(S * 1000);
    expect(lineTime(S, S * 1000 - 10)).toBe(S * 1000);
  });
});

describe("mosquitto-debug: the broker's own start and stop", () => {
  it("reads the recorded 2.0.11 lines, the stop to the second it was read in", () => {
    const at = 1796278228;
    expect(parseLifecycleLine(`${at}: mosquitto version 2.0.11 starting`, { receivedAt: at * 1000 + 300 })).toEqual({
      phase: "starting",
      at: at * 1000,
    });
    expect(parseLifecycleLine(`${at}: mosquitto version 2.0.11 terminating`, { receivedAt: at * 1000 + 300 })).toEqual({
      phase: "terminating",
      at: at * 1000 + 300,
    });
    // Read long after (a backlog): the end of its second.
    expect(
      parseLifecycleLine(`${at}: mosquitto version 2.0.11 terminating\r`, { receivedAt: at * 1000 + 9_000 }),
    ).toEqual({ phase: "terminating", at: at * 1000 + 999 });
  });

  it("takes no other line, nor a client id that looks like one", () => {
    const ctx = { receivedAt: 1_796_278_228_000 };
    for (const line of [
      "1796278226: mosquitto version 2.0.11 running",
      "1796278226: Config loaded from /tmp/m.conf.",
      "1796278228: Received PINGREQ from mosquitto version 2.0.11 starting",
      "1796278228: New client connected from 127.0.0.1:1 as mosquitto version 2 starting (p2, c1, k5).",
    ])
      expect(parseLifecycleLine(line, ctx)).toBeNull();
  });
});
