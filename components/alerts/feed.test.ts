import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  parseAlertFeed,
  retainAlertFeed,
  setFeedEventSourceFactory,
  shareFleetStream,
  applyAlertFeedEvent,
  useAlertFeed,
  type FeedEventSource,
} from "./feed";

const alert = {
  id: "1",
  deviceId: "d",
  ruleId: 1,
  kind: "offline",
  state: "firing",
  firedAt: "2026-11-22T00:00:00.000Z",
  resolvedAt: null,
  message: "m",
};

describe("parseAlertFeed", () => {
  it("accepts the contract and rejects anything else whole", () => {
    const ok = { serverTime: "2026-11-22T00:00:00.000Z", firingCount: 1, firing: [alert], graceUntil: null };
    expect(parseAlertFeed(JSON.stringify(ok))).toEqual(ok);
    expect(parseAlertFeed("nope")).toBeNull();
    expect(parseAlertFeed(JSON.stringify({ ...ok, firingCount: "1" }))).toBeNull();
    expect(parseAlertFeed(JSON.stringify({ ...ok, firing: [{ ...alert, kind: "weird" }] }))).toBeNull();
    expect(parseAlertFeed(JSON.stringify({ ...ok, graceUntil: 5 }))).toBeNull();
  });
});

class FakeSource implements FeedEventSource {
  onopen: ((ev: Event) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;
  closed = false;
  listeners: Array<(ev: MessageEvent<string>) => void> = [];
  constructor(readonly url: string) {}
  addEventListener(_type: "alerts", listener: (ev: MessageEvent<string>) => void): void {
    this.listeners.push(listener);
  }
  close(): void {
    this.closed = true;
  }
  emit(data: unknown): void {
    for (const l of this.listeners) l({ data: JSON.stringify(data) } as MessageEvent<string>);
  }
}

describe("the alert feed's connection", () => {
  let opened: FakeSource[] = [];
  let restore: ReturnType<typeof setFeedEventSourceFactory>;
  const open = () => opened.filter((s) => !s.closed);
  const settle = () => new Promise<void>((r) => queueMicrotask(r));
  const feed = (firingCount: number) => ({
    serverTime: "2026-11-22T00:00:00.000Z",
    firingCount,
    firing: [],
    graceUntil: null,
  });

  beforeEach(() => {
    opened = [];
    restore = setFeedEventSourceFactory((url) => {
      const s = new FakeSource(url);
      opened.push(s);
      return s;
    });
  });
  afterEach(() => {
    setFeedEventSourceFactory(restore);
  });

  it("opens one alerts-only stream for any number of users, and closes it with the last", async () => {
    const a = retainAlertFeed();
    const b = retainAlertFeed();
    await settle();
    expect(open().map((s) => s.url)).toEqual(["/api/stream?only=alerts"]);
    open()[0].emit(feed(2));
    expect(useAlertFeed.getState().firingCount).toBe(2);
    a();
    a(); // releasing twice counts once
    await settle();
    expect(open()).toHaveLength(1);
    b();
    await settle();
    expect(open()).toHaveLength(0);
  });

  it("uses the fleet stream instead while one is open: never two connections", async () => {
    // A page with both mounts in one commit: the feed's own stream is not even opened.
    const badge = retainAlertFeed();
    const fleet = shareFleetStream();
    await settle();
    expect(opened).toHaveLength(0);
    applyAlertFeedEvent(JSON.stringify(feed(4)));
    expect(useAlertFeed.getState()).toMatchObject({ firingCount: 4, connected: true });
    applyAlertFeedEvent("not json"); // ignored whole
    expect(useAlertFeed.getState().firingCount).toBe(4);

    // Leaving the fleet page: the badge gets its own stream back.
    fleet();
    await settle();
    expect(open().map((s) => s.url)).toEqual(["/api/stream?only=alerts"]);

    // Back on the fleet page: the own stream closes.
    const again = shareFleetStream();
    await settle();
    expect(open()).toHaveLength(0);
    again();
    badge();
    await settle();
    expect(open()).toHaveLength(0);
  });
});
