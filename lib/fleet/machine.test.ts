import { describe, expect, it } from "vitest";
import type { ActivityEvent, DisconnectReason } from "../ingest/events";
import {
  applyEvent,
  newDevice,
  onBrokerRestart,
  onDeadline,
  onMonitorGap,
  restore,
  type SavedDeviceState,
} from "./machine";
import {
  T0,
  connect,
  disconnect,
  emqx,
  ofType,
  ping,
  publish,
  sec,
  sessionTable,
  status,
  statusChanges,
  takeover,
} from "./testing";
import type { DeviceState, FleetEffect } from "./types";

interface Run {
  state: DeviceState;
  /** Effects of every step. */
  effects: FleetEffect[];
  /** Effects of the last step only. */
  last: FleetEffect[];
  deadline: number | null;
  /** ctx.now after the last step. */
  now: number;
}

interface PlayOptions {
  from?: Run;
  pings?: boolean;
  grace?: number;
  /** Arrival time of the first event (default: its own `at`); time never runs backwards. */
  now?: number;
}

/** Feeds events in arrival order; each arrives at max(previous arrival, its own stamp). */
function play(events: ActivityEvent[], opts: PlayOptions = {}): Run {
  let run: Run | undefined = opts.from;
  let now = opts.now ?? opts.from?.now ?? Number.NEGATIVE_INFINITY;
  for (const ev of events) {
    now = Math.max(now, ev.at);
    const t = applyEvent(run?.state, ev, { now, pingsVisible: opts.pings ?? false, lateGraceMs: opts.grace });
    run = {
      state: t.state,
      effects: [...(run?.effects ?? []), ...t.effects],
      last: t.effects,
      deadline: t.deadline,
      now,
    };
  }
  if (!run) throw new Error("no events");
  return run;
}

function deadlineAt(run: Run, now: number, pings = true, grace?: number): Run {
  const t = onDeadline(run.state, { now, pingsVisible: pings, lateGraceMs: grace });
  return { state: t.state, effects: [...run.effects, ...t.effects], last: t.effects, deadline: t.deadline, now };
}

function gapAt(run: Run, now: number): Run {
  const t = onMonitorGap(run.state, { now, pingsVisible: true });
  return { state: t.state, effects: [...run.effects, ...t.effects], last: t.effects, deadline: t.deadline, now };
}

const opened = (
  connectedAt: number,
  keepaliveSeconds: number | null = 10,
  lastActivityAt: number | null = connectedAt,
) =>
  ({
    type: "session-open",
    session: { deviceId: "dev-1", connectedAt, disconnectedAt: null, reason: null, keepaliveSeconds, lastActivityAt },
  }) satisfies FleetEffect;

const closed = (connectedAt: number, disconnectedAt: number, reason: DisconnectReason, lastActivityAt: number | null) =>
  ({
    type: "session-close",
    deviceId: "dev-1",
    connectedAt,
    disconnectedAt,
    reason,
    lastActivityAt,
  }) satisfies FleetEffect;

/** A refined session (when it was closed is checked where it matters). */
const refined = (connectedAt: number, reason: DisconnectReason) =>
  ({
    type: "session-refine",
    deviceId: "dev-1",
    connectedAt,
    disconnectedAt: expect.any(Number) as number,
    reason,
  }) satisfies FleetEffect;

const changed = (from: DeviceState["status"] | null, to: DeviceState["status"], at: number) =>
  ({ type: "status-change", deviceId: "dev-1", from, to, at }) satisfies FleetEffect;

const wentOffline = (r: Run) => statusChanges(r.effects).some(([, to]) => to === "offline");

describe("newDevice", () => {
  it("is unknown, with nothing known", () => {
    expect(newDevice("d", T0)).toEqual({
      id: "d",
      status: "unknown",
      statusSince: T0,
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
      sources: [],
      firstSeenAt: T0,
      connectReportedAt: null,
      lastConfirmedAt: null,
      lastClosed: null,
      takeoverCount: 0,
      takeoverWillPending: false,
    });
  });
});

