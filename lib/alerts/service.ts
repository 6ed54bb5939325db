/**
 * Alerting inside the running monitor: feeds the fleet's listener output and
 * a periodic tick into the pure engine, writes its decisions (durable first),
 * then tells the browser (live hub) and the webhooks (notifier).
 *
 *   fleet effects/changes ─► AlertEngine ─decisions─► lib/store/alerts (one transaction per batch)
 *                                                        └─► live feed (SSE `alerts`) + WebhookNotifier
 *
 * Nothing here runs on the ingest path beyond the engine's own bookkeeping:
 * writes are chained asynchronously, webhooks are queued. While the database
 * is away decisions wait in memory (bounded) and are written when it is back.
 *
 * Start-up: the rules and the firing alerts are loaded from the database, so
 * the engine continues what was firing before a restart (no duplicate, and a
 * resolution after the restart still lands on the same row). Until the rules
 * are loaded the built-in default rule applies.
 */
import type { Fleet } from "../fleet/fleet";
import { startTicker } from "../fleet/ticker";
import type { Db } from "../store/db";
import {
  applyAlertDecisions,
  listAlertRules,
  loadFiringAlerts,
  recordDeliveries,
  toFiringAlert,
  type AlertRecord,
  type AppliedDecision,
  type NewDelivery,
} from "../store/alerts";
import { FEED_LIMIT, toAlertDto, type AlertFeedMessage } from "./dto";
import type { AllowList } from "./egress";
import { AlertEngine, type AlertDecision } from "./engine";
import { WebhookNotifier, type DeliveryAttempt, type NotifierOptions, type WebhookPayload } from "./notifier";
import { DEFAULT_RULE, RuleSet, type AlertRule } from "./rules";

export interface AlertServiceOptions {
  /** The database once it is open (null before). */
  db(): Db | null;
  fleet: Fleet;
  pingsVisible(deviceId: string): boolean;
  /** When the current stretch of ping visibility began (see AlertEngineOptions). */
  pingsVisibleSince?(): number;
  observedUntil?(): number;
  pingsStalled?(): boolean;
  /** ALERT_RESTART_WINDOW_SECONDS. */
  restartWindowSeconds?: number;
  /** The firing set changed: the hub sends an `alerts` event. */
  onFeedChange(): void;
  log(message: string): void;
  now?: () => number;
  /** How often due deadlines are checked (ms). Default 100. */
  tickMs?: number;
  /** Webhook destinations allowed although in the monitor's own network (KEEPWATCH_WEBHOOK_ALLOW, parsed). */
  webhookAllow?: AllowList;
  notifier?: Partial<NotifierOptions>;
}

/** Decisions waiting for the database beyond this are dropped (oldest first) and reported. */
const MAX_PENDING_DECISIONS = 100_000;
const key = (deviceId: string, kind: string) => `${kind}\u0000${deviceId}`;
const EVENT: Record<AlertDecision["type"], WebhookPayload["event"]> = {
  fire: "fired",
  resolve: "resolved",
  repeat: "repeat",
};

export class AlertService {
  readonly engine: AlertEngine;
  readonly notifier: WebhookNotifier;
  private rules: AlertRule[] = [{ ...DEFAULT_RULE, id: 1, isDefault: true }];
  private ruleSet = new RuleSet(this.rules);
  /** Firing alerts as stored (with their ids): the feed. */
  private readonly firing = new Map<string, AlertRecord>();
  private pending: AlertDecision[] = [];
  private draining: Promise<void> | null = null;
  private deliveries: NewDelivery[] = [];
  private deliveryTimer: ReturnType<typeof setTimeout> | null = null;
  /** The delivery log writes in order, one after another. */
  private deliveryWrites: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | null = null;
  private stopTicker: (() => void) | null = null;
  private loadTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private loaded = false;
  droppedDecisions = 0;
  lastError: string | null = null;

