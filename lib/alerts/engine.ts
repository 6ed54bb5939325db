/**
 * The alert engine: per-device alert decisions from fleet state, fleet effects,
 * the rules and a clock. Pure in the sense that matters for testing: no
 * timers, no I/O; every method takes `now`, and the caller carries out the
 * returned decisions (persist, push to the browser, notify).
 *
 * Kinds and their conditions (S = the device's last sign of life,
 * `lastConfirmedAt`; k = its keepalive in seconds; the rule is the one that
 * applies to the device, see rules.ts):
 *
 * - offline: threshold T = offlineSeconds, or offlineFactor × k (no threshold
 *   for k = 0 without offlineSeconds: keepalive-0 devices come and go by
 *   design, watch them with offlineSeconds; with k unknown the device alerts
 *   once it is offline).
 *     · status offline (the broker dropped it, a will, or the fleet's own
 *       silence verdict): fires at max(offline since, S + T);
 *     · connected (online/late) and silence observable: fires at S + T, long
 *       before the broker's 1.5 × k when T is shorter. Silence is observable
 *       where a source sees PINGREQs, or for k = 0 (such a client never pings,
 *       so silence on the watched topics is silence).
 * - late: connected, pings visible, k > 0, silent past lateFactor × k.
 * - flapping: at least flapDisconnects disconnects (session-close effects;
 *   takeovers and broker restarts are not the device's disconnects, refined
 *   reasons are not new ones) within
 *   the last flapWindowSeconds. Exactly one alert per spell: it stays firing
 *   while the device keeps flapping.
 * - near-miss: pings visible, k > 0: a gap between two consecutive signs of
 *   life in one session longer than nearMissRatio × k. The condition holds for
 *   2 × k after each such gap (two clean intervals clear it).
 * - never_seen: the inventory expects the device (imported before it was
 *   ever seen, `expectedSince`) and it has not shown up within
 *   `expectedGraceMs` (EXPECTED_GRACE_HOURS). No rule is needed: the import is
 *   the configuration. Resolves as soon as the device is seen.
 *
 * Lifecycle: firing → resolved, at most one firing alert per (device, kind).
 * A firing alert resolves once its condition has been false continuously for
 * the rule's resolveAfterSeconds (hysteresis); at once when the kind is no
 * longer configured for the device (rule edited, disabled or deleted). While
 * nothing trustworthy is known (status `unknown`: monitor gap, restart) an
 * alert neither fires nor resolves, and a streak of "fine again" restarts.
 *
 * A standby's engine follows (mirrorFiring): its firing alerts are the ones
 * the leader stored, and it decides nothing, but it judges every device as
 * the leader does. So it knows near misses, disconnects and since when each
 * firing alert has been fine (memory()), and the leader it becomes resolves
 * and fires on the same times the old one would have.
 *
 * Grace is per device, never fleet-wide. A device being re-learned after a
 * gap or a restart of the monitor is `unknown` and held (above); one whose
 * connect or fresh sign of life the monitor has seen since is judged at once
 * on its normal thresholds. Devices a broker restart knocked offline
 * (`brokerRestarted`: offline with reason `broker_restart` from before it)
 * get a reconnect window of max(restartWindowSeconds, 2 × their keepalive)
 * from when the restart was detected before their offline alert fires. A
 * condition still true when its window ends fires then; one that cleared
 * meanwhile never fires. Resolutions are never held back: they need fresh
 * evidence that the device is fine (online for resolveAfterSeconds).
 *
 * Cost: devices are re-evaluated only when they changed, or when their own
 * deadline (the next time a condition can flip by time alone, a resolution
 * or a repeat is due) comes up, via the same heap as the fleet. Rule changes
 * and `brokerRestarted` re-evaluate everything (O(n)).
 */
import { DeadlineHeap } from "../fleet/deadlines";
import { OBSERVE_RECHECK_MS } from "../fleet/machine";
import type { DeviceState, FleetEffect } from "../fleet/types";
import { ALERT_KINDS, RuleSet, type AlertKind, type AlertRule } from "./rules";

/** A firing alert as the engine keeps it. */
export interface FiringAlert {
  deviceId: string;
  kind: AlertKind;
  ruleId: number | null;
  firedAt: number;
  message: string;
  /** Last time a notification went out for it (fire or repeat). */
  lastNotifiedAt: number;
}