describe("connect", () => {
  it("opens a session with the CONNECT keepalive and announces the device online", () => {
    const r = play([connect(sec(0), { keepaliveSeconds: 30, username: "u" })]);
    expect(r.last).toEqual([opened(sec(0), 30), changed(null, "online", sec(0))]);
    expect(r.state).toMatchObject({
      status: "online",
      statusSince: sec(0),
      sessionOpen: true,
      connectedAt: sec(0),
      keepaliveSeconds: 30,
      lastSeenAt: sec(0),
      address: "10.0.0.5:50000",
      protocol: "3.1.1",
      cleanStart: true,
      sources: ["mosquitto-log"],
      firstSeenAt: sec(0),
      disconnectCount: 0,
    });
    expect(r.deadline).toBeNull(); // no source sees pings
  });

  it("schedules the late deadline at connect + keepalive (+ grace) when pings are visible", () => {
    expect(play([connect(sec(0))], { pings: true }).deadline).toBe(sec(10));
    expect(play([connect(sec(0))], { pings: true, grace: 2500 }).deadline).toBe(sec(10) + 2500);
  });

  it("ignores an exact duplicate of the open session's connect", () => {
    const r1 = play([connect(sec(0))]);
    const r2 = play([connect(sec(0))], { from: r1 });
    expect(r2.last).toEqual([]);
    expect(r2.state).toBe(r1.state);
  });

  it("closes an open session as unknown, uncounted, when a connect arrives with no takeover seen", () => {
    const r = play([connect(sec(0)), ping(sec(3)), connect(sec(5), { address: "10.0.0.5:50001" })]);
    expect(r.last).toEqual([closed(sec(0), sec(5), "unknown", sec(3)), opened(sec(5))]);
    expect(r.state).toMatchObject({ status: "online", statusSince: sec(0), disconnectCount: 0, connectedAt: sec(5) });
  });

  it("treats a same-stamp connect from another address as a new connection with a key 1 ms later", () => {
    const r = play([connect(sec(0)), connect(sec(0), { address: "10.0.0.5:50001" })]);
    expect(r.last).toEqual([closed(sec(0), sec(0), "unknown", sec(0)), opened(sec(0) + 1)]);
    expect(r.state.connectedAt).toBe(sec(0) + 1);
    expect(r.state.connectReportedAt).toBe(sec(0));
  });

  it("keeps session keys strictly increasing for Mosquitto's whole-second stamps", () => {
    const r = play([
      connect(sec(0)),
      disconnect(sec(0), "clean"),
      connect(sec(0), { address: "10.0.0.5:50001" }),
      disconnect(sec(0), "connection_lost"),
    ]);
    expect(ofType(r.effects, "session-open").map((e) => e.session.connectedAt)).toEqual([sec(0), sec(0) + 1]);
    expect(ofType(r.effects, "session-close")).toEqual([
      closed(sec(0), sec(0), "clean", sec(0)),
      closed(sec(0) + 1, sec(0) + 1, "connection_lost", sec(0)),
    ]);
    expect(r.state).toMatchObject({ status: "offline", disconnectCount: 2, lastDisconnectReason: "connection_lost" });
  });

  it("ignores a connect older than the current session", () => {
    const r1 = play([connect(sec(5))]);
    const r2 = play([connect(sec(0), { address: "10.0.0.5:1" })], { from: r1 });
    expect(r2.last).toEqual([]);
    expect(r2.state).toBe(r1.state);
  });

  it("ignores a session's own connect delivered after the broker reported its end", () => {
    // EMQX may deliver `disconnected` before `connected`: the disconnect names the session by its stamp.
    const r = play([
      connect(sec(0), emqx),
      disconnect(sec(8), "connection_lost", { ...emqx, sessionConnectedAt: sec(5) }),
      connect(sec(5), { ...emqx, address: "10.0.0.5:2" }),
    ]);
    expect(r.last).toEqual([]);
    expect(r.state).toMatchObject({ status: "offline", sessionOpen: false, disconnectCount: 1 });
    expect(sessionTable(r.effects)).toEqual(
      new Map([
        [sec(0), "unknown"],
        [sec(5), "connection_lost"],
      ]),
    );
  });

  it("ignores a duplicate connect redelivered after its (unstamped) disconnect", () => {
    const r = play([connect(sec(0), emqx), disconnect(sec(3), "connection_lost", emqx), connect(sec(0), emqx)]);
    expect(r.last).toEqual([]);
    expect(r.state).toMatchObject({ status: "offline", disconnectCount: 1 });
  });

  it("never moves statusSince backwards when a truncated broker stamp trails the monitor's verdict", () => {
    // Offline by silence at 15.5 s; Mosquitto stamps the reconnect with whole second 15.
    const r1 = deadlineAt(play([connect(sec(0) + 500)], { pings: true }), sec(16));
    expect(r1.state.statusSince).toBe(sec(15) + 500);
    const r2 = play([connect(sec(15), { address: "10.0.0.5:2" })], { from: r1, pings: true });
    expect(r2.last).toEqual([opened(sec(15)), changed("offline", "online", sec(15) + 500)]);
  });
});

