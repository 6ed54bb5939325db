import { describe, expect, it } from "vitest";
import type { DeviceDto } from "@/lib/api/dto";
import { device, isoAt, prng, randomDevice, randomFleet, T0 } from "./__fixtures__/devices";
import {
  compareDevices,
  compareIds,
  createRowsSelector,
  filterDevices,
  hrefWithTag,
  selectDevices,
  SORT_KEYS,
  sortDevices,
  tagFromQuery,
  type SortDir,
  type ViewQuery,
} from "./select";

const ids = (xs: readonly DeviceDto[]) => xs.map((d) => d.id);
const mapOf = (xs: readonly DeviceDto[]) => new Map(xs.map((d) => [d.id, d]));
const view = (patch: Partial<ViewQuery> = {}): ViewQuery => ({
  status: "all",
  search: "",
  tag: "",
  sortKey: "id",
  sortDir: "asc",
  ...patch,
});

describe("filterDevices", () => {
  const fleet = [
    device("Kitchen-Sensor", { status: "online" }),
    device("garage-door", { status: "offline" }),
    device("GARAGE-light", { status: "late" }),
    device("attic", { status: "unknown" }),
  ];

  it("keeps only the chosen status", () => {
    expect(ids(filterDevices(fleet, "offline", ""))).toEqual(["garage-door"]);
    expect(ids(filterDevices(fleet, "late", ""))).toEqual(["GARAGE-light"]);
    expect(filterDevices(fleet, "all", "")).toHaveLength(4);
  });

  it("searches id substrings case-insensitively, ignoring surrounding blanks", () => {
    expect(ids(filterDevices(fleet, "all", "garage"))).toEqual(["garage-door", "GARAGE-light"]);
    expect(ids(filterDevices(fleet, "all", "  SENSOR "))).toEqual(["Kitchen-Sensor"]);
    expect(ids(filterDevices(fleet, "all", "ge-l"))).toEqual(["GARAGE-light"]);
    expect(filterDevices(fleet, "all", "nothing")).toEqual([]);
  });

  it("combines status and search", () => {
    expect(ids(filterDevices(fleet, "offline", "GARAGE"))).toEqual(["garage-door"]);
  });

  it("searches names as well as ids, and filters by tag", () => {
    const labelled = [
      device("p-1", { name: "Boiler pump, north", tags: ["pumps", "site:north"] }),
      device("p-2", { tags: ["site:south"] }),
      device("north-gate"),
    ];
    expect(ids(filterDevices(labelled, "all", "NORTH"))).toEqual(["p-1", "north-gate"]);
    expect(ids(filterDevices(labelled, "all", "", "site:south"))).toEqual(["p-2"]);
    expect(ids(filterDevices(labelled, "all", "north", "pumps"))).toEqual(["p-1"]);
  });

  it("matches ids with markup or invisible characters literally", () => {
    const hostile = [device("<img src=x onerror=alert(1)>"), device("a\u202Eb"), device("dev\u200B-1")];
    expect(ids(filterDevices(hostile, "all", "<IMG"))).toEqual(["<img src=x onerror=alert(1)>"]);
    expect(ids(filterDevices(hostile, "all", "\u202E"))).toEqual(["a\u202Eb"]);
    expect(filterDevices(hostile, "all", "dev-1")).toEqual([]);
  });
});

describe("the tag filter in the URL", () => {
  it("reads one well-formed tag from ?tag=, anything else as no filter", () => {
    expect(tagFromQuery("site:north")).toBe("site:north");
    expect(tagFromQuery(undefined)).toBe("");
    expect(tagFromQuery(null)).toBe("");
    expect(tagFromQuery("")).toBe("");
    expect(tagFromQuery(["pumps", "site:north"])).toBe("");
    expect(tagFromQuery("Bad Tag")).toBe("");
    expect(tagFromQuery("x".repeat(65))).toBe("");
  });

  it("sets and removes ?tag= keeping the rest of the address", () => {
    expect(hrefWithTag("http://h/?x=1", "pumps")).toBe("http://h/?x=1&tag=pumps");
    expect(hrefWithTag("http://h/?tag=pumps&x=1", "site:north")).toBe("http://h/?tag=site%3Anorth&x=1");
    expect(hrefWithTag("http://h/?tag=pumps&x=1#top", "")).toBe("http://h/?x=1#top");
    // Round trip: what is written is read back.
    expect(tagFromQuery(new URL(hrefWithTag("http://h/", "a.b_c-d:e")).searchParams.get("tag"))).toBe("a.b_c-d:e");
  });
});

