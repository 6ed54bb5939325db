import { describe, expect, it } from "vitest";
import { connectPacket as testingConnect } from "../testing/clients";
import {
  connectPacket,
  DISCONNECT,
  PacketReader,
  PINGREQ,
  pubackPacket,
  publishPacket,
  subscribePacket,
} from "./packets";

describe("packets", () => {
  it("CONNECT: MQTT 3.1.1, clean session, keepalive, client id", () => {
    const p = connectPacket({ clientId: "dev-1", keepaliveSeconds: 10 });
    expect(p).toEqual(testingConnect("dev-1", 10));
    expect(p.toString("hex")).toBe("101100044d5154540402000a00056465762d31");
  });

  it("CONNECT with a retained will and credentials sets the flags and appends the fields in order", () => {
    const p = connectPacket({
      clientId: "s",
      keepaliveSeconds: 0,
      clean: false,
      username: "u",
      password: "pw",
      will: { topic: "d/s", payload: "offline", retain: true },
    });
    // flags: user 0x80 | password 0x40 | will retain 0x20 | will 0x04 (clean off)
    expect(p[9]).toBe(0xe4);
    expect(p.subarray(12).toString("latin1")).toBe(
      "\u0000\u0001s\u0000\u0003d/s\u0000\u0007offline\u0000\u0001u\u0000\u0002pw",
    );
    expect(p[1]).toBe(p.length - 2);
  });

  it("PUBLISH QoS 0 (retained or not), QoS 1 with its packet id", () => {
    expect(publishPacket("a/b", "hi").toString("hex")).toBe("30070003612f626869");
    expect(publishPacket("a/b", "hi", { retain: true })[0]).toBe(0x31);
    expect(publishPacket("a", "x", { qos: 1, packetId: 258 }).toString("hex")).toBe("32060001610102" + "78");
  });

  it("encodes lengths over 127 bytes in several bytes", () => {
    const p = publishPacket("t", "x".repeat(200));
    expect([...p.subarray(0, 3)]).toEqual([0x30, 0xcb, 0x01]); // 203 = 2 + 1 + 200: 0x4b | 0x80, then 1 × 128
  });

  it("SUBSCRIBE, PUBACK, PINGREQ, DISCONNECT", () => {
    expect(subscribePacket(1, "a/#", 1).toString("hex")).toBe("82080001" + "0003612f23" + "01");
    expect(pubackPacket(258).toString("hex")).toBe("40020102");
    expect(PINGREQ.toString("hex")).toBe("c000");
    expect(DISCONNECT.toString("hex")).toBe("e000");
  });

  it("reads packets split across chunks and several in one chunk", () => {
    const r = new PacketReader();
    const big = Buffer.concat([
      publishPacket("t/1", "y".repeat(300), { qos: 1, packetId: 7 }),
      Buffer.from([0xd0, 0x00]),
    ]);
    const stream = Buffer.concat([
      Buffer.from([0x20, 0x02, 0x00, 0x00]),
      big,
      Buffer.from([0x90, 0x03, 0x00, 0x01, 0x01]),
    ]);
    const out = [...r.push(stream.subarray(0, 1)), ...r.push(stream.subarray(1, 150)), ...r.push(stream.subarray(150))];
    expect(out).toEqual([
      { type: "connack", sessionPresent: false, returnCode: 0 },
      { type: "publish", topic: "t/1", payload: Buffer.from("y".repeat(300)), qos: 1, packetId: 7 },
      { type: "pingresp" },
      { type: "suback", packetId: 1, granted: [1] },
    ]);
    expect(r.push(Buffer.from([0x20, 0x02, 0x01, 0x05]))).toEqual([
      { type: "connack", sessionPresent: true, returnCode: 5 },
    ]);
  });
});
