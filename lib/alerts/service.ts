/**
 * Alerting inside the running monitor: feeds the fleet's listener output and
 * a periodic tick into the pure engine, decides how each decision is
 * notified, writes it (durable first), then tells the browser (live hub) and
 * the channels: notifications are outbox rows written in the same
 * transaction (lib/store/notifications.ts), sent by the Dispatcher
 * (lib/notify/dispatcher.ts).
 *
 *   fleet effects/changes ─► AlertEngine ─decisions─┐
 *   runtime (broker link, database, debug log) ─► SystemWatch ─┤
 *                                                  ▼
 *       routing: SilenceIndex (muted: recorded, not sent), IncidentTracker (many offline for one cause: one notification)
 *                                                  ▼
 *                  lib/store/alerts (one transaction per batch) ─► live feed (SSE `alerts`)
 *                                 └─ notifications (outbox rows, same transaction) ─► Dispatcher ─► channels
 *
 * Who is told what:
 * - a device alert notifies its rule's channels when it fires, repeats (not
 *   while acknowledged, muted or part of an incident) and resolves (only if
 *   its fire was sent, and not while muted);
 * - a silenced alert is recorded with `silenced` and its silence; when the
 *   silence ends, what still fires notifies then, once;
 * - an incident notifies its members' rules' channels and the channels for
 *   system alerts when it opens,
 *   at most every INCIDENT_UPDATE_SECONDS while devices come back, and when
 *   it resolves;
 * - a system alert notifies the channels marked default for system alerts.
 *   One for the database is sent at once, outside the outbox, before it can
 *   be written (it is written when the database is back);
 * - an acknowledgement notifies once, where the alert went.
 *
 * Nothing here runs on the ingest path beyond the engine's own bookkeeping:
 * writes are chained asynchronously, sending is the Dispatcher's. While the database
 * is away decisions wait in memory (bounded) and are written when it is back.
 *
 * Start-up: the rules and the firing alerts are loaded from the database, so
 * the engine continues what was firing before a restart (no duplicate, and a
 * resolution after the restart still lands on the same row). Until the rules
 * are loaded the built-in default rule applies.
 */
import { randomBytes } from "node:crypto";
import { backoffCeiling } from "../backoff";
import type { Fleet } from "../fleet/fleet";
import type { DeviceState, FleetEffect } from "../fleet/types";
import { startTicker } from "../fleet/ticker";
import { Queue } from "../queue";
import { sqlOf, type Db, type SqlSession } from "../store/db";
import { globMatcher } from "../api/glob";
import {
  applyAlertWrites,
  listAlertRules,
  listIncidents,
  loadAlertChanges,
  loadFiringAlerts,
  toFiringAlert,
  type AlertRecord,
  type AlertWrite,
  type AppliedWrite,
  type IncidentRecord,
} from "../store/alerts";
import { recentDisconnects } from "../store/sessions";
import { listSilences } from "../store/silences";
import { listChannels, type ChannelRecord, type OutboxEntry } from "../store/notifications";
import { Dispatcher, type DispatcherOptions } from "../notify/dispatcher";
import type { Fence } from "../store/cluster";
import { eventLink, newEventId, type EventType, type NotificationEvent } from "../notify/events";
import { FEED_LIMIT, toAlertDto, toIncidentDto, type AlertFeedMessage, type SystemSource } from "./dto";
import type { AllowList } from "./egress";
import { AlertEngine, type AlertDecision, type EngineMemory, type FiringAlert } from "./engine";
import { IncidentTracker, type IncidentAction, type IncidentCause, type IncidentOptions } from "./incidents";
import { DEFAULT_RULE, RuleSet, type AlertKind, type AlertRule } from "./rules";
import { SilenceIndex, type Silence } from "./silences";
import { SystemWatch, type SystemDecision } from "./system";

export interface AlertServiceOptions {
  /** The database once it is open (null before). */
  db(): Db | null;
  /** The same database as a plain SQL session (the pool or PGlite), for the large reads; default: through `db`. */
  sql?(): SqlSession | null;
  fleet: Fleet;
  pingsVisible(deviceId: string): boolean;
  /** When the current stretch of ping visibility began (see AlertEngineOptions). */
  pingsVisibleSince?(): number;
  observedUntil?(): number;
  pingsStalled?(): boolean;
  /** ALERT_RESTART_WINDOW_SECONDS. */
  restartWindowSeconds?: number;
  /** The operator's names, tags and expected devices (lib/inventory). */
  labels?: Labels;
  /** EXPECTED_GRACE_HOURS in ms. */
  expectedGraceMs?: number;
  /** INCIDENT_* settings. */
  incidents?: Partial<Omit<IncidentOptions, "newId">>;
  /** Thresholds of system alerts (ms): broker down, database failing. */
  systemThresholdsMs?: Partial<Record<SystemSource, number>>;
  /** The firing set changed: the hub sends an `alerts` event. */
  onFeedChange(): void;
  /** A silence started, ended or changed: devices' muted flags may have changed. */
  onSilencesChanged?(): void;
  log(message: string): void;
  now?: () => number;
  /** How often due deadlines are checked (ms). Default 100. */
  tickMs?: number;
  /** Webhook destinations allowed although in the monitor's own network (KEEPWATCH_WEBHOOK_ALLOW, parsed). */
  webhookAllow?: AllowList;
  /** Delivery settings (NOTIFY_*). */
  dispatcher?: Partial<Omit<DispatcherOptions, "db" | "log" | "allow">>;
  /** KEEPWATCH_PUBLIC_URL: links in notifications. */
  publicUrl?: string | null;
  /** Alert writes per transaction (default WRITE_BATCH, 2,000). */
  writeBatch?: number;
  /** Writes waiting for the database beyond this are dropped (oldest first), counted and logged (ALERT_MAX_PENDING_WRITES). */
  maxPendingWrites?: number;
  /** With several instances: the leader's epoch on every write, so a superseded leader cannot write (lib/store/cluster.ts). */
  fence?: Fence;
}

/** What the alert service needs to know of the operator's inventory. */
export interface Labels {
  nameOf(deviceId: string): string | null;
  tagsOf(deviceId: string): readonly string[];
  expectedSince(deviceId: string): number | null;
}

const NO_LABELS: Labels = { nameOf: () => null, tagsOf: () => [], expectedSince: () => null };

