import { describe, expect, it } from "vitest";
import type { DeltaMessage } from "@/lib/api/dto";
import { countsOf, device, health, isoAt, snapshot, T0 } from "./__fixtures__/devices";
import { createFleetStore } from "./store";
import { backoffDelay } from "@/lib/backoff";
import { connectFleetStream, RECONNECT, STALL_MS, WINDOW_SETTLE_MS, type EventSourceLike } from "./stream";

type Listener = (ev: MessageEvent<string>) => void;

class FakeEventSource implements EventSourceLike {
  readyState = 0;
  onerror: ((ev: Event) => unknown) | null = null;
  closed = false;
  private listeners = new Map<string, Listener[]>();
  constructor(readonly url: string) {}
  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close(): void {
    this.closed = true;
    this.readyState = 2;
  }
  emit(type: "snapshot" | "delta" | "heartbeat" | "alerts", data: unknown): void {
    const ev = { data: typeof data === "string" ? data : JSON.stringify(data) } as MessageEvent<string>;
    for (const l of this.listeners.get(type) ?? []) l(ev);
  }
  fail(readyState: 0 | 2): void {
    this.readyState = readyState;
    this.onerror?.(new Event("error"));
  }
}

function harness(onAlerts?: (data: string) => void) {
  let now = T0;
  const store = createFleetStore({ now: () => now });
  const sources: FakeEventSource[] = [];
  const timers: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
  const stop = connectFleetStream(store, {
    url: "/api/stream",
    createEventSource: (url) => {
      const es = new FakeEventSource(url);
      sources.push(es);
      return es;
    },
    setTimer: (fn, ms) => {
      const t = { fn, ms, cleared: false };
      timers.push(t);
      return t;
    },
    clearTimer: (h) => {
      (h as { cleared: boolean }).cleared = true;
    },
    now: () => now,
    random: () => 1,
    onAlerts,
  });
  return {
    store,
    sources,
    timers,
    stop,
    advance: (ms: number) => (now += ms),
    last: () => sources[sources.length - 1],
  };
}

const deltaOf = (devices: DeltaMessage["devices"]): DeltaMessage => ({
  serverTime: isoAt(T0),
  devices,
  counts: countsOf(devices),
  health: health(),
});

