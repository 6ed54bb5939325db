import { describe, expect, it } from "vitest";
import type { DeltaMessage } from "@/lib/api/dto";
import { countsOf, device, health, isoAt, snapshot, T0 } from "./__fixtures__/devices";
import { createFleetStore, isStreamStale, serverNow, STALE_AFTER_MS } from "./store";

function clock(start = T0) {
  let t = start;
  return { now: () => t, set: (ms: number) => (t = ms), advance: (ms: number) => (t += ms) };
}

const delta = (devices: DeltaMessage["devices"], serverTime = T0, all = devices): DeltaMessage => ({
  serverTime: isoAt(serverTime),
  devices,
  counts: countsOf(all),
  health: health(),
});

describe("fleet store", () => {
  it("starts empty and connecting", () => {
    const c = clock();
    const s = createFleetStore({ now: c.now }).getState();
    expect(s.hasSnapshot).toBe(false);
    expect(s.rows).toEqual([]);
    expect(s.counts.total).toBe(0);
    expect(s.health).toBeNull();
    expect(s.connection).toMatchObject({ state: "connecting", since: T0, lastMessageAt: null });
  });

  it("replaces everything on a snapshot", () => {
    const c = clock();
    const store = createFleetStore({ now: c.now });
    store.getState().applySnapshot(snapshot([device("a"), device("b", { status: "offline" })]));
    store
      .getState()
      .applySnapshot(snapshot([device("c", { status: "late" })], T0, health({ db: { ok: false, pendingWrites: 7 } })));
    const s = store.getState();
    expect(s.rows.map((d) => d.id)).toEqual(["c"]);
    expect(s.counts).toEqual({ online: 0, late: 1, offline: 0, unknown: 0, total: 1 });
    expect(s.health?.db).toMatchObject({ ok: false, pendingWrites: 7 });
    expect(s.version).toBe(2);
    expect(s.hasSnapshot).toBe(true);
  });

  it("measures the server clock offset from the snapshot", () => {
    const c = clock(T0 - 90_000); // browser 90 s behind the server
    const store = createFleetStore({ now: c.now });
    store.getState().applySnapshot(snapshot([device("a")], T0));
    expect(store.getState().serverOffsetMs).toBe(90_000);
    expect(serverNow(store.getState())).toBe(T0);
    c.advance(5_000);
    store.getState().tick();
    expect(serverNow(store.getState())).toBe(T0 + 5_000);
  });

  it("follows a delta's clock offset only when it moves by more than the tolerance", () => {
    const c = clock();
    const store = createFleetStore({ now: c.now });
    store.getState().applySnapshot(snapshot([device("a")], T0));
    c.set(T0 + 10_400); // 400 ms of latency: ignored
    store.getState().applyDelta(delta([device("a")], T0 + 10_000));
    expect(store.getState().serverOffsetMs).toBe(0);
    c.set(T0 + 20_000); // browser clock jumped 60 s back
    store.getState().applyDelta(delta([device("a")], T0 + 80_000));
    expect(store.getState().serverOffsetMs).toBe(60_000);
  });

  it("moves the window when a delta says so, keeping only its devices", () => {
    const c = clock();
    const store = createFleetStore({ now: c.now });
    store.getState().applySnapshot(snapshot([device("a"), device("gone")]));
    const b = device("b", { status: "offline" });
    store.getState().applyDelta({
      ...delta([b], T0, [device("a"), b]),
      window: { offset: 0, total: 2, ids: ["b", "a"] },
    });
    const s = store.getState();
    expect(s.rows.map((d) => d.id)).toEqual(["b", "a"]);
    expect(s.window).toEqual({ offset: 0, total: 2, ids: ["b", "a"] });
    expect(s.rows[0]).toBe(b);
  });

  it("replaces the window's devices from a delta in place and takes its counts", () => {
    const c = clock();
    const store = createFleetStore({ now: c.now });
    store.getState().applySnapshot(snapshot([device("a"), device("b")]));
    const before = store.getState();
    const b2 = device("b", { status: "offline", lastDisconnectReason: "keepalive_timeout", disconnectCount: 1 });
    store.getState().applyDelta(delta([b2], T0, [device("a"), b2, device("elsewhere")]));
    const s = store.getState();
    expect(s.rows).toEqual([before.rows[0], b2]);
    expect(s.counts).toEqual({ online: 2, late: 0, offline: 1, unknown: 0, total: 3 });
    expect(s.version).toBe(before.version + 1);
    expect(s.window).toBe(before.window);
  });

  it("ignores a delta that arrives before any snapshot", () => {
    const store = createFleetStore();
    store.getState().applyDelta(delta([device("a")]));
    expect(store.getState().rows).toEqual([]);
    expect(store.getState().hasSnapshot).toBe(false);
  });

  it("takes counts and health from a delta without devices, leaving rows alone", () => {
    const store = createFleetStore();
    store.getState().applySnapshot(snapshot([device("a")]));
    const { rows, version } = store.getState();
    const msg = { ...delta([]), health: health({ monitor: { gapSince: isoAt(T0) } }) };
    store.getState().applyDelta(msg);
    expect(store.getState().health?.monitor.gapSince).toBe(isoAt(T0));
    expect(store.getState().rows).toBe(rows);
    expect(store.getState().version).toBe(version);
  });

  it("asks for the top of the new view when the view changes, and follows scrolling", () => {
    const store = createFleetStore();
    store.getState().applySnapshot({ ...snapshot([device("a")]), window: { offset: 0, total: 100_000, ids: ["a"] } });
    store.getState().showRange(10, 40);
    expect(store.getState().want).toEqual({ offset: 0, limit: 200 });
    store.getState().showRange(50_000, 50_030);
    expect(store.getState().want).toEqual({ offset: 49_934, limit: 200 });
    store.getState().setView({ search: "alpha" });
    expect(store.getState().want).toEqual({ offset: 0, limit: 200 });
    expect(store.getState().view).toEqual({
      status: "all",
      search: "alpha",
      tag: "",
      sortKey: "status",
      sortDir: "asc",
    });
  });

  it("can start from a snapshot", () => {
    const store = createFleetStore({ snapshot: snapshot([device("a"), device("b")]) });
    const s = store.getState();
    expect(s.hasSnapshot).toBe(true);
    expect(s.rows.map((d) => d.id)).toEqual(["a", "b"]);
    expect(store.getInitialState().rows).toBe(s.rows);
  });
});

