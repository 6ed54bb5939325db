/**
 * Wires the data path once per process:
 *   IngestWorker ──events──► Fleet ──effects──► StoreWriter (Postgres)
 *                                      └──────► LiveHub (SSE)
 * `instrumentation.ts` starts it with the server; route handlers reach it via
 * `getRuntime()`. The singleton lives on globalThis because Next bundles route
 * handlers and instrumentation as separate module graphs in one process.
 */
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { loadConfig, redactUrl, type Config } from "./config";
import type { BrokerKind } from "./ingest/events";
import { IngestWorker } from "./ingest/worker";
import { compileDeviceTopics } from "./ingest/adapters/device-topics";
import { parseBrokerKind } from "./ingest/adapters/detect";
import { Fleet } from "./fleet/fleet";
import { LiveHub } from "./live/hub";
import { toDeviceDto, iso, type HealthDto, type StatusCounts } from "./api/dto";
import { AppError } from "./api/errors";
import { openDatabase, type Database } from "./store/open";
import { migrate } from "./store/migrate";
import { StoreWriter } from "./store/writer";
import { loadFleet } from "./store/devices";

const log = (msg: string) => console.log(`[keepwatch] ${msg}`);

/** Stable across restarts of one installation, distinct between installations. */
export function monitorClientId(config: Config): string {
  if (config.MQTT_CLIENT_ID) return config.MQTT_CLIENT_ID;
  const seed = `${hostname()}:${config.PORT}:${process.cwd()}`;
  return `keepwatch-${createHash("sha256").update(seed).digest("hex").slice(0, 10)}`;
}

interface BrokerState {
  connected: boolean;
  kind: BrokerKind;
  version: string | null;
  url: string;
  since: number | null;
  lastError: string | null;
  stats: Record<string, number>;
}

export class Runtime {
  readonly startedAt = Date.now();
  readonly fleet: Fleet;
  readonly hub: LiveHub;
  readonly clientId: string;
  readonly deviceTopics: ReturnType<typeof compileDeviceTopics>;
  db: Database | null = null;
  writer: StoreWriter | null = null;
  private worker: IngestWorker | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private dbError: string | null = null;
  private gapSince: number | null;
  readonly broker: BrokerState;

  constructor(readonly config: Config) {
    this.clientId = monitorClientId(config);
    this.deviceTopics = compileDeviceTopics(config.DEVICE_TOPICS);
    const forced = parseBrokerKind(config.MQTT_BROKER_KIND);
    this.broker = {
      connected: false,
      kind: forced === "auto" ? "unknown" : forced,
      version: null,
      url: redactUrl(config.MQTT_URL ?? `mqtt://127.0.0.1:${config.MQTT_PORT}`),
      since: null,
      lastError: null,
      stats: {},
    };
    // Until the broker link is up, the monitor hears nothing: that is a gap.
    this.gapSince = this.startedAt;
    this.fleet = new Fleet({
      now: () => Date.now(),
      pingsVisible: () => this.pingsVisible,
      ignoreClientIds: new Set([this.clientId]),
    });
    this.hub = new LiveHub({
      snapshotDevices: () => Array.from(this.fleet.all(), toDeviceDto),
      device: (id) => {
        const d = this.fleet.get(id);
        return d ? toDeviceDto(d) : null;
      },
      counts: () => this.counts(),
      health: () => this.health(),
    });
  }

  /** Sources that see every PINGREQ make silence verdicts possible. */
  get pingsVisible(): boolean {
    return false;
  }

  counts(): StatusCounts {
    return this.fleet.counts();
  }

  async start(): Promise<void> {
    const { config } = this;
    if (!config.MQTT_URL) throw new AppError("SERVICE_UNAVAILABLE", "MQTT_URL is not set");
    this.fleet.onEffects((effects, changed) => {
      this.writer?.enqueue(effects, changed);
      this.hub.markChanged(changed.map((d) => d.id));
    });
    await this.startStore();
    this.hub.start();
    this.tickTimer = setInterval(() => this.safely("deadline tick", () => this.fleet.tick()), 100);
    this.startWorker(config.MQTT_URL);
    log(`watching ${this.broker.url} as ${this.clientId}; device topics ${this.deviceTopics.subscriptions.join(", ")}`);
  }

  /** Migrates and restores state; a database that is down does not stop the monitor. */
  private async startStore(): Promise<void> {
    const url = this.config.DATABASE_URL;
    if (!url) throw new AppError("SERVICE_UNAVAILABLE", "DATABASE_URL is not set");
    this.db = openDatabase(url);
    log(`database ${redactUrl(url)}`);
    this.writer = new StoreWriter({ db: this.db.prisma, onError: (e) => this.noteDbError(e) });
    const ready = await this.prepareDatabase(15_000);
    if (!ready) {
      log("database not reachable yet: monitoring without restored state, writes are buffered");
      void this.prepareDatabase(Number.POSITIVE_INFINITY).then(() => this.writer?.start());
      return;
    }
    this.writer.start();
  }

