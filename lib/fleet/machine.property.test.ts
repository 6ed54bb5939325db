/**
 * Property test (fast-check, 10,000 random histories) of the pure per-device
 * state machine: random event sequences — connects (Mosquitto and EMQX
 * stamps), disconnects with every reason, takeovers, pings, packets,
 * publishes, live and retained status/wills — interleaved with timer
 * firings, monitor gaps, broker restarts, restores from a saved row,
 * duplicate deliveries, late deliveries, and changes of ping visibility,
 * re-learning and log lag. After every step the structural guarantees and
 * the promises of machine.ts' header are checked (see `checkStep`).
 */
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { describe, it } from "vitest";
import { type ActivityEvent, DISCONNECT_REASONS, type DisconnectReason } from "../ingest/events";
import {
  applyEvent,
  type MachineContext,
  onBrokerRestart,
  onDeadline,
  onMonitorGap,
  restore,
  type SavedDeviceState,
  type Transition,
} from "./machine";
import { connect, disconnect, ping, publish, sec, status, takeover } from "./testing";
import { DEVICE_STATUSES, type DeviceState, type DeviceStatus } from "./types";

/** Generous: a property runs in about a second, but a loaded CI machine must not make it flaky. */
const PROPERTY_TEST = { timeout: 60_000 };

class PropertyFailure extends Error {}

const packet = (at: number): ActivityEvent => ({
  kind: "packet",
  deviceId: "dev-1",
  at,
  source: "aedes",
  packet: "puback",
});

function check(ok: boolean, what: string, detail?: unknown): asserts ok {
  if (!ok) throw new PropertyFailure(detail === undefined ? what : `${what}: ${JSON.stringify(detail)}`);
}

// ---------------------------------------------------------------------------
// Histories

type EventKind = "connect" | "disconnect" | "takeover" | "ping" | "packet" | "publish" | "status";

interface Env {
  pingsVisible: boolean;
  lateGraceMs: number | undefined;
  /** How long before now ping visibility began (null: not told). */
  visibleFor: number | null;
  /** How far the ping source lags behind now (MachineContext.observedUntil). */
  observedLag: number;
  /** How long ago the monitor heard the broker again (null: re-learning not in force). */
  relearnFor: number | null;
}

type Cmd =
  | {
      op: "event";
      dt: number;
      /** Delivered this late: the event happened `back` ms before now. */
      back: number;
      kind: EventKind;
      keepalive: number | null;
      port: number;
      emqx: boolean;
      reason: DisconnectReason;
      /** For EMQX disconnects: which earlier connect stamp it names (index), or none. */
      stamp: number | null;
      online: boolean;
      retained: boolean;
      env: Env | null;
    }
  | { op: "deadline"; dt: number; env: Env | null }
  | { op: "gap"; dt: number; env: Env | null }
  | { op: "restart"; dt: number; back: number; keepFrom: "infinity" | "downAt"; env: Env | null }
  | { op: "restore"; dt: number; legacy: boolean; env: Env | null }
  | { op: "replay"; env: Env | null };

const dt = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 2_500 }) },
  { weight: 2, arbitrary: fc.integer({ min: 2_500, max: 20_000 }) },
  { weight: 1, arbitrary: fc.constant(0) },
);