export type AlertDecision =
  | { type: "fire"; deviceId: string; kind: AlertKind; ruleId: number | null; at: number; message: string }
  | { type: "resolve"; deviceId: string; kind: AlertKind; ruleId: number | null; at: number; message: string }
  | {
      type: "repeat";
      deviceId: string;
      kind: AlertKind;
      ruleId: number | null;
      at: number;
      firedAt: number;
      message: string;
    };

export interface AlertEngineOptions {
  /** Whether a source that sees PINGREQs is active for this device. */
  pingsVisible(deviceId: string): boolean;
  /**
   * When the current stretch of ping visibility began: observed silence is
   * measured from no earlier (pings sent while nobody could see them are not
   * missing). Default: always visible.
   */
  pingsVisibleSince?(): number;
  /** Up to when the ping source is known complete: a silence alert waits until it watched past its threshold. */
  observedUntil?(): number;
  /** The ping source was there and stopped (a stalled log): silence alerts neither fire nor resolve. */
  pingsStalled?(): boolean;
  /** Least reconnect window after a broker restart (ALERT_RESTART_WINDOW_SECONDS). Default 30. */
  restartWindowSeconds?: number;
  /** The operator's tags of a device (rules may match by tag). Default: none. */
  tagsOf?(deviceId: string): readonly string[];
  /** Since when the inventory expects a device never seen, or null. */
  expectedSince?(deviceId: string): number | null;
  /** How long an expected device may take to show up (EXPECTED_GRACE_HOURS). Default 24 h. */
  expectedGraceMs?: number;
  /**
   * Where device states are read when someone already holds all of them (the
   * running fleet, which hands every change to observe() before anything else
   * can change it). The engine then keeps no copy of its own, except each
   * device's previous state while a near-miss rule needs it. Without it, the
   * engine keeps the latest state of every device it was shown.
   */
  states?: { get(id: string): DeviceState | undefined; all(): Iterable<DeviceState> };
}

type Condition =
  | { state: "off" } // kind not configured for the device
  | { state: "hold"; next?: number } // nothing trustworthy: neither fire nor resolve
  | { state: "active"; message: string; next?: number }
  | { state: "ok"; next?: number; message: string };

/**
 * What the engine knows of one device, as the conditions read it. Stored
 * apart: the latest state of every device (one Map entry each), and the rest
 * (TrackExtra) only for devices that have had a disconnect, a near miss or a
 * firing alert. The engine follows the whole fleet, so an object or array per
 * device that most devices never need would cost ~10 MB per 100k devices.
 */
interface Track {
  state: DeviceState | null;
  /** Disconnect times, ascending, bounded; null until the first. */
  disconnects: number[] | null;
  lastNearMissAt: number | null;
  lastNearMissGap: number | null;
  /** Per kind: since when the condition has been false (for the resolution hysteresis); null until needed. */
  okSince: Partial<Record<AlertKind, number>> | null;
}

type TrackExtra = Omit<Track, "state">;

/** A device's memory besides its disconnects, as a standby hands it to the leader it becomes. */
export interface DeviceMemory {
  lastNearMissAt: number | null;
  lastNearMissGap: number | null;
  okSince: Partial<Record<AlertKind, number>> | null;
}

/** What an engine remembers of the fleet besides disconnects (memory()). */
export interface EngineMemory {
  devices: Map<string, DeviceMemory>;
  /** Previous states, kept while a near-miss rule needs them. */
  previous: Map<string, DeviceState>;
}

/** A disconnect that counts toward flapping: takeovers are not disconnects, a broker restart is not the device's doing. */
const ownDisconnect = (reason: string | null): boolean => reason !== "taken_over" && reason !== "broker_restart";

/** Whether two devices' firing alerts are the same ones (same kinds, same fire times). */
function sameAlerts(a: FiringKinds, b: FiringKinds): boolean {
  for (const k of ALERT_KINDS) if (a[k]?.firedAt !== b[k]?.firedAt) return false;
  return true;
}

const MAX_DISCONNECTS_KEPT = 1000;
const NO_DISCONNECTS: readonly number[] = [];
/** A device's firing alerts by kind (a device has at most one of each). */
type FiringKinds = Partial<Record<AlertKind, FiringAlert>>;
/** An offline rule's threshold in words (for a message only: built when an alert fires). */
const offlineThreshold = (rule: AlertRule, k: number | null): string =>
  rule.offlineSeconds !== null ? `${rule.offlineSeconds} s` : `${rule.offlineFactor} × keepalive ${k ?? "?"} s`;
