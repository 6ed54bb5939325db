/** The hub's `alerts` event: sent after the snapshot, on change (coalesced), and alone to alerts-only streams. */
import { afterEach, describe, expect, it } from "vitest";
import type { AlertFeedMessage } from "../alerts/dto";
import type { HealthDto } from "../api/dto";
import { readSseEvents } from "../testing/sse";
import { LiveHub, type HubSource } from "./hub";
import { FleetViews } from "./views";

const health = { ok: true } as unknown as HealthDto;
let feed: AlertFeedMessage = {
  serverTime: "2026-11-22T00:00:00.000Z",
  firingCount: 0,
  firing: [],
  graceUntil: null,
  incidents: [],
};

const source: HubSource = {
  views: new FleetViews({ all: () => [], get: () => undefined, nameOf: () => null, tagsOf: () => [] }),
  device: () => null,
  counts: () => ({ online: 0, late: 0, offline: 0, unknown: 0, total: 0 }),
  health: () => health,
  alerts: () => feed,
};

/** Event names, with the firing count for `alerts` events ("alerts:2"). */
async function read(reader: ReadableStreamDefaultReader<Uint8Array>, n: number): Promise<string[]> {
  return (await readSseEvents(reader, n)).map(
    ({ event, data }) => `${event}:${event === "alerts" ? (data as AlertFeedMessage).firingCount : ""}`,
  );
}

let hub: LiveHub | null = null;
afterEach(() => hub?.stop());

describe("LiveHub alerts", () => {
  it("follows the snapshot with the feed, and sends one alerts event per batch of changes", async () => {
    hub = new LiveHub(source, { batchMs: 1_000_000 });
    const reader = hub.subscribe().getReader();
    expect(await read(reader, 2)).toEqual(["snapshot:", "alerts:0"]);
    feed = { ...feed, firingCount: 2 };
    hub.markAlertsChanged();
    hub.markAlertsChanged();
    hub.publish();
    hub.publish(); // nothing new: no second alerts event
    hub.markChanged(["x"]); // a device change without an alert change: a delta only
    hub.publish();
    expect(await read(reader, 2)).toEqual(["alerts:2", "delta:"]);
  });

  it("gives alerts-only subscribers the feed and nothing of the fleet", async () => {
    hub = new LiveHub(source, { batchMs: 1_000_000 });
    const reader = hub.subscribe(undefined, { only: "alerts" }).getReader();
    expect(await read(reader, 1)).toEqual(["alerts:2"]);
    hub.markChanged(["x"]);
    hub.publish();
    feed = { ...feed, firingCount: 3 };
    hub.markAlertsChanged();
    hub.publish();
    expect(await read(reader, 1)).toEqual(["alerts:3"]);
  });

  it("builds a feed that is costly to build less often: 20 times its cost apart, so under 5 % of the time", async () => {
    let clock = 0;
    let builds = 0;
    // Each build takes 50 ms (of the hub's clock): the next may come 1 s later.
    const costly: HubSource = { ...source, alerts: () => (builds++, (clock += 50), feed) };
    hub = new LiveHub(costly, { batchMs: 1_000_000, now: () => clock });
    const reader = hub.subscribe(undefined, { only: "alerts" }).getReader();
    await read(reader, 1);
    builds = 0;
    feed = { ...feed, firingCount: 4 };
    hub.markAlertsChanged();
    hub.publish();
    expect(builds).toBe(1);
    feed = { ...feed, firingCount: 5 };
    hub.markAlertsChanged();
    clock += 500;
    hub.publish();
    expect(builds).toBe(1); // 550 ms after the last build began: not yet
    clock += 500;
    hub.publish();
    expect(builds).toBe(2); // still changed, and 1,050 ms on: sent
    hub.publish();
    expect(builds).toBe(2); // nothing new
    expect(await read(reader, 2)).toEqual(["alerts:4", "alerts:5"]);
  });
});
