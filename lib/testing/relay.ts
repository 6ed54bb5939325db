/**
 * Test harness: a TCP relay on a free loopback port in front of a server, so a
 * test can cut one link (keepwatch ↔ broker) while everything else runs on.
 * `cut()` destroys every relayed connection and refuses new ones until
 * `restore()`: to the client it is a link that dropped, to the server a
 * socket that closed.
 */
import { createServer, Socket, type Server } from "node:net";
import { freePort } from "./mosquitto";

export interface TcpRelay {
  port: number;
  url: string;
  /** Drops every connection and refuses new ones. */
  cut(): void;
  /** Accepts connections again. */
  restore(): void;
  close(): Promise<void>;
}

export async function startRelay(targetPort: number): Promise<TcpRelay> {
  const port = await freePort();
  const open = new Set<Socket>();
  let accepting = true;
  const server: Server = createServer((client) => {
    if (!accepting) return void client.destroy();
    const upstream = new Socket();
    const pair = [client, upstream];
    for (const s of pair) {
      open.add(s);
      s.on("error", () => undefined);
      s.on("close", () => {
        open.delete(s);
        for (const other of pair) other.destroy();
      });
    }
    upstream.connect(targetPort, "127.0.0.1");
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    cut() {
      accepting = false;
      for (const s of open) s.destroy();
    },
    restore() {
      accepting = true;
    },
    close() {
      accepting = false;
      for (const s of open) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