/** The earlier of `next` and `at`, when `at` is still to come. */
const sooner = (next: number, at: number | undefined, now: number): number =>
  at !== undefined && at > now && at < next ? at : next;
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
/**
 * A firing alert's message, as one flat string: a template literal makes a
 * rope of its parts, which once read (written, hashed) keeps a second object
 * alive beside it, for as long as the alert fires; a mass outage fires
 * hundreds of thousands.
 */
function flat(parts: TemplateStringsArray, ...values: unknown[]): string {
  const out: string[] = [parts[0]];
  for (let i = 0; i < values.length; i++) out.push(String(values[i]), parts[i + 1]);
  return out.join("");
}

export class AlertEngine {
  private rules = new RuleSet([]);
  /** Latest states (without opts.states), or previous states for near-miss rules (with it). */
  private readonly states = new Map<string, DeviceState>();
  /** Some enabled rule watches near misses (they need a device's previous state). */
  private nearMissWatched = false;
  /** The flapping rule's "stable" message, built once per rule rather than per evaluation. */
  private readonly stableMessages = new WeakMap<AlertRule, string>();
  private readonly extras = new Map<string, TrackExtra>();
  /** Firing alerts per device: one lookup per evaluation, whatever the number of kinds. */
  private readonly firingAlerts = new Map<string, FiringKinds>();
  private firingTotal = 0;
  private readonly deadlines = new DeadlineHeap();
  /** When the last broker restart was detected (null: none since start). */
  private restartAt: number | null = null;
  /**
   * Following (a standby): the firing alerts are the database's (mirrorFiring()),
   * and the engine judges and remembers as a leader would but decides nothing.
   */
  private mirrored = false;

  constructor(private readonly opts: AlertEngineOptions) {}

  // ------------------------------------------------------------------ inputs

  /** Replaces the rules and re-evaluates every device at once. */
  setRules(rules: readonly AlertRule[], now: number): AlertDecision[] {
    this.rules = new RuleSet(rules);
    this.nearMissWatched = rules.some((r) => r.enabled && r.nearMissRatio !== null);
    if (this.opts.states && !this.nearMissWatched) this.states.clear();
    return this.evaluateAll(now);
  }

  /** Firing alerts loaded from the database at start: continued, never fired again. */
  restoreFiring(alerts: readonly FiringAlert[], now: number): void {
    for (const a of alerts) {
      this.setFiring({ ...a });
      this.deadlines.set(a.deviceId, now);
    }
  }

  /**
   * Disconnects stored before this start (the flapping memory across a
   * restart or a takeover), merged with those seen since; nothing is decided
   * until the next evaluation.
   */
  restoreDisconnects(lists: ReadonlyMap<string, readonly number[]>): void {
    for (const [id, times] of lists) {
      const x = this.extra(id);
      const all = x.disconnects === null ? [...times] : [...new Set([...times, ...x.disconnects])];
      all.sort((a, b) => a - b);
      x.disconnects = all.length > MAX_DISCONNECTS_KEPT ? all.slice(-MAX_DISCONNECTS_KEPT) : all;
    }
  }

  /**
   * Each device's last disconnect as the fleet holds it (restored from its
   * row), when later than `since`: the database read leaves a device's lone
   * stored drop out (it keeps the read small after a mass outage), yet it
   * counts toward flapping once the device drops again. A time already
   * remembered (within 1 ms) is not added twice.
   */
  restoreLastDisconnects(since: number): void {
    const states = this.opts.states ? this.opts.states.all() : this.states.values();
    for (const s of states) {
      const at = s.lastDisconnectAt;
      if (at === null || at <= since || !ownDisconnect(s.lastDisconnectReason)) continue;
      const x = this.extra(s.id);
      if (x.disconnects === null) x.disconnects = [at];
      else if (!x.disconnects.some((t) => Math.abs(t - at) < 1)) {
        x.disconnects.push(at);
        x.disconnects.sort((a, b) => a - b);
      }
    }
  }

