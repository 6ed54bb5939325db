/**
 * The fleet driver: holds every device's state, feeds events and deadlines to
 * the pure machine (machine.ts), keeps the next deadline per device in a heap,
 * and hands the resulting effects to listeners. It owns no timers: the caller
 * calls `tick()` (on an interval, or at `nextDeadline()`), so tests drive it
 * with a simulated clock.
 *
 * Costs: `apply` is O(log n) (one heap update), `tick` O(k log n) for k due
 * devices, `counts` O(1) (counters kept incrementally). `monitorGap` and
 * `restore` touch every device by nature.
 */
import type { ActivityEvent } from "../ingest/events";
import { DeadlineHeap } from "./deadlines";
import {
  applyEvent,
  newDevice,
  onDeadline,
  onBrokerRestart,
  onMonitorGap,
  adopt as adoptDevice,
  restore as restoreDevice,
  type BrokerRestartFacts,
  type MachineContext,
  type SavedDeviceState,
  type Transition,
} from "./machine";
import {
  RESTART_STOP_MATCH_MS,
  type DeviceState,
  type DeviceStatus,
  type FleetEffect,
  type SessionRecord,
} from "./types";

export interface FleetOptions {
  now(): number;
  /** Whether a source that sees PINGREQs is active for this device (silence verdicts possible). */
  pingsVisible(deviceId: string): boolean;
  /** When the current stretch of ping visibility began (silence is measured from no earlier). */
  pingsVisibleSince?(): number;
  /** Up to when the ping source is known complete (see MachineContext.observedUntil). */
  observedUntil?(): number;
  lateGraceMs?: number;
  /** Since when the monitor hears the broker again (re-learning deadlines), or null while it does not. */
  relearnSince?(): number | null;
  /** The broker's keepalive check slack added to re-learning deadlines (MachineContext.relearnSlackMs). */
  relearnSlackMs?: number;
  /** Devices held at most; events of new ids beyond are refused and counted (`refusedNew`). Default unbounded. */
  maxDevices?: number;
  /** Client ids whose events are dropped (the monitor's own MQTT client). */
  ignoreClientIds?: ReadonlySet<string>;
  /** Where a throwing listener is reported; the other listeners still run. Default: console.error. */
  onListenerError?(error: unknown): void;
}

/**
 * Whether a device is long gone: offline or unknown, no session open, and no
 * sign of life (or, never seen alive, no first sighting) since `before`.
 */
export function forgettable(d: DeviceState, before: number): boolean {
  if (d.sessionOpen || (d.status !== "offline" && d.status !== "unknown")) return false;
  return (d.lastSeenAt ?? d.firstSeenAt) < before;
}

export type FleetListener = (effects: FleetEffect[], changed: DeviceState[]) => void;

export type FleetCounts = Record<DeviceStatus, number> & { total: number };

/** What one apply/applyBatch/tick/monitorGap/restore produced, handed to listeners at once. */
class Outcome {
  readonly effects: FleetEffect[] = [];
  readonly changed = new Map<string, DeviceState>();
}

export class Fleet {
  private readonly devices = new Map<string, DeviceState>();
  private readonly deadlines = new DeadlineHeap();
  private readonly tally: Record<DeviceStatus, number> = { online: 0, late: 0, offline: 0, unknown: 0 };
  private readonly listeners = new Set<FleetListener>();
  /** Events of new device ids refused because the fleet held maxDevices. */
  refusedNew = 0;

  constructor(private readonly opts: FleetOptions) {}

  apply(ev: ActivityEvent): void {
    this.applyBatch([ev]);
  }

  applyBatch(evs: readonly ActivityEvent[]): void {
    const out = new Outcome();
    const now = this.opts.now();
    for (const ev of evs) {
      if (this.opts.ignoreClientIds?.has(ev.deviceId)) continue;
      const prev = this.devices.get(ev.deviceId);
      if (prev === undefined && this.devices.size >= (this.opts.maxDevices ?? Number.POSITIVE_INFINITY)) {
        this.refusedNew++;
        continue;
      }
      this.commit(prev, applyEvent(prev, ev, this.context(ev.deviceId, now)), out);
    }
    this.emit(out);
  }

  /**
   * Fires the deadlines that are due, at most `limit` of them (the earliest
   * first); devices that are not due are not looked at. Returns whether due
   * deadlines remain, for the caller to tick again once I/O had its turn.
   */
  tick(limit = Number.POSITIVE_INFINITY): boolean {
    const out = new Outcome();
    const now = this.opts.now();
    for (const id of this.deadlines.popDue(now, limit)) {
      const prev = this.devices.get(id);
      if (prev) this.commit(prev, onDeadline(prev, this.context(id, now)), out);
    }
    this.emit(out);
    return (this.deadlines.peek()?.at ?? Number.POSITIVE_INFINITY) <= now;
  }