/**
 * Alert writes per transaction, at most. Measured on Postgres: about 60–85 ms
 * of database time per 1,000 fires in batches of 500, 40–55 ms in batches of
 * 2,000. A batch takes what waits, so a lone fire is written at once. In the
 * bench's 100,000-device stage (four rounds each), 2,000 stored the offline
 * alerts 0.1–0.4 s after the last verdict against 1.1–1.4 s with 1,000, at
 * the same verdict lateness (p99 143–194 ms against 142–175); 5,000 stored
 * them no sooner and made verdicts later (p99 173–280 ms): each batch's work
 * on the main thread is longer.
 */
const WRITE_BATCH = 2_000;
/** Verdicts this late (a deadline overdue by more) hold the alert writes back ... */
const VERDICTS_BEHIND_MS = 200;
/** ... for this long at most per batch ... */
const VERDICTS_FIRST_MAX_WAIT_MS = 1_000;
/**
 * ... and hold the engine back (fleet changes not judged yet, thresholds not
 * ticked) for this long at most: about half an incident's group wait, so a
 * mass outage's incident is still announced in the time it would have been.
 */
const ALERTS_HELD_MAX_MS = 5_000;
/** ... looking again this often. */
const VERDICTS_WAIT_STEP_MS = 20;
/** Devices whose alert deadline came evaluated per slice of the alert tick (about 10–20 ms). */
const ENGINE_TICK_SLICE = 2_000;
/** The engine takes queued fleet changes for this long, then lets I/O and verdicts run. */
const CATCH_UP_SLICE_MS = 20;

interface ObservedChange {
  effects: readonly FleetEffect[];
  changed: readonly DeviceState[];
  /** When the fleet made the change (Date.now()). */
  at: number;
}
/**
 * An alert's key in the firing map and the incidents. Joined rather than
 * concatenated: one flat string, where `+` makes a rope that, once hashed,
 * keeps a second object alive beside it (a mass outage holds a key per alert).
 */
const key = (deviceId: string, kind: string) => [kind, deviceId].join("\u0000");
const systemKey = (source: string) => `system\u0000\u0000${source}`;
const recordKey = (a: AlertRecord) => (a.deviceId === null ? systemKey(a.source ?? "") : key(a.deviceId, a.kind));
function splitKey(k: string): { deviceId: string; kind: AlertKind } {
  const i = k.indexOf("\u0000");
  return { kind: k.slice(0, i) as AlertKind, deviceId: k.slice(i + 1) };
}
const INCIDENT_EVENT = { opened: "incident_opened", update: "incident_update", resolved: "incident_resolved" } as const;

export const INCIDENT_DEFAULTS = { minDevices: 10, windowMs: 60_000, updateMs: 300_000, groupWaitMs: 10_000 };

/**
 * Alerts read again (a standby's changes) into the firing ones, by key. A
 * resolution removes the alert it names and no later one. What the engine
 * mirrors of it (device alerts).
 */
function applyChanges(
  firing: Map<string, AlertRecord>,
  changed: readonly AlertRecord[],
): { alert: FiringAlert; firing: boolean }[] {
  const out: { alert: FiringAlert; firing: boolean }[] = [];
  for (const a of changed) {
    const k = recordKey(a);
    const isFiring = a.state === "firing";
    if (isFiring) firing.set(k, a);
    else if (firing.get(k)?.id === a.id) firing.delete(k);
    if (isDeviceAlert(a)) out.push({ alert: toFiringAlert(a), firing: isFiring });
  }
  return out;
}

/**
 * What the database holds for the alert service: rules, `alerts` (all that
 * fire, or what changed since a standby's last read), open incidents,
 * silences, channels.
 */
function readStored<T>(db: Db, alerts: Promise<T>) {
  return Promise.all([
    listAlertRules(db),
    alerts,
    listIncidents(db, { state: "open", limit: 1000 }),
    listSilences(db),
    listChannels(db),
  ]);
}

/** The firing alerts a standby handed over, brought up to date with what was written since its last read. */
async function updated(db: Db, handed: NonNullable<StandbyHandOver["firing"]>): Promise<AlertRecord[]> {
  applyChanges(handed.alerts, (await loadAlertChanges(db, handed.horizon)).alerts);
  return [...handed.alerts.values()];
}

export class AlertService {
  readonly engine: AlertEngine;
  readonly dispatcher: Dispatcher;
  readonly incidents: IncidentTracker;
  readonly system: SystemWatch;
  private rules: AlertRule[] = [{ ...DEFAULT_RULE, id: 1, isDefault: true }];
  private ruleSet = new RuleSet(this.rules);
  private silences: Silence[] = [];
  private silenceIndex = new SilenceIndex([], globMatcher);
  /** When the silences may next start or stop muting someone. */
  private silenceChangeAt: number | null = null;
  private readonly labels: Labels;
  /** Firing alerts as stored (with their ids): the feed. */
  private readonly firing = new Map<string, AlertRecord>();
  /** Incidents as stored (open ones, and resolved ones until announced). */
  private readonly incidentRecords = new Map<string, IncidentRecord>();
  /** Where an incident's notifications go: its members' rules' channels. */
  private readonly incidentChannels = new Map<string, Set<number>>();
  /** The channels as last read: where the database's own outage is sent. */
  private channels: ChannelRecord[] = [];
  private readonly pending = new Queue<PendingWrite>();
  /** The batch being written: out of `pending`, put back in front if its transaction fails. */
  private writing: PendingWrite[] = [];
  /** Each incident's write still in `pending` (not yet in a batch): where later counts go. */
  private readonly queuedIncidents = new Map<string, IncidentWrite>();
  private draining: Promise<void> | null = null;
  /** Fleet changes the engine has not looked at yet (verdicts first: see observe()). */
  private readonly observed = new Queue<ObservedChange>();
  private observeTimer: ReturnType<typeof setTimeout> | null = null;
  /** Since when the alert tick has waited for late verdicts. */
  private tickHeldSince: number | null = null;
  private unsubscribe: (() => void) | null = null;
  private stopTicker: (() => void) | null = null;
  private loadTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private loaded = false;
  /** A standby's service: shows the database's alerts, judges without deciding (follow()). */
  private following = false;
  /** A standby's engine memory: from when it followed the fleet, and until when (its stop). */
  private noting: { from: number; to: number | null } | null = null;
  /** The rules a standby's engine judges by, as last read (to set them again only when they changed). */
  private followedRules = "";
  /** A standby's last read of the alerts: where the next one starts (loadAlertChanges). */
  private followed: { horizon: bigint } | null = null;
  /** The open incidents as last read (to tell the feed only when they changed). */
  private followedIncidents = "";
  /** The read under way, and the one asked for meanwhile (follow()). */
  private followRead: Promise<void> | null = null;
  private followQueued: Promise<void> | null = null;
  /** What the standby this leader was handed (start()). */
  private handedOver: StandbyHandOver | null = null;
  /** Alert writes dropped since start: the database was away while more than maxPendingWrites waited. */
  droppedWrites = 0;
  private droppedLoggedAt = -Infinity;