  /** Runs migrations and restores the fleet; retries with backoff until `budgetMs` runs out. */
  private async prepareDatabase(budgetMs: number): Promise<boolean> {
    const deadline = Date.now() + budgetMs;
    let delay = 250;
    for (;;) {
      try {
        const applied = await migrate({ db: this.db!.queryable, log });
        if (applied.length) log(`applied migrations: ${applied.join(", ")}`);
        if (this.fleet.size === 0) {
          const saved = await loadFleet(this.db!.prisma);
          this.fleet.restore(saved.devices, saved.openSessions);
          log(`restored ${saved.devices.length} devices, ${saved.openSessions.length} open sessions`);
        }
        this.dbError = null;
        return true;
      } catch (err) {
        this.noteDbError(err);
        if (Date.now() + delay > deadline) return false;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  private startWorker(url: string): void {
    const { config } = this;
    this.worker = new IngestWorker({
      url,
      username: config.MQTT_USERNAME,
      password: config.MQTT_PASSWORD,
      clientId: this.clientId,
      kind: parseBrokerKind(config.MQTT_BROKER_KIND),
      deviceTopics: this.deviceTopics,
      onEvents: (events) => this.safely("apply events", () => this.fleet.applyBatch(events)),
      onStats: (stats) => {
        for (const s of stats) this.broker.stats[s.key] = s.value;
      },
      onBrokerKind: (kind, version) => {
        this.broker.kind = kind;
        if (version) this.broker.version = version;
      },
      onParseError: (topic, error) => {
        this.broker.lastError = `could not read ${topic.slice(0, 200)}: ${error.slice(0, 300)}`;
      },
      onLink: (up, error) => this.onLink(up, error),
      log,
    });
    this.worker.start();
  }

  private onLink(up: boolean, error: string | null): void {
    const now = Date.now();
    this.broker.connected = up;
    this.broker.since = now;
    if (error) this.broker.lastError = error;
    if (up) {
      log(`broker link up (${this.broker.url})`);
      this.broker.lastError = null;
      if (this.gapSince !== null) this.writer?.closeGap(now);
      this.gapSince = null;
      return;
    }
    log(`broker link down${error ? `: ${error}` : ""}`);
    if (this.gapSince === null) {
      // We stop hearing the broker: every device becomes unknown, none offline.
      this.gapSince = now;
      this.writer?.openGap(now, error ?? "broker connection lost");
      this.safely("monitor gap", () => this.fleet.monitorGap());
    }
  }

  private noteDbError(err: unknown): void {
    this.dbError = err instanceof Error ? err.message : String(err);
  }

  private safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      console.error(`[keepwatch] ${what} failed`, err);
    }
  }

  health(): HealthDto {
    const w = this.writer?.health();
    const dbOk = Boolean(w?.ok) && this.dbError === null;
    return {
      ok: this.broker.connected && dbOk,
      broker: {
        connected: this.broker.connected,
        kind: this.broker.kind,
        version: this.broker.version,
        url: this.broker.url,
        since: iso(this.broker.since),
        lastError: this.broker.lastError,
        stats: this.broker.stats,
      },
      db: {
        ok: dbOk,
        pendingWrites: w?.pendingWrites ?? 0,
        droppedWrites: w?.droppedWrites ?? 0,
        lastError: w?.lastError ?? this.dbError,
      },
      monitor: {
        startedAt: new Date(this.startedAt).toISOString(),
        gapSince: iso(this.gapSince),
        pingsVisible: this.pingsVisible,
        deviceTopics: this.deviceTopics.subscriptions,
      },
    };
  }

  async stop(): Promise<void> {
    if (this.tickTimer) clearInterval(this.tickTimer);
    await this.worker?.stop();
    this.hub.stop();
    await this.writer?.stop();
    await this.db?.close();
  }
}

const GLOBAL_KEY = Symbol.for("keepwatch.runtime");
type Holder = { runtime?: Runtime; starting?: Promise<Runtime> };
const holder = ((globalThis as Record<symbol, Holder>)[GLOBAL_KEY] ??= {});

/** Starts the runtime once per process; later calls get the same one. */
export function startRuntime(env: Record<string, string | undefined> = process.env): Promise<Runtime> {
  holder.starting ??= (async () => {
    const runtime = new Runtime(loadConfig(env));
    holder.runtime = runtime;
    await runtime.start();
    return runtime;
  })();
  return holder.starting;
}

/** For the server process: a monitor that cannot start takes the server down with a clear message. */
export async function startOrExit(): Promise<void> {
  try {
    await startRuntime();
  } catch (err) {
    console.error(`[keepwatch] failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}

export function getRuntime(): Runtime {
  if (!holder.runtime) throw new AppError("SERVICE_UNAVAILABLE", "the monitor is not running");
  return holder.runtime;
}
