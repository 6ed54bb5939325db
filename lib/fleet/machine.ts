/**
 * The per-device state machine: (state, event, context) → (state, effects, deadline).
 *
 * Pure: no clock, no timers, no randomness. The driver (fleet.ts) passes the
 * current time in `ctx.now`, carries out the effects (persist sessions, push
 * status changes) and calls `onDeadline` when the returned deadline arrives.
 * A transition that changes nothing returns the very same state object, so the
 * driver can tell "changed" by reference.
 *
 * The rules follow ARCHITECTURE.md ("Keepalive facts and the status model"). The
 * non-obvious choices, in one place:
 *
 * - Sessions: a connect opens one; its key `connectedAt` is strictly increasing
 *   per device (nudged +1 ms when a broker stamps two connects alike, e.g.
 *   Mosquitto's whole-second log stamps). `connectReportedAt` keeps the broker's
 *   own time, which is what later reports are compared against.
 * - Takeover: closes the open session as `taken_over` at once; the status does
 *   not change (the client id never went offline) and it is not counted in
 *   `disconnectCount` (counted in `takeoverCount`). The connect that follows
 *   opens the next session.
 * - A connect over an open session with no takeover seen closes the old one as
 *   `unknown` without counting it ("implicit close"): we did not see how it
 *   ended. On EMQX the usual cause is a takeover whose `disconnected` report
 *   comes after the new `connected`; when that report (or the old connection's
 *   will) arrives it refines the reason (`session-refine` effect). Without a
 *   session stamp, a takeover report arriving while such an explanation is
 *   awaited is taken to be it. A refined reason other than takeover/will means
 *   the old session really dropped, and it is then counted.
 * - Reports are matched to sessions by the broker's stamps: a disconnect naming
 *   (or stamped before) an older session never touches the current one; a
 *   connect older than the current one, an exact duplicate of it, or one that
 *   happened before a session end the broker already reported, is ignored.
 * - Disconnect without an open session: if the device is already offline it is
 *   the same disconnect reported twice (e.g. will + broker line, or our silence
 *   verdict + the broker's own timeout): never counted again, but a broker
 *   reason replaces a provisional one (`will`/`unknown`). One stamped no later
 *   than the last disconnect recorded is that one told again (a debug log read
 *   on after a restart from a little before what was written): an `unknown`
 *   device is offline again since then, uncounted; a device alive since
 *   ignores it (and an `unknown` device with no session open ignores a connect
 *   from before that disconnect's second). Otherwise the device
 *   goes offline and it counts, without inventing a session record — unless the
 *   broker names the session's connect time (EMQX), then that session is
 *   recorded exactly.
 * - Will (device-reported offline): closes the open session with reason `will`
 *   and counts; a broker report for the same session later only refines it.
 *   The first will after a takeover belongs to the replaced connection and is
 *   ignored (after an implicit close it explains that close instead).
 * - Retained status replays only fill in a device whose status is `unknown`,
 *   and are never fresh activity (`lastSeenAt` unchanged). A retained offline
 *   for a device with no open session is not counted (we did not see it happen).
 * - Activity (ping or other control packet, publish, fresh status) brings a
 *   late/unknown/offline device online without opening a session (we did not
 *   see the connect); for an
 *   offline device only if it is newer than the disconnect, and never when the
 *   silence threshold has already run out since it (that would only flap).
 * - Silence verdicts need `ctx.pingsVisible`: late at lastConfirmed + k s
 *   (+ lateGraceMs), offline (`keepalive_timeout`) at lastConfirmed + 1.5·k s,
 *   stamped at those deadline times, not when a timer happened to fire.
 * - Monitor gap / restore: every device becomes `unknown`; sessions stay open
 *   and nothing is counted. Fresh events rebuild the picture.
 * - Re-learning has a deadline where pings are visible (`ctx.relearnSince`,
 *   when the monitor could hear the broker again): an `unknown` device with a
 *   keepalive k > 0 that shows no sign of life for 1.5·k s (+ the broker's
 *   check slack, `ctx.relearnSlackMs`) after that — and after pings became
 *   visible — is offline. Its open session is closed at its last sign of
 *   life with reason `unknown`, marked `inferred`, and counted. Keepalive 0,
 *   an unknown keepalive, or no ping source: `unknown` until it speaks.
 * - Broker restart (`onBrokerRestart`): every session open from before the
 *   broker came back ended when it went down (`broker_restart`, not counted:
 *   not the device's doing). A device not seen alive since the broker came
 *   back is offline; one that was already offline keeps its earlier reason;
 *   one never seen connecting (known from device topics only) is left as it is.
 */