  /**
   * The flapping memory alone: session closes that are the device's own
   * disconnects are remembered, nothing is evaluated. A standby keeps it this
   * way, so the leader it becomes counts what it saw (disconnectLists()).
   */
  noteDisconnects(effects: readonly FleetEffect[], touched?: Set<string>): void {
    for (const e of effects) {
      if (e.type === "session-refine") {
        // A session closed as `unknown` (a new connect came first) turned out a takeover: not a drop.
        const list = ownDisconnect(e.reason) ? null : this.extras.get(e.deviceId)?.disconnects;
        const at = list ? list.lastIndexOf(e.disconnectedAt) : -1;
        if (at >= 0) {
          list!.splice(at, 1);
          touched?.add(e.deviceId);
        }
        continue;
      }
      if (e.type !== "session-close" || !ownDisconnect(e.reason)) continue;
      const x = this.extra(e.deviceId);
      // Most devices drop once: a one-element list, not an empty one grown to room for sixteen.
      if (x.disconnects === null) x.disconnects = [e.disconnectedAt];
      else x.disconnects.push(e.disconnectedAt);
      const list = x.disconnects;
      if (list.length > 1 && list[list.length - 2] > e.disconnectedAt) list.sort((a, b) => a - b);
      if (list.length > MAX_DISCONNECTS_KEPT) list.splice(0, list.length - MAX_DISCONNECTS_KEPT);
      touched?.add(e.deviceId);
    }
  }

  /**
   * A standby's engine: the firing alerts become the database's, as the
   * leader wrote them, and from now on the engine decides nothing. It still
   * judges every device, so it remembers near misses and how long a firing
   * alert has been fine, for the leader it may become (memory()). Devices
   * whose firing alerts changed are judged again at once.
   */
  mirrorFiring(alerts: readonly FiringAlert[], now: number): void {
    this.mirrored = true;
    const before = new Map(this.firingAlerts);
    this.firingAlerts.clear();
    this.firingTotal = 0;
    for (const a of alerts) {
      const was = before.get(a.deviceId)?.[a.kind];
      if (was && was.firedAt === a.firedAt) {
        was.lastNotifiedAt = a.lastNotifiedAt;
        this.setFiring(was);
      } else this.setFiring({ ...a });
    }
    for (const [id, kinds] of this.firingAlerts) {
      const old = before.get(id);
      if (!old || !sameAlerts(old, kinds)) this.deadlines.set(id, now);
    }
    for (const id of before.keys()) if (!this.firingAlerts.has(id)) this.deadlines.set(id, now);
  }

  /**
   * Following, by what changed (a standby's read since its last): stored
   * alerts firing (fired or repeated) and resolved. A resolution ends the
   * firing alert it names (same firedAt) and no later one.
   */
  mirrorChanges(changes: readonly { alert: FiringAlert; firing: boolean }[], now: number): void {
    this.mirrored = true;
    for (const { alert: a, firing } of changes) {
      if (firing) continue;
      if (this.firingAlerts.get(a.deviceId)?.[a.kind]?.firedAt !== a.firedAt) continue;
      this.dropFiring(a.deviceId, a.kind);
      this.deadlines.set(a.deviceId, now);
    }
    for (const { alert: a, firing } of changes) {
      if (!firing) continue;
      const was = this.firingAlerts.get(a.deviceId)?.[a.kind];
      if (was && was.firedAt === a.firedAt) {
        was.lastNotifiedAt = a.lastNotifiedAt;
        continue;
      }
      this.setFiring({ ...a });
      this.deadlines.set(a.deviceId, now);
    }
  }

  /**
   * What the engine remembers of devices besides their disconnects (those go
   * through disconnectLists()): near misses, since when firing alerts have
   * been fine, and previous states while a near-miss rule needs them.
   */
  memory(): EngineMemory {
    const devices = new Map<string, DeviceMemory>();
    for (const [id, x] of this.extras) {
      if (x.lastNearMissAt === null && (x.okSince === null || Object.keys(x.okSince).length === 0)) continue;
      devices.set(id, {
        lastNearMissAt: x.lastNearMissAt,
        lastNearMissGap: x.lastNearMissGap,
        okSince: x.okSince && { ...x.okSince },
      });
    }
    return { devices, previous: new Map(this.states) };
  }

  /** A standby's memory (memory()), taken over before the first evaluation with the stored firing alerts. */
  restoreMemory(m: EngineMemory): void {
    for (const [id, d] of m.devices) {
      const x = this.extra(id);
      if (d.lastNearMissAt !== null && (x.lastNearMissAt === null || d.lastNearMissAt > x.lastNearMissAt)) {
        x.lastNearMissAt = d.lastNearMissAt;
        x.lastNearMissGap = d.lastNearMissGap;
      }
      if (d.okSince) x.okSince = { ...x.okSince, ...d.okSince };
    }
    // Kept whatever the rules now: setRules() drops them when no near-miss rule needs them.
    for (const [id, s] of m.previous) if (!this.states.has(id)) this.states.set(id, s);
  }

