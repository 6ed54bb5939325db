import { afterEach, describe, expect, it } from "vitest";
import { LiveHub, type HubSource } from "./hub";
import type { DeviceDto, HealthDto } from "../api/dto";
import { readSseEvents } from "../testing/sse";
import type { DeviceState } from "../fleet/types";
import { DEFAULT_VIEW, FleetViews } from "./views";
import type { ActivityEventMessage, DeltaMessage, DeviceEventMessage, SnapshotMessage } from "../api/dto";

function dto(id: string, status: DeviceDto["status"] = "online"): DeviceDto {
  return {
    id,
    status,
    statusSince: "2026-01-01T00:00:00.000Z",
    keepaliveSeconds: 5,
    lastSeenAt: null,
    connectedAt: null,
    sessionOpen: false,
    lastDisconnectAt: null,
    name: null,
    tags: [],
    expected: false,
    muted: false,
    lastDisconnectReason: null,
    disconnectCount: 0,
    sources: [],
  };
}

const health = { ok: true } as unknown as HealthDto;

/** The fleet the views read, seen through the DTOs the test holds. */
function stateOf(d: DeviceDto): DeviceState {
  return {
    id: d.id,
    status: d.status,
    statusSince: Date.parse(d.statusSince),
    lastSeenAt: d.lastSeenAt === null ? null : Date.parse(d.lastSeenAt),
    disconnectCount: d.disconnectCount,
    keepaliveSeconds: d.keepaliveSeconds,
  } as DeviceState;
}

function source(devices: Map<string, DeviceDto>): HubSource {
  const views = new FleetViews({
    all: () => Array.from(devices.values(), stateOf),
    get: (id) => {
      const d = devices.get(id);
      return d && stateOf(d);
    },
    nameOf: (id) => devices.get(id)?.name ?? null,
    tagsOf: (id) => devices.get(id)?.tags ?? [],
  });
  return {
    views,
    device: (id) => devices.get(id) ?? null,
    counts: () => ({ online: devices.size, late: 0, offline: 0, unknown: 0, total: devices.size }),
    health: () => health,
  };
}

const readEvents = readSseEvents;

let hub: LiveHub | null = null;
afterEach(() => hub?.stop());