import { brokerDeadline } from "../keepalive";
import type {
  ActivityEvent,
  ConnectEvent,
  DisconnectEvent,
  DisconnectReason,
  SignalSource,
  StatusEvent,
} from "../ingest/events";
import type { ClosedSession, DeviceState, DeviceStatus, FleetEffect } from "./types";

export interface MachineContext {
  now: number;
  /** A source that sees PINGREQs is active for this device: silence means silence. */
  pingsVisible: boolean;
  /** Extra slack before `late` (the offline threshold stays 1.5 × keepalive). */
  lateGraceMs?: number;
  /**
   * When the current stretch of ping visibility began (a debug log seen, or
   * moving again after a stall). Silence is measured from no earlier than
   * this: pings sent while nobody could see them are not missing.
   */
  pingsVisibleSince?: number;
  /**
   * The ping source is known complete up to this time (a log file: when its
   * latest line was read). A silence verdict waits until the source has
   * shown it was watching past the deadline; default `now` (in-process).
   */
  observedUntil?: number;
  /**
   * Since when the monitor hears the broker again after a gap or a restart
   * of its own; null while it does not. Re-learning deadlines count from here.
   */
  relearnSince?: number | null;
  /** How late after 1.5 × keepalive the broker itself may drop a silent client (its check interval). */
  relearnSlackMs?: number;
}

/** What the monitor knows of one broker restart (lib/broker/restarts.ts). */
export interface BrokerRestartFacts {
  /** Best estimate of when the broker went down: every session open then ended here. */
  downAt: number;
  /**
   * Connects and signs of life reported at or after this belong to the new run
   * (Infinity when everything applied so far is known to be the old run's:
   * the restart is applied in the order the broker told it).
   */
  keepFrom: number;
}

/** How soon a verdict that is due but not yet backed by the ping source is looked at again. */
export const OBSERVE_RECHECK_MS = 1_000;

export interface Transition {
  state: DeviceState;
  effects: FleetEffect[];
  /** Next time `onDeadline` must be called (the next change silence alone would cause), or null. */
  deadline: number | null;
}

/** Fields added after the first schema: a saved row may lack them. */
type AddedField = "connectReportedAt" | "lastConfirmedAt" | "lastClosed" | "takeoverCount" | "takeoverWillPending";
export type SavedDeviceState = Omit<DeviceState, AddedField> & Partial<Pick<DeviceState, AddedField>>;

/** The state being built by one transition and the effects asked for so far. */
interface Draft {
  s: DeviceState;
  fx: FleetEffect[];
}

const NO_SOURCES: readonly SignalSource[] = Object.freeze([]);

export function newDevice(id: string, now: number): DeviceState {
  return {
    id,
    status: "unknown",
    statusSince: now,
    keepaliveSeconds: null,
    lastSeenAt: null,
    lastPingAt: null,
    lastMessageAt: null,
    connectedAt: null,
    sessionOpen: false,
    lastDisconnectAt: null,
    lastDisconnectReason: null,
    disconnectCount: 0,
    address: null,
    protocol: null,
    cleanStart: null,
    sources: NO_SOURCES,
    firstSeenAt: now,
    connectReportedAt: null,
    lastConfirmedAt: null,
    lastClosed: null,
    takeoverCount: 0,
    takeoverWillPending: false,
  };
}

export function applyEvent(prev: DeviceState | undefined, ev: ActivityEvent, ctx: MachineContext): Transition {
  const base = prev ?? newDevice(ev.deviceId, ev.at);
  const d = draft(base);
  addSource(d.s, ev.source);
  dispatch(d, ev, ctx);
  const t = finish(base, d, ctx);
  return prev ? t : announceNew(t, ev.at);
}

export function onDeadline(prev: DeviceState, ctx: MachineContext): Transition {
  // `late` needs a source that sees pings: without one (it stalled, say) the device is back to online.
  if (prev.status === "late" && !ctx.pingsVisible) return finish(prev, draft(prev), ctx);
  const due = deadlineOf(prev, ctx);
  // Timers fire early or twice: before the deadline this is a no-op that hands the same deadline back.
  if (due === null || ctx.now < due) return { state: prev, effects: [], deadline: due };
  return finish(prev, draft(prev), ctx);
}

/** The monitor lost the broker: nothing it believes is current any more. Nothing is closed or counted. */
export function onMonitorGap(prev: DeviceState, ctx: MachineContext): Transition {
  const d = draft(prev);
  setStatus(d, "unknown", ctx.now);
  return finish(prev, d, ctx);
}

