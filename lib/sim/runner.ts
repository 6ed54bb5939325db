/**
 * Plays a simulated fleet over real MQTT connections: every connection plan
 * (profiles.ts) becomes a loop of wait → connect → timed actions → session
 * end, against any broker. "raw" plans use a plain socket (exact wire
 * behaviour, see packets.ts), "mqttjs" plans the MQTT.js library.
 */
import { setMaxListeners } from "node:events";
import { connect as netConnect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import mqtt, { type MqttClient } from "mqtt";
import { connectPacket, DISCONNECT, PacketReader, PINGREQ, publishPacket, type ConnectOptions } from "./packets";
import {
  PROFILES,
  sessionPlans,
  type ConnectionPlan,
  type DevicePlan,
  type ProfileName,
  type SimAction,
} from "./profiles";

export interface ProfileStats {
  devices: number;
  connects: number;
  /** Connection attempts that did not get a CONNACK (broker down, refused). */
  failedConnects: number;
  /** Sessions the broker ended (keepalive timeout, takeover, broker going away). */
  closedByBroker: number;
  /** Sessions the device ended by closing its socket without DISCONNECT. */
  drops: number;
  /** Sessions the device ended with DISCONNECT. */
  disconnects: number;
  publishes: number;
  pings: number;
}

export interface SimulationOptions {
  /** mqtt:// or tcp:// URL of the broker. */
  url: string;
  plans: DevicePlan[];
  username?: string;
  password?: string;
  connectTimeoutMs?: number;
}

/** One live connection, whichever client drives it. */
interface Link {
  publish(topic: string, payload: string, retain: boolean): void;
  ping(): void;
  /** Closes the socket without DISCONNECT. */
  drop(): void;
  disconnect(): void;
  /** Resolves once the connection is gone, for whatever reason. */
  readonly closed: Promise<void>;
}

const emptyStats = (): ProfileStats => ({
  devices: 0,
  connects: 0,
  failedConnects: 0,
  closedByBroker: 0,
  drops: 0,
  disconnects: 0,
  publishes: 0,
  pings: 0,
});

export class Simulation {
  private readonly abort = new AbortController();
  private readonly links = new Set<Link>();
  private readonly loops: Promise<void>[] = [];
  private readonly byProfile = new Map<ProfileName, ProfileStats>();
  private readonly target: { host: string; port: number };
  private readonly stoppedSignal: Promise<void>;
  private started = false;

  constructor(private readonly opts: SimulationOptions) {
    const url = new URL(opts.url);
    if (url.protocol !== "mqtt:" && url.protocol !== "tcp:") {
      throw new Error(`the simulator speaks plain MQTT over TCP: use an mqtt:// URL, not ${url.protocol}//`);
    }
    this.target = { host: url.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1", port: Number(url.port || 1883) };
    setMaxListeners(0, this.abort.signal); // every connection waits on it
    this.stoppedSignal = new Promise((resolve) => this.abort.signal.addEventListener("abort", () => resolve()));
    for (const p of PROFILES) this.byProfile.set(p, emptyStats());
    for (const d of opts.plans) this.byProfile.get(d.profile)!.devices += 1;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const device of this.opts.plans) {
      for (const plan of device.connections) this.loops.push(this.run(plan));
    }
  }

  /** Ends every connection with DISCONNECT and stops all loops. */
  async stop(): Promise<void> {
    this.abort.abort();
    for (const link of this.links) link.disconnect();
    await Promise.all(this.loops);
    await Promise.all([...this.links].map((l) => l.closed));
  }

  /** Open connections right now. */
  get connected(): number {
    return this.links.size;
  }

  stats(): Record<ProfileName, ProfileStats> {
    return Object.fromEntries(PROFILES.map((p) => [p, { ...this.byProfile.get(p)! }])) as Record<
      ProfileName,
      ProfileStats
    >;
  }

  total(): ProfileStats {
    const t = emptyStats();
    for (const s of this.byProfile.values()) for (const k of Object.keys(t) as (keyof ProfileStats)[]) t[k] += s[k];
    return t;
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(plan: ConnectionPlan): Promise<void> {
    const stats = this.byProfile.get(plan.profile)!;
    try {
      for (const session of sessionPlans(plan)) {
        await sleep(session.waitMs, undefined, { signal: this.abort.signal });
        let link: Link;
        try {
          link = await this.connect(plan, stats);
        } catch {
          stats.failedConnects++;
          if (this.stopped) return;
          continue;
        }
        stats.connects++;
        this.links.add(link);
        try {
          const end = await this.play(link, session.actions, stats);
          if (end === "broker") stats.closedByBroker++;
        } finally {
          this.links.delete(link);
        }
        if (this.stopped) return;
      }
    } catch (err) {
      if (!this.stopped) throw err;
    }
  }

  /** Runs the session's actions until it ends; says who ended it. */
  private async play(
    link: Link,
    actions: Iterable<SimAction>,
    stats: ProfileStats,
  ): Promise<"broker" | "device" | "stopped"> {
    const startedAt = performance.now();
    let closed = false;
    const gone = link.closed.then(() => (closed = true));
    for (const action of actions) {
      const delay = action.at - (performance.now() - startedAt);
      if (delay > 0) {
        await Promise.race([gone, sleep(delay, undefined, { signal: this.abort.signal }).catch(() => undefined)]);
      }
      if (this.stopped) return "stopped";
      if (closed) return "broker";
      switch (action.do) {
        case "ping":
          link.ping();
          stats.pings++;
          break;
        case "publish":
          link.publish(action.topic, action.payload, action.retain);
          stats.publishes++;
          break;
        case "drop":
          link.drop();
          stats.drops++;
          await link.closed;
          return "device";
        case "disconnect":
          link.disconnect();
          stats.disconnects++;
          await link.closed;
          return "device";
      }
    }
    // Nothing more to do: stay connected until the broker (or stop()) ends it.
    await Promise.race([gone, this.stoppedSignal]);
    return this.stopped ? "stopped" : "broker";
  }

  private connect(plan: ConnectionPlan, stats: ProfileStats): Promise<Link> {
    const options: ConnectOptions = {
      clientId: plan.clientId,
      keepaliveSeconds: plan.keepaliveSeconds,
      clean: plan.clean,
      username: this.opts.username ?? null,
      password: this.opts.password ?? null,
      will: plan.will,
    };
    return plan.library === "raw" ? this.connectRaw(options) : this.connectMqttJs(options, stats);
  }

  private connectRaw(o: ConnectOptions): Promise<Link> {
    const timeoutMs = this.opts.connectTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const socket: Socket = netConnect({ host: this.target.host, port: this.target.port });
      socket.setNoDelay(true);
      const reader = new PacketReader();
      const closed = new Promise<void>((r) => socket.once("close", () => r()));
      let connected = false;
      const fail = (why: string) => {
        if (connected) return;
        clearTimeout(timer);
        socket.destroy();
        reject(new Error(why));
      };
      const timer = setTimeout(() => fail("no CONNACK in time"), timeoutMs);
      socket.on("error", (e) => fail(e.message));
      socket.once("close", () => fail("connection closed before CONNACK"));
      socket.once("connect", () => socket.write(connectPacket(o)));
      socket.on("data", (chunk) => {
        let packets;
        try {
          packets = reader.push(chunk);
        } catch {
          socket.destroy();
          return;
        }
        for (const p of packets) {
          if (p.type === "connack" && !connected) {
            if (p.returnCode !== 0) return fail(`connection refused (${p.returnCode})`);
            connected = true;
            clearTimeout(timer);
            const write = (b: Buffer) => {
              if (!socket.destroyed && socket.writable) socket.write(b);
            };
            resolve({
              publish: (topic, payload, retain) => write(publishPacket(topic, payload, { retain })),
              ping: () => write(PINGREQ),
              drop: () => socket.destroy(),
              disconnect: () => {
                if (socket.destroyed) return;
                socket.end(DISCONNECT);
                setTimeout(() => socket.destroy(), 1_000).unref();
              },
              closed,
            });
          }
        }
      });
    });
  }

  private connectMqttJs(o: ConnectOptions, stats: ProfileStats): Promise<Link> {
    const url = `mqtt://${this.target.host.includes(":") ? `[${this.target.host}]` : this.target.host}:${this.target.port}`;
    return new Promise((resolve, reject) => {
      const client: MqttClient = mqtt.connect(url, {
        clientId: o.clientId,
        keepalive: o.keepaliveSeconds,
        clean: o.clean,
        username: o.username ?? undefined,
        password: o.password ?? undefined,
        will: o.will
          ? { topic: o.will.topic, payload: Buffer.from(o.will.payload), retain: o.will.retain, qos: 0 }
          : undefined,
        protocolVersion: 4,
        reconnectPeriod: 0, // reconnects follow the plan
        connectTimeout: this.opts.connectTimeoutMs ?? 10_000,
      });
      client.on("error", () => undefined);
      client.on("packetsend", (p) => {
        if (p.cmd === "pingreq") stats.pings++;
      });
      const closed = new Promise<void>((r) =>
        client.once("close", () => {
          client.end(true);
          r();
        }),
      );
      let connected = false;
      client.once("connect", () => {
        connected = true;
        resolve({
          publish: (topic, payload, retain) => {
            if (client.connected) client.publish(topic, payload, { retain, qos: 0 });
          },
          ping: () => undefined, // MQTT.js pings by itself
          drop: () => client.stream?.destroy(),
          disconnect: () => {
            if (client.connected) client.end();
            else client.end(true);
          },
          closed,
        });
      });
      void closed.then(() => {
        if (!connected) reject(new Error("connection closed before CONNACK"));
      });
    });
  }
}
