/**
 * Watches an in-process Aedes broker and hands normalized events on in
 * batches, the way worker.ts does for a broker watched over MQTT. What Aedes
 * reports is turned into AedesObservations here (the only place that touches
 * Aedes' objects) and into ActivityEvents by adapters/aedes.ts (pure).
 *
 * What Aedes tells, and how:
 * - `preConnect(client, packet)` (a broker hook, wrapped here) gives the
 *   CONNECT packet: client id, keepalive, protocol level, clean flag, user.
 * - `client` (the connection is registered under its id) → connect.
 * - `ping`, `ack` (PUBACK/PUBCOMP), `subscribe`, `unsubscribe`, `publish`
 *   come with the client that sent the packet.
 * - `keepaliveTimeout` fires just before the broker closes a silent client;
 *   `clientError` carries the error that closes a connection; the client's
 *   `_disconnected` flag says it sent DISCONNECT (Aedes has no event for it).
 * - `clientDisconnect` (the connection is unregistered) → end, with the
 *   facts above. Its socket's `close` is the fallback: Aedes skips
 *   `clientDisconnect` when a connection ends while a newer one with the
 *   same id registers.
 * - Takeover: Aedes has no event for it. `registerClient(new)` closes the
 *   connection already registered under the id; it is wrapped here so the old
 *   connection is reported as taken over (before the new connect) instead of
 *   as a drop. A connection already closing on its own when the new one
 *   registers is reported with its own reason.
 * - A publish by a client that is already closed is its last will.
 */
import type { Aedes, Client as AedesClient } from "aedes";
import type { ActivityEvent } from "./events";
import { aedesEvents, type AedesConnectInfo, type AedesEndFacts, type AedesObservation } from "./adapters/aedes";
import type { CompiledDeviceTopics } from "./adapters/device-topics";

export interface AedesSourceOptions {
  deviceTopics: CompiledDeviceTopics | null;
  onEvents(events: ActivityEvent[]): void;
  now?: () => number;
  /**
   * Track clients that connect with an empty client id (the broker names them
   * `aedes_<uuid>`, a new name each time) as devices: TRACK_ANONYMOUS_CLIENTS.
   * Off by default: each such connection would be a new device, never seen again.
   */
  trackAnonymous?: boolean;
}

export interface AedesSource {
  /** Hands pending events on now (before a shutdown, or in tests). */
  flush(): void;
  /** From now on, connections that end without a cause of their own end because the broker shuts down. */
  markClosing(): void;
  /** Removes every listener and hook. */
  detach(): void;
  readonly stats: {
    connects: number;
    pings: number;
    publishes: number;
    ends: number;
    refused: number;
    /** Connections without a client id, not tracked as devices. */
    anonymous: number;
  };
}

interface ConnectionFacts {
  connect: AedesConnectInfo | null;
  registered: boolean;
  ended: boolean;
  takenOver: boolean;
  keepaliveTimeout: boolean;
  error: { message: string; code: string | null } | null;
}

/** The parts of Aedes' Client this module reads (some are not in its typings). */
type ObservedClient = AedesClient & {
  _disconnected?: boolean;
  conn: AedesClient["conn"] & { remoteAddress?: string; remotePort?: number };
};

type PreConnect = Aedes["preConnect"];
type ConnectPacket = Parameters<PreConnect>[1];
type BrokerWithRegistry = Aedes & {
  clients: Record<string, ObservedClient | undefined>;
  registerClient(client: ObservedClient): void;
};

function addressOf(client: ObservedClient): string | null {
  const { remoteAddress, remotePort } = client.conn ?? {};
  if (!remoteAddress) return null;
  const host = remoteAddress.startsWith("::ffff:") ? remoteAddress.slice(7) : remoteAddress;
  return remotePort ? `${host.includes(":") ? `[${host}]` : host}:${remotePort}` : host;
}

function errorFacts(err: Error): { message: string; code: string | null } {
  const code = (err as NodeJS.ErrnoException).code;
  return { message: err.message, code: typeof code === "string" ? code : null };
}