/** The broker restarted (see the header): the sessions of its old run are over. */
export function onBrokerRestart(prev: DeviceState, r: BrokerRestartFacts, ctx: MachineContext): Transition {
  const d = draft(prev);
  const { s } = d;
  // Seen alive on the new run (a ping or publish whose connect we missed): online, with no session of ours.
  const fresh = s.lastSeenAt !== null && s.lastSeenAt >= r.keepFrom;
  const openedBefore = s.sessionOpen && (s.connectReportedAt ?? s.connectedAt ?? r.keepFrom) < r.keepFrom;
  if (openedBefore) {
    const when = closeSession(d, "broker_restart", r.downAt, null, false);
    s.lastDisconnectAt = when;
    s.lastDisconnectReason = "broker_restart";
    s.takeoverWillPending = false;
    if (!fresh) setStatus(d, "offline", when);
  } else if (!s.sessionOpen && !fresh && s.status !== "offline" && s.connectedAt !== null) {
    // A client we saw connect before: connected since without a session we saw, or unknown since a gap.
    // (A device known only from what others publish about it has no connection of its own to lose.)
    const wasOffline = s.lastDisconnectAt !== null && (s.lastSeenAt === null || s.lastDisconnectAt >= s.lastSeenAt);
    if (!wasOffline) {
      s.lastDisconnectAt = Math.max(r.downAt, s.lastSeenAt ?? r.downAt);
      s.lastDisconnectReason = "broker_restart";
    }
    setStatus(d, "offline", wasOffline ? ctx.now : (s.lastDisconnectAt as number));
  }
  return finish(prev, d, ctx);
}

/**
 * State loaded after a restart. The monitor was away, so the device is
 * `unknown` whatever it was (it may have come and gone meanwhile); persisted
 * fields and the open session are kept, and fields a saved row lacks get
 * their defaults. If the monitor already hears the broker again (a database
 * that came back after the link), the device is being re-learned: it gets
 * that deadline like any other unknown device.
 */
export function restore(saved: SavedDeviceState, ctx: MachineContext): Transition {
  const full = withDefaults(saved);
  const d = draft(full);
  setStatus(d, "unknown", ctx.now);
  return finish(full, d, ctx);
}

/**
 * State adopted from a leader that kept watching (lib/cluster: a standby
 * joining a running cluster): the monitor was not away, so the status stands
 * as the leader stored it, and deadlines follow from it as from any state.
 */
export function adopt(saved: SavedDeviceState, ctx: MachineContext): Transition {
  const full = withDefaults(saved);
  return finish(full, draft(full), ctx);
}

function withDefaults(saved: SavedDeviceState): DeviceState {
  return copyState({
    ...saved,
    sources: sourceSet(saved.sources),
    connectReportedAt: saved.connectReportedAt ?? saved.connectedAt,
    lastConfirmedAt: saved.lastConfirmedAt ?? saved.lastSeenAt,
    lastClosed: saved.lastClosed ?? null,
    takeoverCount: saved.takeoverCount ?? 0,
    takeoverWillPending: saved.takeoverWillPending ?? false,
  });
}

// ---------------------------------------------------------------- plumbing

function draft(s: DeviceState): Draft {
  return { s: copyState(s), fx: [] };
}

/**
 * A copy with every field, in one order: every device state shares one
 * hidden class, which keeps copies cheap (one per event) and states compact.
 * Extra properties of `s` (say, a database row's) are left behind.
 */
function copyState(s: DeviceState): DeviceState {
  return {
    id: s.id,
    status: s.status,
    statusSince: s.statusSince,
    keepaliveSeconds: s.keepaliveSeconds,
    lastSeenAt: s.lastSeenAt,
    lastPingAt: s.lastPingAt,
    lastMessageAt: s.lastMessageAt,
    connectedAt: s.connectedAt,
    sessionOpen: s.sessionOpen,
    lastDisconnectAt: s.lastDisconnectAt,
    lastDisconnectReason: s.lastDisconnectReason,
    disconnectCount: s.disconnectCount,
    address: s.address,
    protocol: s.protocol,
    cleanStart: s.cleanStart,
    sources: s.sources,
    firstSeenAt: s.firstSeenAt,
    connectReportedAt: s.connectReportedAt,
    lastConfirmedAt: s.lastConfirmedAt,
    lastClosed: s.lastClosed,
    takeoverCount: s.takeoverCount,
    takeoverWillPending: s.takeoverWillPending,
  };
}

const STATE_KEYS = Object.keys(newDevice("", 0)) as readonly (keyof DeviceState)[];

function finish(prev: DeviceState, d: Draft, ctx: MachineContext): Transition {
  settleSilence(d, ctx);
  const state = sameState(prev, d.s) ? prev : d.s;
  return { state, effects: d.fx, deadline: deadlineOf(state, ctx) };
}

function sameState(a: DeviceState, b: DeviceState): boolean {
  // Nested values (sources, lastClosed) are replaced, never mutated, so reference equality suffices.
  for (const key of STATE_KEYS) if (a[key] !== b[key]) return false;
  return true;
}