describe("takeover", () => {
  const noStatusChangeAfterFirst = (r: Run) => expect(statusChanges(r.effects)).toEqual([[null, "online", sec(0)]]);

  it("Mosquitto: takeover line then new connect gives taken_over and the device stays online", () => {
    const r = play([connect(sec(0)), takeover(sec(5)), connect(sec(5), { address: "10.0.0.6:40000" })]);
    expect(r.effects.slice(2)).toEqual([closed(sec(0), sec(5), "taken_over", sec(0)), opened(sec(5))]);
    noStatusChangeAfterFirst(r);
    expect(r.state).toMatchObject({
      status: "online",
      statusSince: sec(0),
      sessionOpen: true,
      connectedAt: sec(5),
      takeoverCount: 1,
      disconnectCount: 0,
      lastDisconnectAt: null,
      lastDisconnectReason: null,
    });
  });

  it("a takeover whose new connect never came leaves no replaced will expected once the device is offline", () => {
    // The connect after the takeover line is lost (the broker stopped in between): a restart, or a
    // retained offline replayed after a gap, takes the device offline with no session to close...
    const taken = play([connect(sec(0)), takeover(sec(5))]);
    expect(taken.state.takeoverWillPending).toBe(true);
    const restart = onBrokerRestart(
      taken.state,
      { downAt: sec(8), keepFrom: Infinity },
      { now: sec(10), pingsVisible: false },
    );
    const gap = onMonitorGap(taken.state, { now: sec(10), pingsVisible: false });
    const replayed = applyEvent(gap.state, status(sec(11), false, { retained: true }), {
      now: sec(11),
      pingsVisible: false,
    });
    for (const offline of [restart.state, replayed.state]) {
      expect(offline).toMatchObject({ status: "offline", takeoverWillPending: false });
      // ...so the device's next connection's genuine will takes it offline (it was swallowed).
      const r = play([connect(sec(20)), status(sec(30), false)], {
        from: { state: offline, effects: [], last: [], deadline: null, now: sec(11) },
      });
      expect(r.state).toMatchObject({ status: "offline", lastDisconnectReason: "will", sessionOpen: false });
    }
  });

  it("a session's last sign of life is never after its end (a connect delivered late)", () => {
    // The publish at 2.5 s is the new session's: its connect (2.499 s) arrived after it.
    const r = play([connect(sec(0)), publish(sec(2.5)), connect(sec(2.499), { address: "10.0.0.6:1" })]);
    expect(ofType(r.effects, "session-close")).toEqual([closed(sec(0), sec(2.499), "unknown", sec(2.499))]);
  });

  it("EMQX: disconnected(takenover) then connected", () => {
    const r = play([
      connect(sec(0), emqx),
      disconnect(sec(5), "taken_over", { ...emqx, sessionConnectedAt: sec(0) }),
      connect(sec(5), { ...emqx, address: "10.0.0.6:40000" }),
    ]);
    expect(r.effects.slice(2)).toEqual([closed(sec(0), sec(5), "taken_over", sec(0)), opened(sec(5))]);
    noStatusChangeAfterFirst(r);
    expect(r.state).toMatchObject({ status: "online", takeoverCount: 1, disconnectCount: 0 });
  });

  it("EMQX: connected then disconnected(takenover) refines the implicit close", () => {
    const r = play([
      connect(sec(0), emqx),
      connect(sec(5), { ...emqx, address: "10.0.0.6:40000" }),
      disconnect(sec(5) + 3, "taken_over", { ...emqx, sessionConnectedAt: sec(0) }),
    ]);
    expect(r.effects.slice(2)).toEqual([
      closed(sec(0), sec(5), "unknown", sec(0)),
      opened(sec(5)),
      refined(sec(0), "taken_over"),
    ]);
    noStatusChangeAfterFirst(r);
    expect(r.state).toMatchObject({ status: "online", takeoverCount: 1, disconnectCount: 0, sessionOpen: true });
  });

  it("EMQX without session stamps: a takeover report after the new connect explains the implicit close", () => {
    for (const reportAt of [sec(5) - 2, sec(5) + 2]) {
      const r = play([
        connect(sec(0), emqx),
        connect(sec(5), { ...emqx, address: "10.0.0.6:40000" }),
        disconnect(reportAt, "taken_over", emqx),
      ]);
      expect(r.last).toEqual([refined(sec(0), "taken_over")]);
      expect(r.state).toMatchObject({ status: "online", sessionOpen: true, connectedAt: sec(5), takeoverCount: 1 });
    }
  });

  it("gives taken_over for the first session and never offline, in every arrival order", () => {
    const a = connect(sec(0), emqx);
    const b = connect(sec(5), { ...emqx, address: "10.0.0.6:40000" });
    const c = disconnect(sec(5) + 2, "taken_over", { ...emqx, sessionConnectedAt: sec(0) });
    const both = new Map<number, string | null>([
      [sec(0), "taken_over"],
      [sec(5), null],
    ]);
    const onlyNew = new Map<number, string | null>([[sec(5), null]]); // the first session was never heard of
    const cases: [string, ActivityEvent[], Map<number, string | null>][] = [
      ["a b c", [a, b, c], both],
      ["a c b", [a, c, b], both],
      ["b a c", [b, a, c], onlyNew],
      ["b c a", [b, c, a], onlyNew],
      ["c a b", [c, a, b], both],
      ["c b a", [c, b, a], both],
    ];
    for (const [name, events, sessions] of cases) {
      const r = play(events, { now: sec(6) });
      expect({ name, sessions: sessionTable(r.effects) }).toEqual({ name, sessions });
      expect({ name, status: r.state.status, offline: wentOffline(r), count: r.state.disconnectCount }).toEqual({
        name,
        status: "online",
        offline: false,
        count: 0,
      });
    }
  });

  it("ignores the replaced connection's will (takeover, will, connect)", () => {
    const r = play([
      connect(sec(0)),
      takeover(sec(5)),
      status(sec(5) + 100, false),
      connect(sec(5), { address: "10.0.0.6:40000" }),
    ]);
    expect(wentOffline(r)).toBe(false);
    expect(r.state).toMatchObject({
      status: "online",
      sessionOpen: true,
      disconnectCount: 0,
      takeoverWillPending: false,
    });
    expect(sessionTable(r.effects)).toEqual(
      new Map([
        [sec(0), "taken_over"],
        [sec(5), null],
      ]),
    );
  });

  it("EMQX order: the old connection's will after the new connect explains the implicit close, not the new session", () => {
    const r1 = play([
      connect(sec(0), emqx),
      connect(sec(5), { ...emqx, address: "10.0.0.6:40000" }),
      status(sec(5) + 100, false),
      disconnect(sec(5) + 200, "taken_over", { ...emqx, sessionConnectedAt: sec(0) }),
    ]);
    expect(ofType(r1.effects, "session-refine")).toEqual([refined(sec(0), "will"), refined(sec(0), "taken_over")]);
    // The implicit close's time, where the new connection began: what the alert engine un-counts.
    expect(ofType(r1.effects, "session-refine").map((e) => e.disconnectedAt)).toEqual([sec(5), sec(5)]);
    expect(wentOffline(r1)).toBe(false);
    expect(r1.state).toMatchObject({
      status: "online",
      disconnectCount: 0,
      takeoverCount: 1,
      takeoverWillPending: false,
    });
    // The new connection's own will later is real.
    const r2 = play([status(sec(20), false)], { from: r1 });
    expect(r2.last).toEqual([closed(sec(5), sec(20), "will", sec(5)), changed("online", "offline", sec(20))]);
    expect(r2.state.disconnectCount).toBe(1);
  });
});

