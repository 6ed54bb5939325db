/**
 * The embedded MQTT broker: Aedes in this process, listening on MQTT_PORT
 * (TCP, MQTT 3.1 and 3.1.1) and, when MQTT_WS_PORT is set, on that port for
 * MQTT over WebSocket (any path, e.g. ws://host:port/mqtt); used when
 * MQTT_URL is not set. Real devices
 * connect to it like to any broker; keepwatch watches it in-process
 * (lib/ingest/aedes-source.ts), so it sees every PINGREQ.
 *
 * With credentials set (MQTT_USERNAME / MQTT_PASSWORD) every client must
 * present them; otherwise anyone may connect.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { Aedes, type AedesOptions } from "aedes";
import { WebSocketServer, createWebSocketStream } from "ws";

export interface EmbeddedBrokerOptions {
  port: number;
  /** Interface to listen on; default all interfaces. */
  host?: string;
  /** Require these credentials from every client. */
  credentials?: { username: string; password: string } | null;
  /** Also listen for MQTT over WebSocket on this port (0: any free one). */
  wsPort?: number | null;
  /**
   * Whether a client may publish (or leave as its will) on a topic: null to
   * allow, else the reason it is refused. A refused PUBLISH closes the client's
   * connection (MQTT 3.1.1 has no negative acknowledgement); a refused will
   * is not published.
   */
  publishPolicy?: (clientId: string, topic: string) => string | null;
  /** Connections beyond this many are closed at once. Default 100,000. */
  maxConnections?: number;
  /** A client sending a packet larger than this (bytes, fixed header excluded) is disconnected. Default 256 KB. */
  maxPacketBytes?: number;
  /**
   * Browser origins allowed on the WebSocket listener (MQTT_WS_ORIGINS). A
   * connection that carries an Origin not listed is refused; clients that
   * send none (devices, native apps) are let in.
   */
  wsOrigins?: readonly string[];
  /** Topics that may hold a retained message; a new one beyond is refused (the client disconnected). Default 100,000. */
  maxRetained?: number;
  /** A refused connection or packet, for the counters. */
  onRefused?(cause: "packet_too_large" | "ws_origin" | "retained_full" | "empty_client_id"): void;
}

export const DEFAULT_MAX_RETAINED = 100_000;

export const DEFAULT_MAX_PACKET_BYTES = 256 * 1024;

/**
 * Disconnects a client whose next packet announces more than `max` bytes, as
 * soon as its length is read, before the payload is buffered. mqtt-packet's
 * parser (which Aedes gives each client) would otherwise buffer up to 256 MB
 * per packet; this hooks the step where it reads a packet's length.
 */
function limitPacketSize(client: unknown, max: number, onRefused: () => void): void {
  const parser = (client as { _parser?: Record<string, unknown> })._parser;
  const parseLength = parser?._parseLength;
  if (!parser || typeof parseLength !== "function") return;
  parser._parseLength = function (this: { packet: { length: number }; _emitError(e: Error): boolean }) {
    const done = (parseLength as () => boolean).call(this);
    if (done && this.packet.length > max) {
      onRefused();
      this._emitError(new Error(`packet of ${this.packet.length} bytes is over MQTT_MAX_PACKET_BYTES (${max})`));
      return false;
    }
    return done;
  };
}

export interface EmbeddedBroker {
  aedes: Aedes;
  /** The port actually bound (differs from the option when it was 0). */
  port: number;
  host: string;
  /** The WebSocket listener's port, when there is one. */
  wsPort: number | null;
  version: string;
  connectedClients(): number;
  /**
   * An outage as clients see it: cuts every client's TCP connection at once
   * and refuses new ones for `refuseMs`. Returns how many were cut.
   */
  dropAllClients(refuseMs?: number): number;
  /** Stops accepting connections, closes every client, then the broker. */
  close(): Promise<void>;
}

export class BrokerPortInUseError extends Error {
  readonly code = "MQTT_PORT_IN_USE";
  constructor(
    readonly port: number,
    variable: "MQTT_PORT" | "MQTT_WS_PORT" = "MQTT_PORT",
  ) {
    super(
      variable === "MQTT_PORT"
        ? `MQTT_PORT ${port} is already in use, so the embedded broker cannot listen on it. ` +
            `Another MQTT broker is probably running there: set MQTT_URL=mqtt://127.0.0.1:${port} to watch it instead, ` +
            `or set MQTT_PORT to a free port.`
        : `MQTT_WS_PORT ${port} is already in use, so the embedded broker cannot take WebSocket clients on it: ` +
            `set MQTT_WS_PORT to a free port, or leave it unset.`,
    );
    this.name = "BrokerPortInUseError";
  }
}

function listen(server: Server | HttpServer, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host, ipv6Only: false }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/**
 * MQTT over WebSocket: each upgraded connection becomes a stream Aedes
 * handles like a TCP socket, carrying the peer's address so the device page
 * can show where a client connects from. A plain HTTP request gets a 426.
 */