const env: fc.Arbitrary<Env | null> = fc.option(
  fc.record({
    pingsVisible: fc.boolean(),
    lateGraceMs: fc.constantFrom(undefined, 0, 1_000),
    visibleFor: fc.option(fc.integer({ min: 0, max: 30_000 }), { nil: null }),
    observedLag: fc.constantFrom(0, 0, 0, 500, 3_000),
    relearnFor: fc.option(fc.integer({ min: 0, max: 30_000 }), { nil: null }),
  }),
  { nil: null, freq: 6 },
);

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      op: fc.constant("event" as const),
      dt,
      back: fc.oneof(
        { weight: 4, arbitrary: fc.constant(0) },
        { weight: 2, arbitrary: fc.integer({ min: 0, max: 5_000 }) },
      ),
      kind: fc.constantFrom<EventKind>(
        "connect",
        "connect",
        "disconnect",
        "disconnect",
        "takeover",
        "ping",
        "ping",
        "packet",
        "publish",
        "status",
      ),
      keepalive: fc.constantFrom(0, 1, 2, 5, 10, null),
      port: fc.constantFrom(1, 2),
      emqx: fc.boolean(),
      reason: fc.constantFrom(...DISCONNECT_REASONS),
      stamp: fc.option(fc.nat(), { nil: null }),
      online: fc.boolean(),
      retained: fc.boolean(),
      env,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("deadline" as const), dt, env }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("gap" as const), dt, env }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("restart" as const),
      dt,
      back: fc.integer({ min: 0, max: 5_000 }),
      keepFrom: fc.constantFrom<"infinity" | "downAt">("infinity", "downAt"),
      env,
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("restore" as const), dt, legacy: fc.boolean(), env }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("replay" as const), env }) },
);

const initialEnv: fc.Arbitrary<Env> = fc.record({
  pingsVisible: fc.boolean(),
  lateGraceMs: fc.constantFrom(undefined, 0, 1_000),
  visibleFor: fc.option(fc.integer({ min: 0, max: 30_000 }), { nil: null }),
  observedLag: fc.constantFrom(0, 0, 0, 500, 3_000),
  relearnFor: fc.option(fc.integer({ min: 0, max: 30_000 }), { nil: null }),
});

function contextOf(e: Env, now: number): MachineContext {
  return {
    now,
    pingsVisible: e.pingsVisible,
    lateGraceMs: e.lateGraceMs,
    pingsVisibleSince: e.visibleFor === null ? undefined : now - e.visibleFor,
    observedUntil: now - e.observedLag,
    relearnSince: e.relearnFor === null ? null : now - e.relearnFor,
    relearnSlackMs: 6_000,
  };
}

function eventOf(c: Extract<Cmd, { op: "event" }>, now: number, stamps: readonly number[]): ActivityEvent {
  const at = now - c.back;
  const source = c.emqx ? { source: "emqx" as const } : {};
  switch (c.kind) {
    case "connect":
      return connect(at, { keepaliveSeconds: c.keepalive, address: `10.0.0.5:${c.port}`, ...source });
    case "disconnect": {
      const stamp = c.emqx && c.stamp !== null && stamps.length > 0 ? stamps[c.stamp % stamps.length] : undefined;
      return disconnect(at, c.reason, { ...source, ...(stamp !== undefined && { sessionConnectedAt: stamp }) });
    }
    case "takeover":
      return takeover(at);
    case "ping":
      return ping(at);
    case "packet":
      return packet(at);
    case "publish":
      return publish(at);
    case "status":
      return status(at, c.online, { retained: c.retained });
  }
}

// ---------------------------------------------------------------------------
// What the effects say, and what every step must keep true

const STATUSES: ReadonlySet<string> = new Set(DEVICE_STATUSES);
const ACTIVITY: ReadonlySet<string> = new Set(["ping", "packet", "publish"]);

/** The sessions and the status the effects describe, kept across steps. */
class Ledger {
  openKey: number | null = null;
  lastKey = Number.NEGATIVE_INFINITY;
  readonly closed = new Map<number, DisconnectReason>();
  status: DeviceStatus | null = null;
  statusSince = Number.NEGATIVE_INFINITY;