describe("disconnect", () => {
  it("closes the session with its reason and counts one disconnect", () => {
    const r = play([connect(sec(0)), ping(sec(4)), disconnect(sec(6), "clean")]);
    expect(r.last).toEqual([closed(sec(0), sec(6), "clean", sec(4)), changed("online", "offline", sec(6))]);
    expect(r.state).toMatchObject({
      status: "offline",
      statusSince: sec(6),
      sessionOpen: false,
      lastDisconnectAt: sec(6),
      lastDisconnectReason: "clean",
      disconnectCount: 1,
    });
  });

  it("does not count a repeated disconnect (unstamped) twice", () => {
    const r1 = play([connect(sec(0)), disconnect(sec(6), "clean")]);
    const r2 = play([disconnect(sec(6), "clean"), disconnect(sec(7), "connection_lost")], { from: r1 });
    expect(r2.effects.slice(r1.effects.length)).toEqual([]);
    expect(r2.state).toBe(r1.state);
  });

  it("does not count a duplicate stamped disconnect twice", () => {
    const d = disconnect(sec(6), "clean", { ...emqx, sessionConnectedAt: sec(0) });
    const r = play([connect(sec(0), emqx), d, d]);
    expect(r.last).toEqual([]);
    expect(r.state.disconnectCount).toBe(1);
  });

  it("ignores a disconnect naming a session older than the current one", () => {
    const r1 = play([connect(sec(0), emqx), disconnect(sec(5), "taken_over", { ...emqx, sessionConnectedAt: sec(0) })]);
    const r2 = play([connect(sec(5), { ...emqx, address: "10.0.0.6:1" })], { from: r1 });
    const r3 = play([disconnect(sec(9), "keepalive_timeout", { ...emqx, sessionConnectedAt: sec(-30) })], { from: r2 });
    expect(r3.last).toEqual([]);
    expect(r3.state).toBe(r2.state);
  });

  it("ignores an unstamped disconnect stamped before the current connect when the previous end is definite", () => {
    const r1 = play([connect(sec(0)), takeover(sec(5)), connect(sec(5), { address: "10.0.0.6:1" })]);
    const r2 = play([disconnect(sec(4), "connection_lost")], { from: r1 });
    expect(r2.last).toEqual([]);
    expect(r2.state).toMatchObject({ status: "online", sessionOpen: true, disconnectCount: 0 });
  });

  it("counts a late report that the implicitly closed session really dropped, without going offline", () => {
    const r = play([
      connect(sec(0), emqx),
      connect(sec(5), { ...emqx, address: "10.0.0.6:1" }),
      disconnect(sec(4), "keepalive_timeout", { ...emqx, sessionConnectedAt: sec(0) }),
    ]);
    expect(r.last).toEqual([refined(sec(0), "keepalive_timeout")]);
    expect(r.state).toMatchObject({
      status: "online",
      disconnectCount: 1,
      lastDisconnectAt: sec(4),
      lastDisconnectReason: "keepalive_timeout",
    });
  });

  it("takes a device with no open session offline and counts it, without a session record", () => {
    const r = play([status(sec(0), true), disconnect(sec(3), "connection_lost")]);
    expect(r.last).toEqual([changed("online", "offline", sec(3))]);
    expect(r.state).toMatchObject({ disconnectCount: 1, lastDisconnectAt: sec(3), sessionOpen: false });
  });

  it("announces a never-seen device offline from its disconnect", () => {
    const r = play([disconnect(sec(3), "clean")]);
    expect(r.last).toEqual([changed(null, "offline", sec(3))]);
    expect(r.state).toMatchObject({ disconnectCount: 1, lastDisconnectReason: "clean", connectedAt: null });
  });

  it("records a session the broker names by its connect time even though its connect was not seen", () => {
    const r = play([disconnect(sec(9), "connection_lost", { ...emqx, sessionConnectedAt: sec(2) })]);
    expect(r.last).toEqual([
      opened(sec(2), null, null),
      closed(sec(2), sec(9), "connection_lost", null),
      changed(null, "offline", sec(9)),
    ]);
    expect(r.state).toMatchObject({ disconnectCount: 1, connectedAt: sec(2), sessionOpen: false });
  });

  it("closes the open session as unknown when the broker names a newer unseen one", () => {
    const r = play([
      connect(sec(0), emqx),
      disconnect(sec(9), "connection_lost", { ...emqx, sessionConnectedAt: sec(5) }),
    ]);
    expect(r.last).toEqual([
      closed(sec(0), sec(5), "unknown", sec(0)),
      opened(sec(5), null, null),
      closed(sec(5), sec(9), "connection_lost", null),
      changed("online", "offline", sec(9)),
    ]);
    expect(r.state.disconnectCount).toBe(1);
  });
});