describe("connectFleetStream", () => {
  it("hands the stream's alerts events on, from the current connection only", () => {
    const seen: string[] = [];
    const h = harness((d) => seen.push(d));
    const first = h.last();
    first.emit("snapshot", snapshot([device("a")]));
    first.emit("alerts", '{"firingCount":1}');
    expect(seen).toEqual(['{"firingCount":1}']);
    first.fail(2);
    h.timers.at(-1)!.fn();
    first.emit("alerts", '{"firingCount":2}'); // the closed connection is ignored
    h.last().emit("alerts", '{"firingCount":3}');
    expect(seen).toEqual(['{"firingCount":1}', '{"firingCount":3}']);
  });

  it("applies the snapshot, goes live, then applies deltas", () => {
    const h = harness();
    expect(h.sources).toHaveLength(1);
    expect(h.last().url).toBe("/api/stream");
    expect(h.store.getState().connection.state).toBe("connecting");
    h.last().emit("snapshot", snapshot([device("a"), device("b")]));
    expect(h.store.getState().connection.state).toBe("live");
    expect(h.store.getState().rows).toHaveLength(2);
    h.last().emit("delta", deltaOf([device("a", { status: "offline" })]));
    expect(h.store.getState().rows[0]).toMatchObject({ id: "a", status: "offline" });
  });

  it("moves the stream to a new view or window at once, then at most once per settle period, without going through reconnecting", () => {
    const h = harness();
    h.last().emit("snapshot", snapshot([device("a")]));
    const moves = () => h.timers.filter((t) => t.ms !== STALL_MS);
    // The first change after a quiet period moves the stream at once; a change made with it joins the move.
    h.store.getState().setView({ search: "pump" });
    h.store.getState().setView({ status: "offline", search: "pump" });
    expect(moves().map((t) => t.ms)).toEqual([0]); // one reopen for both changes
    moves()[0].fn();
    expect(h.sources).toHaveLength(2);
    expect(h.sources[0].closed).toBe(true);
    expect(h.last().url).toBe("/api/stream?status=offline&q=pump");
    expect(h.store.getState().connection.state).toBe("live");
    h.last().emit("snapshot", { ...snapshot([]), window: { offset: 0, total: 0, ids: [] } });
    expect(h.store.getState().rows).toEqual([]);
    h.store.getState().setView({ status: "offline", search: "pump" }); // same address: nothing to do
    expect(moves()).toHaveLength(1);

    // Typing on within the period: the move waits for the rest of it, and takes the address as it is then.
    h.advance(20);
    h.store.getState().setView({ search: "pump-" });
    h.store.getState().setView({ search: "pump-1" });
    expect(
      moves()
        .slice(1)
        .map((t) => t.ms),
    ).toEqual([WINDOW_SETTLE_MS - 20]);
    h.advance(WINDOW_SETTLE_MS - 20);
    moves()[1].fn();
    expect(h.sources).toHaveLength(3);
    expect(h.last().url).toBe("/api/stream?status=offline&q=pump-1");

    // A click moves the stream at once, even within the period.
    h.advance(10);
    h.store.getState().setView({ sortKey: "id", sortDir: "desc" });
    expect(
      moves()
        .slice(2)
        .map((t) => t.ms),
    ).toEqual([0]);
    moves()[2].fn();
    expect(h.last().url).toBe("/api/stream?status=offline&q=pump-1&sort=id&dir=desc");

    // After a quiet period, typing moves it at once again.
    h.advance(WINDOW_SETTLE_MS);
    h.store.getState().setView({ search: "pump-12" });
    expect(
      moves()
        .slice(3)
        .map((t) => t.ms),
    ).toEqual([0]);
  });

  it("shows reconnecting while EventSource retries, and a new snapshot replaces everything", () => {
    const h = harness();
    h.last().emit("snapshot", snapshot([device("a"), device("b")]));
    h.last().fail(0);
    expect(h.store.getState().connection).toMatchObject({ state: "reconnecting", lastError: "connection lost" });
    expect(h.sources).toHaveLength(1); // EventSource reconnects by itself
    h.last().emit("snapshot", snapshot([device("c")]));
    expect(h.store.getState().connection.state).toBe("live");
    expect(h.store.getState().rows.map((d) => d.id)).toEqual(["c"]);
  });

  it("reopens the stream with growing delays when EventSource gives up", () => {
    const h = harness();
    h.last().fail(2);
    expect(h.store.getState().connection.state).toBe("reconnecting");
    expect(h.timers.map((t) => t.ms)).toEqual([1_000]);
    h.timers[0].fn();
    expect(h.sources).toHaveLength(2);
    expect(h.sources[0].closed).toBe(true);
    h.last().fail(2);
    expect(h.timers.map((t) => t.ms)).toEqual([1_000, 2_000]);
    h.timers[1].fn();
    h.last().emit("snapshot", snapshot([device("a")]));
    h.last().fail(2);
    const retries = h.timers.filter((t) => t.ms !== STALL_MS);
    expect(retries[2].ms).toBe(1_000); // a snapshot resets the backoff
  });

  it("reopens a stream that stays open but silent past two heartbeats, and heartbeats keep it alive", () => {
    const h = harness();
    h.last().emit("snapshot", snapshot([device("a")]));
    const stall = () => h.timers.filter((t) => t.ms === STALL_MS && !t.cleared);
    expect(stall()).toHaveLength(1);
    h.last().emit("heartbeat", { serverTime: isoAt(T0) });
    expect(stall()).toHaveLength(1); // re-armed: the old one was cleared
    expect(h.timers.filter((t) => t.ms === STALL_MS)).toHaveLength(2);
    stall()[0].fn();
    expect(h.sources[0].closed).toBe(true);
    expect(h.store.getState().connection.state).toBe("reconnecting");
    expect(h.store.getState().connection.lastError).toContain("no data from the server");
  });

  it("reopens for a fresh snapshot when a message breaks the contract", () => {
    const h = harness();
    h.last().emit("snapshot", snapshot([device("a")]));
    h.last().emit("delta", "{not json");
    expect(h.sources[0].closed).toBe(true);
    expect(h.store.getState().connection).toMatchObject({ state: "reconnecting" });
    expect(h.store.getState().connection.lastError).toContain("bad delta");
    expect(h.store.getState().rows).toHaveLength(1);
  });

  it("ignores events from a stream it has replaced", () => {
    const h = harness();
    const first = h.last();
    first.fail(2);
    h.timers[0].fn();
    first.emit("snapshot", snapshot([device("ghost")]));
    expect(h.store.getState().hasSnapshot).toBe(false);
  });

  it("closes the stream and cancels a pending retry on stop", () => {
    const h = harness();
    h.last().fail(2);
    h.stop();
    expect(h.timers[0].cleared).toBe(true);
    const h2 = harness();
    h2.stop();
    expect(h2.last().closed).toBe(true);
  });
});

describe("reconnect delays", () => {
  it("double from 1 s up to 30 s, with jitter between half and all of it", () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, RECONNECT, () => 1))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
    ]);
    expect(backoffDelay(3, RECONNECT, () => 0)).toBe(4_000);
  });
});