  apply(t: Transition, what: string): void {
    for (const e of t.effects) {
      check((e.type === "session-open" ? e.session.deviceId : e.deviceId) === "dev-1", `${what}: another device`, e);
      switch (e.type) {
        case "session-open":
          check(this.openKey === null, `${what}: at most one open session`, e);
          check(e.session.connectedAt > this.lastKey, `${what}: session keys strictly increase`, e);
          check(e.session.disconnectedAt === null && e.session.reason === null, `${what}: opened open`, e);
          this.openKey = this.lastKey = e.session.connectedAt;
          break;
        case "session-close":
          check(e.connectedAt === this.openKey, `${what}: closes the open session`, e);
          check(e.disconnectedAt >= e.connectedAt, `${what}: a session ends at or after its start`, e);
          check((DISCONNECT_REASONS as readonly string[]).includes(e.reason), `${what}: reason`, e);
          check(e.lastActivityAt === null || e.lastActivityAt <= e.disconnectedAt, `${what}: activity after end`, e);
          check(!e.inferred || e.reason === "unknown", `${what}: an inferred end has reason unknown`, e);
          this.closed.set(e.connectedAt, e.reason);
          this.openKey = null;
          break;
        case "session-refine":
          check(this.closed.has(e.connectedAt), `${what}: refines a closed session`, e);
          check(e.reason !== "unknown", `${what}: a refinement tells something`, e);
          this.closed.set(e.connectedAt, e.reason);
          break;
        case "status-change":
          check(STATUSES.has(e.to), `${what}: status is one of ${[...STATUSES]}`, e);
          check(e.from === this.status, `${what}: status-change from the current status`, e);
          check(e.from !== e.to, `${what}: status-change changes the status`, e);
          check(e.at >= this.statusSince, `${what}: statusSince moves backwards`, e);
          this.status = e.to;
          this.statusSince = e.at;
          break;
      }
    }
  }
}

const later = (a: number | null, b: number | null) => (a ?? -1) >= (b ?? -1);