describe("device-reported status", () => {
  it("a will closes the open session with reason will and counts it", () => {
    const r = play([connect(sec(0)), status(sec(5), false)]);
    expect(r.last).toEqual([closed(sec(0), sec(5), "will", sec(0)), changed("online", "offline", sec(5))]);
    expect(r.state).toMatchObject({ disconnectCount: 1, lastDisconnectReason: "will", sessionOpen: false });
  });

  it("will then broker disconnect: one disconnect, refined to the broker's reason", () => {
    const r = play([connect(sec(0)), status(sec(5), false), disconnect(sec(5), "connection_lost")]);
    expect(r.last).toEqual([refined(sec(0), "connection_lost")]);
    expect(r.state).toMatchObject({
      disconnectCount: 1,
      lastDisconnectReason: "connection_lost",
      lastDisconnectAt: sec(5),
    });
  });

  it("will then stamped broker disconnect: one disconnect, refined", () => {
    const r = play([
      connect(sec(0), emqx),
      status(sec(5), false),
      disconnect(sec(5) - 20, "keepalive_timeout", { ...emqx, sessionConnectedAt: sec(0) }),
    ]);
    expect(r.last).toEqual([refined(sec(0), "keepalive_timeout")]);
    expect(r.state).toMatchObject({ disconnectCount: 1, lastDisconnectReason: "keepalive_timeout" });
  });

  it("broker disconnect then will: one disconnect, the broker's reason stands", () => {
    const r = play([connect(sec(0)), disconnect(sec(5), "keepalive_timeout"), status(sec(5) + 300, false)]);
    expect(r.last).toEqual([]);
    expect(r.state).toMatchObject({ disconnectCount: 1, lastDisconnectReason: "keepalive_timeout" });
  });

  it("will for a device whose connect was never seen, then the broker's stamped report: one disconnect", () => {
    const r = play([
      status(sec(5), false),
      disconnect(sec(5) - 50, "connection_lost", { ...emqx, sessionConnectedAt: sec(1) }),
    ]);
    expect(r.last).toEqual([opened(sec(1), null, null), closed(sec(1), sec(5) - 50, "connection_lost", null)]);
    expect(r.state).toMatchObject({ status: "offline", disconnectCount: 1, lastDisconnectReason: "connection_lost" });
  });

  it("a live online status is activity", () => {
    const r = play([status(sec(0), true)]);
    expect(r.last).toEqual([changed(null, "online", sec(0))]);
    expect(r.state).toMatchObject({ lastSeenAt: sec(0), lastMessageAt: sec(0), sessionOpen: false });
  });

  it("a retained offline for a device we knew nothing about: offline with reason will, not counted, not activity", () => {
    const r = play([status(sec(0), false, { retained: true })]);
    expect(r.last).toEqual([changed(null, "offline", sec(0))]);
    expect(r.state).toMatchObject({
      lastDisconnectReason: "will",
      lastDisconnectAt: null,
      disconnectCount: 0,
      lastSeenAt: null,
    });
  });

  it("a retained online re-confirms an unknown device without being activity", () => {
    const r = play([status(sec(0), true, { retained: true })], { pings: true });
    expect(r.last).toEqual([changed(null, "online", sec(0))]);
    expect(r.state).toMatchObject({ lastSeenAt: null, lastMessageAt: null, lastConfirmedAt: sec(0) });
    expect(r.deadline).toBeNull(); // keepalive unknown: nothing to time
  });

  it("a retained online after a gap restarts the silence clock from its arrival, not from the old last-seen", () => {
    const before = gapAt(play([connect(sec(0))], { pings: true }), sec(5));
    const r = play([status(sec(30), true, { retained: true })], { from: before, pings: true });
    expect(r.last).toEqual([changed("unknown", "online", sec(30))]);
    expect(r.state.lastSeenAt).toBe(sec(0));
    expect(r.deadline).toBe(sec(40));
  });

  it("a retained status is ignored when the status is known", () => {
    const r = play([connect(sec(0)), status(sec(1), false, { retained: true })]);
    expect(r.last).toEqual([]);
    expect(r.state).toMatchObject({ status: "online", sessionOpen: true, disconnectCount: 0 });
  });

  it("a retained offline for an unknown device with an open session closes it (it ended while we were away)", () => {
    const r = play([status(sec(11), false, { retained: true })], { from: gapAt(play([connect(sec(0))]), sec(10)) });
    expect(r.last).toEqual([closed(sec(0), sec(11), "will", sec(0)), changed("unknown", "offline", sec(11))]);
    expect(r.state.disconnectCount).toBe(1);
  });
});