  constructor(private readonly opts: AlertServiceOptions) {
    // The fleet holds every device's state: the engine reads it there rather than keeping a copy per device.
    this.engine = new AlertEngine({
      pingsVisible: opts.pingsVisible,
      pingsVisibleSince: opts.pingsVisibleSince,
      observedUntil: opts.observedUntil,
      pingsStalled: opts.pingsStalled,
      restartWindowSeconds: opts.restartWindowSeconds,
      states: opts.fleet,
    });
    this.notifier = new WebhookNotifier({
      allow: opts.webhookAllow,
      ...opts.notifier,
      record: (a) => this.recordAttempt(a),
    });
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Loads rules and firing alerts, then follows the fleet. */
  async start(): Promise<void> {
    this.engine.seed(this.opts.fleet.all());
    this.unsubscribe = this.opts.fleet.onEffects((effects, changed) =>
      this.take(this.engine.observe(effects, changed, this.now())),
    );
    this.take(this.engine.setRules(this.rules, this.now()));
    await this.load();
    this.stopTicker = startTicker(() => {
      try {
        this.take(this.engine.tick(this.now()));
      } catch (e) {
        this.opts.log(`alert tick failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }, this.opts.tickMs ?? 100);
  }

  private async load(): Promise<void> {
    const db = this.opts.db();
    try {
      if (!db) throw new Error("database not open");
      const [rules, firing] = await Promise.all([listAlertRules(db), loadFiringAlerts(db)]);
      if (this.stopped) return;
      for (const a of firing) this.firing.set(key(a.deviceId, a.kind), a);
      this.engine.restoreFiring(firing.map(toFiringAlert), this.now());
      this.loaded = true;
      this.applyRules(rules);
      this.opts.onFeedChange();
      this.opts.log(`alerts: ${rules.length} rules, ${firing.length} alerts still firing`);
    } catch (e) {
      this.lastError = e instanceof Error ? e.message : String(e);
      this.opts.log(`alerts: rules not loaded yet (${this.lastError}); the default rule applies meanwhile`);
      if (!this.stopped) {
        this.loadTimer = setTimeout(() => void this.load(), 5_000);
        this.loadTimer.unref?.();
      }
    }
  }

  /** The broker restarted (detected at `at`): the devices it dropped get a reconnect window. */
  brokerRestarted(at: number): void {
    this.take(this.engine.brokerRestarted(at, this.now()));
  }

  /** Ping visibility changed (a debug log stalled or moves again): every device is looked at again. */
  refresh(): void {
    this.take(this.engine.refresh(this.now()));
  }

  /** Re-reads the rules (after an edit) and re-evaluates every device at once. */
  async reloadRules(): Promise<void> {
    const db = this.opts.db();
    if (!db) return;
    this.applyRules(await listAlertRules(db));
  }

  private applyRules(rules: AlertRule[]): void {
    this.rules = rules;
    this.ruleSet = new RuleSet(rules);
    this.take(this.engine.setRules(rules, this.now()));
  }

  getRules(): readonly AlertRule[] {
    return this.rules;
  }

  getRuleSet(): RuleSet {
    return this.ruleSet;
  }

  get rulesLoaded(): boolean {
    return this.loaded;
  }

  feed(): AlertFeedMessage {
    const firing = [...this.firing.values()].sort((a, b) => b.firedAt - a.firedAt || (b.id < a.id ? -1 : 1));
    const grace = this.engine.restartWindowEndsAt;
    return {
      serverTime: new Date().toISOString(),
      firingCount: firing.length,
      firing: firing.slice(0, FEED_LIMIT).map(toAlertDto),
      graceUntil: grace !== null && grace > this.now() ? new Date(grace).toISOString() : null,
    };
  }

  /** Writes what is pending, then stops following the fleet and the webhooks (bounded wait). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.stopTicker?.();
    this.stopTicker = null;
    if (this.loadTimer) clearTimeout(this.loadTimer);
    await Promise.race([this.flush(), new Promise((r) => setTimeout(r, 5_000).unref?.())]);
    await this.notifier.stop();
    await Promise.race([this.flushDeliveries(), new Promise((r) => setTimeout(r, 5_000).unref?.())]);
  }

  /** Resolves once every decision taken so far is written (or the database failed). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  // ---------------------------------------------------------------- decisions

  private take(decisions: AlertDecision[]): void {
    if (decisions.length === 0) return;
    for (const d of decisions) this.pending.push(d);
    const excess = this.pending.length - MAX_PENDING_DECISIONS;
    if (excess > 0) {
      this.pending.splice(0, excess);
      this.droppedDecisions += excess;
      this.opts.log(`alerts: database away too long, dropped the ${excess} oldest alert decisions`);
    }
    this.draining ??= this.drain().finally(() => {
      this.draining = null;
    });
  }

  private async drain(): Promise<void> {
    let failures = 0;
    while (this.pending.length > 0) {
      const db = this.opts.db();
      const batch = this.pending.slice(0, 500);
      try {
        if (!db) throw new Error("database not open");
        const applied = await applyAlertDecisions(db, batch);
        this.pending.splice(0, batch.length);
        failures = 0;
        this.lastError = null;
        this.announce(applied);
      } catch (e) {
        this.lastError = e instanceof Error ? e.message.split("\n").at(-1)! : String(e);
        failures++;
        if (this.stopped && failures >= 3) return;
        await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** failures)));
      }
    }
  }

  /** After the write: the feed and the webhooks. */
  private announce(applied: AppliedDecision[]): void {
    let feedChanged = false;
    for (const { decision, alert, changed } of applied) {
      const k = key(alert.deviceId, alert.kind);
      if (alert.state === "firing") {
        if (!this.firing.has(k) || changed) feedChanged = true;
        this.firing.set(k, alert);
      } else if (this.firing.delete(k)) feedChanged = true;
      if (!changed) continue;
      const rule = this.rules.find((r) => r.id === (alert.ruleId ?? decision.ruleId)) ?? null;
      if (!rule?.webhookUrl) continue;
      this.notifier.enqueue({
        url: rule.webhookUrl,
        payload: {
          event: EVENT[decision.type],
          alert: toAlertDto(alert),
          note: decision.type === "resolve" ? decision.message : null,
          rule: { id: rule.id, name: rule.name },
        },
      });
    }
    if (feedChanged) this.opts.onFeedChange();
  }

  // ---------------------------------------------------------------- delivery log

  private recordAttempt(a: DeliveryAttempt): void {
    this.deliveries.push({
      alertId: a.alertId,
      event: a.event,
      url: a.url,
      attempt: a.attempt,
      ok: a.ok,
      statusCode: a.statusCode,
      error: a.error,
      durationMs: a.durationMs,
      at: a.at,
    });
    if (this.deliveries.length > 10_000) this.deliveries.splice(0, this.deliveries.length - 10_000);
    this.deliveryTimer ??= setTimeout(() => void this.flushDeliveries(), 250);
  }

  /**
   * Writes the delivery log entries gathered so far, after any write already
   * under way, and resolves once all of them are written (best effort: the
   * log never holds up alerting; without a database the entries wait).
   */
  async flushDeliveries(): Promise<void> {
    if (this.deliveryTimer) clearTimeout(this.deliveryTimer);
    this.deliveryTimer = null;
    const db = this.opts.db();
    const batch = this.deliveries;
    if (db && batch.length > 0) {
      this.deliveries = [];
      this.deliveryWrites = this.deliveryWrites.then(() =>
        recordDeliveries(db, batch).catch((e: unknown) =>
          this.opts.log(
            `alerts: delivery log not written: ${e instanceof Error ? e.message.split("\n").at(-1) : String(e)}`,
          ),
        ),
      );
    }
    await this.deliveryWrites;
  }
}