  /** Earliest pending deadline (for the caller's setTimeout), or null. */
  nextDeadline(): number | null {
    return this.deadlines.peek()?.at ?? null;
  }

  /** The broker link is lost: every device becomes unknown (none offline, nothing closed). */
  monitorGap(): void {
    const out = new Outcome();
    const now = this.opts.now();
    for (const prev of this.devices.values()) this.commit(prev, onMonitorGap(prev, this.context(prev.id, now)), out);
    this.emit(out);
  }

  /**
   * The broker restarted: sessions of its old run end at `downAt` as
   * `broker_restart`, devices not seen since `keepFrom` go offline (machine.ts).
   * Returns the devices the restart dropped: whose session it closed, or
   * (the embedded broker, closed with keepwatch) whose session the broker's
   * own stop closed, up to RESTART_STOP_MATCH_MS before `downAt`.
   */
  brokerRestart(r: BrokerRestartFacts): string[] {
    const out = new Outcome();
    const now = this.opts.now();
    for (const prev of this.devices.values())
      this.commit(prev, onBrokerRestart(prev, r, this.context(prev.id, now)), out);
    this.emit(out);
    const dropped: string[] = [];
    for (const d of this.devices.values()) {
      const at = d.lastDisconnectAt;
      if (
        d.lastDisconnectReason === "broker_restart" &&
        at !== null &&
        Math.abs(at - r.downAt) <= RESTART_STOP_MATCH_MS
      )
        dropped.push(d.id);
    }
    return dropped;
  }

  /**
   * Recomputes every device's deadline (O(n)): call when ping visibility
   * changes, since deadlines exist only while a ping-visible source is active.
   */
  refreshDeadlines(): void {
    const out = new Outcome();
    const now = this.opts.now();
    for (const prev of this.devices.values()) this.commit(prev, onDeadline(prev, this.context(prev.id, now)), out);
    this.emit(out);
  }

  /**
   * Seeds the fleet from the database at start-up. Every restored device is
   * `unknown` (the monitor was away). Open session rows decide which session
   * is open: the newest open row per device stays open; older open rows (left
   * by a crash) are closed as `unknown` at the next one's start, and a device
   * with no open row has no open session. Devices already held are replaced.
   * `adopt`: the rows come from a leader that kept watching (a standby joining
   * a running cluster): their statuses stand instead of becoming `unknown`.
   * Devices whose row says everything but the status restore set are not
   * handed to listeners as changed; their ids are returned (the caller
   * records their status in bulk, see StoreWriter.restoredAs).
   */
  restore(
    devices: readonly SavedDeviceState[],
    openSessions: readonly SessionRecord[],
    opts: { adopt?: boolean } = {},
  ): string[] {
    const load = opts.adopt ? adoptDevice : restoreDevice;
    const out = new Outcome();
    const now = this.opts.now();
    const sessionsOf = groupOpenSessions(openSessions);
    const rows = new Map<string, SavedDeviceState>();
    for (const d of devices) rows.set(d.id, d);
    const unchanged: string[] = [];
    const synthesized = new Set<string>();
    // A session row whose device row is missing still proves the device exists.
    for (const [id, sessions] of sessionsOf)
      if (!rows.has(id)) {
        rows.set(id, newDevice(id, sessions[0].connectedAt));
        synthesized.add(id);
      }
    for (const [id, saved] of rows) {
      if (this.opts.ignoreClientIds?.has(id)) continue;
      const before = out.effects.length;
      const merged = withOpenSession(saved, sessionsOf.get(id) ?? [], out.effects);
      const t = load(merged, this.context(id, now));
      // Its row says all but the status restore sets: nothing to write back row by row.
      const same =
        !this.devices.has(id) &&
        !synthesized.has(id) &&
        out.effects.length === before &&
        t.effects.every((e) => e.type === "status-change") &&
        merged.sessionOpen === saved.sessionOpen &&
        merged.connectedAt === saved.connectedAt;
      if (same) unchanged.push(id);
      this.commit(this.devices.get(id), t, out, same);
    }
    this.emit(out);
    return unchanged;
  }

  /**
   * Devices the operator's inventory expects but the monitor has never seen:
   * held as `unknown`, never seen, so they are listed and counted (and may
   * alert as never seen). Nothing is written for them and listeners are not
   * called (the caller tells the alerts and the browser). Ids already held,
   * or beyond MAX_DEVICES, are left alone. Returns the ids added.
   */
  expect(ids: Iterable<string>, at: number): string[] {
    const added: string[] = [];
    for (const id of ids) {
      if (this.devices.has(id) || this.opts.ignoreClientIds?.has(id)) continue;
      if (this.opts.maxDevices !== undefined && this.devices.size >= this.opts.maxDevices) break;
      this.devices.set(id, newDevice(id, at));
      this.tally.unknown += 1;
      added.push(id);
    }
    return added;
  }