describe("ping visibility lost and regained", () => {
  it("a late device is online again once no source sees pings, with no deadline left", () => {
    const late = deadlineAt(play([connect(sec(0))], { pings: true }), sec(10));
    expect(late.state.status).toBe("late");
    const blind = deadlineAt(late, sec(12), false);
    expect(blind.last).toEqual([changed("late", "online", sec(12))]);
    expect(blind.deadline).toBeNull();
    expect(deadlineAt(blind, sec(60), false).state.status).toBe("online"); // no verdict while blind
  });

  it("gives a silence verdict only once the ping source has shown it watched past the deadline", () => {
    const run = play([connect(sec(0))], { pings: true }); // keepalive 10: offline due at 15 s (no late: grace 0 → late at 10 s)
    // The log's last line was read at 9 s: at 16 s nothing is known past 9 s, so no verdict yet; look again in 1 s.
    const waiting = onDeadline(run.state, { now: sec(16), pingsVisible: true, observedUntil: sec(9) });
    expect(waiting.state).toBe(run.state);
    expect(waiting.deadline).toBe(sec(17));
    // A line read at 16.5 s: late (10 s) and offline (15 s) are both backed, each stamped at its own deadline.
    const t = onDeadline(run.state, { now: sec(17), pingsVisible: true, observedUntil: sec(16.5) });
    expect(statusChanges(t.effects)).toEqual([
      ["online", "late", sec(10)],
      ["late", "offline", sec(15)],
    ]);
  });

  it("measures silence from when pings became visible again, not from before", () => {
    const run = play([connect(sec(0))]); // keepalive 10, connected while nobody could see pings
    const since = sec(100);
    const ctx = { pingsVisible: true, pingsVisibleSince: since };
    const t = onDeadline(run.state, { ...ctx, now: sec(101) });
    expect(t.state.status).toBe("online");
    expect(t.deadline).toBe(sec(110)); // late at since + keepalive, not at connect + keepalive
    expect(onDeadline(run.state, { ...ctx, now: sec(115) }).state).toMatchObject({
      status: "offline",
      lastDisconnectReason: "keepalive_timeout",
    });
  });
});

describe("activity", () => {
  it("a ping brings a late device back online", () => {
    const late = deadlineAt(play([connect(sec(0))], { pings: true }), sec(10));
    expect(late.state.status).toBe("late");
    const r = play([ping(sec(11))], { from: late, pings: true });
    expect(r.last).toEqual([changed("late", "online", sec(11))]);
    expect(r.state).toMatchObject({ lastPingAt: sec(11), lastSeenAt: sec(11) });
    expect(r.deadline).toBe(sec(21));
  });

  it("another control packet (PUBACK) keeps the device alive like a ping, without being called a ping", () => {
    const puback: ActivityEvent = { kind: "packet", packet: "puback", deviceId: "dev-1", at: sec(9), source: "aedes" };
    const r = play([connect(sec(0)), puback], { pings: true });
    expect(r.state).toMatchObject({ status: "online", lastSeenAt: sec(9), lastPingAt: null, lastMessageAt: null });
    expect(r.deadline).toBe(sec(19));
    const late = deadlineAt(r, sec(19));
    expect(late.state.status).toBe("late");
    const back = play([{ ...puback, at: sec(20) }], { from: late, pings: true });
    expect(back.last).toEqual([changed("late", "online", sec(20))]);
  });

  it("a stale ping (older than the last sign of life) does not revive a late device", () => {
    const late = deadlineAt(play([connect(sec(0)), publish(sec(2))], { pings: true }), sec(13));
    expect(late.state.status).toBe("late");
    const r = play([ping(sec(1))], { from: late, pings: true });
    expect(r.last).toEqual([]);
    expect(r.state).toMatchObject({ status: "late", lastPingAt: sec(1), lastSeenAt: sec(2) });
  });

  it("activity brings an unknown device online, keeping its open session as it is", () => {
    const r = play([publish(sec(6))], { from: gapAt(play([connect(sec(0))]), sec(5)) });
    expect(r.last).toEqual([changed("unknown", "online", sec(6))]);
    expect(r.state).toMatchObject({ sessionOpen: true, connectedAt: sec(0), lastMessageAt: sec(6) });
  });

  it("activity for a never-seen device makes it online without a session", () => {
    const r = play([ping(sec(0))]);
    expect(r.last).toEqual([changed(null, "online", sec(0))]);
    expect(r.state).toMatchObject({ sessionOpen: false, connectedAt: null, lastPingAt: sec(0) });
  });

  it("activity stamped before the disconnect does not undo it", () => {
    const r = play([connect(sec(0)), disconnect(sec(10), "clean"), ping(sec(9))]);
    expect(r.last).toEqual([]);
    expect(r.state).toMatchObject({ status: "offline", lastPingAt: sec(9), lastSeenAt: sec(9) });
  });

  it("fresh activity after a disconnect brings the device online without a session", () => {
    const r = play([connect(sec(0)), disconnect(sec(10), "clean"), publish(sec(12))]);
    expect(r.last).toEqual([changed("offline", "online", sec(12))]);
    expect(r.state).toMatchObject({ sessionOpen: false, disconnectCount: 1 });
  });

  it("a buffered ping whose silence has already run out does not flap an offline device", () => {
    const offline = deadlineAt(play([connect(sec(0))], { pings: true }), sec(15));
    expect(offline.state.status).toBe("offline");
    const late = play([ping(sec(16))], { from: offline, pings: true, now: sec(40) });
    expect(late.last).toEqual([]);
    expect(late.state).toMatchObject({ status: "offline", lastPingAt: sec(16), disconnectCount: 1 });
    const timely = play([ping(sec(16))], { from: offline, pings: true, now: sec(20) });
    expect(timely.last).toEqual([changed("offline", "online", sec(16))]);
    expect(timely.deadline).toBe(sec(26));
  });

  it("keeps sources sorted and unique", () => {
    const r = play([connect(sec(0)), ping(sec(1)), status(sec(2), true), ping(sec(3)), connect(sec(0), emqx)]);
    expect(r.state.sources).toEqual(["device-topic", "emqx", "mosquitto-debug", "mosquitto-log"]);
  });
});