function checkStep(
  prev: DeviceState | undefined,
  t: Transition,
  ctx: MachineContext,
  ledger: Ledger,
  what: string,
  /** False for restore(): its state is built from a saved row, never `prev` itself. */
  sameObjectRule = true,
): void {
  ledger.apply(t, what);
  const s = t.state;
  check(STATUSES.has(s.status), `${what}: status is one of online/late/offline/unknown`, s.status);
  check(s.status === ledger.status && s.statusSince === ledger.statusSince, `${what}: status agrees with effects`, s);
  // No status from the future (event times here are never after now), except a session key nudged
  // forward (+1 ms per connect stamped alike) whose end cannot precede it.
  check(
    s.statusSince <= Math.max(ctx.now, s.connectedAt ?? Number.NEGATIVE_INFINITY),
    `${what}: status stamped in the future`,
    { s, now: ctx.now },
  );
  check(s.sessionOpen === (ledger.openKey !== null), `${what}: sessionOpen agrees with effects`, s);
  check(!s.sessionOpen || s.connectedAt === ledger.openKey, `${what}: connectedAt is the open session's key`, s);
  check(!(s.status === "offline" && s.sessionOpen), `${what}: offline with a session open`, s);
  // expectReplacedWill: "an offline device ignores wills anyway, and a flag left armed there would
  // swallow the next genuine will".
  check(!(s.status === "offline" && s.takeoverWillPending), `${what}: offline with a replaced will expected`, s);
  // Session keys are the broker's stamps nudged forward, never back.
  check(!s.sessionOpen || (s.connectReportedAt ?? -Infinity) <= (s.connectedAt as number), `${what}: nudge`, s);
  const c = s.lastClosed;
  if (c)
    check(
      c.connectReportedAt <= c.connectedAt && c.connectedAt <= c.disconnectedAt,
      `${what}: last closed session's times`,
      c,
    );
  check(
    s.sources.every((x, i) => i === 0 || s.sources[i - 1] < x),
    `${what}: sources sorted and unique`,
    s.sources,
  );
  if (prev) {
    // Times only move forward; counters only up.
    check(later(s.lastSeenAt, prev.lastSeenAt), `${what}: lastSeenAt moved backwards`, { prev, s });
    check(later(s.lastPingAt, prev.lastPingAt), `${what}: lastPingAt moved backwards`);
    check(later(s.lastMessageAt, prev.lastMessageAt), `${what}: lastMessageAt moved backwards`);
    check(later(s.lastConfirmedAt, prev.lastConfirmedAt), `${what}: lastConfirmedAt moved backwards`);
    check(s.disconnectCount >= prev.disconnectCount, `${what}: disconnectCount decreased`);
    check(s.takeoverCount >= prev.takeoverCount, `${what}: takeoverCount decreased`);
    check(s.firstSeenAt === prev.firstSeenAt && s.id === prev.id, `${what}: identity changed`);
    // "A transition that changes nothing returns the very same state object" (and one that asks for
    // effects has changed something).
    if (sameObjectRule) {
      const unchanged = t.effects.length === 0 && isDeepStrictEqual(s, prev);
      check(unchanged === (s === prev), `${what}: same object exactly when nothing changed`, { prev, s });
    }
  }
  // Silence verdicts need a source that sees pings.
  if (!ctx.pingsVisible) {
    check(t.deadline === null, `${what}: a deadline without a ping source`, t.deadline);
    check(
      !t.effects.some((e) => e.type === "status-change" && e.to === "late"),
      `${what}: late without a ping source`,
      t.effects,
    );
  }
  if (t.deadline !== null) {
    const relearning = s.status === "unknown" && ctx.pingsVisible && ctx.relearnSince != null;
    check(s.status === "online" || s.status === "late" || relearning, `${what}: deadline for ${s.status}`);
    check(t.deadline > ctx.now, `${what}: deadline already due`, { deadline: t.deadline, now: ctx.now });
    // Timers fire early: before the deadline it is a no-op handing the same deadline back. (Not for a
    // "look again shortly" deadline, set while the ping source lags behind a due verdict: that one is
    // relative to now.)
    if ((ctx.observedUntil ?? ctx.now) >= ctx.now) {
      const early = onDeadline(s, { ...ctx, now: t.deadline - 1, observedUntil: t.deadline - 1 });
      check(early.state === s && early.effects.length === 0 && early.deadline === t.deadline, `${what}: early timer`);
    }
  } else {
    // No deadline: nothing silence alone would change, now or later.
    const much = onDeadline(s, { ...ctx, now: ctx.now + 10 * 86_400_000, observedUntil: ctx.now + 10 * 86_400_000 });
    check(much.state === s, `${what}: no deadline, yet silence changes the device`, { s, after: much.state });
  }
}

/** Whether silence alone would change the device at ctx (a timer that is due). */
const due = (s: DeviceState, ctx: MachineContext) => onDeadline(s, ctx).state !== s;

// ---------------------------------------------------------------------------

