/**
 * Wires the data path once per process:
 *   IngestWorker (MQTT_URL)  ─┐
 *                             ├─events──► Fleet ──effects──► StoreWriter (Postgres or PGlite)
 *   embedded Aedes (no URL)  ─┘                    └──────► LiveHub (SSE)
 * With MQTT_URL the monitor watches that broker from the outside; without it
 * it runs its own broker on MQTT_PORT and watches it in-process (every PINGREQ
 * visible). With DATABASE_URL it stores in Postgres; without it in the
 * embedded PGlite under KEEPWATCH_DATA_DIR.
 * This module only wires the parts and runs their lifecycle: decisions live
 * in their own modules (the debug log's stall, lib/ingest/debug-log-watch.ts;
 * the health report, lib/health.ts; shutdown on signals, lib/signals.ts), and
 * every periodic job runs on the registry (lib/jobs/registry.ts).
 * `instrumentation.ts` starts it with the server; route handlers reach it via
 * `getRuntime()`. The singleton lives on globalThis because Next bundles route
 * handlers and instrumentation as separate module graphs in one process.
 */
import { Metrics } from "./metrics/prometheus";
import { retryWithin } from "./backoff";
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { ConfigError, loadConfig, redactUrl, type Config } from "./config";
import type { ActivityEvent, BrokerKind } from "./ingest/events";
import { IngestWorker } from "./ingest/worker";
import { watchAedes, type AedesSource } from "./ingest/aedes-source";
import { startEmbeddedBroker, type EmbeddedBroker } from "./broker/embedded";
import { compileDeviceTopics } from "./ingest/adapters/device-topics";
import { parseBrokerKind } from "./ingest/adapters/detect";
import { Fleet, forgettable } from "./fleet/fleet";
import { LiveHub } from "./live/hub";
import { FleetViews } from "./live/views";
import { livePoints } from "./activity/points";
import { toDeviceDto, type DeviceDto, type HealthDto, type StatusCounts } from "./api/dto";
import { AppError } from "./api/errors";
import { openConfiguredDatabase, type Database } from "./store/open";
import { migrate } from "./store/migrate";
import { StoreWriter } from "./store/writer";
import { loadDevicesChangedSince, loadFleetPages } from "./store/devices";
import { AlertService } from "./alerts/service";
import { parseAllowList, type AllowList } from "./alerts/egress";
import { ActivityRecorder } from "./store/activity";
import { startTicker } from "./fleet/ticker";

import { LogTail, openToResume, type ResumeFile, type ResumeOutcome } from "./ingest/log-tail";
import { DebugLogWatch } from "./ingest/debug-log-watch";
import { JobRegistry } from "./jobs/registry";
import { clusterDto, composeHealth, DatabaseCondition, restartDto } from "./health";
import { stopOnSignals } from "./signals";
import {
  AEDES_CHECK_SLACK_MS,
  DAY_MS,
  DEBUG_LOG_LATE_GRACE_MS,
  DEBUG_LOG_TOUCH_MS,
  HOUR_MS,
  LATE_GRACE_MS,
  MOSQUITTO_CHECK_SLACK_MS,
} from "./keepalive";
import { isDebugLine, parseDebugLine, parseLifecycleLine } from "./ingest/adapters/mosquitto-debug";
import { mosquittoLogAdapter } from "./ingest/adapters/mosquitto-log";
import { RestartDetector, type RestartDecision } from "./broker/restarts";
import { loadBrokerState, loadLogPosition } from "./store/broker";
import { AuthService } from "./auth/service";
import { IngestScreen } from "./ingest/limits";
import { Inventory } from "./inventory/inventory";
import { loadLabels } from "./store/inventory";
import type { DeviceState } from "./fleet/types";
import pg from "pg";
import { Leadership, type ClusterMessage } from "./cluster/leadership";
import { fencedBatch, isFenced, readLeader, type Term } from "./store/cluster";
import { parseShard, type Shard } from "./cluster/shard";

/**
 * A deadline tick judges what is due for at most TICK_BUDGET_MS (checking the
 * clock every TICK_SLICE verdicts), then lets I/O run before it goes on: a
 * mass silence never holds ingest back for longer, so a ping that arrived in
 * time is applied before its device is judged, and verdicts still get most
 * of the loop while they are due.
 */
const TICK_SLICE = 500;
const TICK_BUDGET_MS = 50;

const log = (msg: string) => console.log(`[keepwatch] ${msg}`);

/** DEMO_BROKER_OUTAGE_SECONDS: how long the demo's outage refuses connections (long enough for offline alerts). */
const DEMO_OUTAGE_MS = 90_000;
/**
 * A standby keeps the session changes of this long, in case the leader had
 * not written them when it died; written again on a takeover (idempotent).
 */
const STANDBY_REPLAY_MS = 60_000;
/**
 * A standby joining a running cluster catches up with the leader's writes
 * this long after its broker link is up (the leader flushes every 250 ms).
 */
const ADOPTION_CATCH_UP_MS = 2_000;
/** How often a standby re-reads the alerts the leader wrote (peers' NOTIFYs come sooner). */
const STANDBY_ALERTS_REFRESH_MS = 2_000;
/** How often restart detection's memory of the broker is saved (lib/broker/restarts.ts). */
const BROKER_STATE_SAVE_MS = 1_000;
/** How often whether database writes keep failing is checked (a system alert past ALERT_DATABASE_DOWN_SECONDS). */
const DATABASE_CHECK_MS = 1_000;
/** How often devices long gone (FORGET_AFTER_DAYS) leave memory. */
const FORGET_CHECK_MS = HOUR_MS;
/** How often the debug log's quiet time is checked (lib/ingest/debug-log-watch.ts). */
const DEBUG_LOG_CHECK_MS = 1_000;
/** Migrations and the restore are retried this long at start before the monitor runs without them. */
const DATABASE_START_BUDGET_MS = 15_000;

const hash10 = (seed: string) => createHash("sha256").update(seed).digest("hex").slice(0, 10);

/** This instance's name among those sharing a database: KEEPWATCH_INSTANCE_ID, or the host and port. */
export function instanceIdOf(config: Config): string {
  return config.KEEPWATCH_INSTANCE_ID ?? `${hostname()}:${config.PORT}`;
}