describe("sorting", () => {
  it("orders ids naturally and breaks collation ties by code unit", () => {
    expect(["dev-10", "dev-2", "dev-1"].sort(compareIds)).toEqual(["dev-1", "dev-2", "dev-10"]);
    expect(compareIds("a01", "a1")).not.toBe(0);
    expect(Math.sign(compareIds("a01", "a1"))).toBe(-Math.sign(compareIds("a1", "a01")));
  });

  it("sorts by status with problems first, most recent change first within a status", () => {
    const fleet = [
      device("on", { status: "online" }),
      device("off-old", { status: "offline", statusSince: isoAt(T0 - 600_000) }),
      device("unk", { status: "unknown" }),
      device("off-new", { status: "offline", statusSince: isoAt(T0 - 1_000) }),
      device("late", { status: "late" }),
    ];
    expect(ids(sortDevices(fleet, "status", "asc"))).toEqual(["off-new", "off-old", "late", "unk", "on"]);
    expect(ids(sortDevices(fleet, "status", "desc"))).toEqual(["on", "unk", "late", "off-new", "off-old"]);
  });

  it("sorts by last seen with never-seen devices last in both directions", () => {
    const fleet = [
      device("never", { lastSeenAt: null }),
      device("recent", { lastSeenAt: isoAt(T0 - 1_000) }),
      device("old", { lastSeenAt: isoAt(T0 - 90_000) }),
    ];
    expect(ids(sortDevices(fleet, "lastSeen", "asc"))).toEqual(["old", "recent", "never"]);
    expect(ids(sortDevices(fleet, "lastSeen", "desc"))).toEqual(["recent", "old", "never"]);
  });

  it("sorts by keepalive numerically (0 is a value, null is last)", () => {
    const fleet = [
      device("k60", { keepaliveSeconds: 60 }),
      device("none", { keepaliveSeconds: null }),
      device("k5", { keepaliveSeconds: 5 }),
      device("k0", { keepaliveSeconds: 0 }),
      device("k10", { keepaliveSeconds: 10 }),
    ];
    expect(ids(sortDevices(fleet, "keepalive", "asc"))).toEqual(["k0", "k5", "k10", "k60", "none"]);
    expect(ids(sortDevices(fleet, "keepalive", "desc"))).toEqual(["k60", "k10", "k5", "k0", "none"]);
  });

  it("sorts by disconnect count, ties by id", () => {
    const fleet = [
      device("b", { disconnectCount: 3 }),
      device("a", { disconnectCount: 3 }),
      device("c", { disconnectCount: 12 }),
    ];
    expect(ids(sortDevices(fleet, "disconnectCount", "desc"))).toEqual(["c", "a", "b"]);
    expect(ids(sortDevices(fleet, "disconnectCount", "asc"))).toEqual(["a", "b", "c"]);
  });

  it("is a strict total order for every key and direction", () => {
    const fleet = randomFleet(300, 7);
    for (const key of SORT_KEYS) {
      for (const dir of ["asc", "desc"] as SortDir[]) {
        const cmp = compareDevices(key, dir);
        for (let i = 0; i < fleet.length - 1; i++) {
          const a = fleet[i];
          const b = fleet[i + 1];
          expect(cmp(a, a)).toBe(0);
          expect(cmp(a, b)).not.toBe(0);
          expect(Math.sign(cmp(a, b))).toBe(-Math.sign(cmp(b, a)));
        }
      }
    }
  });
});