/** A device's first transition announces it: its first status-change comes from `null`. */
function announceNew(t: Transition, at: number): Transition {
  const i = t.effects.findIndex((e) => e.type === "status-change");
  const effects = [...t.effects];
  if (i < 0) {
    effects.unshift({ type: "status-change", deviceId: t.state.id, from: null, to: "unknown", at });
  } else {
    const first = effects[i];
    if (first.type === "status-change") effects[i] = { ...first, from: null };
  }
  return { ...t, effects };
}

function addSource(s: DeviceState, source: SignalSource): void {
  if (!s.sources.includes(source)) s.sources = sourceSet([...s.sources, source]);
}

const SOURCE_SETS = new Map<string, readonly SignalSource[]>();

/**
 * The sorted, unique, frozen list of these sources, shared by every device with
 * the same ones (a handful of combinations for the whole fleet instead of an
 * array per device).
 */
export function sourceSet(sources: Iterable<SignalSource>): readonly SignalSource[] {
  const list = [...new Set(sources)].sort();
  const key = list.join(",");
  let shared = SOURCE_SETS.get(key);
  if (!shared) {
    shared = Object.freeze(list);
    // Sources are a small closed set; a database row with made-up ones must not grow this without bound.
    if (SOURCE_SETS.size < 256) SOURCE_SETS.set(key, shared);
  }
  return shared;
}

function dispatch(d: Draft, ev: ActivityEvent, ctx: MachineContext): void {
  switch (ev.kind) {
    case "connect":
      return onConnect(d, ev, ctx);
    case "disconnect":
      return onDisconnect(d, ev);
    case "takeover":
      return onTakeover(d, ev.at);
    case "ping":
      return onActivity(d, ev.at, "ping", ctx);
    case "packet":
      return onActivity(d, ev.at, "packet", ctx);
    case "publish":
      return onActivity(d, ev.at, "message", ctx);
    case "status":
      return onStatus(d, ev, ctx);
    default: {
      const unreachable: never = ev;
      return unreachable;
    }
  }
}

function setStatus(d: Draft, to: DeviceStatus, at: number): void {
  const { s } = d;
  if (s.status === to) return;
  // statusSince never moves backwards: broker stamps (whole seconds on Mosquitto) can trail the monitor's clock.
  const since = Math.max(at, s.statusSince);
  d.fx.push({ type: "status-change", deviceId: s.id, from: s.status, to, at: since });
  s.status = to;
  s.statusSince = since;
  // An offline device ignores wills anyway; a flag left armed would swallow the will of its next
  // connection (every way offline, not only goOffline: a restart, a re-learning verdict, a retained will).
  if (to === "offline") s.takeoverWillPending = false;
}

const later = (a: number | null, b: number): number => (a === null ? b : Math.max(a, b));

/** Records a sign of life. Times only move forward: late deliveries never rewind them. */
function touch(s: DeviceState, at: number, kind: "connect" | "ping" | "packet" | "message"): void {
  s.lastSeenAt = later(s.lastSeenAt, at);
  s.lastConfirmedAt = later(s.lastConfirmedAt, at);
  if (kind === "ping") s.lastPingAt = later(s.lastPingAt, at);
  if (kind === "message") s.lastMessageAt = later(s.lastMessageAt, at);
}

/** A non-activity signal (retained status, restated connect) vouches the device is up as of `at`. */
function reconfirm(d: Draft, at: number): void {
  d.s.lastConfirmedAt = later(d.s.lastConfirmedAt, at);
  setStatus(d, "online", at);
}

// ---------------------------------------------------------------- sessions

/** `connectSeen`: the connect itself is the session's first sign of life (false for a session only named by a report). */
function openSession(d: Draft, reportedAt: number, keepaliveSeconds: number | null, connectSeen: boolean): void {
  const { s } = d;
  const connectedAt = Math.max(reportedAt, (s.connectedAt ?? Number.NEGATIVE_INFINITY) + 1);
  const lastActivityAt = connectSeen ? connectedAt : null;
  s.connectedAt = connectedAt;
  s.connectReportedAt = reportedAt;
  s.sessionOpen = true;
  d.fx.push({
    type: "session-open",
    session: { deviceId: s.id, connectedAt, disconnectedAt: null, reason: null, keepaliveSeconds, lastActivityAt },
  });
}

