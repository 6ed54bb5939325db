/**
 * The monitor's own MQTT connection. It subscribes to every signal source the
 * broker may offer, hands each message to the adapters, and passes the
 * normalized events on in batches. It owns reconnecting (exponential backoff
 * with full jitter, resubscribe on every connect) and reports link changes so
 * the fleet can tell a monitoring gap from devices going offline.
 */
import { backoffDelay } from "../backoff";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { ActivityEvent, BrokerKind, BrokerStatsUpdate } from "./events";
import { route } from "./adapters";
import { detectBrokerKind } from "./adapters/detect";
import type { compileDeviceTopics } from "./adapters/device-topics";

type DeviceTopics = ReturnType<typeof compileDeviceTopics>;

export interface WorkerOptions {
  url: string;
  username?: string;
  password?: string;
  clientId: string;
  /** Forced broker kind, or "auto" to detect from $SYS. */
  kind: BrokerKind | "auto";
  deviceTopics: DeviceTopics;
  onEvents(events: ActivityEvent[]): void;
  onStats?(stats: BrokerStatsUpdate[]): void;
  onLink(up: boolean, error: string | null): void;
  onBrokerKind?(kind: BrokerKind, version: string | null): void;
  /** Malformed broker messages: reported, counted, never fatal. */
  onParseError?(topic: string, error: string): void;
  log?: (msg: string) => void;
  backoff?: { initialMs: number; maxMs: number };
}

/** Topics for every broker flavour; subscribing to one a broker lacks is harmless. */
export function sourceSubscriptions(kind: BrokerKind | "auto"): string[] {
  const mosquitto = [
    "$SYS/broker/log/#",
    "$SYS/broker/version",
    "$SYS/broker/clients/#",
    "$SYS/broker/load/#",
    "$SYS/broker/uptime",
  ];
  const emqx = [
    "$SYS/brokers/+/version",
    "$SYS/brokers/+/sysdescr",
    "$SYS/brokers/+/uptime",
    "$SYS/brokers/+/clients/#",
  ];
  const nanomq = ["$SYS/brokers/connected", "$SYS/brokers/disconnected", "$SYS/brokers/client_status"];
  switch (kind) {
    case "mosquitto":
      return mosquitto;
    case "emqx":
      return emqx;
    case "nanomq":
      return nanomq;
    default:
      return [...mosquitto, ...emqx, ...nanomq];
  }
}

export class IngestWorker {
  private client: MqttClient | null = null;
  private stopping = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pending: ActivityEvent[] = [];
  private flushScheduled = false;
  private kind: BrokerKind | "auto";
  private linkUp = false;
  messages = 0;
  parseErrors = 0;

  constructor(private readonly opts: WorkerOptions) {
    this.kind = opts.kind;
  }

  start(): void {
    this.stopping = false;
    const options: IClientOptions = {
      clientId: this.opts.clientId,
      username: this.opts.username,
      password: this.opts.password,
      clean: true,
      keepalive: 30,
      connectTimeout: 10_000,
      reconnectPeriod: 0, // reconnects are ours: backoff with jitter
      protocolVersion: 4,
    };
    const client = mqtt.connect(this.opts.url, options);
    this.client = client;
    client.on("connect", () => {
      this.attempt = 0;
      this.subscribe(client);
    });
    client.on("message", (topic, payload, packet) => this.onMessage(topic, payload, packet.retain === true));
    client.on("error", (err) => this.setLink(false, err.message));
    client.on("close", () => {
      this.setLink(false, this.linkUp ? "connection to the broker closed" : null);
      this.scheduleReconnect();
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.flush();
    const client = this.client;
    this.client = null;
    if (client) await client.endAsync(true).catch(() => undefined);
  }

  get connected(): boolean {
    return this.linkUp;
  }

  /**
   * Sends the broker a harmless packet (UNSUBSCRIBE from a topic never
   * subscribed), which a broker logging at debug level writes down: proof
   * that its debug log still moves. Nothing happens while the link is down.
   */
  touch(): void {
    const client = this.client;
    if (!client || !this.linkUp) return;
    client.unsubscribe(`keepwatch/${this.opts.clientId}/log-heartbeat`, () => undefined);
  }

  private subscribe(client: MqttClient): void {
    const topics = [...sourceSubscriptions(this.kind), ...this.opts.deviceTopics.subscriptions];
    client.subscribe(topics, { qos: 0 }, (err, granted) => {
      if (err) {
        this.opts.log?.(`subscribe failed: ${err.message}`);
        this.setLink(false, `subscribe failed: ${err.message}`);
        client.end(true);
        return;
      }
      const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
      if (refused.length) this.opts.log?.(`broker refused subscriptions: ${refused.join(", ")}`);
      // The link counts as up once we are subscribed: from now on we hear the broker.
      this.setLink(true, null);
    });
  }

  private setLink(up: boolean, error: string | null): void {
    if (up === this.linkUp) return;
    this.linkUp = up;
    if (!up) this.flush(); // events received before the drop are applied before the gap opens
    this.opts.onLink(up, error);
  }

  private scheduleReconnect(): void {
    if (this.stopping || this.reconnectTimer || !this.client) return;
    const { initialMs, maxMs } = this.opts.backoff ?? { initialMs: 500, maxMs: 30_000 };
    const delay = backoffDelay(this.attempt++, { initialMs, maxMs });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopping && this.client) this.client.reconnect();
    }, delay);
  }

  private onMessage(topic: string, payload: Buffer, retained: boolean): void {
    this.messages++;
    const receivedAt = Date.now();
    if (this.kind === "auto") {
      const detected = detectBrokerKind(topic, payload);
      if (detected) {
        this.kind = detected;
        this.opts.onBrokerKind?.(detected, payload.toString("utf8").slice(0, 200));
      }
    }
    let result;
    try {
      result = route(
        topic,
        payload,
        { receivedAt, retained },
        { kind: this.kind, deviceTopics: this.opts.deviceTopics },
      );
    } catch (err) {
      result = { events: [], error: err instanceof Error ? err.message : String(err) };
    }
    if (result.error) {
      this.parseErrors++;
      this.opts.onParseError?.(topic, result.error);
    }
    if (result.stats?.length) this.opts.onStats?.(result.stats);
    if (result.brokerVersion && this.kind !== "auto") this.opts.onBrokerKind?.(this.kind, result.brokerVersion);
    const own = this.opts.clientId;
    for (const ev of result.events) if (ev.deviceId !== own) this.pending.push(ev);
    if (this.pending.length && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Hands accumulated events on as one batch (one fleet pass per I/O turn). */
  private flush(): void {
    this.flushScheduled = false;
    if (!this.pending.length) return;
    const batch = this.pending;
    this.pending = [];
    this.opts.onEvents(batch);
  }
}