  /** How long the oldest fleet change has waited for the engine (ms): 0 unless verdicts were behind. */
  get evaluationLagMs(): number {
    const oldest = this.observed.peek();
    return oldest ? Math.max(0, Date.now() - oldest.at) : 0;
  }

  /** Alert writes decided and not stored yet. */
  get pendingWrites(): number {
    return this.pending.length + this.writing.length;
  }
  lastError: string | null = null;

  constructor(private readonly opts: AlertServiceOptions) {
    this.labels = opts.labels ?? NO_LABELS;
    // The fleet holds every device's state: the engine reads it there rather than keeping a copy per device.
    this.engine = new AlertEngine({
      pingsVisible: opts.pingsVisible,
      pingsVisibleSince: opts.pingsVisibleSince,
      observedUntil: opts.observedUntil,
      pingsStalled: opts.pingsStalled,
      restartWindowSeconds: opts.restartWindowSeconds,
      tagsOf: (id) => this.labels.tagsOf(id),
      expectedSince: (id) => this.labels.expectedSince(id),
      expectedGraceMs: opts.expectedGraceMs,
      states: opts.fleet,
    });
    this.incidents = new IncidentTracker({ ...INCIDENT_DEFAULTS, ...opts.incidents, newId: newIncidentId });
    this.system = new SystemWatch({ broker: 30_000, database: 30_000, ...opts.systemThresholdsMs });
    this.dispatcher = new Dispatcher({
      ...opts.dispatcher,
      allow: opts.webhookAllow,
      db: opts.db,
      log: opts.log,
      fence: opts.fence,
    });
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /**
   * Loads rules, silences, firing alerts and open incidents, then follows the
   * fleet. `handedOver`: the engine memory of the standby service this
   * instance ran until it took over (handOver()).
   */
  async start(handedOver?: StandbyHandOver | null): Promise<void> {
    this.handedOver = handedOver ?? null;
    this.engine.seed(this.opts.fleet.all());
    this.unsubscribe = this.opts.fleet.onEffects((effects, changed) => this.observe(effects, changed));
    this.take(this.engine.setRules(this.rules, this.now()));
    await this.load();
    this.dispatcher.start();
    let chained = false;
    this.stopTicker = startTicker(() => {
      // Verdicts first, as for fleet changes: thresholds wait while the fleet judges late, 5 s at most; a run
      // that has started goes on, a slice at a time, behind I/O.
      if (!chained && this.heldForVerdicts((this.tickHeldSince ??= Date.now()))) return false;
      this.tickHeldSince = null;
      try {
        chained = this.tick(this.now(), ENGINE_TICK_SLICE);
      } catch (e) {
        chained = false;
        this.opts.log(`alert tick failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      return chained;
    }, this.opts.tickMs ?? 100);
  }

  /**
   * A standby's alerts (lib/cluster): the leader decides, writes and sends;
   * this instance shows what the database holds. Reads rules, silences,
   * channels, firing alerts and open incidents now and again on every
   * `follow()` (a peer's NOTIFY, or the periodic refresh). Its engine judges
   * the fleet against those alerts and decides nothing (AlertEngine.mirrorFiring).
   * A standby that takes over stops this service and starts a new one, handing
   * it what the engine remembers (handOver()).
   */
  async follow(): Promise<void> {
    this.following = true;
    if (this.noting === null && this.unsubscribe === null && !this.stopped) {
      // The engine judges the fleet as the leader's does and decides nothing (take() drops it): what it
      // remembers is handed to the leader this instance may become (handOver()).
      this.noting = { from: this.now(), to: null };
      this.engine.mirrorFiring([], this.noting.from);
      this.unsubscribe = this.opts.fleet.onEffects((effects, changed) => this.observe(effects, changed));
      this.stopTicker = startTicker(() => {
        this.engine.tick(this.now(), ENGINE_TICK_SLICE);
        const due = this.engine.nextDeadline();
        return due !== null && due <= this.now();
      }, this.opts.tickMs ?? 100);
    }
    // One read at a time. A call while one runs gets the next read, which sees what the caller wrote.
    if (this.followRead === null) {
      this.followRead = this.readFollowed().finally(() => (this.followRead = null));
      return this.followRead;
    }
    this.followQueued ??= this.followRead
      .catch(() => {})
      .then(() => {
        this.followQueued = null;
        return this.follow();
      });
    return this.followQueued;
  }

  /** A standby's read: the firing alerts at the first, then only the alerts written since the last read. */
  private async readFollowed(): Promise<void> {
    const db = this.opts.db();
    if (!db || this.stopped) return;
    const [rules, changes, open, silences, channels] = await readStored(
      db,
      loadAlertChanges(db, this.followed?.horizon ?? null, this.sqlOf(db)),
    );
    if (this.stopped) return;
    const now = this.now();
    this.channels = channels;
    this.rules = rules;
    this.ruleSet = new RuleSet(rules);
    const signature = JSON.stringify(rules);
    if (signature !== this.followedRules) {
      this.followedRules = signature;
      this.engine.setRules(rules, now);
    }
    if (this.followed === null) {
      this.firing.clear();
      for (const a of changes.alerts) this.firing.set(recordKey(a), a);
      this.engine.mirrorFiring(changes.alerts.filter(isDeviceAlert).map(toFiringAlert), now);
    } else {
      this.engine.mirrorChanges(applyChanges(this.firing, changes.alerts), now);
    }
    this.followed = { horizon: changes.horizon };
    this.setSilences(silences, now);
    const incidents = JSON.stringify(open);
    const changed = changes.alerts.length > 0 || incidents !== this.followedIncidents || !this.loaded;
    this.followedIncidents = incidents;
    this.incidentRecords.clear();
    for (const i of open) this.incidentRecords.set(i.id, i);
    this.loaded = true;
    if (changed) this.opts.onFeedChange();
  }

  /**
   * Everything time alone decides: device deadlines (`limit` devices at
   * most), system thresholds, incidents, silences starting or ending. True
   * when device deadlines are still due (the ticker goes on behind I/O).
   */
  tick(now: number, limit = Number.POSITIVE_INFINITY): boolean {
    this.take(this.engine.tick(now, limit));
    this.takeSystem(this.system.tick(now));
    const incidentDue = this.incidents.nextDeadline();
    if (incidentDue !== null && incidentDue <= now) this.takeIncidentActions(this.incidents.tick(now));
    if (this.silenceChangeAt !== null && this.silenceChangeAt <= now) this.silencesChanged(now);
    const due = this.engine.nextDeadline();
    return due !== null && due <= now;
  }

  private async load(): Promise<void> {
    const db = this.opts.db();
    try {
      if (!db) throw new Error("database not open");
      const handed = this.handedOver?.firing ?? null;
      if (this.handedOver) this.handedOver.firing = null; // read once: a retry reads everything
      const [rules, firing, open, silences, channels] = await readStored(
        db,
        handed ? updated(db, handed) : loadFiringAlerts(this.sqlOf(db)),
      );
      // Flapping counts disconnects over a window: the ones stored before this start count too.
      const flapWindowMs = Math.max(
        0,
        ...rules.filter((r) => r.enabled && r.flapWindowSeconds !== null).map((r) => r.flapWindowSeconds! * 1000),
      );
      const stored = flapWindowMs > 0 ? await recentDisconnects(db, this.now() - flapWindowMs) : null;
      this.channels = channels;
      if (this.stopped) return;
      const now = this.now();
      if (stored) {
        // What the standby saw itself stands for its stretch; the database for the rest (no drop counted twice).
        const h = this.handedOver;
        this.engine.restoreDisconnects(h ? unseen(stored, h) : stored);
        if (h) this.engine.restoreDisconnects(h.lists);
        this.engine.restoreLastDisconnects(now - flapWindowMs);
      }
      if (this.handedOver) this.engine.restoreMemory(this.handedOver.memory);
      this.setSilences(silences, now);
      for (const a of firing) this.firing.set(recordKey(a), a);
      this.engine.restoreFiring(firing.filter(isDeviceAlert).map(toFiringAlert), now);
      this.system.restore(firing.filter((a) => a.deviceId === null && a.source).map((a) => a.source!));
      const membersOf = new Map<string, AlertRecord[]>();
      for (const a of firing) {
        if (a.incidentId === null || a.deviceId === null) continue;
        const members = membersOf.get(a.incidentId);
        if (members) members.push(a);
        else membersOf.set(a.incidentId, [a]);
      }
      for (const i of open) {
        this.incidentRecords.set(i.id, i);
        const members = membersOf.get(i.id) ?? [];
        // A loop, not Math.min(...): an incident may hold a million alerts.
        let firstAt = i.openedAt;
        const channels = new Set<number>();
        for (const a of members) {
          if (a.firedAt < firstAt) firstAt = a.firedAt;
          for (const c of this.ruleOf(a)?.channelIds ?? []) channels.add(c);
        }
        this.incidents.restore(
          { ...i, resolveMessage: null, acknowledged: i.acknowledgedAt !== null },
          members.map(recordKey),
          firstAt,
          i.lastNotifiedAt ?? i.openedAt,
        );
        this.incidentChannels.set(i.id, channels);
      }
      this.loaded = true;
      this.applyRules(rules);
      // Alerts held for grouping when the monitor stopped: the group is gone, so they notify now.
      const orphans = firing.filter((a) => a.deviceId !== null && !a.notified && !a.silenced && a.incidentId === null);
      for (const a of orphans) this.pending.push(markWrite(recordKey(a), { notified: true }));
      // Silences that ended while the monitor was away: what they muted and still fires notifies now.
      this.silencesChanged(now);
      this.opts.onFeedChange();
      this.opts.log(
        `alerts: ${rules.length} rules, ${firing.length} alerts still firing, ${open.length} open incidents, ${silences.length} silences`,
      );
    } catch (e) {
      this.lastError = e instanceof Error ? e.message : String(e);
      this.opts.log(`alerts: rules not loaded yet (${this.lastError}); the default rule applies meanwhile`);
      if (!this.stopped) {
        this.loadTimer = setTimeout(() => void this.load(), 5_000);
        this.loadTimer.unref?.();
      }
    }
  }

  /** The broker restarted (detected at `at`): the devices it dropped get a reconnect window; one system event. */
  brokerRestarted(at: number, message?: string): void {
    this.take(this.engine.brokerRestarted(at, this.now()));
    if (message) this.takeSystem(this.system.event("broker_restart", message, at));
  }

  /** A source of keepwatch itself is wrong since `since`, or fine again (null). */
  systemCondition(source: SystemSource, since: number | null, detail: string): void {
    this.takeSystem(this.system.set(source, since, detail, this.now()));
  }

  /** Ping visibility changed (a debug log stalled or moves again): every device is looked at again. */
  refresh(): void {
    this.take(this.engine.refresh(this.now()));
  }

  /** The inventory changed for these devices (tags decide rules, expected devices may alert). */
  relabel(ids: Iterable<string>): void {
    this.take(this.engine.relabel(ids, this.now()));
    this.opts.onFeedChange();
  }

  /** Re-reads the rules (after an edit) and re-evaluates every device at once. */
  async reloadRules(): Promise<void> {
    const db = this.opts.db();
    if (!db) return;
    // A rule saved with a legacy webhook URL may have added a channel.
    const [rules, channels] = await Promise.all([listAlertRules(db), listChannels(db)]);
    this.applyRules(rules);
    this.channels = channels;
  }

  /** Re-reads the silences (after a change). */
  async reloadSilences(): Promise<void> {
    const db = this.opts.db();
    if (!db) return;
    this.setSilences(await listSilences(db), this.now());
    this.silencesChanged(this.now());
  }

  private setSilences(silences: Silence[], now: number): void {
    this.silences = silences;
    this.silenceIndex = new SilenceIndex(silences, globMatcher);
    this.silenceChangeAt = this.silenceIndex.nextChange(now);
  }

  /** The silence muting this device now, or null. */
  mutedBy(deviceId: string): string | null {
    if (this.silences.length === 0) return null;
    return this.silenceIndex.mutedBy(deviceId, this.labels.tagsOf(deviceId), this.now());
  }

  getSilences(): readonly Silence[] {
    return this.silences;
  }

  /**
   * A silence started or ended: alerts it muted that still fire and were
   * never sent notify now, once; alerts it now covers are marked.
   */
  private silencesChanged(now: number): void {
    this.silenceChangeAt = this.silenceIndex.nextChange(now);
    for (const [k, a] of this.firing) {
      if (a.deviceId === null) continue;
      const muted = this.silenceIndex.mutedBy(a.deviceId, this.labels.tagsOf(a.deviceId), now);
      if (a.silenced && muted === null && !a.notified)
        this.pending.push(markWrite(k, { notified: true, silenced: false, silenceId: null }));
      else if (a.silenced && muted === null) this.pending.push(markWrite(k, { silenced: false, silenceId: null }));
      else if (!a.silenced && muted !== null && !this.incidents.held(k))
        this.pending.push(markWrite(k, { silenced: true, silenceId: muted }));
    }
    this.take([]);
    this.opts.onFeedChange();
    this.opts.onSilencesChanged?.();
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

  /** An acknowledgement changed (written by the caller): repeats stop or resume. */
  /** Alerts acknowledged through a peer (lib/cluster): their acknowledgements as stored; the notifications written with them go out. */
  async reloadAcks(): Promise<void> {
    const db = this.opts.db();
    if (!db) return;
    for (const a of await loadFiringAlerts(this.sqlOf(db))) this.noteAck(a);
  }

  /** The plain SQL session beside `db` (the runtime's pool), or `db` itself as one. */
  private sqlOf(db: Db): SqlSession {
    return this.opts.sql?.() ?? sqlOf(db);
  }

  noteAck(alert: AlertRecord): void {
    this.dispatcher.wake();
    const k = recordKey(alert);
    const cur = this.firing.get(k);
    if (cur && cur.id === alert.id) {
      this.firing.set(k, { ...cur, ...pickAck(alert) });
      this.opts.onFeedChange();
    }
  }

  noteIncidentAck(incident: IncidentRecord): void {
    this.dispatcher.wake();
    if (!this.incidentRecords.has(incident.id)) return;
    this.incidentRecords.set(incident.id, incident);
    this.incidents.setAcknowledged(incident.id, incident.acknowledgedAt !== null);
    this.opts.onFeedChange();
  }

  nameOf(deviceId: string): string | null {
    return this.labels.nameOf(deviceId);
  }

  /** Firing alerts by kind, all of them (the feed shows the newest FEED_LIMIT). */
  firingByKind(): Record<string, number> {
    const byKind: Record<string, number> = {};
    for (const a of this.firing.values()) byKind[a.kind] = (byKind[a.kind] ?? 0) + 1;
    return byKind;
  }

  feed(): AlertFeedMessage {
    const firing = newest(this.firing.values(), FEED_LIMIT, (a, b) => b.firedAt - a.firedAt || (b.id < a.id ? -1 : 1));
    const grace = this.engine.restartWindowEndsAt;
    const nameOf = (id: string) => this.labels.nameOf(id);
    return {
      serverTime: new Date().toISOString(),
      firingCount: this.firing.size,
      firing: firing.map((a) => toAlertDto(a, nameOf)),
      graceUntil: grace !== null && grace > this.now() ? new Date(grace).toISOString() : null,
      incidents: [...this.incidentRecords.values()]
        .filter((i) => i.state === "open")
        .sort((a, b) => b.openedAt - a.openedAt)
        .map(toIncidentDto),
    };
  }

  /**
   * Writes what is pending, then stops following the fleet and sending
   * (bounded waits). What is not sent yet stays in the outbox for the next start.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.noting && this.noting.to === null) this.noting.to = this.now();
    this.stopTicker?.();
    this.stopTicker = null;
    if (this.loadTimer) clearTimeout(this.loadTimer);
    if (this.observeTimer) clearTimeout(this.observeTimer);
    this.observeTimer = null;
    await Promise.race([this.flush(), new Promise((r) => setTimeout(r, 5_000).unref?.())]);
    await this.dispatcher.stop();
  }

  /**
   * A stopped standby's engine memory (disconnects, near misses, resolution
   * streaks), for the leader service that follows it in this instance
   * (start()); null for a service that did not stand by.
   */
  handOver(): StandbyHandOver | null {
    const n = this.noting;
    if (!this.following || n === null || n.to === null) return null;
    return {
      from: n.from,
      to: n.to,
      lists: this.engine.disconnectLists(),
      memory: this.engine.memory(),
      firing: this.followed && { horizon: this.followed.horizon, alerts: this.firing },
    };
  }

  /** Resolves once every fleet change so far is judged and its decisions written (or the database failed). */
  async flush(): Promise<void> {
    this.catchUp(true);
    while (this.draining) await this.draining;
  }

  // ---------------------------------------------------------------- fleet changes

  /**
   * The fleet's changes, to the engine: at once, unless the fleet's verdicts
   * are behind (a mass outage on a busy machine) or earlier changes still
   * wait. Then they queue, in order, and the engine takes them once the
   * verdicts have caught up, or after 5 s at most: judging devices never
   * waits for judging alerts, and alerts are never starved.
   */
  private observe(effects: readonly FleetEffect[], changed: readonly DeviceState[]): void {
    if (this.observed.length === 0 && !this.verdictsBehind()) {
      this.observeNow(effects, changed);
      return;
    }
    this.observed.push({ effects, changed, at: Date.now() });
    this.scheduleCatchUp(0);
  }

  private observeNow(effects: readonly FleetEffect[], changed: readonly DeviceState[]): void {
    this.take(this.engine.observe(effects, changed, this.now()));
    this.devicesBack(changed);
  }

  private scheduleCatchUp(ms: number): void {
    if (this.observeTimer !== null || this.stopped) return;
    this.observeTimer = setTimeout(() => {
      this.observeTimer = null;
      this.catchUp(false);
    }, ms);
  }

  /** Works the queue off in slices behind I/O; `all`: now and whole (flush, stop). */
  private catchUp(all: boolean): void {
    const until = performance.now() + CATCH_UP_SLICE_MS;
    for (let next = this.observed.peek(); next; next = this.observed.peek()) {
      if (!all && this.heldForVerdicts(next.at)) {
        this.scheduleCatchUp(VERDICTS_WAIT_STEP_MS);
        return;
      }
      this.observed.shift();
      this.observeNow(next.effects, next.changed);
      if (!all && performance.now() >= until) break;
    }
    if (this.observed.length > 0) this.scheduleCatchUp(0);
  }

  /** Alerting waiting since `since` waits on: verdicts are late, and it has not waited ALERTS_HELD_MAX_MS yet. */
  private heldForVerdicts(since: number): boolean {
    return Date.now() - since < ALERTS_HELD_MAX_MS && this.verdictsBehind();
  }

  /** A fleet deadline overdue by more than VERDICTS_BEHIND_MS: the fleet is judging late. */
  private verdictsBehind(): boolean {
    const due = this.opts.fleet.nextDeadline();
    return due !== null && due <= this.now() - VERDICTS_BEHIND_MS;
  }

  // ---------------------------------------------------------------- routing

  /** Routes the engine's decisions (silences, incidents) into writes, then drains them. */
  private take(decisions: AlertDecision[]): void {
    if (this.following) return;
    const now = this.now();
    for (const d of decisions) {
      if (d.type === "fire") this.routeFire(d, now);
      else {
        this.pending.push(d);
        if (d.type === "resolve") this.takeIncidentActions(this.incidents.back(key(d.deviceId, d.kind), now));
      }
    }
    if (this.pending.length === 0) return;
    const max = this.opts.maxPendingWrites ?? 1_000_000;
    // The oldest not yet in a batch: the batch being written may still land.
    const excess = Math.min(this.pendingWrites - max, this.pending.length);
    if (excess > 0) {
      this.dequeued(this.pending.take(excess));
      this.droppedWrites += excess;
      const now = this.now();
      if (now - this.droppedLoggedAt >= 10_000) {
        this.droppedLoggedAt = now;
        this.opts.log(
          `alerts: more than ${max} writes waiting for the database (ALERT_MAX_PENDING_WRITES): ` +
            `dropped the oldest, ${this.droppedWrites} since start`,
        );
      }
    }
    this.draining ??= this.drain().finally(() => {
      this.draining = null;
    });
  }

  private routeFire(d: Extract<AlertDecision, { type: "fire" }>, now: number): void {
    const k = key(d.deviceId, d.kind);
    const silenceId = this.mutedBy(d.deviceId);
    if (silenceId !== null) {
      this.pending.push({ ...d, key: k, meta: { notified: false, silenceId, incidentId: null } });
      return;
    }
    const cause = d.kind === "offline" ? this.causeOf(d.deviceId) : null;
    if (!cause) {
      this.pending.push({ ...d, key: k });
      return;
    }
    const actions = this.incidents.fired(k, cause.cause, cause.droppedAt, now);
    const mine = actions.find(
      (a) => ("key" in a && a.key === k) || ("keys" in a && a.type === "open" && a.keys.includes(k)),
    );
    const incidentId = mine?.type === "open" || mine?.type === "join" ? mine.incident.id : null;
    // The incident row first: the fire refers to it.
    const opening = actions.find((a) => a.type === "open");
    if (opening?.type === "open") this.takeIncidentActions([opening], k);
    this.pending.push({ ...d, key: k, meta: { notified: mine === undefined, silenceId: null, incidentId } });
    this.takeIncidentActions(
      actions.filter((a) => a !== opening),
      k,
    );
  }

  /** Devices connected again leave their incident or forming group at once (their alert resolves later). */
  private devicesBack(changed: readonly DeviceState[]): void {
    let actions: IncidentAction[] | null = null;
    for (const d of changed) {
      if (d.status !== "online" && d.status !== "late") continue;
      const k = key(d.id, "offline");
      if (!this.incidents.tracks(k)) continue;
      (actions ??= []).push(...this.incidents.back(k, this.now()));
    }
    if (actions) this.takeIncidentActions(actions);
  }

  /** Why a device is offline, for grouping: a broker restart, or its disconnect reason. */
  private causeOf(deviceId: string): { cause: IncidentCause; droppedAt: number } | null {
    const s = this.opts.fleet.get(deviceId);
    if (!s || s.status !== "offline" || s.lastDisconnectAt === null) return null;
    if (s.lastDisconnectReason === "broker_restart") {
      const at = this.engine.lastRestartAt;
      if (at === null) return null;
      return { cause: { kind: "broker_restart", reason: new Date(at).toISOString() }, droppedAt: s.lastDisconnectAt };
    }
    return {
      cause: { kind: "mass_disconnect", reason: s.lastDisconnectReason ?? "unknown" },
      droppedAt: s.lastDisconnectAt,
    };
  }

  /** The tracker's actions as writes; `skip` is an alert whose own write the caller makes. */
  private takeIncidentActions(actions: IncidentAction[], skip?: string): void {
    for (const a of actions) {
      switch (a.type) {
        case "hold":
          break;
        case "release":
          for (const k of a.keys) if (k !== skip) this.pending.push(markWrite(k, { notified: true }));
          break;
        case "open": {
          const channels = new Set<number>();
          for (const k of a.keys) for (const id of this.ruleChannels(splitKey(k).deviceId)) channels.add(id);
          this.incidentChannels.set(a.incident.id, channels);
          this.pushIncident(a.incident, this.now(), "opened");
          for (const k of a.keys) if (k !== skip) this.pending.push(markWrite(k, { incidentId: a.incident.id }));
          break;
        }
        case "join": {
          const channels = this.incidentChannels.get(a.incident.id);
          if (channels) for (const id of this.ruleChannels(splitKey(a.key).deviceId)) channels.add(id);
          this.pushIncident(a.incident, null, null);
          if (a.key !== skip) this.pending.push(markWrite(a.key, { incidentId: a.incident.id, notified: false }));
          break;
        }
        case "changed":
          this.pushIncident(a.incident, null, null);
          break;
        case "update":
          this.pushIncident(a.incident, this.now(), "update");
          break;
        case "resolve":
          this.pushIncident(a.incident, this.now(), "resolved");
          for (const k of a.keys) this.pending.push(markWrite(k, { notified: true }));
          break;
      }
    }
    if (actions.length > 0 && skip === undefined) this.take([]);
  }

  /**
   * An incident's row write. Counts alone (no event) go into the write of
   * the same incident still queued, if any: a mass outage joins thousands of
   * devices to one incident, and its row is written once per batch, not once
   * per member.
   */
  private pushIncident(
    incident: IncidentWrite["incident"],
    notifiedAt: number | null,
    event: IncidentWrite["event"],
  ): void {
    const queued = this.queuedIncidents.get(incident.id);
    if (queued && event === null) {
      queued.incident = incident;
      return;
    }
    const w: IncidentWrite = { type: "incident", incident, notifiedAt, event };
    this.pending.push(w);
    this.queuedIncidents.set(incident.id, w);
  }

  /** Writes leaving the queue (taken into a batch, or dropped): later counts get a write of their own. */
  private dequeued(writes: readonly PendingWrite[]): void {
    for (const w of writes)
      if (w.type === "incident" && this.queuedIncidents.get(w.incident.id) === w)
        this.queuedIncidents.delete(w.incident.id);
  }

  private takeSystem(decisions: SystemDecision[]): void {
    if (decisions.length === 0 || this.following) return;
    for (const d of decisions) {
      // The database cannot record its own outage first: that one is sent at once and written once it is back.
      if (d.source === "database") this.sendWithoutDatabase(d);
      this.pending.push({ type: "system", decision: d });
    }
    this.take([]);
  }

  // ---------------------------------------------------------------- writes

  private async drain(): Promise<void> {
    let failures = 0;
    while (this.pending.length > 0) {
      await this.yieldToVerdicts();
      const db = this.opts.db();
      const batch = (this.writing = this.pending.take(this.opts.writeBatch ?? WRITE_BATCH));
      this.dequeued(batch);
      try {
        if (!db) throw new Error("database not open");
        const applied = await applyAlertWrites(db, batch, (a) => this.plan(a), this.opts.fence);
        this.writing = [];
        failures = 0;
        this.lastError = null;
        this.remember(applied);
      } catch (e) {
        if (this.writing === batch) this.pending.restore(batch);
        this.writing = [];
        this.lastError = e instanceof Error ? e.message.split("\n").at(-1)! : String(e);
        failures++;
        if (this.stopped && failures >= 3) return;
        await new Promise((r) => setTimeout(r, backoffCeiling(failures, { initialMs: 100, maxMs: 5_000 })));
      }
    }
  }

  /**
   * Verdicts first: while the fleet's deadlines are overdue (a mass outage on
   * a busy machine), the next batch of alert writes waits, for a second at
   * most, so the alert path never starves.
   */
  private async yieldToVerdicts(): Promise<void> {
    const giveUpAt = Date.now() + VERDICTS_FIRST_MAX_WAIT_MS;
    while (!this.stopped && Date.now() < giveUpAt && this.verdictsBehind())
      await new Promise((r) => setTimeout(r, VERDICTS_WAIT_STEP_MS));
  }

  /**
   * Inside the write's transaction: the notifications the applied writes
   * cause (the outbox rows). It reads memory and changes nothing, so a
   * transaction that fails and is tried again plans afresh.
   */
  private plan(applied: AppliedWrite[]): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    // Alerts as the batch leaves them, over what memory held before it.
    const seen = new Map<string, AlertRecord | null>();
    const before = (k: string) => (seen.has(k) ? seen.get(k)! : (this.firing.get(k) ?? null));
    // An incident is notified once per batch, with its counts as the whole batch left them (members join after it opens).
    const incidentEvents = new Map<string, { event: EventType; record: IncidentRecord }>();
    for (const { write, alert, incident, changed } of applied) {
      if (incident) {
        const event = write.type === "incident" ? write.event : null;
        const pending = incidentEvents.get(incident.id);
        if (pending) pending.record = incident;
        if (event && (!pending || event === "resolved"))
          incidentEvents.set(incident.id, { event: INCIDENT_EVENT[event], record: incident });
        continue;
      }
      if (!alert) continue;
      const k = recordKey(alert);
      const prior = before(k);
      seen.set(k, alert.state === "firing" ? alert : null);
      if (!changed) continue;
      if (write.type === "system") {
        // The database's own outage was sent directly when it began.
        if (write.decision.source !== "database") out.push(this.systemEntry(write.decision, alert));
        continue;
      }
      if (alert.deviceId === null) continue;
      switch (write.type) {
        case "fire":
          if (alert.notified) out.push(...this.alertEntry(alert, "fired", null));
          break;
        case "mark":
          // Released from a group, after an incident, or at a silence's end: its own notification now.
          if (write.set.notified === true && (!prior || !prior.notified))
            out.push(...this.alertEntry(alert, "fired", null));
          break;
        case "resolve":
          if (alert.notified && this.mutedBy(alert.deviceId) === null)
            out.push(...this.alertEntry(alert, "resolved", write.message));
          break;
        case "repeat":
          if (
            alert.notified &&
            alert.acknowledgedAt === null &&
            (alert.incidentId === null || !this.incidentRecords.has(alert.incidentId)) &&
            this.mutedBy(alert.deviceId) === null
          )
            out.push(...this.alertEntry(alert, "repeat", null));
          break;
      }
    }
    for (const { event, record } of incidentEvents.values()) {
      const entry = this.incidentEntry(record, event);
      if (entry) out.push(entry);
    }
    return out;
  }

  /** After the commit: memory and the feed follow what was written; the dispatcher is told. */
  private remember(applied: AppliedWrite[]): void {
    let feedChanged = false;
    for (const { write, alert, incident, changed } of applied) {
      if (incident) {
        feedChanged = true;
        if (incident.state === "open") this.incidentRecords.set(incident.id, incident);
        else {
          this.incidentRecords.delete(incident.id);
          this.incidentChannels.delete(incident.id);
        }
        continue;
      }
      if (!alert) continue;
      // A fire's key is the one the incidents hold too: one string per alert, not one per map.
      const k = (write as PendingWrite).key ?? recordKey(alert);
      const before = this.firing.get(k);
      if (alert.state === "firing") {
        if (!before || changed) feedChanged = true;
        // The decision's strings, which the engine and the fleet already hold, rather than the row's copies.
        if (write.type === "fire" || write.type === "mark") {
          if (alert.deviceId === write.deviceId) alert.deviceId = write.deviceId;
          if (write.type === "fire" && alert.message === write.message) alert.message = write.message;
          const incidentId = write.type === "fire" ? write.meta?.incidentId : write.set.incidentId;
          if (incidentId && alert.incidentId === incidentId) alert.incidentId = incidentId;
        }
        this.firing.set(k, alert);
      } else if (this.firing.delete(k)) feedChanged = true;
    }
    this.dispatcher.wake();
    if (feedChanged) this.opts.onFeedChange();
  }

  private ruleOf(alert: AlertRecord): AlertRule | null {
    return this.rules.find((r) => r.id === alert.ruleId) ?? null;
  }

  private ruleChannels(deviceId: string): readonly number[] {
    return this.engine.ruleFor(deviceId)?.channelIds ?? [];
  }

  private event(
    event: EventType,
    alert: AlertRecord | null,
    incident: IncidentRecord | null,
    note: string | null,
    rule: AlertRule | null,
  ): NotificationEvent {
    const alertDto = alert ? toAlertDto(alert, (id) => this.labels.nameOf(id)) : null;
    const incidentDto = incident ? toIncidentDto(incident) : null;
    return {
      id: newEventId(),
      event,
      at: new Date(this.now()).toISOString(),
      alert: alertDto,
      incident: incidentDto,
      note,
      rule: rule ? { id: rule.id, name: rule.name } : null,
      link: eventLink(this.opts.publicUrl, alertDto, incidentDto),
    };
  }

  private entry(e: NotificationEvent, channelIds: readonly number[], system: boolean): OutboxEntry {
    return {
      eventId: e.id,
      event: e.event,
      alertId: e.alert?.id || null,
      incidentId: e.incident?.id ?? null,
      payload: e,
      channelIds,
      system,
    };
  }

  /**
   * A device alert goes to its rule's channels; a rule without channels gets
   * no event at all (a mass outage under the default rule builds none).
   */
  private alertEntry(alert: AlertRecord, event: EventType, note: string | null): OutboxEntry[] {
    const rule = this.ruleOf(alert);
    if (!rule || rule.channelIds.length === 0) return [];
    return [this.entry(this.event(event, alert, null, note, rule), rule.channelIds, false)];
  }

  /** System alerts go to the channels marked default for system alerts. */
  private systemEntry(d: SystemDecision, alert: AlertRecord): OutboxEntry {
    const event = d.type === "fire" ? "fired" : "resolved";
    return this.entry(this.event(event, alert, null, d.type === "resolve" ? d.message : null, null), [], true);
  }

  /** Incidents go to their members' rules' channels and to the default channels for system alerts. */
  private incidentEntry(incident: IncidentRecord, event: EventType): OutboxEntry | null {
    if (event === "incident_update" && incident.acknowledgedAt !== null) return null;
    const channels = [...(this.incidentChannels.get(incident.id) ?? [])];
    return this.entry(this.event(event, null, incident, incident.resolveMessage, null), channels, true);
  }

  /** The notifications an acknowledgement causes (written with it by the caller): to the alert's channels. */
  ackEntries(alert: AlertRecord): OutboxEntry[] {
    if (alert.acknowledgedAt === null || alert.state !== "firing" || !alert.notified || alert.silenced) return [];
    if (alert.deviceId === null)
      return [this.entry(this.event("acknowledged", alert, null, alert.ackComment, null), [], true)];
    return this.alertEntry(alert, "acknowledged", alert.ackComment);
  }

  incidentAckEntries(incident: IncidentRecord): OutboxEntry[] {
    if (incident.acknowledgedAt === null || incident.state !== "open") return [];
    const e = this.event("acknowledged", null, incident, incident.ackComment, null);
    return [this.entry(e, [...(this.incidentChannels.get(incident.id) ?? [])], true)];
  }

  /**
   * The database's own outage cannot go through the outbox: it is sent now,
   * to the default channels for system alerts as last read, and written once
   * the database is back (without being sent again).
   */
  private sendWithoutDatabase(d: SystemDecision): void {
    const record: AlertRecord = {
      id: "",
      deviceId: null,
      ruleId: null,
      kind: "system",
      source: d.source,
      state: d.type === "fire" ? "firing" : "resolved",
      firedAt: d.at,
      resolvedAt: d.type === "resolve" ? d.at : null,
      message: d.message,
      resolveMessage: null,
      lastNotifiedAt: d.at,
      incidentId: null,
      acknowledgedAt: null,
      acknowledgedBy: null,
      ackComment: null,
      silenced: false,
      silenceId: null,
      notified: true,
    };
    const e = this.event(
      d.type === "fire" ? "fired" : "resolved",
      record,
      null,
      d.type === "resolve" ? d.message : null,
      null,
    );
    for (const channel of this.channels.filter((c) => c.enabled && c.defaultForSystem))
      void this.dispatcher.sendDirect(channel, e).then((r) => {
        if (!r.ok) this.opts.log(`alerts: "${d.message}" not sent to ${channel.name}: ${r.error}`);
      });
  }

  /** The outbox as the dispatcher last counted it, for /api/health. */
  notificationHealth(): {
    pending: number;
    dead: number;
    oldestPendingSeconds: number | null;
    lastError: string | null;
  } {
    return { ...this.dispatcher.stats, lastError: this.dispatcher.lastError };
  }

  /** Re-reads the channels (after an edit): what the database outage alert is sent to. */
  async reloadChannels(): Promise<void> {
    const db = this.opts.db();
    if (!db) return;
    this.channels = await listChannels(db);
  }
}

/** A write waiting for the database; a fire carries its alert's key (the firing map's and the incidents'). */
type PendingWrite = AlertWrite & { key?: string };

/**
 * A standby's memory, for the leader it becomes: the disconnects it saw
 * itself between `from` and `to` (epoch ms), and the rest of its engine's
 * memory (near misses, since when firing alerts have been fine).
 */
export interface StandbyHandOver {
  from: number;
  to: number;
  lists: ReadonlyMap<string, readonly number[]>;
  memory: EngineMemory;
  /** The firing alerts as the standby last read them, and where a read of what changed since starts. */
  firing: { horizon: bigint; alerts: Map<string, AlertRecord> } | null;
}

/**
 * Two stamps of one drop this close are one drop: a broker stamps whole
 * seconds, and the standby may note a drop stamped just before it began.
 */
const SAME_DROP_MS = 1_000;

/**
 * The stored disconnect times the standby did not see itself: outside
 * [from, to), and for a device it noted, before its first noted drop by more
 * than SAME_DROP_MS. Devices left without any are dropped.
 */
function unseen(stored: ReadonlyMap<string, readonly number[]>, h: StandbyHandOver): Map<string, readonly number[]> {
  const out = new Map<string, readonly number[]>();
  for (const [id, times] of stored) {
    const first = h.lists.get(id)?.[0];
    const from = first === undefined ? h.from : Math.min(h.from, first - SAME_DROP_MS);
    const kept = times.filter((t) => t < from || t >= h.to);
    if (kept.length > 0) out.set(id, kept);
  }
  return out;
}
type IncidentWrite = Extract<AlertWrite, { type: "incident" }>;

function isDeviceAlert(a: AlertRecord): a is AlertRecord & { deviceId: string; kind: AlertKind } {
  return a.deviceId !== null;
}

function markWrite(k: string, set: Extract<AlertWrite, { type: "mark" }>["set"]): AlertWrite {
  const { deviceId, kind } = splitKey(k);
  return { type: "mark", deviceId, kind, set };
}

function pickAck(a: AlertRecord): Pick<AlertRecord, "acknowledgedAt" | "acknowledgedBy" | "ackComment"> {
  return { acknowledgedAt: a.acknowledgedAt, acknowledgedBy: a.acknowledgedBy, ackComment: a.ackComment };
}

function newIncidentId(): string {
  return `inc_${Date.now().toString(36)}${randomBytes(5).toString("hex")}`;
}

/**
 * The first `k` of `items` in `order`, in that order: one pass keeping a
 * short sorted list, so a feed of 200 out of a million firing alerts costs a
 * million comparisons with the 200th, not a sort of the million.
 */
export function newest<T>(items: Iterable<T>, k: number, order: (a: T, b: T) => number): T[] {
  const kept: T[] = [];
  for (const x of items) {
    if (kept.length === k && order(x, kept[k - 1]) >= 0) continue;
    let i = kept.length;
    while (i > 0 && order(x, kept[i - 1]) < 0) i--;
    kept.splice(i, 0, x);
    if (kept.length > k) kept.pop();
  }
  return kept;
}