/** Closes the open session; returns its end time (never before its start). */
function closeSession(
  d: Draft,
  reason: DisconnectReason,
  at: number,
  reportedEndAt: number | null,
  counted: boolean,
  inferred = false,
): number {
  const { s } = d;
  const connectedAt = s.connectedAt ?? at;
  const disconnectedAt = Math.max(at, connectedAt);
  // Only a sign of life since this session's connect belongs to it (a session named by a report has none),
  // and none after its end: a later one is the next session's (its connect delivered late) or was seen
  // after the estimated end (a broker restart's stop). The session was alive up to its end then.
  const startedAt = s.connectReportedAt ?? connectedAt;
  const lastActivityAt =
    s.lastSeenAt !== null && s.lastSeenAt >= startedAt ? Math.min(s.lastSeenAt, disconnectedAt) : null;
  d.fx.push({
    type: "session-close",
    deviceId: s.id,
    connectedAt,
    disconnectedAt,
    reason,
    lastActivityAt,
    ...(inferred && { inferred }),
  });
  s.sessionOpen = false;
  s.lastClosed = {
    connectedAt,
    connectReportedAt: s.connectReportedAt ?? connectedAt,
    disconnectedAt,
    reason,
    counted,
    reportedEndAt,
  };
  return disconnectedAt;
}

/** The device went offline: the one place a disconnect is counted for a live transition. */
function goOffline(d: Draft, reason: DisconnectReason, at: number, reportedEndAt: number | null): void {
  const { s } = d;
  // A broker going down (the embedded one stopping with keepwatch) is not the device's disconnect.
  const counted = reason !== "broker_restart";
  const when = s.sessionOpen ? closeSession(d, reason, at, reportedEndAt, counted) : at;
  if (counted) s.disconnectCount += 1;
  s.lastDisconnectAt = when;
  s.lastDisconnectReason = reason;
  s.takeoverWillPending = false;
  setStatus(d, "offline", when);
}

/** Another connection took the client id over: the session ends, the device does not go offline. */
function takeOverSession(d: Draft, at: number): void {
  closeSession(d, "taken_over", at, at, false);
  d.s.takeoverCount += 1;
  expectReplacedWill(d.s);
}

/**
 * Brokers publish the replaced connection's will on takeover; it must not take
 * the new connection offline. An offline device ignores wills anyway, and a
 * flag left armed there would swallow the next genuine will.
 */
function expectReplacedWill(s: DeviceState): void {
  if (s.status !== "offline") s.takeoverWillPending = true;
}

/** Ends the current session as a broker report says. */
function endSession(d: Draft, reason: DisconnectReason, at: number): void {
  if (reason === "taken_over") takeOverSession(d, at);
  else goOffline(d, reason, at, at);
}

const isProvisional = (r: DisconnectReason | null): boolean => r === "unknown" || r === "will";

/** Closed because a newer connect arrived while it was open; how it really ended is not known yet. */
const awaitsReason = (c: ClosedSession | null): boolean => c !== null && c.reason === "unknown" && !c.counted;

function canRefine(c: ClosedSession, reason: DisconnectReason): boolean {
  if (reason === "unknown" || reason === c.reason) return false;
  if (!isProvisional(c.reason)) return false; // a definite reason stands
  // Turning a counted disconnect into a takeover would have to un-count it; the first report stands.
  return !(reason === "taken_over" && c.counted);
}

/**
 * A late report tells how the last closed session really ended. `reportedAt`
 * is the broker's time of that report (null for a device-reported will).
 */
function refineClosed(d: Draft, reason: DisconnectReason, at: number, reportedAt: number | null): void {
  const { s } = d;
  const c = s.lastClosed;
  if (!c || !canRefine(c, reason)) return;
  d.fx.push({
    type: "session-refine",
    deviceId: s.id,
    connectedAt: c.connectedAt,
    disconnectedAt: c.disconnectedAt,
    reason,
  });
  const causedCurrentOffline = c.counted && s.lastDisconnectAt === c.disconnectedAt;
  let counted = c.counted;
  if (!counted && reason !== "taken_over" && reason !== "will") {
    // An implicitly closed session that really dropped (no handover): a disconnect we saw out of order.
    counted = true;
    s.disconnectCount += 1;
    if (s.lastDisconnectAt === null || at >= s.lastDisconnectAt) {
      s.lastDisconnectAt = at;
      s.lastDisconnectReason = reason;
    }
  } else if (causedCurrentOffline) {
    s.lastDisconnectReason = reason;
  }
  if (reason === "taken_over") {
    s.takeoverCount += 1;
    // If its will already came (reason was `will`), none is pending any more.
    if (c.reason !== "will") expectReplacedWill(s);
  }
  s.lastClosed = { ...c, reason, counted, reportedEndAt: reportedAt ?? c.reportedEndAt };
}

// ---------------------------------------------------------------- connect