describe("silence verdicts", () => {
  it("never come without a ping-visible source", () => {
    const r = play([connect(sec(0))]);
    expect(r.deadline).toBeNull();
    const t = onDeadline(r.state, { now: sec(1000), pingsVisible: false });
    expect(t).toEqual({ state: r.state, effects: [], deadline: null });
    expect(t.state).toBe(r.state);
  });

  it("never come for keepalive 0", () => {
    const r = play([connect(sec(0), { keepaliveSeconds: 0 })], { pings: true });
    expect(r.deadline).toBeNull();
    expect(deadlineAt(r, sec(100_000)).last).toEqual([]);
  });

  it("late at last seen + keepalive, offline at 1.5 × keepalive with keepalive_timeout", () => {
    const r = play([connect(sec(0)), ping(sec(4))], { pings: true });
    expect(r.deadline).toBe(sec(14));
    const late = deadlineAt(r, sec(14));
    expect(late.last).toEqual([changed("online", "late", sec(14))]);
    expect(late.deadline).toBe(sec(19));
    const off = deadlineAt(late, sec(19));
    expect(off.last).toEqual([
      closed(sec(0), sec(19), "keepalive_timeout", sec(4)),
      changed("late", "offline", sec(19)),
    ]);
    expect(off.state).toMatchObject({
      sessionOpen: false,
      lastDisconnectAt: sec(19),
      lastDisconnectReason: "keepalive_timeout",
      disconnectCount: 1,
    });
    expect(off.deadline).toBeNull();
  });

  it("an early timer is a no-op that hands back the same deadline", () => {
    const r = play([connect(sec(0))], { pings: true });
    const t = onDeadline(r.state, { now: sec(10) - 1, pingsVisible: true });
    expect(t.effects).toEqual([]);
    expect(t.state).toBe(r.state);
    expect(t.deadline).toBe(sec(10));
  });

  it("a very late timer applies both verdicts, each at its own deadline", () => {
    const r = deadlineAt(play([connect(sec(0))], { pings: true }), sec(100));
    expect(r.last).toEqual([
      changed("online", "late", sec(10)),
      closed(sec(0), sec(15), "keepalive_timeout", sec(0)),
      changed("late", "offline", sec(15)),
    ]);
  });

  it("lateGraceMs delays late; a grace reaching the offline threshold skips late", () => {
    expect(play([connect(sec(0))], { pings: true, grace: 2000 }).deadline).toBe(sec(12));
    const r = play([connect(sec(0))], { pings: true, grace: 5000 });
    expect(r.deadline).toBe(sec(15));
    expect(deadlineAt(r, sec(15), true, 5000).last).toEqual([
      closed(sec(0), sec(15), "keepalive_timeout", sec(0)),
      changed("online", "offline", sec(15)),
    ]);
  });

  it("the broker's own timeout after our verdict is the same disconnect", () => {
    const off = deadlineAt(play([connect(sec(0))], { pings: true }), sec(15));
    const r = play([disconnect(sec(18), "keepalive_timeout")], { from: off, pings: true });
    expect(r.last).toEqual([]);
    expect(r.state.disconnectCount).toBe(1);
  });
});

describe("monitor gap", () => {
  const before = () => play([connect(sec(0)), disconnect(sec(5), "clean"), connect(sec(6))], { pings: true });

  it("makes the device unknown without closing or counting anything", () => {
    const r = gapAt(before(), sec(10));
    expect(r.last).toEqual([changed("online", "unknown", sec(10))]);
    expect(r.deadline).toBeNull();
    expect(r.state).toMatchObject({
      status: "unknown",
      statusSince: sec(10),
      sessionOpen: true,
      connectedAt: sec(6),
      lastDisconnectAt: sec(5),
      lastDisconnectReason: "clean",
      disconnectCount: 1,
    });
  });

  it("is a no-op for a device already unknown", () => {
    const r = gapAt(before(), sec(10));
    const t = onMonitorGap(r.state, { now: sec(20), pingsVisible: true });
    expect(t.effects).toEqual([]);
    expect(t.state).toBe(r.state);
  });

  it("a connect after the gap closes the held session as unknown at the connect and opens a new one", () => {
    const r = play([connect(sec(20), { address: "10.0.0.6:1" })], { from: gapAt(before(), sec(10)), pings: true });
    expect(r.last).toEqual([
      closed(sec(6), sec(20), "unknown", sec(6)),
      opened(sec(20)),
      changed("unknown", "online", sec(20)),
    ]);
    expect(r.state.disconnectCount).toBe(1);
  });
});

describe("device state layout", () => {
  it("shares one frozen sources list among devices with the same sources, whichever order they came in", () => {
    const a = play([connect(sec(0)), ping(sec(1))], { pings: true }).state;
    const b = play([connect(sec(0), { deviceId: "other" }), ping(sec(1), { deviceId: "other" })], {
      pings: true,
    }).state;
    expect(a.sources).toEqual(["mosquitto-debug", "mosquitto-log"]);
    expect(b.sources).toBe(a.sources);
    expect(Object.isFrozen(a.sources)).toBe(true);
    const restored = restore(
      { ...a, sources: ["mosquitto-log", "mosquitto-debug", "mosquitto-log"] },
      { now: sec(9), pingsVisible: true },
    );
    expect(restored.state.sources).toBe(a.sources);
  });

  it("gives every state the same fields in the same order, and leaves a saved row's extras behind", () => {
    const order = Object.keys(newDevice("d", T0));
    expect(Object.keys(play([connect(sec(0)), publish(sec(2))]).state)).toEqual(order);
    const row = { ...newDevice("d", T0), updatedAt: 5 } as SavedDeviceState;
    expect(Object.keys(restore(row, { now: sec(9), pingsVisible: false }).state)).toEqual(order);
  });
});

