/**
 * Prometheus metrics (`GET /metrics`, prom-client's text format).
 *
 * Two kinds of figure:
 * - observed as they happen, from the data path: ingest messages and their
 *   lag, silence verdicts and how late they came, broker restarts;
 * - read from the monitor's state at scrape time (`collect`): devices by
 *   status, the broker link, pending and refused writes, refused input,
 *   firing alerts, notification outcomes, open streams, and, with
 *   METRICS_PER_DEVICE, one series per device.
 *
 * The monitor's state comes through a narrow port (`MetricsSource`), so
 * this module knows nothing of the runtime.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ActivityEvent } from "../ingest/events";
import type { DeviceState, DeviceStatus, FleetEffect } from "../fleet/types";

export interface MetricsSource {
  counts(): Record<DeviceStatus, number>;
  brokerConnected(): boolean;
  pendingWrites(): number;
  rejectedRows(): number;
  /** The alert service's writes waiting, and dropped since start. */
  alertWrites(): { pending: number; dropped: number };
  /** How long the oldest fleet change has waited for the alert engine (ms). */
  alertEvaluationLagMs(): number;
  /** Events refused at ingest since start, by cause. */
  rejected(): Partial<Record<string, number>>;
  /** Firing alerts by kind. */
  firingByKind(): Record<string, number>;
  /** Delivery attempts since start. */
  notificationOutcomes(): Iterable<{ type: string; outcome: string; n: number }>;
  streams(): number;
  devices(): Iterable<DeviceState>;
}

export interface MetricsOptions {
  /** One series per device (keepwatch_device_up, keepwatch_device_keepalive_seconds): mind the cardinality. */
  perDevice: boolean;
  /** Default process metrics (CPU, memory, event loop, handles). */
  processMetrics?: boolean;
}

const LAG_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];
const LATENESS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

export class Metrics {
  readonly registry = new Registry();
  private readonly messages: Counter<"source">;
  private readonly lag: Histogram;
  private readonly lateness: Histogram<"verdict">;
  /** Bound once: observing through the histogram itself builds a closure and a label object per verdict. */
  private readonly latenessOf: Record<"late" | "offline", { observe(value: number): void }>;
  private readonly restarts: Counter;