export function watchAedes(aedes: Aedes, opts: AedesSourceOptions): AedesSource {
  const broker = aedes as BrokerWithRegistry;
  const now = opts.now ?? Date.now;
  const facts = new WeakMap<ObservedClient, ConnectionFacts>();
  const stats = { connects: 0, pings: 0, publishes: 0, ends: 0, refused: 0, anonymous: 0 };
  let pending: ActivityEvent[] = [];
  let flushScheduled = false;
  let closing = false;

  const factsOf = (client: ObservedClient): ConnectionFacts => {
    let f = facts.get(client);
    if (!f) {
      f = { connect: null, registered: false, ended: false, takenOver: false, keepaliveTimeout: false, error: null };
      facts.set(client, f);
    }
    return f;
  };

  const flush = () => {
    flushScheduled = false;
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    opts.onEvents(batch);
  };

  const observe = (obs: AedesObservation) => {
    const events = aedesEvents(obs, { deviceTopics: opts.deviceTopics });
    if (events.length === 0) return;
    for (const ev of events) pending.push(ev);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };

  /** A client that connected without a client id, not tracked as a device (trackAnonymous off). */
  const untracked = (client: ObservedClient): boolean =>
    !opts.trackAnonymous && facts.get(client)?.connect?.clientId === "";

  /** A connection is live for activity between its registration and its end. */
  const live = (client: ObservedClient | null | undefined): client is ObservedClient => {
    if (!client) return false;
    const f = facts.get(client);
    return f !== undefined && f.registered && !f.ended && !untracked(client);
  };

  const end = (client: ObservedClient) => {
    const f = factsOf(client);
    if (!f.registered || f.ended || untracked(client)) return;
    f.ended = true;
    stats.ends++;
    const endFacts: AedesEndFacts = {
      takenOver: f.takenOver,
      keepaliveTimeout: f.keepaliveTimeout,
      disconnectPacket: client._disconnected === true,
      brokerClosing: closing,
      error: f.error,
    };
    observe({ type: "end", at: now(), clientId: client.id, facts: endFacts });
  };

  // ---- hooks on the broker instance

  const previousPreConnect = broker.preConnect;
  const preConnect: PreConnect = (client, packet: ConnectPacket, callback) => {
    const f = factsOf(client as ObservedClient);
    f.connect = {
      clientId: packet.clientId ?? "",
      keepaliveSeconds: packet.keepalive ?? 0,
      protocolVersion: packet.protocolVersion ?? null,
      cleanSession: packet.clean ?? null,
      username: packet.username ?? null,
      address: addressOf(client as ObservedClient),
    };
    previousPreConnect.call(broker, client, packet, callback);
  };
  broker.preConnect = preConnect;

  const ownRegister = Object.prototype.hasOwnProperty.call(broker, "registerClient");
  const previousRegister = broker.registerClient;
  broker.registerClient = function registerClient(client: ObservedClient) {
    const prev = broker.clients[client.id];
    if (prev && prev !== client) {
      // The new connection closes the old one. If the old one is still open this is a
      // takeover; if it was already closing, it ends for its own reason.
      if (!prev.closed) factsOf(prev).takenOver = true;
      end(prev);
    }
    previousRegister.call(broker, client);
  };

  // ---- events

  // Aedes' typings list each event's arguments; listeners here are typed at each `on` call instead.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Listener = (...args: any[]) => void;
  const emitter = broker as unknown as {
    on(event: string, fn: Listener): void;
    removeListener(event: string, fn: Listener): void;
  };
  const listeners: Array<[string, Listener]> = [];
  const on = (event: string, fn: Listener) => {
    emitter.on(event, fn);
    listeners.push([event, fn]);
  };

  on("client", (client: ObservedClient) => {
    if (client.closed) return; // closed while registering: it never was connected
    const f = factsOf(client);
    if (untracked(client)) {
      f.registered = true;
      stats.anonymous++;
      return;
    }
    f.registered = true;
    stats.connects++;
    const connect: AedesConnectInfo = f.connect
      ? { ...f.connect, clientId: client.id, address: f.connect.address ?? addressOf(client) }
      : {
          clientId: client.id,
          keepaliveSeconds: 0,
          protocolVersion: client.version ?? null,
          cleanSession: client.clean ?? null,
          username: null,
          address: addressOf(client),
        };
    observe({ type: "connect", at: now(), connect });
    client.conn.once("close", () => end(client));
  });

  on("keepaliveTimeout", (client: ObservedClient) => {
    factsOf(client).keepaliveTimeout = true;
  });

  const onError = (client: ObservedClient, err: Error) => {
    const f = factsOf(client);
    f.error ??= errorFacts(err);
    const returnCode = (err as Error & { errorCode?: number }).errorCode;
    if (!f.registered && typeof returnCode === "number" && returnCode > 0) {
      stats.refused++;
      const clientId = client.id ?? f.connect?.clientId ?? "";
      observe({ type: "refused", at: now(), clientId, returnCode, message: err.message });
    }
  };
  on("clientError", onError);
  on("connectionError", onError);

  on("clientDisconnect", (client: ObservedClient) => end(client));

  on("ping", (_packet: unknown, client: ObservedClient) => {
    if (!live(client)) return;
    stats.pings++;
    observe({ type: "ping", at: now(), clientId: client.id });
  });

  const packetEvent = (packet: "puback" | "subscribe" | "unsubscribe") => (_p: unknown, client: ObservedClient) => {
    if (live(client)) observe({ type: "packet", at: now(), clientId: client.id, packet });
  };
  on("ack", packetEvent("puback"));
  on("subscribe", packetEvent("subscribe"));
  on("unsubscribe", packetEvent("unsubscribe"));

  on("publish", (packet: { topic: string; payload: Buffer | string }, client: ObservedClient | null) => {
    if (!client || !client.id) return; // the broker's own ($SYS heartbeats)
    const will = client.closed === true;
    const anonymous = untracked(client);
    if (!will && !anonymous && !live(client)) return;
    stats.publishes++;
    observe({
      type: "publish",
      at: now(),
      clientId: client.id,
      topic: packet.topic,
      payload: packet.payload,
      will,
      anonymous,
    });
  });

  return {
    stats,
    flush,
    markClosing() {
      closing = true;
    },
    detach() {
      for (const [event, fn] of listeners.splice(0)) emitter.removeListener(event, fn);
      broker.preConnect = previousPreConnect;
      if (ownRegister) broker.registerClient = previousRegister;
      else delete (broker as Partial<BrokerWithRegistry>).registerClient;
      flush();
    },
  };
}
