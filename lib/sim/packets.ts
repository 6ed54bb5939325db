/**
 * The few MQTT 3.1.1 packets the simulator's raw clients send and read, so
 * that their wire behaviour is exactly what is modelled (a client library
 * would add pings of its own). Pure encoding/decoding, no I/O.
 */

export interface ConnectOptions {
  clientId: string;
  keepaliveSeconds: number;
  clean?: boolean;
  username?: string | null;
  password?: string | null;
  will?: { topic: string; payload: string; retain: boolean; qos?: 0 | 1 } | null;
}

/** MQTT "remaining length": 7 bits per byte, high bit set while more bytes follow. */
export function encodeLength(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

function str(s: string): Buffer {
  const b = Buffer.from(s, "utf8");
  if (b.length > 0xffff) throw new Error("MQTT string longer than 65535 bytes");
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

function packet(header: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([header, ...encodeLength(body.length)]), body]);
}

export function connectPacket(o: ConnectOptions): Buffer {
  if (o.keepaliveSeconds < 0 || o.keepaliveSeconds > 0xffff) throw new Error("keepalive out of range");
  let flags = o.clean === false ? 0 : 0x02;
  if (o.will) flags |= 0x04 | ((o.will.qos ?? 0) << 3) | (o.will.retain ? 0x20 : 0);
  if (o.username != null) flags |= 0x80;
  if (o.password != null) flags |= 0x40;
  const variable = Buffer.from([
    0x00,
    0x04,
    0x4d, // M
    0x51, // Q
    0x54, // T
    0x54, // T
    0x04, // protocol level 4: MQTT 3.1.1
    flags,
    o.keepaliveSeconds >> 8,
    o.keepaliveSeconds & 0xff,
  ]);
  const parts = [variable, str(o.clientId)];
  if (o.will) parts.push(str(o.will.topic), str(o.will.payload));
  if (o.username != null) parts.push(str(o.username));
  if (o.password != null) parts.push(str(o.password));
  return packet(0x10, Buffer.concat(parts));
}

/** QoS 0 PUBLISH (QoS 1 with a packet id). */
export function publishPacket(
  topic: string,
  payload: string | Buffer,
  opts: { retain?: boolean; qos?: 0 | 1; packetId?: number } = {},
): Buffer {
  const qos = opts.qos ?? 0;
  const header = 0x30 | (qos << 1) | (opts.retain ? 0x01 : 0);
  const id = qos > 0 ? Buffer.from([(opts.packetId ?? 1) >> 8, (opts.packetId ?? 1) & 0xff]) : Buffer.alloc(0);
  return packet(header, Buffer.concat([str(topic), id, Buffer.isBuffer(payload) ? payload : Buffer.from(payload)]));
}

export function subscribePacket(packetId: number, topic: string, qos: 0 | 1): Buffer {
  return packet(0x82, Buffer.concat([Buffer.from([packetId >> 8, packetId & 0xff]), str(topic), Buffer.from([qos])]));
}

export function pubackPacket(packetId: number): Buffer {
  return Buffer.from([0x40, 0x02, packetId >> 8, packetId & 0xff]);
}

export const PINGREQ = Buffer.from([0xc0, 0x00]);
export const DISCONNECT = Buffer.from([0xe0, 0x00]);

export type IncomingPacket =
  | { type: "connack"; returnCode: number; sessionPresent: boolean }
  | { type: "publish"; topic: string; payload: Buffer; qos: number; packetId: number | null }
  | { type: "pingresp" }
  | { type: "suback"; packetId: number; granted: number[] }
  | { type: "other"; header: number };

/**
 * Splits a byte stream into packets. Feed it every chunk as it arrives; it
 * returns the complete packets and keeps the rest.
 */
export class PacketReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): IncomingPacket[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: IncomingPacket[] = [];
    for (;;) {
      if (this.buf.length < 2) break;
      let length = 0;
      let multiplier = 1;
      let i = 1;
      let complete = false;
      for (; i < this.buf.length && i <= 4; i++) {
        const byte = this.buf[i];
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete) {
        if (i > 4) throw new Error("malformed remaining length");
        break;
      }
      const start = i + 1;
      if (this.buf.length < start + length) break;
      out.push(decode(this.buf[0], this.buf.subarray(start, start + length)));
      this.buf = this.buf.subarray(start + length);
    }
    return out;
  }
}

function decode(header: number, body: Buffer): IncomingPacket {
  switch (header >> 4) {
    case 2:
      return { type: "connack", sessionPresent: (body[0] & 1) === 1, returnCode: body[1] };
    case 3: {
      const qos = (header >> 1) & 3;
      const topicLength = body.readUInt16BE(0);
      const topic = body.subarray(2, 2 + topicLength).toString("utf8");
      let offset = 2 + topicLength;
      let packetId: number | null = null;
      if (qos > 0) {
        packetId = body.readUInt16BE(offset);
        offset += 2;
      }
      return { type: "publish", topic, payload: Buffer.from(body.subarray(offset)), qos, packetId };
    }
    case 9:
      return { type: "suback", packetId: body.readUInt16BE(0), granted: [...body.subarray(2)] };
    case 13:
      return { type: "pingresp" };
    default:
      return { type: "other", header };
  }
}