function onConnect(d: Draft, ev: ConnectEvent, ctx: MachineContext): void {
  const { s } = d;
  if (isStaleConnect(s, ev)) return;
  if (isDuplicateConnect(s, ev)) {
    // The broker restating the session we hold open (a replay, or a client-list reconcile after a
    // gap). It adds nothing, except that an `unknown` device is thereby re-confirmed.
    if (s.status === "unknown") reconfirm(d, ctx.now);
    return;
  }
  if (s.sessionOpen) closeSession(d, "unknown", ev.at, ev.at, false);
  openSession(d, ev.at, ev.keepaliveSeconds, true);
  // The record keeps what this connect said; the state keeps the last known value for deadlines.
  s.keepaliveSeconds = ev.keepaliveSeconds ?? s.keepaliveSeconds;
  s.address = ev.address ?? s.address;
  s.protocol = ev.protocol ?? s.protocol;
  s.cleanStart = ev.cleanStart ?? s.cleanStart;
  touch(s, ev.at, "connect");
  setStatus(d, "online", ev.at);
}

/** A connect that happened before something the broker already told us. */
function isStaleConnect(s: DeviceState, ev: ConnectEvent): boolean {
  // Older than the current/last session's own connect: an older session's connect, delivered late.
  if (s.connectReportedAt !== null && ev.at < s.connectReportedAt) return true;
  // Unknown (restored) with its last session closed: a connect from before the second that session's
  // end was recorded in is that session's own (a debug log read again after a restart; whole seconds,
  // so a reconnect in that same second is not mistaken for it).
  const ended = s.lastDisconnectAt;
  if (!s.sessionOpen && s.status === "unknown" && ended !== null && ev.at < ended - (ended % 1000)) return true;
  const c = s.lastClosed;
  // Before the broker-reported end of the last session: that session's own connect, delivered after
  // its end (EMQX may swap connected/disconnected).
  if (s.sessionOpen || c === null || c.reportedEndAt === null || ev.at >= c.reportedEndAt) return false;
  // After a takeover only that session's own connect is stale: the new connection's connect can
  // precede the report that the old one was taken over.
  return c.reason !== "taken_over" || ev.at <= c.connectReportedAt;
}

function isDuplicateConnect(s: DeviceState, ev: ConnectEvent): boolean {
  // Same stamp but another address or keepalive is a second connection in the same tick, not a copy.
  return (
    s.sessionOpen &&
    ev.at === s.connectReportedAt &&
    (ev.keepaliveSeconds ?? s.keepaliveSeconds) === s.keepaliveSeconds &&
    (ev.address ?? s.address) === s.address
  );
}

// ---------------------------------------------------------------- takeover / disconnect

/** Mosquitto logs the takeover before the new connect, so it always concerns the open session. */
function onTakeover(d: Draft, at: number): void {
  if (d.s.sessionOpen) takeOverSession(d, at);
  else expectReplacedWill(d.s); // an old connection we had no session for: its will may follow
}

/** Which session a disconnect report is about. */
type DisconnectTarget =
  | "current" // the open session
  | "previous" // the last closed session (a late report: may refine its reason)
  | "unseen" // a session newer than any connect we saw (named by its stamp)
  | "repeat" // the device is already offline: the same disconnect told again
  | "orphan" // not offline, no session open: a disconnect of a connection we never saw start
  | "recorded" // unknown, no session open, stamped no later than the last disconnect: that one, told again
  | "stale"; // an older session: ignore

function targetOf(s: DeviceState, ev: DisconnectEvent): DisconnectTarget {
  const stamp = ev.sessionConnectedAt ?? null;
  if (stamp !== null) return stampedTarget(s, stamp);
  if (s.sessionOpen) {
    // Stamped before the current connect: it ended an older session.
    if (s.connectReportedAt !== null && ev.at < s.connectReportedAt) return "previous";
    if (ev.reason === "taken_over") {
      const c = s.lastClosed;
      // A takeover report while we wait for an explanation of the last implicit close explains that
      // one (EMQX: `connected` for the new client, then `disconnected: takenover` for the old)...
      if (awaitsReason(c)) return "previous";
      // ...and the same report delivered again must not end the new session.
      if (c !== null && c.reason === "taken_over" && c.reportedEndAt === ev.at) return "previous";
    }
    return "current";
  }
  if (s.status === "offline") return "repeat";
  // No later than the disconnect already recorded (a log read again after a restart): old news. A
  // restored device is unknown until told; this says it is still down since then. Alive since: ignore.
  if (s.lastDisconnectAt !== null && ev.at <= s.lastDisconnectAt) return s.status === "unknown" ? "recorded" : "stale";
  return "orphan";
}

function stampedTarget(s: DeviceState, stamp: number): DisconnectTarget {
  if (s.connectReportedAt === null || stamp > s.connectReportedAt) return "unseen";
  if (stamp === s.connectReportedAt) return s.sessionOpen ? "current" : "previous";
  return s.lastClosed?.connectReportedAt === stamp ? "previous" : "stale";
}