describe("machine: random histories keep the machine's promises (fast-check)", () => {
  it("holds every invariant after every step (10,000 histories)", PROPERTY_TEST, () => {
    fc.assert(
      fc.property(initialEnv, fc.array(cmd, { minLength: 1, maxLength: 40 }), (env0, cmds) => {
        const ledger = new Ledger();
        let e = env0;
        let now = sec(0);
        let state: DeviceState | undefined;
        let lastEvent: ActivityEvent | null = null;
        const stamps: number[] = [];
        cmds.forEach((c, i) => {
          if (c.env) e = c.env;
          if (c.op !== "replay") now += c.dt;
          const ctx = contextOf(e, now);
          const what = `step ${i} ${c.op}${c.op === "event" ? `:${c.kind}` : ""}`;
          if (c.op === "event" || (c.op === "replay" && lastEvent !== null)) {
            const ev = c.op === "event" ? eventOf(c, now, stamps) : (lastEvent as ActivityEvent);
            const prev = state;
            const t = applyEvent(prev, ev, ctx);
            checkStep(prev, t, ctx, ledger, `${what} ${JSON.stringify(ev)}`);
            checkEvent(prev, ev, t, ctx, `${what} ${JSON.stringify(ev)}`);
            if (ev.kind === "connect" && c.op === "event") stamps.push(ev.at);
            lastEvent = ev;
            state = t.state;
            return;
          }
          if (!state) return;
          const prev: DeviceState = state;
          let t: Transition;
          switch (c.op) {
            case "deadline":
              t = onDeadline(prev, ctx);
              break;
            case "gap": {
              // While the monitor does not hear the broker, nothing re-learns.
              const gapCtx = { ...ctx, relearnSince: null };
              t = onMonitorGap(prev, gapCtx);
              checkStep(prev, t, gapCtx, ledger, what);
              const nothingDue = !due(prev, gapCtx);
              check(t.state.status === "unknown", `${what}: a gap makes the device unknown`, t.state);
              check(t.state.sessionOpen === prev.sessionOpen, `${what}: a gap closes no session`, t.effects);
              if (nothingDue)
                check(
                  t.effects.every((x) => x.type === "status-change") &&
                    t.state.disconnectCount === prev.disconnectCount,
                  `${what}: a gap counts nothing`,
                  t.effects,
                );
              state = t.state;
              return;
            }
            case "restart": {
              const downAt = now - c.back;
              const keepFrom = c.keepFrom === "infinity" ? Number.POSITIVE_INFINITY : downAt;
              t = onBrokerRestart(prev, { downAt, keepFrom }, ctx);
              checkStep(prev, t, ctx, ledger, what);
              checkRestart(prev, t, ctx, keepFrom, what);
              state = t.state;
              return;
            }
            case "restore": {
              const saved: SavedDeviceState = c.legacy ? legacyRow(prev) : { ...prev };
              t = restore(saved, ctx);
              // A restore replaces the state (the monitor restarted): checked as a step from `prev`.
              // A legacy row never held lastConfirmedAt: it defaults to lastSeenAt (withDefaults).
              const base = c.legacy ? { ...prev, lastConfirmedAt: prev.lastSeenAt } : prev;
              checkStep(base, t, ctx, ledger, what, false);
              const relearning = ctx.pingsVisible && ctx.relearnSince != null;
              if (relearning) {
                // Re-learning already in force: unknown, or offline by its verdict if that is already due.
                check(t.state.status === "unknown" || t.state.status === "offline", `${what}: restored`, t.state);
              } else {
                check(t.state.status === "unknown", `${what}: restored devices are unknown`, t.state);
                check(
                  t.effects.every((x) => x.type === "status-change"),
                  `${what}: restore only changes status`,
                );
                check(t.state.sessionOpen === prev.sessionOpen, `${what}: restore keeps the open session`, t.state);
                check(t.state.disconnectCount === prev.disconnectCount, `${what}: restore keeps counts`, t.state);
              }
              state = t.state;
              return;
            }
            default:
              return;
          }
          checkStep(prev, t, ctx, ledger, what);
          state = t.state;
        });
      }),
      { numRuns: 10_000 },
    );
  });
});

/** A row saved before the fields added later (machine.ts `SavedDeviceState`). */
function legacyRow(s: DeviceState): SavedDeviceState {
  const {
    connectReportedAt: _a,
    lastConfirmedAt: _b,
    lastClosed: _c,
    takeoverCount: _d,
    takeoverWillPending: _e,
    ...rest
  } = s;
  return { ...rest, takeoverCount: s.takeoverCount };
}

