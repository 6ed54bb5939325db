/**
 * Test harness: real MQTT clients, including misbehaving ones.
 * - rawConnect: a bare TCP socket that sends CONNECT and then never pings
 *   (what MicroPython's umqtt.simple does when ping() is never called).
 * - mosquittoSub: Mosquitto's own client process (killable with SIGKILL).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { Socket } from "node:net";
import { encodeLength } from "../sim/packets";

/** An MQTT 3.1.1 CONNECT packet (clean session, no will, no credentials). */
export function connectPacket(clientId: string, keepaliveSeconds: number): Buffer {
  const id = Buffer.from(clientId, "utf8");
  const variable = Buffer.from([
    0x00,
    0x04,
    0x4d,
    0x51,
    0x54,
    0x54,
    0x04,
    0x02,
    keepaliveSeconds >> 8,
    keepaliveSeconds & 0xff,
  ]);
  const payload = Buffer.concat([Buffer.from([id.length >> 8, id.length & 0xff]), id]);
  const body = Buffer.concat([variable, payload]);
  return Buffer.concat([Buffer.from([0x10, ...encodeLength(body.length)]), body]);
}

/** Connects, waits for CONNACK, then stays silent. Resolves with the open socket. */
export function rawConnect(port: number, clientId: string, keepaliveSeconds: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const timer = setTimeout(() => (socket.destroy(), reject(new Error("no CONNACK within 5 s"))), 5000);
    socket.once("error", (err) => (clearTimeout(timer), reject(err)));
    socket.once("data", (data) => {
      clearTimeout(timer);
      if (data[0] !== 0x20 || data[3] !== 0) return reject(new Error(`connection refused: ${data.toString("hex")}`));
      socket.removeAllListeners("error");
      socket.on("error", () => undefined);
      resolve(socket);
    });
    socket.connect(port, "127.0.0.1", () => socket.write(connectPacket(clientId, keepaliveSeconds)));
  });
}

/** `mosquitto_sub -i <id> -k <keepalive> -t <topic>`; resolves once the process is running. */
export function mosquittoSub(
  port: number,
  clientId: string,
  keepaliveSeconds: number,
  topic = "kw/test",
): ChildProcess {
  return spawn(
    "mosquitto_sub",
    ["-h", "127.0.0.1", "-p", String(port), "-i", clientId, "-k", String(keepaliveSeconds), "-t", topic],
    {
      stdio: "ignore",
    },
  );
}

export function exited(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once("exit", () => resolve());
  });
}

/** Polls `probe` until it returns a truthy value or the time runs out. */
type Truthy<T> = Exclude<T, false | null | undefined | 0 | "">;

export async function eventually<T>(probe: () => T | Promise<T>, timeoutMs: number, what: string): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as Truthy<T>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