  constructor(source: MetricsSource, opts: MetricsOptions) {
    const registers = [this.registry];
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });

    new Gauge({
      name: "keepwatch_devices",
      help: "Devices held, by status.",
      labelNames: ["status"] as const,
      registers,
      collect() {
        const c = source.counts();
        for (const status of ["online", "late", "offline", "unknown"] as const) this.set({ status }, c[status]);
      },
    });
    new Gauge({
      name: "keepwatch_broker_connected",
      help: "1 while the monitor is connected to the broker (or runs it), else 0.",
      registers,
      collect() {
        this.set(source.brokerConnected() ? 1 : 0);
      },
    });
    this.restarts = new Counter({
      name: "keepwatch_broker_restarts_total",
      help: "Broker restarts detected since start.",
      registers,
    });
    this.messages = new Counter({
      name: "keepwatch_ingest_messages_total",
      help: "Events read from the broker, by source (adapter).",
      labelNames: ["source"] as const,
      registers,
    });
    new Counter({
      name: "keepwatch_ingest_rejected_total",
      help: "Events refused at ingest since start, by cause (id too long, empty, invalid, max_devices, …).",
      labelNames: ["cause"] as const,
      registers,
      collect() {
        this.reset();
        for (const [cause, n] of Object.entries(source.rejected())) if (n) this.inc({ cause }, n);
      },
    });
    this.lag = new Histogram({
      name: "keepwatch_ingest_lag_seconds",
      help: "How long after it happened (as the broker stamped it) an event reached the monitor.",
      buckets: LAG_BUCKETS,
      registers,
    });
    this.lateness = new Histogram({
      name: "keepwatch_verdict_lateness_seconds",
      help: "How late a silence verdict (late, offline) came after its deadline.",
      labelNames: ["verdict"] as const,
      buckets: LATENESS_BUCKETS,
      registers,
    });
    this.latenessOf = {
      late: this.lateness.labels({ verdict: "late" }),
      offline: this.lateness.labels({ verdict: "offline" }),
    };
    new Gauge({
      name: "keepwatch_db_pending_writes",
      help: "Writes waiting for the database.",
      registers,
      collect() {
        this.set(source.pendingWrites());
      },
    });
    new Gauge({
      name: "keepwatch_alert_pending_writes",
      help: "Alert writes (fires, resolutions, incident changes) waiting for the database.",
      registers,
      collect() {
        this.set(source.alertWrites().pending);
      },
    });
    new Gauge({
      name: "keepwatch_alert_evaluation_lag_seconds",
      help: "How long the oldest fleet change has waited for the alert engine: 0 unless verdicts ran late and alerts were held back.",
      registers,
      collect() {
        this.set(source.alertEvaluationLagMs() / 1000);
      },
    });
    new Counter({
      name: "keepwatch_alert_dropped_writes_total",
      help: "Alert writes dropped since start: more than ALERT_MAX_PENDING_WRITES were waiting.",
      registers,
      collect() {
        this.reset();
        const n = source.alertWrites().dropped;
        if (n) this.inc(n);
      },
    });
    new Counter({
      name: "keepwatch_db_rejected_rows_total",
      help: "Rows the database refused for what they hold (dropped, logged) since start.",
      registers,
      collect() {
        this.reset();
        const n = source.rejectedRows();
        if (n) this.inc(n);
      },
    });
    new Gauge({
      name: "keepwatch_alerts_firing",
      help: "Firing alerts, by kind.",
      labelNames: ["kind"] as const,
      registers,
      collect() {
        this.reset();
        for (const kind of ["offline", "late", "flapping", "near-miss", "never_seen", "system"]) this.set({ kind }, 0);
        for (const [kind, n] of Object.entries(source.firingByKind())) this.set({ kind }, n);
      },
    });
    new Counter({
      name: "keepwatch_notifications_total",
      help: "Notification delivery attempts since start, by channel type and outcome (ok, failed, dead).",
      labelNames: ["channel_type", "outcome"] as const,
      registers,
      collect() {
        this.reset();
        for (const o of source.notificationOutcomes()) this.inc({ channel_type: o.type, outcome: o.outcome }, o.n);
      },
    });
    new Gauge({
      name: "keepwatch_sse_streams",
      help: "Open event streams (browser tabs).",
      registers,
      collect() {
        this.set(source.streams());
      },
    });
    if (opts.perDevice) {
      new Gauge({
        name: "keepwatch_device_up",
        help: "Per device: 1 online, 0.5 late, 0 offline; unknown devices are left out.",
        labelNames: ["device"] as const,
        registers,
        collect() {
          this.reset();
          for (const d of source.devices()) {
            if (d.status === "unknown") continue;
            this.set({ device: d.id }, d.status === "online" ? 1 : d.status === "late" ? 0.5 : 0);
          }
        },
      });
      new Gauge({
        name: "keepwatch_device_keepalive_seconds",
        help: "Per device: the keepalive of its current or last session.",
        labelNames: ["device"] as const,
        registers,
        collect() {
          this.reset();
          for (const d of source.devices())
            if (d.keepaliveSeconds !== null) this.set({ device: d.id }, d.keepaliveSeconds);
        },
      });
    }
  }

  /** Events as they come in: counted by source, their lag observed. */
  observeEvents(events: readonly ActivityEvent[], now = Date.now()): void {
    for (const e of events) {
      this.messages.inc({ source: e.source });
      this.lag.observe(Math.max(0, now - e.at) / 1000);
    }
  }

  /**
   * The effects of a deadline tick: its late and offline verdicts, each
   * against its deadline (a verdict's `at`). Effects from events (a reported
   * disconnect) are not verdicts and do not come here.
   */
  observeVerdicts(effects: readonly FleetEffect[], now = Date.now()): void {
    for (const e of effects)
      if (e.type === "status-change" && e.from !== null && (e.to === "late" || e.to === "offline"))
        this.latenessOf[e.to].observe(Math.max(0, now - e.at) / 1000);
  }

  brokerRestarted(): void {
    this.restarts.inc();
  }

  async render(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
