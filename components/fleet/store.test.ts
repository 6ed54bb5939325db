import { describe, expect, it } from "vitest";
import type { DeltaMessage } from "@/lib/api/dto";
import { countsOf, device, health, isoAt, randomFleet, snapshot, T0 } from "./__fixtures__/devices";
import { createRowsSelector } from "./select";
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
    expect(s.devices.size).toBe(0);
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
    expect([...s.devices.keys()]).toEqual(["c"]);
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

  it("drops the devices a delta says were forgotten", () => {
    const c = clock();
    const store = createFleetStore({ now: c.now });
    store.getState().applySnapshot(snapshot([device("a"), device("gone")]));
    store.getState().applyDelta({ ...delta([], T0, [device("a")]), removed: ["gone", "never-held"] });
    const s = store.getState();
    expect([...s.devices.keys()]).toEqual(["a"]);
    expect(s.rows.map((d) => d.id)).toEqual(["a"]);
  });

  it("replaces and adds devices from a delta and takes its counts", () => {
    const c = clock();
    const store = createFleetStore({ now: c.now });
    store.getState().applySnapshot(snapshot([device("a"), device("b")]));
    const before = store.getState();
    const b2 = device("b", { status: "offline", lastDisconnectReason: "keepalive_timeout", disconnectCount: 1 });
    store.getState().applyDelta(delta([b2, device("new")], T0, [device("a"), b2, device("new")]));
    const s = store.getState();
    expect(s.devices.get("b")).toBe(b2);
    expect(s.devices.get("new")).toBeDefined();
    expect(s.devices.size).toBe(3);
    expect(s.counts).toEqual({ online: 2, late: 0, offline: 1, unknown: 0, total: 3 });
    expect(s.version).toBe(before.version + 1);
    expect(s.rows.map((d) => d.id)).toEqual(["b", "a", "new"]); // default view: problems first
  });

  it("ignores a delta that arrives before any snapshot", () => {
    const store = createFleetStore();
    store.getState().applyDelta(delta([device("a")]));
    expect(store.getState().devices.size).toBe(0);
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

  it("keeps 10,000 devices sorted across deltas without sorting them again", () => {
    const selectRows = createRowsSelector();
    const store = createFleetStore({ selectRows });
    const fleet = randomFleet(10_000, 2);
    store.getState().applySnapshot(snapshot(fleet));
    store.getState().setView({ sortKey: "lastSeen", sortDir: "desc" });
    const sortsBefore = selectRows.stats.fullSorts;
    for (let i = 0; i < 25; i++) {
      const d = { ...fleet[i * 100], lastSeenAt: isoAt(T0 + 1_000 * (i + 1)) };
      store.getState().applyDelta(delta([d], T0, fleet));
      expect(store.getState().rows[0]).toBe(d);
    }
    expect(selectRows.stats.fullSorts).toBe(sortsBefore);
  });

  it("keeps the rows array when a delta changes only filtered-out devices", () => {
    const store = createFleetStore({ view: { status: "offline" } });
    store.getState().applySnapshot(snapshot([device("a", { status: "offline" }), device("b")]));
    const rows = store.getState().rows;
    store.getState().applyDelta(delta([device("b", { lastSeenAt: isoAt(T0) })]));
    expect(store.getState().rows).toBe(rows);
    store.getState().applyDelta(delta([device("b", { status: "offline", statusSince: isoAt(T0) })]));
    expect(store.getState().rows.map((d) => d.id)).toEqual(["b", "a"]);
  });

  it("recomputes rows when the view changes", () => {
    const store = createFleetStore();
    store
      .getState()
      .applySnapshot(
        snapshot([device("Alpha"), device("beta", { status: "late" }), device("ALPHA-2", { status: "offline" })]),
      );
    store.getState().setView({ search: "alpha" });
    expect(store.getState().rows.map((d) => d.id)).toEqual(["ALPHA-2", "Alpha"]);
    store.getState().setView({ sortKey: "id", sortDir: "desc" });
    expect(store.getState().rows.map((d) => d.id)).toEqual(["ALPHA-2", "Alpha"]);
    store.getState().setView({ search: "", status: "late" });
    expect(store.getState().rows.map((d) => d.id)).toEqual(["beta"]);
    expect(store.getState().view).toEqual({ status: "late", search: "", tag: "", sortKey: "id", sortDir: "desc" });
  });

  it("can start from a snapshot", () => {
    const store = createFleetStore({
      snapshot: snapshot([device("a"), device("b")]),
      view: { sortKey: "id", sortDir: "desc" },
    });
    const s = store.getState();
    expect(s.hasSnapshot).toBe(true);
    expect(s.rows.map((d) => d.id)).toEqual(["b", "a"]);
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