async function startWebSocketListener(
  aedes: Aedes,
  port: number,
  host: string,
  limits: {
    maxPacketBytes: number;
    origins: readonly string[];
    onRefused(cause: "packet_too_large" | "ws_origin"): void;
  },
) {
  const http = createHttpServer((_req, res) => {
    res.writeHead(426, { "content-type": "text/plain; charset=utf-8", upgrade: "websocket" });
    res.end("This port speaks MQTT over WebSocket: connect an MQTT client to ws://<host>:<port>/mqtt\n");
  });
  const origins = new Set(limits.origins.map((o) => o.toLowerCase()));
  const wss = new WebSocketServer({
    server: http,
    // One WebSocket message carries one or a few MQTT packets: a little room for their headers.
    maxPayload: limits.maxPacketBytes + 16,
    verifyClient: ({ origin }: { origin?: string }) => {
      // Devices and native clients send no Origin; a browser page elsewhere may not connect.
      const ok = !origin || origins.has(origin.toLowerCase());
      if (!ok) limits.onRefused("ws_origin");
      return ok;
    },
  });
  wss.on("connection", (ws, req) => {
    const stream = createWebSocketStream(ws);
    stream.on("error", () => ws.terminate());
    Object.assign(stream, { remoteAddress: req.socket.remoteAddress, remotePort: req.socket.remotePort });
    limitPacketSize(aedes.handle(stream, req), limits.maxPacketBytes, () => limits.onRefused("packet_too_large"));
  });
  wss.on("error", () => {}); // the HTTP server's errors are reported by listen()
  await listen(http, port, host);
  http.on("error", () => {});
  return {
    port: (http.address() as { port: number }).port,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
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
  const policy = opts.publishPolicy;
  const maxRetained = opts.maxRetained ?? DEFAULT_MAX_RETAINED;
  /** Topics holding a retained message (kept in memory by Aedes): at most maxRetained. */
  const retained = new Set<string>();
  const aedes = await Aedes.createBroker({
    ...(opts.credentials ? { authenticate: authenticator(opts.credentials) } : {}),
    // MQTT 3.1.1 (3.1.3-8): an empty client id asks for a clean session; with clean session 0 it is
    // refused with CONNACK "identifier rejected" and the connection closed.
    preConnect: (client, packet, callback) => {
      if (packet.clientId || packet.clean) return callback(null, true);
      opts.onRefused?.("empty_client_id");
      client.conn.write(Buffer.from([0x20, 0x02, 0x00, 0x02]));
      callback(Object.assign(new Error("identifier rejected"), { errorCode: 2 }), false);
    },
    authorizePublish: (client, packet, done) => {
      const refused = client && policy ? policy(client.id, packet.topic) : null;
      if (refused !== null) return done(new Error(refused));
      if (packet.retain) {
        // An empty retained payload clears the topic's retained message.
        if (packet.payload.length === 0) retained.delete(packet.topic);
        else if (!retained.has(packet.topic)) {
          if (retained.size >= maxRetained) {
            opts.onRefused?.("retained_full");
            return done(new Error(`more than MQTT_MAX_RETAINED (${maxRetained}) retained messages`));
          }
          retained.add(packet.topic);
        }
      }
      done(null);
    },
  });
  const sockets = new Set<Socket>();
  const maxConnections = opts.maxConnections ?? 100_000;
  const maxPacketBytes = opts.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
  /** Until when new connections are refused (an outage, see dropAllClients). */
  let refuseUntil = 0;
  const server: Server = createServer((socket) => {
    if (sockets.size >= maxConnections || Date.now() < refuseUntil) return void socket.destroy();
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.setNoDelay(true);
    limitPacketSize(aedes.handle(socket), maxPacketBytes, () => opts.onRefused?.("packet_too_large"));
  });
  const host = opts.host ?? "::";
  let ws: Awaited<ReturnType<typeof startWebSocketListener>> | null = null;
  let listening = "MQTT_PORT" as "MQTT_PORT" | "MQTT_WS_PORT";
  try {
    await listen(server, opts.port, host);
    if (opts.wsPort !== undefined && opts.wsPort !== null) {
      listening = "MQTT_WS_PORT";
      ws = await startWebSocketListener(aedes, opts.wsPort, host, {
        maxPacketBytes,
        origins: opts.wsOrigins ?? [],
        onRefused: (cause) => opts.onRefused?.(cause),
      });
    }
  } catch (e) {
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE")
      throw new BrokerPortInUseError(listening === "MQTT_PORT" ? opts.port : opts.wsPort!, listening);
    if (code === "EAFNOSUPPORT" && opts.host === undefined) {
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
    wsPort: ws?.port ?? null,
    version: (aedes as Aedes & { version: string }).version,
    connectedClients: () => (aedes as Aedes & { connectedClients: number }).connectedClients,
    dropAllClients: (refuseMs = 0) => {
      refuseUntil = Date.now() + refuseMs;
      const open = [...sockets];
      for (const s of open) s.destroy();
      return open.length;
    },
    close: () =>
      (closed ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        const wsStopped = ws?.close();
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await Promise.all([stopped, wsStopped]);
      })()),
  };
}