function onDisconnect(d: Draft, ev: DisconnectEvent): void {
  const target = targetOf(d.s, ev);
  switch (target) {
    case "current":
      return endSession(d, ev.reason, ev.at);
    case "previous":
      return refineClosed(d, ev.reason, ev.at, ev.at);
    case "unseen":
      return onUnseenSession(d, ev, ev.sessionConnectedAt as number);
    case "repeat":
    case "orphan":
      if (ev.reason === "taken_over") return expectReplacedWill(d.s);
      return target === "repeat" ? refineOfflineEpisode(d, ev.reason) : goOffline(d, ev.reason, ev.at, ev.at);
    case "recorded":
      if (ev.reason === "taken_over") return;
      setStatus(d, "offline", d.s.lastDisconnectAt as number);
      return refineOfflineEpisode(d, ev.reason);
    case "stale":
      return;
  }
}

/** The broker names a session whose connect we never saw (late or lost): record it exactly. */
function onUnseenSession(d: Draft, ev: DisconnectEvent, stamp: number): void {
  const { s } = d;
  // The session we hold open must have ended before the newer one began.
  if (s.sessionOpen) closeSession(d, "unknown", stamp, stamp, false);
  const sameAsWill = ev.reason !== "taken_over" && isWillWithoutSession(s) && stamp <= (s.lastDisconnectAt as number);
  openSession(d, stamp, null, false);
  if (sameAsWill) {
    // The device's will already took it offline (and was counted): this is that same drop, told by the broker.
    closeSession(d, ev.reason, ev.at, ev.at, true);
    s.lastDisconnectReason = ev.reason;
    return;
  }
  endSession(d, ev.reason, ev.at);
}

/**
 * Offline because of a live will (counted, so it has a time) that closed no
 * session: we never saw that connection start.
 */
function isWillWithoutSession(s: DeviceState): boolean {
  if (s.status !== "offline" || s.lastDisconnectReason !== "will" || s.lastDisconnectAt === null) return false;
  const c = s.lastClosed;
  return !(c !== null && c.counted && c.disconnectedAt === s.lastDisconnectAt);
}

/** Already offline and no connect since: the same disconnect again. A broker reason may refine a provisional one. */
function refineOfflineEpisode(d: Draft, reason: DisconnectReason): void {
  const { s } = d;
  if (reason === "unknown" || reason === s.lastDisconnectReason || !isProvisional(s.lastDisconnectReason)) return;
  const c = s.lastClosed;
  if (c !== null && c.counted && c.disconnectedAt === s.lastDisconnectAt)
    refineClosed(d, reason, c.disconnectedAt, null);
  else s.lastDisconnectReason = reason;
}

// ---------------------------------------------------------------- activity and status

function onActivity(d: Draft, at: number, kind: "ping" | "packet" | "message", ctx: MachineContext): void {
  const { s } = d;
  const fresh = s.lastSeenAt === null || at > s.lastSeenAt;
  touch(s, at, kind);
  if (!fresh || s.status === "online") return;
  // Activity from before the disconnect, delivered late, does not undo it.
  if (s.status === "offline" && s.lastDisconnectAt !== null && at <= s.lastDisconnectAt) return;
  const verdict = silenceVerdict(s, ctx);
  // Alive at `at` but silent past the threshold since (a buffered log line): reviving would only flap.
  if (verdict === "offline") return;
  if (s.status === "late" && verdict === "late") return;
  // Online without opening a session: we did not see the connect. settleSilence moves it on to late if due.
  setStatus(d, "online", at);
}

function onStatus(d: Draft, ev: StatusEvent, ctx: MachineContext): void {
  if (ev.retained) onRetainedStatus(d, ev);
  else if (ev.online) onActivity(d, ev.at, "message", ctx);
  else onWill(d, ev.at);
}

/**
 * A replayed retained status is the last thing the device (or its will) said,
 * at some unknown time: it fills in a device we know nothing current about,
 * and is never fresh activity.
 */
function onRetainedStatus(d: Draft, ev: StatusEvent): void {
  const { s } = d;
  if (s.status !== "unknown") return;
  if (ev.online) return reconfirm(d, ev.at);
  // We held its session open (gap, restart): that session ended while we were away, a real disconnect.
  if (s.sessionOpen) return goOffline(d, "will", ev.at, null);
  // Nothing to close and no drop seen: offline, not counted; an earlier known reason is kept.
  if (s.lastDisconnectAt === null) s.lastDisconnectReason = "will";
  setStatus(d, "offline", ev.at);
}

