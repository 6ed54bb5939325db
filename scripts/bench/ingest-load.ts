/**
 * The ingest load generator, a process of its own so that it never shares an
 * event loop with what is measured. On "go" it produces, at the same time:
 *
 * - device traffic: `telemetry` QoS 0 PUBLISH packets spread round-robin over
 *   `devices` ids on `devices/{id}/telemetry`, every `statusEvery`-th one
 *   replaced by `devices/{id}/status` online/offline, written by `publishers`
 *   connections as fast as the broker takes them (TCP backpressure respected);
 * - connection churn: `cycles` real connections (`concurrency` at a time),
 *   each CONNECT (keepalive 60) → CONNACK → half of them DISCONNECT, the other
 *   half close the socket without it. Mosquitto logs each on
 *   `$SYS/broker/log/#` ("New connection …", "New client connected … as id",
 *   "Client id disconnected." / "… closed its connection.").
 *
 * Packets are encoded up front (plain MQTT 3.1.1), so the generator spends
 * its time writing, not encoding: it is not the bottleneck being measured.
 */
import { once } from "node:events";
import { Socket } from "node:net";
import { connectPacket } from "../../lib/testing/clients";
import { encodeLength } from "../../lib/sim/packets";
import { childMain, exitOnStop, receive, send } from "./common";

export interface LoadPlan {
  port: number;
  idPrefix: string;
  devices: number;
  telemetry: number;
  statusEvery: number;
  publishers: number;
  cycles: number;
  concurrency: number;
}

export interface LoadSent {
  type: "sent";
  deviceMessages: number;
  statusMessages: number;
  cycles: number;
  cycleFailures: number;
  firstWriteAt: number;
  publishedAt: number;
  cyclesDoneAt: number;
}

export const deviceId = (plan: Pick<LoadPlan, "idPrefix">, i: number) =>
  `${plan.idPrefix}${String(i).padStart(6, "0")}`;

/** Which device the i-th connection cycle uses (distinct ids while cycles ≤ devices). */
export const cycleDevice = (plan: Pick<LoadPlan, "devices">, i: number) => (i * 3) % plan.devices;

/** A QoS 0 PUBLISH (MQTT 3.1.1). */
export function publishPacket(topic: string, payload: string): Buffer {
  const t = Buffer.from(topic, "utf8");
  const p = Buffer.from(payload, "utf8");
  const header = encodeLength(2 + t.length + p.length);
  const out = Buffer.allocUnsafe(1 + header.length + 2 + t.length + p.length);
  let o = 0;
  out[o++] = 0x30;
  for (const b of header) out[o++] = b;
  out.writeUInt16BE(t.length, o);
  o += 2;
  o += t.copy(out, o);
  p.copy(out, o);
  return out;
}

const DISCONNECT = Buffer.from([0xe0, 0x00]);

/** Chunks of encoded packets for each publisher connection (message j goes to publisher j % publishers). */
function encodeTraffic(plan: LoadPlan): { chunks: Buffer[][]; status: number } {
  const CHUNK = 64 * 1024;
  const perPublisher: Buffer[][] = Array.from({ length: plan.publishers }, () => []);
  const pending: Buffer[][] = Array.from({ length: plan.publishers }, () => []);
  const pendingBytes = new Array<number>(plan.publishers).fill(0);
  let status = 0;
  for (let j = 0; j < plan.telemetry; j++) {
    const id = deviceId(plan, j % plan.devices);
    let packet: Buffer;
    if (plan.statusEvery > 0 && j % plan.statusEvery === plan.statusEvery - 1) {
      // Alternates offline (a will, say) and online for the devices it lands on.
      packet = publishPacket(`devices/${id}/status`, status % 2 === 0 ? "offline" : "online");
      status++;
    } else {
      const payload = `{"seq":${j},"t":${(20 + (j % 50) / 10).toFixed(1)},"rssi":-${40 + (j % 40)}}`;
      packet = publishPacket(`devices/${id}/telemetry`, payload);
    }
    const p = j % plan.publishers;
    pending[p].push(packet);
    pendingBytes[p] += packet.length;
    if (pendingBytes[p] >= CHUNK) {
      perPublisher[p].push(Buffer.concat(pending[p]));
      pending[p] = [];
      pendingBytes[p] = 0;
    }
  }
  for (let p = 0; p < plan.publishers; p++) if (pending[p].length) perPublisher[p].push(Buffer.concat(pending[p]));
  return { chunks: perPublisher, status };
}

/** Opens a raw MQTT connection and waits for a successful CONNACK. */
async function connect(port: number, clientId: string, keepalive: number): Promise<Socket> {
  const socket = new Socket();
  socket.setNoDelay(true);
  const acked = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no CONNACK for ${clientId} within 10 s`)), 10_000);
    socket.once("error", (err) => (clearTimeout(timer), reject(err)));
    socket.once("data", (data: Buffer) => {
      clearTimeout(timer);
      if (data[0] !== 0x20 || data[3] !== 0) reject(new Error(`${clientId} refused: ${data.toString("hex")}`));
      else resolve();
    });
  });
  socket.connect(port, "127.0.0.1", () => socket.write(connectPacket(clientId, keepalive)));
  try {
    await acked;
  } catch (err) {
    socket.destroy();
    throw err;
  }
  socket.removeAllListeners("error");
  socket.on("error", () => undefined);
  return socket;
}

async function writeAll(socket: Socket, chunks: Buffer[]): Promise<void> {
  for (const chunk of chunks) {
    if (!socket.write(chunk)) await once(socket, "drain");
  }
}

async function runCycles(plan: LoadPlan): Promise<{ done: number; failed: number }> {
  let next = 0;
  let done = 0;
  let failed = 0;
  async function worker(): Promise<void> {
    for (;;) {
      const i = next++;
      if (i >= plan.cycles) return;
      const id = deviceId(plan, cycleDevice(plan, i));
      try {
        const socket = await connect(plan.port, id, 60);
        const closed = once(socket, "close");
        if (i % 2 === 0) socket.end(DISCONNECT);
        else socket.destroy();
        await closed;
        done++;
      } catch {
        failed++;
      }
    }
  }
  await Promise.all(Array.from({ length: plan.concurrency }, worker));
  return { done, failed };
}

childMain(async () => {
  const plan = JSON.parse(process.argv[2]) as LoadPlan;
  const { chunks, status } = encodeTraffic(plan);
  const publishers = await Promise.all(chunks.map((_, p) => connect(plan.port, `loadgen-publisher-${p}`, 60)));
  exitOnStop(async () => {
    for (const s of publishers) s.destroy();
  });
  await send({ type: "ready" });
  await receive("go");

  const firstWriteAt = Date.now();
  await send({ type: "started", at: firstWriteAt });
  const cycles = runCycles(plan).then((r) => ({ ...r, at: Date.now() }));
  await Promise.all(publishers.map((s, p) => writeAll(s, chunks[p])));
  const publishedAt = Date.now();
  const c = await cycles;
  const sent: LoadSent = {
    type: "sent",
    deviceMessages: plan.telemetry,
    statusMessages: status,
    cycles: c.done,
    cycleFailures: c.failed,
    firstWriteAt,
    publishedAt,
    cyclesDoneAt: c.at,
  };
  await send(sent);
  // Publisher connections stay open until "stop": closing them would add log lines mid-measurement.
});