  /**
   * Drops devices from memory (their rows stay in the database, for history):
   * no status, no deadline, no count. Used for devices long gone (forgettable()).
   * Returns the ids actually dropped.
   */
  forget(ids: Iterable<string>): string[] {
    const dropped: string[] = [];
    for (const id of ids) {
      const d = this.devices.get(id);
      if (!d) continue;
      this.devices.delete(id);
      this.deadlines.forget(id);
      this.tally[d.status] -= 1;
      dropped.push(id);
    }
    return dropped;
  }

  get(id: string): DeviceState | undefined {
    return this.devices.get(id);
  }

  all(): IterableIterator<DeviceState> {
    return this.devices.values();
  }

  get size(): number {
    return this.devices.size;
  }

  counts(): FleetCounts {
    return { ...this.tally, total: this.devices.size };
  }

  /**
   * Listeners are called once per apply/applyBatch/tick/monitorGap/brokerRestart/restore
   * that produced effects or changed a device, with all its effects (in order)
   * and the changed devices (each once, in its final state). Returns an
   * unsubscribe function.
   */
  onEffects(listener: FleetListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private context(id: string, now: number): MachineContext {
    return {
      now,
      pingsVisible: this.opts.pingsVisible(id),
      lateGraceMs: this.opts.lateGraceMs,
      pingsVisibleSince: this.opts.pingsVisibleSince?.(),
      observedUntil: this.opts.observedUntil?.(),
      relearnSince: this.opts.relearnSince?.() ?? null,
      relearnSlackMs: this.opts.relearnSlackMs,
    };
  }

  /** `quiet`: the new state is not handed to listeners as changed (a restore that rewrote nothing but the status). */
  private commit(prev: DeviceState | undefined, t: Transition, out: Outcome, quiet = false): void {
    const next = t.state;
    if (next !== prev) {
      this.devices.set(next.id, next);
      if (prev) this.tally[prev.status] -= 1;
      this.tally[next.status] += 1;
      if (!quiet) out.changed.set(next.id, next);
    }
    if (t.deadline === null) this.deadlines.delete(next.id);
    else this.deadlines.set(next.id, t.deadline);
    for (const e of t.effects) out.effects.push(e);
  }

  private emit(out: Outcome): void {
    if (out.effects.length === 0 && out.changed.size === 0) return;
    const changed = [...out.changed.values()];
    // A failing consumer (say, the store) must not starve the others (say, the live view).
    for (const listener of [...this.listeners]) {
      try {
        listener(out.effects, changed);
      } catch (error) {
        (this.opts.onListenerError ?? reportListenerError)(error);
      }
    }
  }
}

function reportListenerError(error: unknown): void {
  console.error("[keepwatch] fleet listener failed", error);
}

/** Open session rows per device, oldest first. */
function groupOpenSessions(sessions: readonly SessionRecord[]): Map<string, SessionRecord[]> {
  const byDevice = new Map<string, SessionRecord[]>();
  for (const s of sessions) {
    if (s.disconnectedAt !== null) continue;
    const list = byDevice.get(s.deviceId);
    if (list) list.push(s);
    else byDevice.set(s.deviceId, [s]);
  }
  for (const list of byDevice.values()) list.sort((a, b) => a.connectedAt - b.connectedAt);
  return byDevice;
}

/**
 * Aligns a saved device with its open session rows (oldest first). Rows are
 * what a later session-close must update, so they decide: the newest stays
 * open unless the device row already moved on to a later session; every other
 * row is closed as `unknown` (it ended unseen), its close appended to `effects`.
 */
function withOpenSession(
  saved: SavedDeviceState,
  sessions: readonly SessionRecord[],
  effects: FleetEffect[],
): SavedDeviceState {
  const newest = sessions.at(-1);
  const open =
    newest !== undefined && (saved.connectedAt === null || newest.connectedAt >= saved.connectedAt) ? newest : null;
  sessions.forEach((row, i) => {
    if (row === open) return;
    const endedBy = sessions[i + 1]?.connectedAt ?? Math.max(saved.connectedAt ?? row.connectedAt, row.connectedAt);
    effects.push({
      type: "session-close",
      deviceId: row.deviceId,
      connectedAt: row.connectedAt,
      disconnectedAt: endedBy,
      reason: "unknown",
      lastActivityAt: row.lastActivityAt,
    });
  });
  if (open === null) return { ...saved, sessionOpen: false };
  const same = saved.connectedAt === open.connectedAt;
  return {
    ...saved,
    sessionOpen: true,
    connectedAt: open.connectedAt,
    // The broker's own stamp is on the device row only (the row's key may have been nudged).
    connectReportedAt: same ? (saved.connectReportedAt ?? open.connectedAt) : open.connectedAt,
    keepaliveSeconds: open.keepaliveSeconds ?? saved.keepaliveSeconds,
  };
}