describe("restore", () => {
  function saved(status: DeviceState["status"]): SavedDeviceState {
    const full = play([connect(sec(0)), ping(sec(3))]).state;
    const {
      connectReportedAt: _a,
      lastConfirmedAt: _b,
      lastClosed: _c,
      takeoverCount: _d,
      takeoverWillPending: _e,
      ...rest
    } = full;
    return { ...rest, status, sources: ["mosquitto-log", "mosquitto-debug", "mosquitto-log"] };
  }

  it("makes every device unknown, keeps its fields and open session, and fills added fields", () => {
    for (const was of ["online", "late", "offline"] as const) {
      const t = restore(saved(was), { now: sec(100), pingsVisible: true });
      expect(t.effects).toEqual([changed(was, "unknown", sec(100))]);
      expect(t.deadline).toBeNull();
      expect(t.state).toMatchObject({
        status: "unknown",
        statusSince: sec(100),
        sessionOpen: true,
        connectedAt: sec(0),
        connectReportedAt: sec(0),
        lastSeenAt: sec(3),
        lastConfirmedAt: sec(3),
        lastClosed: null,
        takeoverCount: 0,
        takeoverWillPending: false,
        sources: ["mosquitto-debug", "mosquitto-log"],
      });
    }
  });

  it("restored while the broker is heard again (the database came back late): re-learned by its deadline", () => {
    // Keepalive 10, pings visible, re-learning since 100 s: offline at 100 + 15 + 6 s without a sign of life.
    const ctx = { now: sec(110), pingsVisible: true, relearnSince: sec(100), relearnSlackMs: 6_000 };
    const t = restore(saved("online"), ctx);
    expect(t.state.status).toBe("unknown");
    expect(t.deadline).toBe(sec(121));
    const due = onDeadline(t.state, { ...ctx, now: sec(121) });
    expect(due.state).toMatchObject({ status: "offline", sessionOpen: false, lastDisconnectReason: "unknown" });
    // Already due when restored: the verdict is applied at once, stamped at its deadline.
    const late = restore(saved("online"), { ...ctx, now: sec(130) });
    expect(late.state).toMatchObject({ status: "offline", statusSince: sec(130), lastDisconnectAt: sec(3) });
    expect(late.deadline).toBeNull();
  });

  describe("the debug log read again from a little before what was written", () => {
    /** Connected at 0, pinged at 3, dropped at 5.4 s (the line read live, refined within its second), written. */
    function droppedAndRestored(): DeviceState {
      const dropped = play([connect(sec(0)), ping(sec(3)), disconnect(sec(5) + 400, "connection_lost")]).state;
      const { connectReportedAt: _a, lastConfirmedAt: _b, lastClosed: _c, takeoverCount: _d, ...rest } = dropped;
      const { takeoverWillPending: _e, ...row } = rest;
      return restore(row, { now: sec(100), pingsVisible: true }).state;
    }

    it("the same lines again (stamped in whole seconds) change nothing and count nothing twice", () => {
      const restored = droppedAndRestored();
      expect(restored).toMatchObject({ status: "unknown", sessionOpen: false, disconnectCount: 1 });
      let state = restored;
      const effects: FleetEffect[] = [];
      for (const ev of [connect(sec(0)), ping(sec(3)), disconnect(sec(5), "connection_lost")]) {
        const t = applyEvent(state, ev, { now: sec(101), pingsVisible: false });
        state = t.state;
        effects.push(...t.effects);
      }
      // Down since the disconnect already recorded: offline again, no new session, not counted again.
      expect(effects).toEqual([changed("unknown", "offline", sec(100))]);
      expect(state).toMatchObject({
        status: "offline",
        disconnectCount: 1,
        lastDisconnectAt: sec(5) + 400,
        lastDisconnectReason: "connection_lost",
        sessionOpen: false,
      });
    });

    it("a disconnect after the recorded one still counts; one before it does not take a device alive since offline", () => {
      const later = applyEvent(droppedAndRestored(), disconnect(sec(50), "keepalive_timeout"), {
        now: sec(101),
        pingsVisible: false,
      });
      expect(later.state).toMatchObject({ status: "offline", disconnectCount: 2, lastDisconnectAt: sec(50) });

      const alive = applyEvent(droppedAndRestored(), ping(sec(101)), { now: sec(101), pingsVisible: false }).state;
      const stale = applyEvent(alive, disconnect(sec(5), "connection_lost"), { now: sec(102), pingsVisible: false });
      expect(stale.effects).toEqual([]);
      expect(stale.state).toMatchObject({ status: "online", disconnectCount: 1 });
    });
  });

  it("a restored device comes back online on its next sign of life", () => {
    const t = restore(saved("online"), { now: sec(100), pingsVisible: true });
    const r = applyEvent(t.state, ping(sec(101)), { now: sec(101), pingsVisible: true });
    expect(r.effects).toEqual([changed("unknown", "online", sec(101))]);
    expect(r.deadline).toBe(sec(111));
  });
});