  /** Every device's remembered disconnect times (copies, ascending). */
  disconnectLists(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const [id, x] of this.extras) if (x.disconnects !== null) out.set(id, [...x.disconnects]);
    return out;
  }

  /** Devices the fleet already holds (restored at start); nothing is decided for them yet. */
  seed(devices: Iterable<DeviceState>): void {
    if (this.opts.states) return; // read from there
    for (const d of devices) this.states.set(d.id, d);
  }

  /** The broker restarted (detected at `at`): the devices it dropped get their reconnect window (see the header). */
  brokerRestarted(at: number, now: number): AlertDecision[] {
    this.restartAt = at;
    return this.evaluateAll(now);
  }

  /** Re-evaluates every device at once (ping visibility changed: a log stalled or moves again). */
  refresh(now: number): AlertDecision[] {
    return this.evaluateAll(now);
  }

  /** What the fleet listener hands over: effects and changed devices of one batch. */
  observe(effects: readonly FleetEffect[], changed: readonly DeviceState[], now: number): AlertDecision[] {
    const touched = new Set<string>();
    this.noteDisconnects(effects, touched);
    for (const next of changed) {
      if (!this.opts.states || this.nearMissWatched) {
        this.noteGap(this.states.get(next.id) ?? null, next);
        this.states.set(next.id, next);
      }
      touched.add(next.id);
    }
    const out: AlertDecision[] = [];
    for (const id of touched) this.evaluate(id, now, out);
    return out;
  }

  /** Whether any alert fires for this device (such a device is not forgotten). */
  hasFiring(deviceId: string): boolean {
    return this.firingAlerts.has(deviceId);
  }

  /** Drops what the engine keeps of devices the fleet forgot (none of them has a firing alert). */
  forget(ids: readonly string[]): void {
    for (const id of ids) {
      this.extras.delete(id);
      this.states.delete(id);
      this.deadlines.forget(id);
    }
  }

  /** Evaluates the devices whose deadline has come (`limit` of them at most: nextDeadline() says if more are due). */
  tick(now: number, limit = Number.POSITIVE_INFINITY): AlertDecision[] {
    const out: AlertDecision[] = [];
    for (const id of this.deadlines.popDue(now, limit)) this.evaluate(id, now, out);
    return out;
  }

  // ------------------------------------------------------------------ reads

  firing(): FiringAlert[] {
    const out: FiringAlert[] = [];
    for (const kinds of this.firingAlerts.values()) for (const a of Object.values(kinds)) out.push(a);
    return out;
  }

  get firingCount(): number {
    return this.firingTotal;
  }

  /** When the last broker restart was detected, or null. */
  get lastRestartAt(): number | null {
    return this.restartAt;
  }

  /** When the shortest reconnect window after the last broker restart ends (longer keepalives get longer ones). */
  get restartWindowEndsAt(): number | null {
    return this.restartAt === null ? null : this.restartAt + (this.opts.restartWindowSeconds ?? 30) * 1000;
  }

  /** Until when an offline alert for this device waits for it to reconnect after the broker restarted, or null. */
  private reconnectWindowEnd(s: DeviceState): number | null {
    const at = this.restartAt;
    if (at === null || s.lastDisconnectReason !== "broker_restart" || s.lastDisconnectAt === null) return null;
    if (s.lastDisconnectAt > at) return null; // a later restart's, not yet told
    const k = s.keepaliveSeconds ?? 0;
    return at + Math.max(this.opts.restartWindowSeconds ?? 30, 2 * k) * 1000;
  }

  ruleFor(deviceId: string): AlertRule | null {
    return this.rules.ruleFor(deviceId, this.opts.tagsOf?.(deviceId));
  }

  /** The inventory changed for these devices (tags, expectations): they are looked at again. */
  relabel(ids: Iterable<string>, now: number): AlertDecision[] {
    const out: AlertDecision[] = [];
    for (const id of ids) this.evaluate(id, now, out);
    return out;
  }

  nextDeadline(): number | null {
    return this.deadlines.peek()?.at ?? null;
  }

  // ------------------------------------------------------------------ evaluation

  private setFiring(a: FiringAlert): void {
    let kinds = this.firingAlerts.get(a.deviceId);
    if (!kinds) this.firingAlerts.set(a.deviceId, (kinds = {}));
    if (!kinds[a.kind]) this.firingTotal++;
    kinds[a.kind] = a;
  }

  private dropFiring(id: string, kind: AlertKind): void {
    const kinds = this.firingAlerts.get(id);
    if (!kinds?.[kind]) return;
    delete kinds[kind];
    this.firingTotal--;
    if (Object.keys(kinds).length === 0) this.firingAlerts.delete(id);
  }

  private extra(id: string): TrackExtra {
    let x = this.extras.get(id);
    if (!x) {
      x = { disconnects: null, lastNearMissAt: null, lastNearMissGap: null, okSince: null };
      this.extras.set(id, x);
    }
    return x;
  }

  private stateOf(id: string): DeviceState | null {
    return (this.opts.states ? this.opts.states.get(id) : this.states.get(id)) ?? null;
  }

  /** A device as the conditions read it (a short-lived view; writes go to extra()). */
  private track(id: string): Track | null {
    const state = this.stateOf(id);
    const x = this.extras.get(id);
    if (!x)
      return state ? { state, disconnects: null, lastNearMissAt: null, lastNearMissGap: null, okSince: null } : null;
    return { state, ...x };
  }

  /** A near-miss: two consecutive signs of life in one session further apart than the rule allows. */
  private noteGap(prev: DeviceState | null, next: DeviceState): void {
    if (!prev || prev.lastConfirmedAt === null || next.lastConfirmedAt === null) return;
    if (next.lastConfirmedAt <= prev.lastConfirmedAt) return;
    const connected = (s: DeviceState) => s.status === "online" || s.status === "late";
    if (!connected(prev) || !connected(next) || !prev.sessionOpen || !next.sessionOpen) return;
    if (prev.connectedAt !== next.connectedAt) return;
    const k = next.keepaliveSeconds;
    const ratio = this.ruleFor(next.id)?.nearMissRatio ?? null;
    if (!k || k <= 0 || ratio === null || !this.opts.pingsVisible(next.id)) return;
    const gap = next.lastConfirmedAt - prev.lastConfirmedAt;
    if (gap > ratio * k * 1000) {
      const x = this.extra(next.id);
      x.lastNearMissAt = next.lastConfirmedAt;
      x.lastNearMissGap = gap;
    }
  }

  /**
   * Whether `threshold` ms of silence since `lastLife` is established at `now`.
   * For k > 0 (silence seen through pings): measured from no earlier than
   * when pings became visible, and only as far as the ping source has shown
   * it watched; with no sign of life since pings became visible the device is
   * neither silent long enough nor back (hold). Keepalive 0: silence on the
   * topics is silence, pings or not.
   */
  private silence(
    lastLife: number,
    k: number | null,
    threshold: number,
    now: number,
  ): { state: "active" } | { state: "hold"; next: number } | { state: "ok"; next: number } {
    if (!k || k <= 0)
      return now >= lastLife + threshold ? { state: "active" } : { state: "ok", next: lastLife + threshold };
    const since = this.opts.pingsVisibleSince?.() ?? Number.NEGATIVE_INFINITY;
    const at = Math.max(lastLife, since) + threshold;
    if (now >= at) {
      const seen = Math.min(now, this.opts.observedUntil?.() ?? now);
      return seen >= at ? { state: "active" } : { state: "hold", next: now + OBSERVE_RECHECK_MS };
    }
    return lastLife < since ? { state: "hold", next: at } : { state: "ok", next: at };
  }

  private evaluateAll(now: number): AlertDecision[] {
    const out: AlertDecision[] = [];
    const ids = new Set<string>();
    if (this.opts.states) for (const d of this.opts.states.all()) ids.add(d.id);
    else for (const id of this.states.keys()) ids.add(id);
    for (const id of this.extras.keys()) ids.add(id);
    for (const id of this.firingAlerts.keys()) ids.add(id);
    for (const id of ids) this.evaluate(id, now, out);
    return out;
  }

  private evaluate(id: string, now: number, out: AlertDecision[]): void {
    const t = this.track(id);
    const rule = this.ruleFor(id);
    // Runs for every changed device of every fleet batch: no closure, and no key string while nothing fires.
    let next = Number.POSITIVE_INFINITY;
    let kinds = this.firingTotal === 0 ? undefined : this.firingAlerts.get(id);
    for (const kind of ALERT_KINDS) {
      const cond =
        kind === "never_seen"
          ? this.neverSeen(t, id, now)
          : rule
            ? this.condition(kind, t, rule, now)
            : ({ state: "off" } as const);
      const firing = kinds?.[kind];
      if (cond.state !== "off") next = sooner(next, cond.next, now);
      switch (cond.state) {
        case "off":
          if (t?.okSince) delete t.okSince[kind];
          if (firing && !this.mirrored) {
            this.dropFiring(id, kind);
            out.push({
              type: "resolve",
              deviceId: id,
              kind,
              ruleId: firing.ruleId,
              at: now,
              message: rule
                ? `no longer watched: rule "${rule.name}" has no ${kind} threshold`
                : "no enabled rule applies",
            });
          }
          continue;
        case "hold":
          if (t?.okSince) delete t.okSince[kind];
          break;
        case "active":
          if (t?.okSince) delete t.okSince[kind];
          if (!firing && !this.mirrored) {
            const alert: FiringAlert = {
              deviceId: id,
              kind,
              ruleId: rule?.id ?? null,
              firedAt: now,
              message: cond.message,
              lastNotifiedAt: now,
            };
            this.setFiring(alert);
            kinds = this.firingAlerts.get(id);
            out.push({ type: "fire", deviceId: id, kind, ruleId: alert.ruleId, at: now, message: cond.message });
          }
          break;
        case "ok":
          if (!firing || !t) {
            if (t?.okSince) delete t.okSince[kind];
            break;
          }
          {
            const okSince = (this.extra(id).okSince ??= {});
            const since = (okSince[kind] ??= now);
            const due = since + (kind === "never_seen" ? 0 : rule!.resolveAfterSeconds) * 1000;
            // Following, the leader resolves it: since when it has been fine is kept, should this one take over.
            if (now >= due && this.mirrored) break;
            if (now >= due) {
              delete okSince[kind];
              this.dropFiring(id, kind);
              out.push({ type: "resolve", deviceId: id, kind, ruleId: firing.ruleId, at: now, message: cond.message });
              continue;
            }
            next = sooner(next, due, now);
          }
          break;
      }
      const still = kinds?.[kind];
      const every = rule?.repeatIntervalSeconds ?? null;
      if (still && every !== null && !this.mirrored) {
        const due = still.lastNotifiedAt + every * 1000;
        if (now >= due) {
          still.lastNotifiedAt = now;
          out.push({
            type: "repeat",
            deviceId: id,
            kind,
            ruleId: still.ruleId,
            at: now,
            firedAt: still.firedAt,
            message: still.message,
          });
          next = sooner(next, now + every * 1000, now);
        } else next = sooner(next, due, now);
      }
    }
    if (Number.isFinite(next)) this.deadlines.set(id, next);
    else this.deadlines.delete(id);
  }

  private condition(kind: AlertKind, t: Track | null, rule: AlertRule, now: number): Condition {
    switch (kind) {
      case "offline":
        return this.offline(t, rule, now);
      case "late":
        return this.late(t, rule, now);
      case "flapping":
        return this.flapping(t, rule, now);
      case "near-miss":
        return this.nearMiss(t, rule, now);
      case "never_seen":
        return { state: "off" };
    }
  }

  private neverSeen(t: Track | null, id: string, now: number): Condition {
    const since = this.opts.expectedSince?.(id) ?? null;
    if (since === null) return { state: "off" };
    if (t?.state && t.state.lastSeenAt !== null) return { state: "ok", message: "seen" };
    const due = since + (this.opts.expectedGraceMs ?? 86_400_000);
    if (now < due) return { state: "ok", next: due, message: "seen" };
    return {
      state: "active",
      message: flat`expected since ${new Date(since).toISOString()} (inventory import), never seen`,
    };
  }

  private offline(t: Track | null, rule: AlertRule, now: number): Condition {
    const s = t?.state;
    if (!s || s.status === "unknown") return { state: "hold" };
    const k = s.keepaliveSeconds;
    const threshold =
      rule.offlineSeconds !== null
        ? rule.offlineSeconds * 1000
        : k !== null && k > 0 && rule.offlineFactor !== null
          ? rule.offlineFactor * k * 1000
          : null;
    const lastLife = s.lastConfirmedAt ?? s.lastSeenAt;
    if (s.status === "offline") {
      const window = this.reconnectWindowEnd(s);
      if (window !== null && now < window) return { state: "hold", next: window };
      if (threshold === null) {
        if (k === 0) return { state: "off" };
        return {
          state: "active",
          message: flat`offline since ${new Date(s.statusSince).toISOString()} (${s.lastDisconnectReason ?? "unknown"})`,
        };
      }
      const at = Math.max(s.statusSince, (lastLife ?? s.statusSince) + threshold);
      if (now < at) return { state: "hold", next: at };
      return {
        state: "active",
        message: flat`offline (${s.lastDisconnectReason ?? "unknown"}), no sign of life for ${seconds(now - (lastLife ?? s.statusSince))} (threshold ${offlineThreshold(rule, k)})`,
      };
    }
    if (threshold !== null && k !== 0 && this.opts.pingsStalled?.()) return { state: "hold" };
    const observable = this.opts.pingsVisible(s.id) || k === 0;
    if (threshold !== null && observable && lastLife !== null) {
      const silence = this.silence(lastLife, k, threshold, now);
      if (silence.state === "active")
        return {
          state: "active",
          message: flat`silent for ${seconds(now - lastLife)} while connected (threshold ${offlineThreshold(rule, k)}); the broker has not dropped it yet`,
        };
      if (silence.state === "hold") return silence;
      return { state: "ok", next: silence.next, message: "back: signs of life again" };
    }
    return { state: "ok", message: "back online" };
  }

  private late(t: Track | null, rule: AlertRule, now: number): Condition {
    if (rule.lateFactor === null) return { state: "off" };
    const s = t?.state;
    if (!s || s.status === "unknown" || s.status === "offline") return { state: "hold" };
    const k = s.keepaliveSeconds;
    const lastLife = s.lastConfirmedAt ?? s.lastSeenAt;
    if (k && k > 0 && this.opts.pingsStalled?.()) return { state: "hold" };
    if (k && k > 0 && lastLife !== null && this.opts.pingsVisible(s.id)) {
      const silence = this.silence(lastLife, k, rule.lateFactor * k * 1000, now);
      if (silence.state === "active")
        return {
          state: "active",
          message: flat`late: silent for ${seconds(now - lastLife)}, past ${rule.lateFactor} × keepalive ${k} s`,
        };
      if (silence.state === "hold") return silence;
      return { state: "ok", next: silence.next, message: "on time again" };
    }
    return { state: "ok", message: "on time again" };
  }

  private flapping(t: Track | null, rule: AlertRule, now: number): Condition {
    if (rule.flapDisconnects === null || rule.flapWindowSeconds === null) return { state: "off" };
    if (t?.state?.status === "unknown") return { state: "hold" };
    const window = rule.flapWindowSeconds * 1000;
    const list: readonly number[] = t?.disconnects ?? NO_DISCONNECTS;
    let first = 0;
    while (first < list.length && list[first] <= now - window) first++;
    const recent = list.length - first;
    if (recent >= rule.flapDisconnects) {
      // The count drops below the threshold when the Nth-newest disconnect leaves the window.
      const leaves = list[list.length - rule.flapDisconnects] + window;
      return {
        state: "active",
        next: leaves,
        message: flat`flapping: ${recent} disconnects within ${rule.flapWindowSeconds} s (threshold ${rule.flapDisconnects})`,
      };
    }
    let stable = this.stableMessages.get(rule);
    if (stable === undefined) {
      stable = `stable: fewer than ${rule.flapDisconnects} disconnects in ${rule.flapWindowSeconds} s`;
      this.stableMessages.set(rule, stable);
    }
    return { state: "ok", message: stable };
  }

  private nearMiss(t: Track | null, rule: AlertRule, now: number): Condition {
    if (rule.nearMissRatio === null) return { state: "off" };
    const s = t?.state;
    if (!s || s.status === "unknown" || s.status === "offline") return { state: "hold" };
    const k = s.keepaliveSeconds;
    if (!k || k <= 0 || t.lastNearMissAt === null) return { state: "ok", message: "no near-miss lately" };
    const clears = t.lastNearMissAt + 2 * k * 1000;
    if (now < clears) {
      const gap = t.lastNearMissGap ?? 0;
      return {
        state: "active",
        next: clears,
        message: flat`near-miss: ${seconds(gap)} between signs of life, ${Math.round((gap / (k * 1000)) * 100)} % of keepalive ${k} s (threshold ${Math.round(rule.nearMissRatio * 100)} %)`,
      };
    }
    return { state: "ok", message: "no near-miss for two keepalive intervals" };
  }
}