/** A live (not retained) device-reported offline: its last will, or an explicit "offline". */
function onWill(d: Draft, at: number): void {
  const { s } = d;
  if (s.takeoverWillPending) {
    // Brokers publish the replaced connection's will on takeover; the new connection is fine.
    s.takeoverWillPending = false;
    return;
  }
  if (s.sessionOpen) {
    // EMQX order: new `connected` first, then the old connection's will. It explains the implicit close.
    if (awaitsReason(s.lastClosed)) return refineClosed(d, "will", at, null);
    return goOffline(d, "will", at, null);
  }
  // Already offline: the broker's reason, or ours, is at least as precise as "will".
  if (s.status === "offline") return;
  goOffline(d, "will", at, null);
}

// ---------------------------------------------------------------- silence

interface SilenceDeadlines {
  /** null when the grace pushes `late` to or past the offline threshold. */
  lateAt: number | null;
  offlineAt: number;
}

function silenceDeadlines(s: DeviceState, ctx: MachineContext): SilenceDeadlines | null {
  const k = s.keepaliveSeconds;
  // Without a source that sees pings, a device that only pings looks silent while healthy.
  // Keepalive 0 switches the mechanism off.
  if (!ctx.pingsVisible || k === null || k <= 0 || s.lastConfirmedAt === null) return null;
  const since = Math.max(s.lastConfirmedAt, ctx.pingsVisibleSince ?? s.lastConfirmedAt);
  const offlineAt = since + brokerDeadline(k) * 1000;
  const lateAt = since + k * 1000 + (ctx.lateGraceMs ?? 0);
  return { lateAt: lateAt < offlineAt ? lateAt : null, offlineAt };
}

/** What silence alone says about the device at ctx.now. */
function silenceVerdict(s: DeviceState, ctx: MachineContext): "online" | "late" | "offline" {
  const dl = silenceDeadlines(s, ctx);
  if (!dl) return "online";
  if (ctx.now >= dl.offlineAt) return "offline";
  return dl.lateAt !== null && ctx.now >= dl.lateAt ? "late" : "online";
}

/** When an `unknown` device that has shown no sign of life since the monitor hears again is offline, or null. */
function relearnDeadline(s: DeviceState, ctx: MachineContext): number | null {
  const k = s.keepaliveSeconds;
  if (s.status !== "unknown" || !ctx.pingsVisible || ctx.relearnSince == null || k === null || k <= 0) return null;
  const since = Math.max(ctx.relearnSince, ctx.pingsVisibleSince ?? ctx.relearnSince);
  // Alive since then: it would not be unknown (activity brings it back); a retained replay is no sign of life.
  if (s.lastSeenAt !== null && s.lastSeenAt >= since) return null;
  return since + brokerDeadline(k) * 1000 + (ctx.relearnSlackMs ?? 0);
}

/** Watched for the broker's whole deadline and not a sign of life: it is gone; when it went is inferred. */
function relearnExpired(d: Draft, at: number): void {
  const { s } = d;
  if (s.sessionOpen) {
    const when = closeSession(d, "unknown", s.lastSeenAt ?? at, null, true, true);
    s.disconnectCount += 1;
    s.lastDisconnectAt = when;
    s.lastDisconnectReason = "unknown";
    s.takeoverWillPending = false;
  }
  setStatus(d, "offline", at);
}

/** Applies every silence verdict due at ctx.now, each stamped at its own deadline. */
function settleSilence(d: Draft, ctx: MachineContext): void {
  const { s } = d;
  if (s.status === "late" && !ctx.pingsVisible) return setStatus(d, "online", ctx.now);
  if (s.status === "unknown") {
    const due = relearnDeadline(s, ctx);
    if (due !== null && Math.min(ctx.now, ctx.observedUntil ?? ctx.now) >= due) relearnExpired(d, due);
    return;
  }
  if (s.status !== "online" && s.status !== "late") return;
  const dl = silenceDeadlines(s, ctx);
  if (!dl) return;
  // Silence counts only as far as the ping source has shown it was watching.
  const seen = Math.min(ctx.now, ctx.observedUntil ?? ctx.now);
  if (s.status === "online" && dl.lateAt !== null && seen >= dl.lateAt) setStatus(d, "late", dl.lateAt);
  if (seen >= dl.offlineAt) goOffline(d, "keepalive_timeout", dl.offlineAt, null);
}

function deadlineOf(s: DeviceState, ctx: MachineContext): number | null {
  let due: number | null;
  if (s.status === "unknown") due = relearnDeadline(s, ctx);
  else if (s.status !== "online" && s.status !== "late") return null;
  else {
    const dl = silenceDeadlines(s, ctx);
    due = dl === null ? null : s.status === "online" ? (dl.lateAt ?? dl.offlineAt) : dl.offlineAt;
  }
  if (due === null) return null;
  // Due, but the source has not shown it watched that long (a lagging or stalling log): look again shortly.
  if (due <= ctx.now && (ctx.observedUntil ?? ctx.now) < due) return ctx.now + OBSERVE_RECHECK_MS;
  return due;
}
