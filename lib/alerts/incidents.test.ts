import { describe, expect, it } from "vitest";
import { IncidentTracker, type IncidentAction, type IncidentCause } from "./incidents";

const S = 1000;
const restart: IncidentCause = { kind: "broker_restart", reason: "2026-12-03T14:03:07.000Z" };
const timeout: IncidentCause = { kind: "mass_disconnect", reason: "keepalive_timeout" };

function tracker(over: Partial<ConstructorParameters<typeof IncidentTracker>[0]> = {}) {
  let n = 0;
  return new IncidentTracker({
    minDevices: 3,
    windowMs: 60 * S,
    updateMs: 300 * S,
    groupWaitMs: 10 * S,
    newId: () => `inc_${++n}`,
    ...over,
  });
}

const types = (actions: IncidentAction[]) => actions.map((a) => a.type);

describe("IncidentTracker", () => {
  it("a lone offline alert waits the group wait, then notifies on its own", () => {
    const t = tracker();
    expect(types(t.fired("a", timeout, 0, 1 * S))).toEqual(["hold"]);
    expect(t.held("a")).toBe(true);
    expect(t.nextDeadline()).toBe(11 * S);
    expect(t.tick(10.9 * S)).toEqual([]);
    expect(t.tick(11 * S)).toEqual([{ type: "release", keys: ["a"], why: "alone" }]);
    expect(t.held("a")).toBe(false);
    expect(t.nextDeadline()).toBeNull();
  });

  it("minDevices offline for one cause open ONE incident; later ones join it silently", () => {
    const t = tracker();
    t.fired("a", restart, 0, 30 * S);
    t.fired("b", restart, 0, 30 * S);
    const opened = t.fired("c", restart, 0, 30 * S);
    expect(opened).toHaveLength(1);
    const open = opened[0];
    if (open.type !== "open") throw new Error("expected open");
    expect(open.keys).toEqual(["a", "b", "c"]);
    expect(open.incident).toMatchObject({
      id: "inc_1",
      state: "open",
      deviceCount: 3,
      stillOffline: 3,
      message: "3 devices offline after broker restart at 14:03:07 UTC",
    });
    const joined = t.fired("d", restart, 0, 40 * S);
    expect(joined).toEqual([{ type: "join", incident: expect.objectContaining({ deviceCount: 4 }), key: "d" }]);
    expect(t.incidentOf("d")).toBe("inc_1");
  });

  it("a group of several that never reaches minDevices releases them all at the window's end", () => {
    const t = tracker();
    t.fired("a", timeout, 0, 0);
    t.fired("b", timeout, 5 * S, 5 * S);
    // Two members: held beyond the lone group wait.
    expect(t.tick(20 * S)).toEqual([]);
    expect(t.tick(60 * S)).toEqual([{ type: "release", keys: ["a", "b"], why: "no incident formed" }]);
  });

  it("a held alert whose device comes back leaves the group and never notifies", () => {
    const t = tracker();
    t.fired("a", timeout, 0, 0);
    expect(t.back("a", 2 * S)).toEqual([]);
    expect(t.tick(100 * S)).toEqual([]);
  });

  it("drops too far apart are different events", () => {
    const t = tracker();
    t.fired("a", timeout, 0, 0);
    t.fired("b", timeout, 1 * S, 1 * S);
    const later = t.fired("c", timeout, 120 * S, 120 * S);
    expect(later).toEqual([
      { type: "release", keys: ["a", "b"], why: "no incident formed" },
      { type: "hold", key: "c" },
    ]);
  });

  it("different causes never mix", () => {
    const t = tracker();
    t.fired("a", timeout, 0, 0);
    t.fired("b", { kind: "mass_disconnect", reason: "socket_error" }, 0, 0);
    expect(types(t.fired("c", restart, 0, 0))).toEqual(["hold"]);
    expect(types(t.tick(10 * S))).toEqual(["release", "release", "release"]);
  });

  it("updates at most every updateMs while devices come back, and resolves when all are back", () => {
    const t = tracker({ windowMs: 600 * S });
    // Opens with a, b, c (the notification said 3); d joins silently.
    for (const k of ["a", "b", "c", "d"]) t.fired(k, restart, 0, 0);
    expect(types(t.back("a", 10 * S))).toEqual(["changed"]);
    expect(types(t.back("b", 20 * S))).toEqual(["changed"]);
    expect(t.tick(299 * S)).toEqual([]);
    const [update] = t.tick(300 * S);
    expect(update).toMatchObject({ type: "update", incident: { stillOffline: 2 } });
    t.back("c", 310 * S);
    // Only one update per 300 s.
    expect(t.tick(400 * S)).toEqual([]);
    const resolved = t.back("d", 420 * S);
    expect(resolved).toEqual([
      {
        type: "resolve",
        incident: expect.objectContaining({ state: "resolved", resolvedAt: 420 * S, stillOffline: 0 }),
        keys: [],
      },
    ]);
    expect(t.incidents()).toEqual([]);
  });

  it("no update while acknowledged", () => {
    const t = tracker({ windowMs: 600 * S });
    for (const k of ["a", "b", "c", "d"]) t.fired(k, restart, 0, 0);
    t.setAcknowledged("inc_1", true);
    t.back("a", 10 * S);
    expect(t.tick(300 * S)).toEqual([]);
  });

  it("resolves when none has come back for the window: the rest notify on their own", () => {
    const t = tracker();
    for (const k of ["a", "b", "c", "d"]) t.fired(k, restart, 0, 0);
    t.back("a", 30 * S);
    expect(t.tick(89 * S)).toEqual([]);
    const [resolve] = t.tick(90 * S);
    expect(resolve).toMatchObject({
      type: "resolve",
      keys: ["b", "c", "d"],
      incident: { state: "resolved", stillOffline: 3 },
    });
    expect(t.incidentOf("b")).toBeNull();
  });

  it("restores an open incident with its members still offline", () => {
    const t = tracker();
    t.restore(
      {
        id: "inc_9",
        state: "open",
        openedAt: 0,
        resolvedAt: null,
        cause: restart,
        deviceCount: 5,
        stillOffline: 5,
        message: "5 devices offline",
        resolveMessage: null,
        acknowledged: false,
      },
      ["x", "y"],
      0,
      0,
    );
    expect(t.incidents()[0]).toMatchObject({ id: "inc_9", stillOffline: 2 });
    expect(types(t.back("x", 1 * S))).toEqual(["changed"]);
    expect(types(t.back("y", 2 * S))).toEqual(["resolve"]);
  });
});
