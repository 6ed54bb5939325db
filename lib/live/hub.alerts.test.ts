/** The hub's `alerts` event: sent after the snapshot, on change (coalesced), and alone to alerts-only streams. */
import { afterEach, describe, expect, it } from "vitest";
import type { AlertFeedMessage } from "../alerts/dto";
import type { HealthDto } from "../api/dto";
import { LiveHub, type HubSource } from "./hub";

const health = { ok: true } as unknown as HealthDto;
let feed: AlertFeedMessage = { serverTime: "2026-11-22T00:00:00.000Z", firingCount: 0, firing: [], graceUntil: null };

const source: HubSource = {
  snapshotDevices: () => [],
  device: () => null,
  counts: () => ({ online: 0, late: 0, offline: 0, unknown: 0, total: 0 }),
  health: () => health,
  alerts: () => feed,
};

async function read(reader: ReadableStreamDefaultReader<Uint8Array>, n: number): Promise<string[]> {
  const decoder = new TextDecoder();
  const names: string[] = [];
  let buf = "";
  while (names.length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value);
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event) names.push(`${event}:${event === "alerts" ? JSON.parse(data!).firingCount : ""}`);
    }
  }
  return names;
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
});