/** Stable across restarts of one installation, distinct between installations and between the instances of one. */
export function monitorClientId(config: Config): string {
  if (config.MQTT_CLIENT_ID) return config.MQTT_CLIENT_ID;
  if (config.KEEPWATCH_INSTANCE_ID) return `keepwatch-${hash10(`instance:${config.KEEPWATCH_INSTANCE_ID}`)}`;
  return `keepwatch-${hash10(`${hostname()}:${config.PORT}:${process.cwd()}`)}`;
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
  /** The fleet page's server-side views (filter, sort, windows), kept while tabs use them. */
  readonly views: FleetViews;
  /** Prometheus metrics (GET /metrics, lib/metrics/prometheus.ts). */
  readonly metrics: Metrics;
  private inTick = false;
  readonly clientId: string;
  /** This instance among those sharing the database (lib/cluster). */
  readonly instanceId: string;
  /**
   * Postgres and an outside broker: any number of instances may share them,
   * one leading (writes, alerts, notifications), the others standing by hot.
   * The embedded database or broker is one process's alone: role "single".
   */
  readonly clustered: boolean;
  /** KEEPWATCH_SHARD: the devices this instance watches (lib/cluster/shard.ts). */
  readonly shard: Shard;
  /** Leader election and the peers' messages (null: single, or not started yet). */
  cluster: Leadership | null = null;
  /** Client ids that are keepwatch's own connections (this one's and its peers'), never devices. */
  private readonly ownClients: Set<string>;
  private alertsStarted = false;
  readonly deviceTopics: ReturnType<typeof compileDeviceTopics>;
  db: Database | null = null;
  writer: StoreWriter | null = null;
  /** Alert rules, alerts and their notifications (lib/alerts/service.ts, lib/notify). */
  alerts: AlertService | null = null;
  /** Notification destinations allowed inside the monitor's own network (KEEPWATCH_WEBHOOK_ALLOW, lib/alerts/egress.ts). */
  readonly webhookAllow: AllowList;
  /** Who may do what (lib/auth/service.ts). */
  readonly auth: AuthService;
  /** The operator's names, tags, notes and expected devices (lib/inventory). */
  readonly inventory = new Inventory();
  /** The background jobs, each on its own timer (lib/jobs/registry.ts); listed in health. */
  readonly jobs = new JobRegistry();
  /** The jobs the runtime registered itself (the others stop with the parts that own them). */
  private readonly ownJobs = new Set<string>();
  /** Whether the database takes writes, as the writes show it (lib/health.ts). */
  private readonly database = new DatabaseCondition();
  /** Per-device activity for the device page (lib/store/activity.ts). */
  activity: ActivityRecorder | null = null;
  /** MOSQUITTO_LOG_FILE being followed, and whether it shows every PINGREQ (lib/ingest/debug-log-watch.ts). */
  private debugLog: LogTail | null = null;
  /**
   * Whether MOSQUITTO_LOG_FILE can be read on from where the changes written by the run before this one end
   * (null: no such position), and the file, opened and judged, when it can (the tail reads on in it).
   */
  private logReadOn: { outcome: ResumeOutcome; file: ResumeFile | null } | null = null;
  /** Reading on through what the debug log gained while keepwatch was away: no verdict on silence yet. */
  private replaying = false;
  private readonly debugLogWatch: DebugLogWatch;
  private worker: IngestWorker | null = null;
  private embedded: { broker: EmbeddedBroker; source: AedesSource } | null = null;
  /** No MQTT_URL: keepwatch runs the broker itself (lib/broker/embedded.ts). */
  readonly embeddedBroker: boolean;
  private stopTicker: (() => void) | null = null;
  private gapSince: number | null;
  /** Since when the monitor hears the broker again (null during a gap): re-learning counts from here. */
  private relearnSince: number | null = null;
  /** stop() has begun: the broker link closing now is keepwatch going away, not a gap it watches. */
  private stopping = false;
  /** Tells broker restarts from link blips (lib/broker/restarts.ts); rebuilt with the saved state once the database is open. */
  private restarts = new RestartDetector();
  /** The last broker restart, and the devices whose session it ended. */
  private lastRestart: (RestartDecision & { devices: string[] }) | null = null;
  /**
   * Joined a running cluster: when the fleet was read, and the states it
   * restored, until the catch-up after the broker link is up (catchUpAdopted).
   */
  private adoption: { readAt: number; states: Map<string, DeviceState> } | null = null;
  /** A restore under way: the last device id restored (undefined: none under way). */
  private restoredAfter: string | undefined = undefined;
  /** Devices forgotten since start (FORGET_AFTER_DAYS). */
  private forgotten = 0;
  /** Refuses unusable device ids before they reach the fleet (lib/ingest/limits.ts). */
  private readonly screen: IngestScreen;
  /** EMQX nodes that reported an uptime (restart detection by uptime only for a single node). */
  private readonly uptimeNodes = new Set<string>();
  /** When the $SYS link last came up (debug-log connect lines before it are not on $SYS). */
  private linkUpAt = 0;
  readonly broker: BrokerState;

  constructor(
    readonly config: Config,
    /** Tests shorten the debug-log stall threshold. */
    timing: { debugLogStallMs?: number } = {},
  ) {
    this.debugLogWatch = new DebugLogWatch(timing.debugLogStallMs);
    this.clientId = monitorClientId(config);
    this.instanceId = instanceIdOf(config);
    this.clustered = Boolean(config.DATABASE_URL && config.MQTT_URL);
    try {
      this.shard = parseShard(config.KEEPWATCH_SHARD);
    } catch (e) {
      throw new ConfigError(e instanceof Error ? e.message : String(e));
    }
    if (this.shard.count > 1 && !this.clustered)
      throw new ConfigError(
        "KEEPWATCH_SHARD needs DATABASE_URL and MQTT_URL: shards share one Postgres and one broker",
      );
    this.ownClients = new Set([this.clientId]);
    this.deviceTopics = compileDeviceTopics(config.DEVICE_TOPICS);
    this.embeddedBroker = !config.MQTT_URL;
    const forced = parseBrokerKind(config.MQTT_BROKER_KIND);
    this.broker = {
      connected: false,
      kind: this.embeddedBroker ? "aedes" : forced === "auto" ? "unknown" : forced,
      version: null,
      url: redactUrl(config.MQTT_URL ?? `mqtt://localhost:${config.MQTT_PORT}`),
      since: null,
      lastError: null,
      stats: {},
    };
    // Until the broker link is up, the monitor hears nothing: that is a gap.
    this.gapSince = this.startedAt;
    this.fleet = new Fleet({
      now: () => Date.now(),
      pingsVisible: () => this.pingsVisible,
      pingsVisibleSince: () => this.debugLogWatch.visibleSince,
      observedUntil: () => this.pingsObservedUntil,
      lateGraceMs: this.embeddedBroker
        ? LATE_GRACE_MS
        : config.MOSQUITTO_LOG_FILE
          ? DEBUG_LOG_LATE_GRACE_MS
          : undefined,
      relearnSince: () => this.relearnSince,
      maxDevices: config.MAX_DEVICES,
      relearnSlackMs: this.embeddedBroker ? AEDES_CHECK_SLACK_MS : MOSQUITTO_CHECK_SLACK_MS,
      ignoreClientIds: this.ownClients,
    });
    this.screen = new IngestScreen(config.MAX_DEVICE_ID_BYTES);
    this.webhookAllow = parseAllowList(config.KEEPWATCH_WEBHOOK_ALLOW);
    this.auth = new AuthService({
      db: () => this.db?.prisma ?? null,
      idleMs: config.KEEPWATCH_SESSION_IDLE_HOURS * HOUR_MS,
      maxAgeMs: config.KEEPWATCH_SESSION_MAX_DAYS * DAY_MS,
      anonymousRole: config.KEEPWATCH_ANONYMOUS_ROLE ?? null,
      admin: { username: config.KEEPWATCH_ADMIN_USER, password: config.KEEPWATCH_ADMIN_PASSWORD ?? null },
      log,
    });
    this.views = new FleetViews({
      all: () => this.fleet.all(),
      get: (id) => this.fleet.get(id),
      nameOf: (id) => this.inventory.nameOf(id),
      tagsOf: (id) => this.inventory.tagsOf(id),
    });
    this.hub = new LiveHub(
      {
        views: this.views,
        device: (id) => {
          const d = this.fleet.get(id);
          return d ? this.deviceDto(d) : null;
        },
        counts: () => this.counts(),
        // Without the jobs: their figures move every second, the monitor's state does not.
        health: () => this.health({ jobs: false }),
        alerts: () => this.alerts?.feed() ?? null,
      },
      { jobs: this.jobs },
    );
    this.metrics = new Metrics(
      {
        counts: () => this.counts(),
        brokerConnected: () => this.broker.connected,
        pendingWrites: () => this.writer?.health().pendingWrites ?? 0,
        rejectedRows: () => this.writer?.health().rejectedRows ?? 0,
        alertWrites: () => ({ pending: this.alerts?.pendingWrites ?? 0, dropped: this.alerts?.droppedWrites ?? 0 }),
        alertEvaluationLagMs: () => this.alerts?.evaluationLagMs ?? 0,
        rejected: () => this.health({ jobs: false }).ingest.rejected,
        firingByKind: () => this.alerts?.firingByKind() ?? {},
        notificationOutcomes: () => this.alerts?.dispatcher.outcomes.values() ?? [],
        streams: () => this.hub.subscriberCount,
        devices: () => this.fleet.all(),
      },
      { perDevice: config.METRICS_PER_DEVICE === "1" },
    );
  }

  /** A device on the wire: its state with the operator's labels and whether a silence mutes it. */
  deviceDto(d: DeviceState): DeviceDto {
    const label = this.inventory.get(d.id);
    return toDeviceDto(d, {
      name: label?.name ?? null,
      tags: label?.tags ?? [],
      expected: label?.expectedAt != null && d.lastSeenAt === null,
      muted: this.alerts?.mutedBy(d.id) != null,
    });
  }

  /** The inventory changed for these devices: alerts (tags, expectations) and open tabs follow. */
  relabeled(ids: readonly string[]): void {
    this.safely("relabel", () => this.alerts?.relabel(ids));
    this.hub.markChanged(ids);
  }

  /** The embedded broker sees pings as they happen; the debug log as far as its latest line. */
  get pingsObservedUntil(): number {
    return this.embeddedBroker ? Date.now() : this.debugLogWatch.lastLineAt;
  }

  /** The debug log was seen, then stopped: silence is not observable, and not "fine" either. */
  get pingsStalled(): boolean {
    return this.debugLogWatch.stalledAfterSeen;
  }

  /** Sources that see every PINGREQ make silence verdicts possible: the embedded broker does. */
  get pingsVisible(): boolean {
    // Mosquitto's debug log counts once it has shown a debug line (log_type all is really on).
    return this.embeddedBroker || this.debugLogWatch.visible;
  }

  /** A background job of the runtime's own; a failure is logged (and recorded by the registry), the next run goes on. */
  private job(name: string, intervalMs: number, run: () => void): void {
    this.ownJobs.add(name);
    this.jobs.register({
      name,
      intervalMs,
      run: () => {
        try {
          run();
        } catch (err) {
          console.error(`[keepwatch] ${name} failed`, err);
          throw err;
        }
      },
    });
  }

  counts(): StatusCounts {
    return this.fleet.counts();
  }

  async start(): Promise<void> {
    const { config } = this;
    if (this.embeddedBroker && config.MQTT_PASSWORD !== undefined && config.MQTT_USERNAME === undefined) {
      throw new ConfigError("MQTT_PASSWORD is set without MQTT_USERNAME: the embedded broker needs both");
    }
    this.fleet.onEffects((effects, changed) => {
      this.writer?.enqueue(effects, changed);
      this.hub.markChanged(changed.map((d) => d.id));
      if (this.hub.watching) this.hub.markActivity(livePoints([], effects));
    });
    this.fleet.onEffects((effects) => this.leads && this.activity?.recordEffects(effects));
    this.fleet.onEffects((effects) => this.inTick && this.metrics.observeVerdicts(effects));
    await this.startStore();
    await this.startAlerts();
    this.job("broker-state", BROKER_STATE_SAVE_MS, () => this.saveBrokerState());
    this.job("database-check", DATABASE_CHECK_MS, () => this.checkDatabase(Date.now()));
    this.job("forget-devices", FORGET_CHECK_MS, () => this.forgetLongGone());
    this.hub.start();
    this.stopTicker = startTicker(() => {
      let more = false;
      const until = performance.now() + TICK_BUDGET_MS;
      this.safely("deadline tick", () => {
        this.inTick = true;
        try {
          do more = this.fleet.tick(TICK_SLICE);
          while (more && performance.now() < until);
        } finally {
          this.inTick = false;
        }
      });
      return more;
    }, 100);
    const topics = `device topics ${this.deviceTopics.subscriptions.join(", ")}`;
    if (config.MQTT_URL) {
      this.startWorker(config.MQTT_URL);
      if (config.MOSQUITTO_LOG_FILE) this.startDebugLog(config.MOSQUITTO_LOG_FILE);
      if (config.MQTT_WS_PORT !== undefined)
        log("MQTT_WS_PORT is ignored: with MQTT_URL set there is no embedded broker");
      log(`broker: watching ${this.broker.url} as ${this.clientId}; ${topics}`);
    } else {
      await this.startEmbeddedBroker();
    }
    log(`open http://localhost:${config.PORT}`);
  }

  /** No MQTT_URL: runs the broker devices connect to, and watches it in-process. */
  private async startEmbeddedBroker(): Promise<void> {
    const { config } = this;
    const credentials = config.MQTT_USERNAME
      ? { username: config.MQTT_USERNAME, password: config.MQTT_PASSWORD ?? "" }
      : null;
    const broker = await startEmbeddedBroker({
      port: config.MQTT_PORT,
      host: config.MQTT_HOST,
      credentials,
      wsPort: config.MQTT_WS_PORT,
      maxConnections: config.MQTT_MAX_CONNECTIONS,
      maxPacketBytes: config.MQTT_MAX_PACKET_BYTES,
      maxRetained: config.MQTT_MAX_RETAINED,
      wsOrigins: (config.MQTT_WS_ORIGINS ?? "")
        .split(",")
        .map((o) => o.trim())
        .filter((o) => o !== ""),
      onRefused: (cause) => this.screen.count(cause),
      publishPolicy:
        config.MQTT_TOPIC_AUTH === "on" ? (clientId, topic) => this.foreignPublish(clientId, topic) : undefined,
    });
    const source = watchAedes(broker.aedes, {
      deviceTopics: this.deviceTopics,
      trackAnonymous: config.TRACK_ANONYMOUS_CLIENTS === "1",
      onEvents: (events) => {
        this.broker.stats["clients/connected"] = broker.connectedClients();
        this.applyEvents(events);
      },
    });
    this.embedded = { broker, source };
    const outage = config.DEMO_BROKER_OUTAGE_SECONDS;
    if (outage !== undefined) {
      const timer = setTimeout(() => {
        const n = broker.dropAllClients(DEMO_OUTAGE_MS);
        log(
          `DEMO_BROKER_OUTAGE_SECONDS: cut all ${n} client connections; refusing new ones for ${DEMO_OUTAGE_MS / 1000} s`,
        );
      }, outage * 1000);
      timer.unref?.();
    }
    this.broker.kind = "aedes";
    this.broker.version = broker.version;
    this.broker.url = `mqtt://localhost:${broker.port}`;
    this.broker.stats["clients/connected"] = 0;
    this.onLink(true, null);
    log(
      `broker: embedded (Aedes ${broker.version}) on port ${broker.port}` +
        `${broker.wsPort !== null ? ` and ws://…:${broker.wsPort}/mqtt` : ""}, ${config.MQTT_HOST ? `address ${config.MQTT_HOST}` : "all interfaces"}` +
        `${credentials ? ", clients must log in as MQTT_USERNAME" : ", anonymous clients allowed"}` +
        `; set MQTT_URL to watch another broker instead; ${this.deviceTopics.subscriptions.join(", ")} read as device topics`,
    );
    if (!credentials && (!config.MQTT_HOST || ["::", "0.0.0.0"].includes(config.MQTT_HOST)))
      log(
        "WARNING: the embedded broker listens on all interfaces without credentials: anyone who reaches " +
          `port ${broker.port} can connect and publish; set MQTT_USERNAME and MQTT_PASSWORD to require them`,
      );
  }

  /**
   * MQTT_TOPIC_AUTH: a client may publish on a device topic only for itself
   * (the id in the topic is its client id), so no client can report another
   * device offline or alive. Topics that are no device's are left alone.
   */
  private foreignPublish(clientId: string, topic: string): string | null {
    const match = this.deviceTopics.match(topic);
    if (match === null || match.deviceId === clientId) return null;
    this.screen.count("foreign_publish");
    return `client ${clientId.slice(0, 100)} may not publish for device ${match.deviceId.slice(0, 100)} (MQTT_TOPIC_AUTH)`;
  }

  /** Follows the fleet for alerts, after the store restored it (alerts that were firing continue). */
  private async startAlerts(): Promise<void> {
    this.alerts = this.newAlertService();
    this.alertsStarted = true;
    if (!this.leads) {
      await this.alerts.follow().catch((e) => log(`alerts: ${e instanceof Error ? e.message : e}`));
      this.followAlertsWhileStandingBy();
      return;
    }
    await this.alerts.start();
    this.alertsFollowSystem();
  }

  /** A new role: the alert service of the old one stops (writing what it can), one for the new one starts. */
  private async restartAlerts(): Promise<void> {
    const old = this.alerts;
    await old?.stop();
    this.alerts = this.newAlertService();
    if (this.leads) {
      // A standby taking over: the disconnects it saw count toward flapping, stored by the old leader or not.
      await this.alerts.start(old?.handOver());
      this.alertsFollowSystem();
      log("alerts: deciding and notifying (leader)");
    } else {
      await this.alerts.follow().catch((e) => log(`alerts: ${e instanceof Error ? e.message : e}`));
      this.followAlertsWhileStandingBy();
    }
  }

  /** A standby re-reads the alerts the leader wrote (once registered, the job idles while this instance leads). */
  private followAlertsWhileStandingBy(): void {
    if (this.ownJobs.has("standby-alerts")) return;
    this.ownJobs.add("standby-alerts");
    this.jobs.register({
      name: "standby-alerts",
      intervalMs: STANDBY_ALERTS_REFRESH_MS,
      run: async () => {
        if (!this.leads) await this.alerts?.follow().catch(() => {});
      },
    });
  }

  /** What the leader's alerts learn of the monitor itself at their start. */
  private alertsFollowSystem(): void {
    const alerts = this.alerts!;
    // A restart found while the store was restored (the embedded broker's, at start) opens its window now.
    if (this.lastRestart) alerts.brokerRestarted(this.lastRestart.detectedAt);
    // The link may have gone down before alerting started.
    if (!this.embeddedBroker && this.gapSince !== null && this.broker.since !== null && !this.broker.connected)
      alerts.systemCondition("broker", this.gapSince, this.brokerDownMessage());
  }

  private newAlertService(): AlertService {
    return new AlertService({
      db: () => this.db?.prisma ?? null,
      sql: () => this.db?.queryable ?? null,
      fleet: this.fleet,
      pingsVisible: () => this.pingsVisible,
      pingsVisibleSince: () => this.debugLogWatch.visibleSince,
      observedUntil: () => this.pingsObservedUntil,
      pingsStalled: () => this.pingsStalled,
      restartWindowSeconds: this.config.ALERT_RESTART_WINDOW_SECONDS,
      labels: this.inventory,
      expectedGraceMs: this.config.EXPECTED_GRACE_HOURS * HOUR_MS,
      incidents: {
        minDevices: this.config.INCIDENT_MIN_DEVICES,
        windowMs: this.config.INCIDENT_WINDOW_SECONDS * 1000,
        updateMs: this.config.INCIDENT_UPDATE_SECONDS * 1000,
        groupWaitMs: this.config.INCIDENT_GROUP_WAIT_SECONDS * 1000,
      },
      systemThresholdsMs: {
        broker: this.config.ALERT_BROKER_DOWN_SECONDS * 1000,
        database: this.config.ALERT_DATABASE_DOWN_SECONDS * 1000,
      },
      maxPendingWrites: this.config.ALERT_MAX_PENDING_WRITES,
      webhookAllow: this.webhookAllow,
      publicUrl: this.config.KEEPWATCH_PUBLIC_URL ?? null,
      dispatcher: {
        jobs: this.jobs,
        maxAttempts: this.config.NOTIFY_MAX_ATTEMPTS,
        baseDelayMs: this.config.NOTIFY_RETRY_BASE_SECONDS * 1000,
        maxDelayMs: this.config.NOTIFY_RETRY_MAX_SECONDS * 1000,
        timeoutMs: this.config.NOTIFY_TIMEOUT_SECONDS * 1000,
        leaseMs: Math.max(this.config.NOTIFY_LEASE_SECONDS, this.config.NOTIFY_TIMEOUT_SECONDS + 1) * 1000,
      },
      onFeedChange: () => this.hub.markAlertsChanged(),
      onSilencesChanged: () => this.hub.markChanged(Array.from(this.fleet.all(), (d) => d.id)),
      fence: this.clustered ? () => this.term : undefined,
      log,
    });
  }

  /** Migrates and restores state; a database that is down does not stop the monitor. */
  private async startStore(): Promise<void> {
    this.db = await openConfiguredDatabase(this.config, this.instanceId);
    log(
      this.db.kind === "pglite"
        ? `database: embedded PGlite in ${this.db.location} (set DATABASE_URL to use Postgres)`
        : `database: Postgres ${this.db.location}`,
    );
    const sql = this.clustered ? fencedBatch(this.db.batch, () => this.term) : this.db.batch;
    this.writer = new StoreWriter({
      db: this.db.prisma,
      sql,
      maxPending: this.config.DB_MAX_PENDING_WRITES,
      onError: (e) => this.noteDbError(e),
      logPosition: () => {
        const at = this.debugLog?.position();
        const file = this.config.MOSQUITTO_LOG_FILE;
        return at && file ? { shard: this.shard.key, file, ...at } : null;
      },
    });
    this.activity = new ActivityRecorder({
      db: this.db.prisma,
      sql,
      jobs: this.jobs,
      rawRetentionHours: this.config.ACTIVITY_RAW_HOURS,
      rollupRetentionDays: this.config.ACTIVITY_ROLLUP_DAYS,
      ignore: this.ownClients,
      onError: (e) => this.noteDbError(e),
    });
    const ready = await this.prepareDatabase(DATABASE_START_BUDGET_MS);
    if (!ready) {
      log("database not reachable yet: monitoring without restored state, writes are buffered; nobody can sign in");
      void this.prepareDatabase(Number.POSITIVE_INFINITY).then(async () => {
        await this.startWriting();
        await this.prepareAccess();
      });
      return;
    }
    await this.startWriting();
    await this.prepareAccess();
  }

  /** A single instance writes from now on; one of several writes once it leads (lib/cluster). */
  private async startWriting(): Promise<void> {
    if (!this.clustered) {
      this.writer?.start();
      await this.activity?.start();
      return;
    }
    const url = this.config.DATABASE_URL!;
    this.cluster = new Leadership({
      instanceId: this.instanceId,
      shard: this.shard.key,
      clientId: this.clientId,
      startedAt: this.startedAt,
      failoverMs: this.config.KEEPWATCH_FAILOVER_SECONDS * 1000,
      connect: async () => {
        const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, keepAlive: true });
        await c.connect();
        return c;
      },
      onRole: (role) => this.changeRole(role),
      onMessage: (m) => this.onClusterMessage(m),
      onMembers: (members) => {
        for (const m of members) this.ownPeerClient(m.clientId);
        // A standby keeps what the leader may not have written yet, and no more.
        if (this.cluster?.role === "standby" && this.cluster.otherLeads)
          this.writer?.forgetBefore(Date.now() - STANDBY_REPLAY_MS);
      },
      log,
    });
    await this.cluster.start();
    await this.cluster.settled();
    // Another instance leads: its rows say what the devices are, not this restore.
    if (this.cluster.role === "standby") this.writer?.dropRestored();
    if (this.cluster.role === "standby")
      log(`cluster: standing by as ${this.instanceId}; ${this.cluster.leaderId ?? "another instance"} leads`);
  }

  /** The leadership term while this instance leads (its writes carry it), else null. */
  get term(): Term | null {
    const c = this.cluster;
    return c?.role === "leader" && c.epoch !== null ? { shard: this.shard.key, epoch: c.epoch } : null;
  }

  /** Whether this instance writes, records activity, decides alerts and sends notifications. */
  viewsNow(): FleetViews {
    return this.hub.currentViews();
  }

  get leads(): boolean {
    return !this.clustered || this.cluster?.role === "leader";
  }

  get role(): "leader" | "standby" | "single" {
    return this.clustered ? (this.cluster?.role ?? "standby") : "single";
  }

  /**
   * Taking over: the writes held since standing by (session changes of the
   * last STANDBY_REPLAY_MS, every device's latest state) go out, each
   * statement idempotent over what the old leader wrote; alerts restart from
   * the database with the hot fleet, so firing alerts keep their ids.
   * Standing by: writing stops, alerts follow the database.
   */
  private async changeRole(role: "leader" | "standby"): Promise<void> {
    if (role === "leader") {
      this.writer?.start();
      await this.activity?.start();
    } else {
      this.writer?.pause();
      this.activity?.pause();
    }
    if (this.alertsStarted) await this.restartAlerts();
  }

  /** A peer's monitor connection: never a device (dropped from the fleet if it was taken for one). */
  private ownPeerClient(clientId: string): void {
    if (this.ownClients.has(clientId)) return;
    this.ownClients.add(clientId);
    if (!this.fleet.get(clientId)) return;
    const dropped = this.fleet.forget([clientId]);
    this.alerts?.engine.forget(dropped);
    this.hub.markChanged(dropped);
  }

  /** A peer changed something through its API: this instance reads it again. */
  private onClusterMessage(m: ClusterMessage): void {
    if (m.kind === "joined" && typeof m.clientId === "string") return this.ownPeerClient(m.clientId);
    const reload = async () => {
      switch (m.kind) {
        case "rules":
        case "silences":
        case "channels":
          return this.reloadAlertSettings(m.kind);
        case "labels": {
          if (!this.db) return;
          this.inventory.load(await loadLabels(this.db.prisma));
          for (const r of this.inventory.expected()) this.fleet.expect([r.deviceId], r.expectedAt!);
          const ids = Array.isArray(m.ids) ? (m.ids as string[]) : Array.from(this.fleet.all(), (d) => d.id);
          return this.relabeled(ids);
        }
        case "alerts":
          return this.leads ? this.alerts?.reloadAcks() : this.alerts?.follow();
      }
    };
    reload().catch((e) =>
      log(`cluster: could not apply a peer's ${m.kind} change: ${e instanceof Error ? e.message : e}`),
    );
    if (m.kind !== "alerts" && m.kind !== "released" && !this.leads) void this.alerts?.follow().catch(() => {});
  }

  /** Alert settings as stored now; a channel change may have changed the rules that use it. */
  private async reloadAlertSettings(kind: "rules" | "silences" | "channels"): Promise<void> {
    if (kind === "silences") return this.alerts?.reloadSilences();
    if (kind === "channels") await this.alerts?.reloadChannels();
    await this.alerts?.reloadRules();
  }

  /**
   * Something changed through this instance's API (rules, silences, channels,
   * labels, acknowledgements): this instance reads it again, and so does
   * every peer (NOTIFY).
   */
  async changed(kind: "rules" | "silences" | "channels" | "labels" | "alerts", data: Record<string, unknown> = {}) {
    if (kind === "rules" || kind === "silences" || kind === "channels") await this.reloadAlertSettings(kind);
    else if (kind === "alerts" && !this.leads) await this.alerts?.follow();
    await this.cluster
      ?.publish(kind, data)
      .catch((e) => log(`cluster: could not tell peers (${e instanceof Error ? e.message : e})`));
  }

  private forgetBefore(): number {
    return Date.now() - this.config.FORGET_AFTER_DAYS * DAY_MS;
  }

  /**
   * Every hour: devices not heard from for FORGET_AFTER_DAYS (offline or
   * unknown, no open session, no firing alert, not named, tagged or expected
   * by the operator) leave memory, the alert engine and open tabs; their rows
   * stay for the history.
   */
  private forgetLongGone(): void {
    const before = this.forgetBefore();
    const ids: string[] = [];
    for (const d of this.fleet.all())
      if (forgettable(d, before) && !this.inventory.get(d.id) && !this.alerts?.engine.hasFiring(d.id)) ids.push(d.id);
    if (ids.length === 0) return;
    const dropped = this.fleet.forget(ids);
    this.alerts?.engine.forget(dropped);
    this.hub.markChanged(dropped);
    this.forgotten += dropped.length;
    log(
      `forgot ${dropped.length} devices not heard from for ${this.config.FORGET_AFTER_DAYS} days (their history stays)`,
    );
  }

  /** The first admin or the setup link, and what the start-up log says about access. */
  private async prepareAccess(): Promise<void> {
    try {
      for (const line of await this.auth.prepare()) log(line);
    } catch (err) {
      log(`access: not ready (${err instanceof Error ? err.message : String(err)})`);
    }
  }

  /** Runs migrations and restores the fleet; retries with backoff until `budgetMs` runs out. */
  private prepareDatabase(budgetMs: number): Promise<boolean> {
    return retryWithin(() => this.migrateAndRestore(), {
      policy: { initialMs: 250, maxMs: 5_000 },
      budgetMs,
      onError: (err) => this.noteDbError(err),
    });
  }

  private async migrateAndRestore(): Promise<void> {
    await migrate({ db: this.db!.queryable, log });
    // Restored once; a restore cut short by the database resumes where it stopped.
    if (this.restoredAfter !== undefined || this.fleet.size === 0) {
      const brokerState = await loadBrokerState(this.db!.prisma, this.brokerKey);
      this.inventory.load(await loadLabels(this.db!.prisma));
      // Joining a running cluster: the leader kept watching, so its statuses stand (no `unknown`).
      const adopt = this.clustered && (await this.leaderElsewhere());
      // A standby joining a leader follows the log from now on, as the leader does; a first start reads on.
      // When the log can be read on from where the stored changes end, it saw the time keepwatch was away:
      // the stored statuses stand (as a standby adopts the leader's), and the log brings them up to date.
      const logFile = this.config.MOSQUITTO_LOG_FILE;
      const maxMb = this.config.MOSQUITTO_LOG_REPLAY_MAX_MB;
      // Only before the log is followed: a restore that waited for the database comes after it began at the end.
      if (logFile && !adopt && maxMb > 0 && this.debugLog === null) {
        const position = await loadLogPosition(this.db!.prisma, this.shard.key, logFile);
        await this.logReadOn?.file?.handle.close(); // a restore tried again
        this.logReadOn = position && (await openToResume(logFile, position, maxMb * 1_000_000));
      }
      const logSawAll = this.logReadOn?.outcome.resumed === true;
      const { kept, forgotten, openSessions, seenUpAt } = await this.restoreFleet(adopt, logSawAll);
      // keepwatch itself was away: nothing was heard from the last write of the run before (the broker state,
      // written every second) until the link is up. Not when the log was read on over that time (it saw it), a
      // cluster kept watching, or the broker was keepwatch's own (it was down too: its devices were offline); nor
      // for one shard of several (a gap is the whole fleet's, and the other shards kept watching).
      if (
        brokerState &&
        !adopt &&
        !logSawAll &&
        !this.embeddedBroker &&
        this.shard.count === 1 &&
        brokerState.writtenAt < this.startedAt
      )
        this.keepwatchWasAway(brokerState.writtenAt);
      log(
        `restored ${kept} devices, ${openSessions} open sessions` +
          (forgotten > 0
            ? `; ${forgotten} not heard from for ${this.config.FORGET_AFTER_DAYS} days left in the history only`
            : ""),
      );
      this.restarts = new RestartDetector({
        saved: brokerState ?? (seenUpAt === null ? null : { uptimeSeconds: null, uptimeAt: null, seenUpAt }),
      });
      const expected = [...this.inventory.expected()];
      for (const r of expected) this.fleet.expect([r.deviceId], r.expectedAt!);
      // keepwatch was its broker: every session of the run before this one is over.
      if (this.embeddedBroker) this.applyRestart(this.restarts.embeddedStart(this.startedAt));
    }
    this.database.clear();
  }

  /**
   * A monitoring gap from `since` (the run before this one last wrote) until
   * the broker link is up: history and reports show that time as unknown,
   * not as offline, for devices that were not connected.
   */
  private keepwatchWasAway(since: number): void {
    log(`keepwatch was not running since ${new Date(since).toISOString()}: recorded as a monitoring gap`);
    this.writer?.openGap(since, "keepwatch was not running");
    // The link came up before the database did: the gap ends there.
    if (this.gapSince === null) this.writer?.closeGap(this.linkUpAt);
  }

  /** Whether another instance leads this shard now (a standby joining a running cluster). */
  private async leaderElsewhere(): Promise<boolean> {
    const view = await readLeader(this.db!.queryable, this.shard.key);
    return view.leaseValid && view.leaderId !== this.instanceId;
  }

  /**
   * A standby that joined a running cluster read the fleet before it heard
   * the broker: what happened in between is in the leader's later writes.
   * Once the link has been up a while (the leader has flushed what came
   * before), devices written since the read, and not changed here since, are
   * adopted again from their rows.
   */
  private async catchUpAdopted(): Promise<void> {
    const adoption = this.adoption;
    if (!adoption || !this.db) return;
    this.adoption = null;
    try {
      const saved = await loadDevicesChangedSince(this.db.prisma, adoption.readAt - ADOPTION_CATCH_UP_MS);
      const stale = new Set(
        saved.devices
          .filter((d) => this.shard.has(d.id) && this.fleet.get(d.id) === adoption.states.get(d.id))
          .map((d) => d.id),
      );
      this.fleet.restore(
        saved.devices.filter((d) => stale.has(d.id)),
        saved.openSessions.filter((o) => stale.has(o.deviceId)),
        { adopt: true },
      );
      if (stale.size > 0)
        log(`cluster: caught up with ${stale.size} devices the leader wrote while this instance joined`);
    } catch (e) {
      log(`cluster: could not catch up with the leader's writes (${e instanceof Error ? e.message : e})`);
    }
  }

  /**
   * Restores the fleet from the database page by page (lib/store/devices.ts
   * loadFleetPages), so memory never holds every row at once. Devices long
   * gone stay in the history, not in memory (unless the operator labelled them).
   *
   * `adopt`: a standby joining a running cluster (statuses stand, adopted
   * again after the link is up); `statusesStand`: the debug log will be read
   * on from where the stored changes end (statuses stand, the log updates them).
   * Otherwise every device is restored `unknown`.
   */
  private async restoreFleet(adopt: boolean, statusesStand = false) {
    const before = this.forgetBefore();
    const readAt = Date.now();
    let kept = 0;
    let forgotten = 0;
    let openSessions = 0;
    // Restart detection's memory for a database written before it was kept: the broker was up at least
    // until the latest sign of life of any device.
    let seenUpAt: number | null = null;
    for await (const page of loadFleetPages(this.db!.queryable, { after: this.restoredAfter ?? null })) {
      const gone = new Set<string>();
      for (const d of page.devices) {
        if (d.lastSeenAt !== null && (seenUpAt === null || d.lastSeenAt > seenUpAt)) seenUpAt = d.lastSeenAt;
        if (!this.shard.has(d.id) || (forgettable(d, before) && !this.inventory.get(d.id))) gone.add(d.id);
      }
      for (const o of page.openSessions) if (!this.shard.has(o.deviceId)) gone.add(o.deviceId);
      const devices = gone.size === 0 ? page.devices : page.devices.filter((d) => !gone.has(d.id));
      const open = gone.size === 0 ? page.openSessions : page.openSessions.filter((o) => !gone.has(o.deviceId));
      const unchanged = this.fleet.restore(devices, open, { adopt: adopt || statusesStand });
      // Restored as unknown: one bulk update (dropped if this instance turns out not to lead).
      if (!adopt && !statusesStand && unchanged.length > 0)
        this.writer?.restoredAs(unchanged, "unknown", this.fleet.get(unchanged[0])!.statusSince);
      if (adopt) {
        this.adoption ??= { readAt, states: new Map() };
        for (const d of devices) this.adoption.states.set(d.id, this.fleet.get(d.id)!);
      }
      kept += devices.length;
      forgotten += gone.size;
      openSessions += open.length;
      this.restoredAfter = page.last ?? undefined;
    }
    return { kept, forgotten, openSessions, seenUpAt };
  }

  /**
   * MOSQUITTO_LOG_FILE: Mosquitto's debug log, followed like `tail -F`
   * (lib/ingest/log-tail.ts) for every client's PINGREQs and other packets
   * (lib/ingest/adapters/mosquitto-debug.ts). Once it shows a debug line,
   * silence verdicts become possible for the Mosquitto path.
   *
   * After a restart it reads on from where the changes the last run wrote
   * end (the position written with them, judged by openToResume), so what happened
   * while keepwatch was away (disconnects with the broker's reasons and
   * times, connects, pings) is applied as it happened, and nothing twice.
   * Until that backlog is read, pings do not count as visible: a device
   * whose later pings are still unread must not look silent.
   */
  private startDebugLog(file: string): void {
    const readOn = this.logReadOn;
    const resumeFile = readOn?.file ?? null;
    this.replaying = resumeFile !== null;
    this.debugLog = new LogTail({
      path: file,
      resumeFile,
      onLines: (lines, receivedAt) => {
        if (lines.length === 0) return;
        if (this.debugLogWatch.read(receivedAt, Date.now())) this.debugLogStallChanged(false, 0);
        let events: ActivityEvent[] = [];
        let firstDebugLine = false;
        for (const line of lines) {
          if (!this.debugLogWatch.seen && !this.replaying && isDebugLine(line))
            firstDebugLine = this.debugLogWatch.debugLine(receivedAt);
          const lifecycle = parseLifecycleLine(line, { receivedAt });
          if (lifecycle) {
            // In file order: what was read before the start line belongs to the old run.
            this.applyEvents(events);
            events = [];
            this.applyRestart(this.restarts.logLine(lifecycle.phase, lifecycle.at));
            continue;
          }
          const own = (ev: ActivityEvent) => ev.deviceId === this.clientId;
          // The monitor's own packets (its touches, its pings) prove the log moves; they are no device's.
          const found = parseDebugLine(line, { receivedAt });
          if (found.length === 0) found.push(...this.connectsNotOnSys(line, receivedAt));
          for (const ev of found) if (!own(ev)) events.push(ev);
          if (found.length > 0) this.restarts.logSeen(found[0].at);
        }
        if (firstDebugLine) {
          log(`debug log ${file}: PINGREQs visible`);
          this.safely("refresh deadlines", () => this.fleet.refreshDeadlines());
          this.safely("refresh alerts", () => this.alerts?.refresh());
        }
        this.applyEvents(events);
      },
      onError: (err) => {
        this.broker.lastError = `MOSQUITTO_LOG_FILE ${file}: ${err instanceof Error ? err.message : String(err)}`;
      },
    });
    this.debugLog.start();
    this.debugLogWatch.started(Date.now());
    if (resumeFile !== null) {
      const startedAt = Date.now();
      void this.debugLog.poll().then(() => {
        this.replaying = false;
        log(
          `debug log ${file}: read on from byte ${resumeFile.offset}: ${resumeFile.bytes} bytes written while keepwatch was away, in ${Date.now() - startedAt} ms`,
        );
      });
    } else if (readOn && !readOn.outcome.resumed)
      log(`debug log ${file}: following from its end, not from where the last run stopped: ${readOn.outcome.reason}`);
    this.job("debug-log-stall", DEBUG_LOG_CHECK_MS, () => {
      const quietMs = this.debugLogWatch.check(Date.now(), this.worker?.connected === true);
      if (quietMs !== null) this.debugLogStallChanged(true, quietMs);
    });
    this.job("debug-log-touch", DEBUG_LOG_TOUCH_MS, () => this.worker?.touch());
    log(`debug log: following ${file} (needs log_type all; see README)`);
  }

  /** How the debug log was read on at start (health): null without an earlier position. */
  private readOn(): { reading: boolean; offset: number | null; bytes: number | null; reason: string | null } | null {
    const r = this.logReadOn?.outcome;
    if (!r) return null;
    return {
      reading: this.replaying,
      offset: r.resumed ? r.offset : null,
      bytes: r.resumed ? r.bytes : null,
      reason: r.resumed ? null : r.reason,
    };
  }

  /**
   * Connects and disconnects are the `$SYS` log's job, but while the link is
   * down (a broker restart: devices reconnect before the monitor does) only
   * the debug log sees them. Lines stamped before the second the link came
   * back are taken from the file (a line read late still counts); lines of
   * that second and later come over `$SYS`, so none is applied twice.
   */
  private connectsNotOnSys(line: string, receivedAt: number): ActivityEvent[] {
    const result = mosquittoLogAdapter.parse("$SYS/broker/log/N", line, { receivedAt, retained: false });
    if (result.events.length === 0) return [];
    const linkUpSecond = Math.floor(this.linkUpAt / 1000) * 1000;
    if (this.worker?.connected === true && result.events[0].at >= linkUpSecond) return [];
    return result.events;
  }

  /**
   * Whether a stat is the broker's uptime: Mosquitto's `uptime`, or EMQX's
   * `uptime/<node>` while one node is all there is. In an EMQX cluster a
   * node's restart drops only that node's clients, which its uptime cannot
   * tell apart; there the node's own disconnect events say it.
   */
  private uptimeOf(key: string): boolean {
    if (key === "uptime") return true;
    if (!key.startsWith("uptime/")) return false;
    this.uptimeNodes.add(key.slice("uptime/".length));
    return this.uptimeNodes.size === 1;
  }

  /** One batch of events into the fleet and the activity recorder, unusable device ids left out. */
  private applyEvents(batch: ActivityEvent[]): void {
    const admitted = this.screen.admit(batch);
    // Another shard's devices are another instance's.
    const events = this.shard.count === 1 ? admitted : admitted.filter((e) => this.shard.has(e.deviceId));
    if (events.length === 0) return;
    this.metrics.observeEvents(events);
    this.safely("apply events", () => this.fleet.applyBatch(events));
    if (this.leads) this.activity?.recordEvents(events);
    if (this.hub.watching) this.hub.markActivity(livePoints(events));
  }

  /**
   * The broker restarted (lib/broker/restarts.ts): the sessions of its old
   * run end as `broker_restart`, the restart is recorded, and the devices it
   * dropped get their reconnect window before an offline alert.
   */
  private applyRestart(decision: RestartDecision | null): void {
    if (!decision) return;
    this.metrics.brokerRestarted();
    let devices: string[] = [];
    this.safely("broker restart", () => {
      devices = this.fleet.brokerRestart({ downAt: decision.downAt, keepFrom: decision.keepFrom });
    });
    this.lastRestart = { ...decision, devices };
    const { downAt, upAt, detectedAt, evidence } = decision;
    this.writer?.recordRestart({
      broker: this.brokerKey,
      downAt,
      upAt,
      detectedAt,
      evidence,
      sessionsClosed: devices.length,
    });
    this.saveBrokerState();
    this.safely("alert restart window", () =>
      this.alerts?.brokerRestarted(
        decision.detectedAt,
        `broker restarted: down ${new Date(decision.downAt).toISOString()}, up ${new Date(decision.upAt).toISOString()}; ${devices.length} sessions ended`,
      ),
    );
    const at = (ms: number) => new Date(ms).toISOString();
    log(
      `broker restarted: down ${at(decision.downAt)}, up ${at(decision.upAt)}; ` +
        `${devices.length} sessions ended (broker_restart); ${decision.evidence.join("; ")}`,
    );
  }

  /** Which broker restart detection's memory belongs to (lib/store/broker.ts). */
  get brokerKey(): string {
    return this.embeddedBroker ? "embedded" : redactUrl(this.config.MQTT_URL ?? "");
  }

  private saveBrokerState(): void {
    if (this.embedded) this.restarts.seenUp(Date.now()); // in-process: up while keepwatch runs
    this.writer?.saveBrokerState({ broker: this.brokerKey, ...this.restarts.state() });
  }

  /**
   * The debug log stalled or moves again (lib/ingest/debug-log-watch.ts):
   * ping visibility changes with it, so late devices and silence deadlines
   * are redone at once and the system alert follows.
   */
  private debugLogStallChanged(stalled: boolean, quietMs: number): void {
    const file = this.config.MOSQUITTO_LOG_FILE;
    if (stalled)
      log(`debug log ${file}: no line for ${Math.round(quietMs / 1000)} s, stalled; silence verdicts suspended`);
    else log(`debug log ${file}: moving again; PINGREQs visible`);
    this.safely("debug log alert", () =>
      this.alerts?.systemCondition(
        "debug_log",
        stalled ? Date.now() - quietMs : null,
        stalled
          ? `Mosquitto debug log ${file} stalled: no line for ${Math.round(quietMs / 1000)} s; late and silence verdicts are suspended`
          : `debug log ${file} moves again`,
      ),
    );
    this.safely("refresh deadlines", () => this.fleet.refreshDeadlines());
    this.safely("refresh alerts", () => this.alerts?.refresh());
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
      onEvents: (events) => {
        this.restarts.seenUp(Date.now());
        this.applyEvents(events);
      },
      onStats: (stats) => {
        for (const s of stats) {
          this.broker.stats[s.key] = s.value;
          const uptime = this.uptimeOf(s.key);
          if (uptime) this.applyRestart(this.restarts.uptimeReading(s.value, s.at));
        }
        this.restarts.seenUp(Date.now());
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
      if (!this.embedded) log(`broker link up (${this.broker.url})`);
      if (this.adoption) {
        const timer = setTimeout(() => void this.catchUpAdopted(), ADOPTION_CATCH_UP_MS);
        timer.unref?.();
      }
      this.linkUpAt = now;
      // The embedded broker is in-process: no link to lose, no uptime to wait for.
      if (!this.embeddedBroker) this.restarts.linkUp();
      // The log was not expected to move while the link was down: its quiet time counts from now.
      this.debugLogWatch.linkUp(now);
      this.broker.lastError = null;
      if (this.gapSince !== null) {
        this.writer?.closeGap(now);
        // Unknown devices are re-learned from now: with pings visible, by a deadline (lib/fleet/machine.ts).
        this.relearnSince = now;
        this.safely("refresh deadlines", () => this.fleet.refreshDeadlines());
      }
      this.gapSince = null;
      this.safely("broker alert", () =>
        this.alerts?.systemCondition("broker", null, `broker ${this.broker.url} reachable again`),
      );
      return;
    }
    log(`broker link down${error ? `: ${error}` : ""}`);
    if (!this.embeddedBroker) this.restarts.linkDown(now);
    this.relearnSince = null;
    // keepwatch stopping: no gap to record here. The statuses stay as last known, and the next start decides
    // whether that time is a gap (not when a standby took over, or the debug log is read on over it; see
    // keepwatchWasAway).
    if (this.stopping) return;
    if (this.gapSince === null) {
      // We stop hearing the broker: every device becomes unknown, none offline.
      this.gapSince = now;
      this.writer?.openGap(now, error ?? "broker connection lost");
      this.safely("monitor gap", () => this.fleet.monitorGap());
    }
    const since = this.gapSince;
    this.safely("broker alert", () => this.alerts?.systemCondition("broker", since, this.brokerDownMessage()));
  }

  private brokerDownMessage(): string {
    const since = new Date(this.gapSince ?? Date.now()).toISOString();
    const why = this.broker.lastError ? ` (${this.broker.lastError.slice(0, 200)})` : "";
    return `broker ${this.broker.url} unreachable since ${since}${why}; device alerts are held while it is down`;
  }

  /** Every second: whether database writes keep failing (a system alert past ALERT_DATABASE_DOWN_SECONDS). */
  private checkDatabase(now: number): void {
    const condition = this.database.check(this.writer?.health(), now);
    if (condition) this.alerts?.systemCondition("database", condition.since, condition.message);
  }

  private noteDbError(err: unknown): void {
    // A write refused by the fence: another instance leads now.
    if (isFenced(err)) {
      this.cluster?.lost("a write was fenced");
      return;
    }
    this.database.noteError(err, Date.now());
  }

  private safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      console.error(`[keepwatch] ${what} failed`, err);
    }
  }

  /** The health report (lib/health.ts); `jobs: false` leaves the background jobs out (the live streams). */
  health(opts: { jobs?: boolean } = {}): HealthDto {
    const c = this.cluster;
    const watch = this.debugLogWatch;
    return composeHealth({
      broker: this.broker,
      lastRestart: restartDto(this.lastRestart, (id) => this.fleet.get(id)?.status),
      writer: this.writer?.health(),
      alertWrites: this.alerts ? { pending: this.alerts.pendingWrites, dropped: this.alerts.droppedWrites } : undefined,
      database: this.database,
      dbKind: this.db?.kind ?? null,
      ingest: {
        rejected: {
          ...this.screen.rejected,
          ...(this.fleet.refusedNew > 0 && { max_devices: this.fleet.refusedNew }),
        },
        forgottenDevices: this.forgotten,
        maxDevices: this.config.MAX_DEVICES,
      },
      cluster: clusterDto({
        instanceId: this.instanceId,
        clustered: this.clustered,
        role: this.role,
        startedAt: this.startedAt,
        leadership: c,
      }),
      notifications: this.alerts?.notificationHealth() ?? null,
      monitor: {
        startedAt: this.startedAt,
        gapSince: this.gapSince,
        pingsVisible: this.pingsVisible,
        deviceTopics: this.deviceTopics.subscriptions,
        relearnSince: this.relearnSince,
        unknownDevices: this.relearnSince === null ? 0 : this.fleet.counts().unknown,
        debugLog: this.config.MOSQUITTO_LOG_FILE
          ? {
              file: this.config.MOSQUITTO_LOG_FILE,
              seen: watch.seen,
              stalled: watch.stalled,
              lastLineAt: watch.lastLineAt,
              readOn: this.readOn(),
            }
          : null,
      },
      ...(opts.jobs !== false && { jobs: this.jobs.list() }),
    });
  }

  /**
   * Stops watching, writes what is pending, closes the database. The embedded
   * broker goes down with the monitor: its clients' sessions end as `broker_restart`.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopTicker?.();
    // The runtime's own jobs first; the others stop with their owners below (the hub's last).
    for (const name of this.ownJobs) void this.jobs.stop(name);
    try {
      // First: sessions the stopping broker ends must not raise alerts; pending alert writes are flushed.
      await this.alerts?.stop();
      await this.worker?.stop();
      const embedded = this.embedded;
      if (embedded) {
        embedded.source.markClosing();
        await embedded.broker.close();
        embedded.source.detach(); // hands the last events to the fleet
        this.broker.connected = false;
        this.broker.since = Date.now();
      }
      this.saveBrokerState();
      await this.debugLog?.stop(); // closes the file it was given to read on in
      if (!this.debugLog) await this.logReadOn?.file?.handle.close().catch(() => {});
      if (this.leads) {
        await this.writer?.stop();
        await this.activity?.stop();
      } else {
        // A standby's buffer is the leader's to write.
        this.writer?.pause();
        this.activity?.pause();
      }
      // Written: a leader hands over now (its standbys are woken), well within the lease.
      await this.cluster?.stop();
      await this.db?.close();
    } finally {
      // Last: open event streams keep a shutting-down server waiting, so it exits after the writes.
      this.hub.stop();
      await this.jobs.stopAll();
    }
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
    stopOnSignals(await startRuntime());
  } catch (err) {
    console.error(`[keepwatch] failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}

export function getRuntime(): Runtime {
  if (!holder.runtime) throw new AppError("SERVICE_UNAVAILABLE", "the monitor is not running");
  return holder.runtime;
}