describe("LiveHub", () => {
  it("sends a snapshot, then one coalesced delta with only the changed devices", async () => {
    const devices = new Map([
      ["a", dto("a")],
      ["b", dto("b")],
    ]);
    hub = new LiveHub(source(devices), { batchMs: 1_000_000, heartbeatMs: 1_000_000 });
    const reader = hub.subscribe().getReader();
    const [snap] = await readEvents(reader, 1);
    expect(snap.event).toBe("snapshot");
    expect((snap.data as { devices: DeviceDto[] }).devices.map((d) => d.id)).toEqual(["a", "b"]);

    devices.set("b", dto("b", "offline"));
    hub.markChanged(["b"]);
    hub.markChanged(["b"]); // changed twice before the batch: sent once
    hub.publish();
    const [delta] = await readEvents(reader, 1);
    expect(delta.event).toBe("delta");
    expect((delta.data as { devices: DeviceDto[] }).devices).toEqual([dto("b", "offline")]);
  });

  it("sends nothing when nothing changed, and names heartbeats so browsers see them", async () => {
    hub = new LiveHub(source(new Map()), { batchMs: 1_000_000, heartbeatMs: 20 });
    const reader = hub.subscribe().getReader();
    await readEvents(reader, 1); // snapshot
    hub.publish(); // first publish carries the health it has not sent yet
    const [first] = await readEvents(reader, 1);
    expect(first.event).toBe("delta");
    hub.publish(); // nothing changed: nothing sent
    hub.start();
    const [next] = await readEvents(reader, 1);
    expect(next.event).toBe("heartbeat");
    expect(typeof (next.data as { serverTime: string }).serverTime).toBe("string");
  });

  it("builds no device DTOs while nobody watches the fleet, and starts a new subscriber from a snapshot", async () => {
    const devices = new Map([["a", dto("a")]]);
    const src = source(devices);
    let built = 0;
    const device = src.device;
    src.device = (id) => (built++, device(id));
    hub = new LiveHub(src, { batchMs: 1_000_000, heartbeatMs: 1_000_000 });
    const alertsOnly = hub.subscribe(undefined, { only: "alerts" });
    hub.markChanged(["a"]);
    hub.publish();
    expect(built).toBe(0);

    devices.set("a", dto("a", "late"));
    const reader = hub.subscribe().getReader();
    const [snap] = await readEvents(reader, 1);
    expect((snap.data as { devices: DeviceDto[] }).devices).toEqual([dto("a", "late")]);
    expect(built).toBe(1); // the snapshot's window
    hub.markChanged(["a"]);
    hub.publish();
    expect(built).toBe(2);
    const [delta] = await readEvents(reader, 1);
    expect((delta.data as { devices: DeviceDto[] }).devices).toEqual([dto("a", "late")]);

    await reader.cancel(); // the fleet subscriber leaves: back to building nothing
    hub.markChanged(["a"]);
    hub.publish();
    expect(built).toBe(2);
    void alertsOnly.cancel();
  });

  it("sheds a stream whose reader has not caught up for 30 s; a reader that keeps up stays", async () => {
    const devices = new Map(Array.from({ length: 1_000 }, (_, i) => [`d${i}`, dto(`d${i}`)] as const));
    let now = 0;
    hub = new LiveHub(source(devices), { batchMs: 1_000_000, heartbeatMs: 1_000_000, now: () => now });
    // Never read: its snapshot alone (1,000 rows) is past the high-water mark.
    hub.subscribe(undefined, { window: { query: DEFAULT_VIEW, offset: 0, limit: 1_000 } });
    const reader = hub.subscribe().getReader();
    await readEvents(reader, 1);
    const step = async (at: number, id: string) => {
      now = at;
      hub!.markChanged([id]);
      hub!.publish();
      await readEvents(reader, 1);
    };
    await step(0, "d1");
    await step(29_999, "d2");
    expect(hub.subscriberCount).toBe(2);
    await step(30_000, "d3");
    expect(hub.subscriberCount).toBe(1);
    await step(90_000, "d4");
    expect(hub.subscriberCount).toBe(1);
  });

  it("forgets a subscriber when the request is aborted", async () => {
    hub = new LiveHub(source(new Map()), { batchMs: 1_000_000, heartbeatMs: 1_000_000 });
    const ac = new AbortController();
    hub.subscribe(ac.signal);
    hub.subscribe();
    expect(hub.subscriberCount).toBe(2);
    ac.abort();
    expect(hub.subscriberCount).toBe(1);
  });

  it("sends a window of one view: its rows, the rows entering it, and nothing about the rest", async () => {
    const devices = new Map(
      Array.from({ length: 50 }, (_, i): [string, DeviceDto] => [`d${i}`, dto(`d${i}`, i < 3 ? "offline" : "online")]),
    );
    hub = new LiveHub(source(devices), { batchMs: 1_000_000, heartbeatMs: 1_000_000 });
    const reader = hub
      .subscribe(undefined, {
        window: { query: { ...DEFAULT_VIEW, status: "offline", sortKey: "id" }, offset: 0, limit: 2 },
      })
      .getReader();
    const [snap] = await readEvents(reader, 1);
    const first = snap.data as SnapshotMessage;
    expect(first.window).toEqual({ offset: 0, total: 3, ids: ["d0", "d1"] });
    expect(first.devices.map((d) => d.id)).toEqual(["d0", "d1"]);
    hub.publish(); // the first publish carries the health not yet sent
    await readEvents(reader, 1);

    // A device outside the view changes without moving the counts: nothing to send.
    devices.set("d40", { ...dto("d40"), lastSeenAt: "2026-01-01T00:01:00.000Z" });
    hub.markChanged(["d40"]);
    hub.publish();
    // One enters the view ahead of the window's rows: the window moves and carries it.
    devices.set("c9", { ...dto("c9", "offline") });
    hub.markChanged(["c9"]);
    hub.publish();
    const [delta] = await readEvents(reader, 1);
    const moved = delta.data as DeltaMessage;
    expect(delta.event).toBe("delta");
    expect(moved.window).toEqual({ offset: 0, total: 4, ids: ["c9", "d0"] });
    expect(moved.devices.map((d) => d.id)).toEqual(["c9"]);
    expect(moved.counts.total).toBe(51);
  });

  it("keeps a tab's snapshot small at 100,000 devices", async () => {
    const devices = new Map(Array.from({ length: 100_000 }, (_, i) => [`dev-${i}`, dto(`dev-${i}`)] as const));
    hub = new LiveHub(source(devices), { batchMs: 1_000_000, heartbeatMs: 1_000_000 });
    const reader = hub.subscribe().getReader();
    const chunks: number[] = [];
    for (;;) {
      const { value } = await reader.read();
      chunks.push(value!.byteLength);
      if (new TextDecoder().decode(value).includes("event: snapshot")) break;
    }
    const bytes = chunks[chunks.length - 1];
    expect(bytes).toBeGreaterThan(10_000);
    expect(bytes).toBeLessThan(1_000_000);
  });

  it("streams one device: its state on subscribe and on change, and its activity points as they come", async () => {
    const devices = new Map([
      ["a", dto("a")],
      ["b", dto("b")],
    ]);
    hub = new LiveHub(source(devices), { batchMs: 1_000_000, heartbeatMs: 1_000_000 });
    const reader = hub.subscribe(undefined, { device: "a" }).getReader();
    const [first] = await readEvents(reader, 1);
    expect(first.event).toBe("device");
    expect((first.data as DeviceEventMessage).device).toEqual(dto("a"));
    expect(hub.watching).toBe(true);

    hub.markActivity([
      { deviceId: "b", at: Date.parse("2026-01-01T00:00:01Z"), kind: "pingreq", reason: null },
      { deviceId: "a", at: Date.parse("2026-01-01T00:00:02Z"), kind: "pingreq", reason: null },
      { deviceId: "a", at: Date.parse("2026-01-01T00:00:03Z"), kind: "disconnect", reason: "keepalive_timeout" },
    ]);
    devices.set("a", dto("a", "offline"));
    hub.markChanged(["a", "b"]);
    hub.publish();
    const [changed, activity] = await readEvents(reader, 2);
    expect(changed.event).toBe("device");
    expect((changed.data as DeviceEventMessage).device?.status).toBe("offline");
    expect(activity.event).toBe("activity");
    expect((activity.data as ActivityEventMessage).points).toEqual([
      { at: "2026-01-01T00:00:02.000Z", kind: "pingreq" },
      { at: "2026-01-01T00:00:03.000Z", kind: "disconnect", reason: "keepalive_timeout" },
    ]);
    await reader.cancel();
    expect(hub.watching).toBe(false);
  });

  it("reads see every change at once: the views used between publishes include changes not yet published", () => {
    const devices = new Map([
      ["a", dto("a")],
      ["b", dto("b")],
    ]);
    hub = new LiveHub(source(devices), { batchMs: 1_000_000, heartbeatMs: 1_000_000 });
    const offline = { ...DEFAULT_VIEW, status: "offline" as const, sortKey: "id" as const };
    // A view in use, as a tab or an earlier API call left it.
    expect(hub.currentViews().idsAfter(offline, null, 10).ids).toEqual([]);
    devices.set("b", dto("b", "offline"));
    devices.set("c", dto("c", "offline"));
    hub.markChanged(["b", "c"]);
    // No publish yet: the views still get both.
    expect(hub.currentViews().idsAfter(offline, null, 10)).toEqual({ ids: ["b", "c"], total: 2 });
  });
});
