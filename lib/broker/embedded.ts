/**
 * The embedded MQTT broker: Aedes in this process, listening on MQTT_PORT
 * (TCP, MQTT 3.1 and 3.1.1), used when MQTT_URL is not set. Real devices
 * connect to it like to any broker; keepwatch watches it in-process
 * (lib/ingest/aedes-source.ts), so it sees every PINGREQ.
 *
 * With credentials set (MQTT_USERNAME / MQTT_PASSWORD) every client must
 * present them; otherwise anyone may connect.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { Aedes, type AedesOptions } from "aedes";

export interface EmbeddedBrokerOptions {
  port: number;
  /** Interface to listen on; default all interfaces. */
  host?: string;
  /** Require these credentials from every client. */
  credentials?: { username: string; password: string } | null;
}

export interface EmbeddedBroker {
  aedes: Aedes;
  /** The port actually bound (differs from the option when it was 0). */
  port: number;
  host: string;
  version: string;
  connectedClients(): number;
  /** Stops accepting connections, closes every client, then the broker. */
  close(): Promise<void>;
}

export class BrokerPortInUseError extends Error {
  readonly code = "MQTT_PORT_IN_USE";
  constructor(readonly port: number) {
    super(
      `MQTT_PORT ${port} is already in use, so the embedded broker cannot listen on it. ` +
        `Another MQTT broker is probably running there: set MQTT_URL=mqtt://127.0.0.1:${port} to watch it instead, ` +
        `or set MQTT_PORT to a free port.`,
    );
    this.name = "BrokerPortInUseError";
  }
}

const digest = (s: string | Buffer) => createHash("sha256").update(s).digest();

/** Compares in constant time (over digests, so lengths do not leak either). */
function sameSecret(given: string | Buffer | undefined, expected: string): boolean {
  return timingSafeEqual(digest(given ?? ""), digest(expected));
}

function authenticator(credentials: { username: string; password: string }): AedesOptions["authenticate"] {
  return (_client, username, password, done) => {
    const userOk = sameSecret(username, credentials.username);
    const passOk = sameSecret(password, credentials.password);
    if (userOk && passOk) return done(null, true);
    const error = Object.assign(new Error("bad user name or password"), { returnCode: 4 as const });
    done(error, null);
  };
}

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker(opts.credentials ? { authenticate: authenticator(opts.credentials) } : {});
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.setNoDelay(true);
    aedes.handle(socket);
  });
  const host = opts.host ?? "::";
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port: opts.port, host, ipv6Only: false }, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (e) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    if ((e as NodeJS.ErrnoException).code === "EADDRINUSE") throw new BrokerPortInUseError(opts.port);
    if ((e as NodeJS.ErrnoException).code === "EAFNOSUPPORT" && opts.host === undefined) {
      // No IPv6 on this machine: all IPv4 interfaces then.
      return startEmbeddedBroker({ ...opts, host: "0.0.0.0" });
    }
    throw e;
  }
  server.on("error", () => {}); // accept errors (EMFILE...) are per connection; the listener stays up
  const port = (server.address() as { port: number }).port;
  let closed: Promise<void> | null = null;
  return {
    aedes,
    port,
    host,
    version: (aedes as Aedes & { version: string }).version,
    connectedClients: () => (aedes as Aedes & { connectedClients: number }).connectedClients,
    close: () =>
      (closed ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await stopped;
      })()),
  };
}