describe("connection state", () => {
  it("marks going down and coming back, not every retry in between", () => {
    const c = clock();
    const store = createFleetStore({ now: c.now });
    const conn = () => store.getState().connection;
    c.set(T0 + 1_000);
    store.getState().setConnection("live");
    expect(conn()).toMatchObject({ state: "live", since: T0 + 1_000, lastError: null });
    c.set(T0 + 60_000);
    store.getState().setConnection("reconnecting", { error: "connection lost" });
    expect(conn()).toMatchObject({ state: "reconnecting", since: T0 + 60_000, lastError: "connection lost" });
    c.set(T0 + 63_000);
    store.getState().setConnection("reconnecting", { error: "stream closed" });
    expect(conn()).toMatchObject({ since: T0 + 60_000, lastError: "stream closed" });
    c.set(T0 + 70_000);
    store.getState().setConnection("live");
    expect(conn()).toMatchObject({ state: "live", since: T0 + 70_000, lastError: null });
  });

  it("counts the first connection attempt from page start", () => {
    const c = clock();
    const store = createFleetStore({ now: c.now });
    c.set(T0 + 2_000);
    store.getState().setConnection("reconnecting", { error: "connection lost" });
    expect(store.getState().connection.since).toBe(T0);
  });

  it("calls the data stale once the stream has been down longer than the threshold", () => {
    const down = { state: "reconnecting" as const, since: T0, lastError: null, lastMessageAt: T0 };
    expect(isStreamStale(down, T0 + STALE_AFTER_MS)).toBe(false);
    expect(isStreamStale(down, T0 + STALE_AFTER_MS + 1)).toBe(true);
    expect(isStreamStale({ ...down, state: "live" }, T0 + 60_000)).toBe(false);
    expect(isStreamStale({ ...down, state: "connecting" }, T0 + 60_000)).toBe(true);
  });

  it("records when the last message arrived", () => {
    const c = clock();
    const store = createFleetStore({ now: c.now });
    store.getState().applySnapshot(snapshot([device("a")]));
    c.advance(3_000);
    store.getState().applyDelta(delta([device("a")]));
    expect(store.getState().connection.lastMessageAt).toBe(T0 + 3_000);
  });
});