/** The header's promises about single events. */
function checkEvent(
  prev: DeviceState | undefined,
  ev: ActivityEvent,
  t: Transition,
  ctx: MachineContext,
  what: string,
): void {
  const s = t.state;
  const opened = t.effects.some((e) => e.type === "session-open");
  const isActivity = ACTIVITY.has(ev.kind) || (ev.kind === "status" && ev.online && !ev.retained);
  if (isActivity) {
    // Activity brings a device online without opening a session (we did not see the connect)...
    check(!opened, `${what}: activity opened a session`, t.effects);
    // ...and activity from before the disconnect, delivered late, does not undo it.
    if (prev?.status === "offline" && prev.lastDisconnectAt !== null && ev.at <= prev.lastDisconnectAt)
      check(s.status === "offline", `${what}: late activity revived an offline device`, s);
  }
  if (ev.kind === "status" && ev.retained) {
    check(s.lastSeenAt === (prev?.lastSeenAt ?? null), `${what}: a retained replay is no activity`, s);
    check(!opened, `${what}: a retained replay opened a session`);
  }
  if (prev === undefined) {
    const first = t.effects.find((e) => e.type === "status-change");
    check(first?.type === "status-change" && first.from === null, `${what}: a new device is announced`, t.effects);
    return;
  }
  // The rest compares with the device as silence alone would leave it: only when nothing is due.
  if (due(prev, ctx)) return;
  if (ev.kind === "takeover") {
    // Closes the open session as taken_over at once; the status does not change; not counted.
    const closes = t.effects.filter((e) => e.type === "session-close");
    if (prev.sessionOpen)
      check(
        closes.length === 1 && closes[0].type === "session-close" && closes[0].reason === "taken_over",
        `${what}: a takeover ends the open session as taken_over`,
        t.effects,
      );
    else check(closes.length === 0, `${what}: a takeover without a session closes nothing`, t.effects);
    check(s.status === prev.status, `${what}: a takeover changes the status`, { prev, s });
    check(s.disconnectCount === prev.disconnectCount, `${what}: a takeover counted as a disconnect`, s);
    check(s.takeoverCount === prev.takeoverCount + (prev.sessionOpen ? 1 : 0), `${what}: takeoverCount`, s);
    check(s.lastSeenAt === prev.lastSeenAt, `${what}: a takeover is no sign of life`, s);
  }
  if (ev.kind === "disconnect" && ev.reason !== "taken_over" && ev.reason !== "broker_restart") {
    // A disconnect of the open session (no stamp, not older than its connect) ends it: offline, counted once.
    if (prev.sessionOpen && ev.sessionConnectedAt == null && ev.at >= (prev.connectReportedAt ?? -Infinity))
      check(
        s.status === "offline" && !s.sessionOpen && s.disconnectCount === prev.disconnectCount + 1,
        `${what}: a disconnect of the open session takes the device offline, counted once`,
        { prev, s },
      );
  }
  // A connect that opens a session brings the device online (late already, if it was delivered so late
  // that its keepalive has run out: a silence verdict, which needs a ping source).
  if (ev.kind === "connect" && opened && s.sessionOpen)
    check(
      s.status === "online" || (s.status === "late" && ctx.pingsVisible),
      `${what}: a connect opens a session, online`,
      s,
    );
}

/** onBrokerRestart's promises (header: "Broker restart"). */
function checkRestart(prev: DeviceState, t: Transition, ctx: MachineContext, keepFrom: number, what: string): void {
  const s = t.state;
  // (Silence alone may be due at the same moment: its verdict is not the restart's.)
  if (due(prev, ctx)) return;
  for (const e of t.effects)
    if (e.type === "session-close") check(e.reason === "broker_restart", `${what}: closed as broker_restart`, e);
  if (keepFrom !== Number.POSITIVE_INFINITY) return;
  // Everything applied so far belongs to the old run: no session survives, none is counted.
  check(!s.sessionOpen, `${what}: a session survived the restart`, s);
  check(s.disconnectCount === prev.disconnectCount, `${what}: a restart counted as the device's disconnect`, s);
  if (prev.status === "offline")
    check(
      s.lastDisconnectReason === prev.lastDisconnectReason && s.lastDisconnectAt === prev.lastDisconnectAt,
      `${what}: an offline device keeps its earlier reason`,
      { prev, s },
    );
  if (prev.connectedAt !== null)
    check(s.status === "offline", `${what}: a device seen connecting is offline after a restart`, s);
  else check(s === prev, `${what}: a device never seen connecting is left as it is`, { prev, s });
}