describe("createRowsSelector", () => {
  it("matches the plain definition across random deltas, views and sorts", () => {
    const rnd = prng(42);
    const fleet = randomFleet(2_000, 3);
    const devices = mapOf(fleet);
    const select = createRowsSelector();
    const queries: ViewQuery[] = [];
    for (const key of SORT_KEYS)
      for (const dir of ["asc", "desc"] as SortDir[]) queries.push(view({ sortKey: key, sortDir: dir }));
    queries.push(
      view({ status: "offline", sortKey: "lastSeen" }),
      view({ search: "dev-01", sortKey: "status" }),
      view({ tag: "site:b", sortKey: "disconnectCount" }),
      view({ search: "pump", tag: "site:a", sortKey: "id" }),
    );

    for (const q of queries) {
      for (let step = 0; step < 15; step++) {
        const n = 1 + Math.floor(rnd() * 40);
        for (let i = 0; i < n; i++) {
          const id =
            rnd() < 0.9 ? `dev-${String(Math.floor(rnd() * 2_000)).padStart(5, "0")}` : `new-${step}-${i}-${q.sortKey}`;
          devices.set(id, randomDevice(id, rnd, T0 + step * 1_000));
        }
        expect(ids(select(devices, q))).toEqual(ids(selectDevices(devices.values(), q)));
      }
    }
  });

  it("does not sort the fleet again for a delta", () => {
    const devices = mapOf(randomFleet(10_000, 5));
    const select = createRowsSelector();
    const q = view({ sortKey: "lastSeen", sortDir: "desc" });
    select(devices, q);
    expect(select.stats.fullSorts).toBe(1);
    for (let i = 0; i < 20; i++) {
      const id = `dev-${String(i * 7).padStart(5, "0")}`;
      devices.set(id, device(id, { lastSeenAt: isoAt(T0 + i * 1_000) }));
      const rows = select(devices, q);
      expect(rows[0].id).toBe(id);
    }
    expect(select.stats.fullSorts).toBe(1);
    expect(select.stats.incrementalMerges).toBe(20);
  });

  it("returns the same array while the visible rows do not change", () => {
    const devices = mapOf([
      device("a", { status: "offline" }),
      device("b", { status: "online" }),
      device("c", { status: "offline" }),
    ]);
    const select = createRowsSelector();
    const q = view({ status: "offline" });
    const first = select(devices, q);
    expect(select(devices, q)).toBe(first);
    devices.set("b", device("b", { status: "online", disconnectCount: 9 }));
    expect(select(devices, q)).toBe(first);
    devices.set("b", device("b", { status: "offline" }));
    const second = select(devices, q);
    expect(second).not.toBe(first);
    expect(ids(second)).toEqual(["a", "b", "c"]);
  });

  it("re-filters without sorting when only the filter changes", () => {
    const devices = mapOf(randomFleet(500, 9));
    const select = createRowsSelector();
    select(devices, view({ sortKey: "status" }));
    select(devices, view({ sortKey: "status", status: "late" }));
    select(devices, view({ sortKey: "status", search: "DEV-004" }));
    expect(select.stats.fullSorts).toBe(1);
    expect(ids(select(devices, view({ sortKey: "status", search: "DEV-004" })))).toEqual(
      ids(selectDevices(devices.values(), view({ sortKey: "status", search: "dev-004" }))),
    );
  });

  it("sorts from scratch for a new map, a new sort, or a delta touching much of the fleet", () => {
    const fleet = randomFleet(1_000, 11);
    const select = createRowsSelector();
    select(mapOf(fleet), view());
    select(mapOf(fleet), view());
    expect(select.stats.fullSorts).toBe(2);
    const devices = mapOf(fleet);
    select(devices, view({ sortKey: "keepalive" }));
    expect(select.stats.fullSorts).toBe(3);
    for (const d of fleet.slice(0, 400)) devices.set(d.id, { ...d, status: "unknown" });
    const rows = select(devices, view({ sortKey: "keepalive" }));
    expect(select.stats.fullSorts).toBe(4);
    expect(ids(rows)).toEqual(ids(selectDevices(devices.values(), view({ sortKey: "keepalive" }))));
  });
});
