/**
 * A client-id flood, for the test that proves it cannot exhaust the monitor:
 *
 *   tsx lib/testing/flood-process.ts <port> <count> <seconds>
 *
 * `count` clients, each with a fresh random id, connect (CONNECT, wait for
 * CONNACK) and leave (DISCONNECT), paced to take about `seconds`, at most
 * 200 at a time. Prints one JSON line: `{ sent, refused, failed, ms }`.
 */
import { randomBytes } from "node:crypto";
import { Socket } from "node:net";
import { connectPacket } from "./clients";

const [port, count, seconds] = process.argv.slice(2).map(Number);
const DISCONNECT = Buffer.from([0xe0, 0x00]);
let sent = 0;
let refused = 0;
let failed = 0;

function one(): Promise<void> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (outcome: "ok" | "refused" | "failed") => {
      if (outcome === "ok") sent++;
      else if (outcome === "refused") refused++;
      else failed++;
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(() => done("failed"), 10_000);
    socket.once("error", () => done("failed"));
    socket.once("data", (d) => {
      if (d[0] !== 0x20 || d[3] !== 0) return done("refused");
      socket.end(DISCONNECT, () => done("ok"));
    });
    socket.connect(port, "127.0.0.1", () => socket.write(connectPacket(`flood-${randomBytes(8).toString("hex")}`, 60)));
  });
}

const started = Date.now();
let next = 0;
async function worker(): Promise<void> {
  while (next < count) {
    const i = next++;
    // Paced: client i starts no earlier than i/count of the way through.
    const due = started + (i / count) * seconds * 1000;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    await one();
  }
}
await Promise.all(Array.from({ length: 200 }, worker));
console.log(JSON.stringify({ sent, refused, failed, ms: Date.now() - started }));
