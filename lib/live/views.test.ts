import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEVICE_STATUSES, type DeviceState, type DeviceStatus } from "../fleet/types";
import {
  compareRows,
  DEFAULT_VIEW,
  FleetViews,
  MAX_FILTERED_VIEWS,
  naturalKey,
  SORT_KEYS,
  type Row,
  type ViewQuery,
  type ViewSource,
} from "./views";

/** A fleet of plain objects the test changes behind the views' back, as the runtime's fleet does. */
class FakeSource implements ViewSource {
  devices = new Map<string, DeviceState>();
  names = new Map<string, string>();
  tags = new Map<string, readonly string[]>();
  all() {
    return this.devices.values();
  }
  get(id: string) {
    return this.devices.get(id);
  }
  nameOf(id: string) {
    return this.names.get(id) ?? null;
  }
  tagsOf(id: string) {
    return this.tags.get(id) ?? [];
  }
  set(id: string, status: DeviceStatus, since: number, seen: number | null, drops: number, keepalive: number | null) {
    this.devices.set(id, {
      id,
      status,
      statusSince: since,
      lastSeenAt: seen,
      disconnectCount: drops,
      keepaliveSeconds: keepalive,
    } as DeviceState);
  }
}

/** The straightforward definition: filter every device, sort the matches. */
function expected(src: FakeSource, q: ViewQuery): string[] {
  const needle = q.search.trim().toLowerCase();
  const rows: Row[] = [...src.devices.values()].map((d) => ({
    id: d.id,
    nat: naturalKey(d.id),
    lowId: d.id.toLowerCase(),
    lowName: src.nameOf(d.id)?.toLowerCase() ?? null,
    name: src.nameOf(d.id),
    tags: src.tagsOf(d.id),
    rank: { offline: 0, late: 1, unknown: 2, online: 3 }[d.status],
    since: d.statusSince,
    seen: d.lastSeenAt,
    drops: d.disconnectCount,
    keepalive: d.keepaliveSeconds,
  }));
  return rows
    .filter((r) => q.status === "all" || src.get(r.id)!.status === q.status)
    .filter((r) => q.tag === "" || r.tags.includes(q.tag))
    .filter((r) => needle === "" || r.id.toLowerCase().includes(needle) || !!r.name?.toLowerCase().includes(needle))
    .sort(compareRows(q.sortKey, q.sortDir))
    .map((r) => r.id);
}

const device = fc.record({
  n: fc.integer({ min: 0, max: 60 }),
  status: fc.constantFrom(...DEVICE_STATUSES),
  since: fc.integer({ min: 0, max: 5 }),
  seen: fc.option(fc.integer({ min: 0, max: 5 })),
  drops: fc.integer({ min: 0, max: 3 }),
  keepalive: fc.option(fc.constantFrom(10, 60)),
  tag: fc.constantFrom("", "roof", "cellar"),
  forget: fc.boolean(),
});
const query = fc.record({
  status: fc.constantFrom("all", ...DEVICE_STATUSES),
  // nested on purpose: a view for "dev-1" may be built from the one for "1", "pump" from "p"
  search: fc.constantFrom("", "1", "Dev-2", "dev-1", "dev-12", "p", "pump"),
  tag: fc.constantFrom("", "roof"),
  sortKey: fc.constantFrom(...SORT_KEYS),
  sortDir: fc.constantFrom("asc", "desc"),
}) as fc.Arbitrary<ViewQuery>;

describe("FleetViews", () => {
  it("orders ids naturally, case-insensitively", () => {
    const ids = ["dev-10", "Dev-2", "dev-1", "dev-01a", "dev-a", "dev-100"];
    expect(ids.sort((a, b) => (naturalKey(a) < naturalKey(b) ? -1 : 1))).toEqual([
      "dev-1",
      "dev-01a",
      "Dev-2",
      "dev-10",
      "dev-100",
      "dev-a",
    ]);
  });

  it("serves the same windows as filtering and sorting the whole fleet, change after change", () => {
    fc.assert(
      fc.property(
        fc.array(device, { maxLength: 60 }),
        fc.array(fc.array(device, { maxLength: 15 }), { maxLength: 6 }),
        fc.array(query, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 40 }),
        (initial, batches, queries, offset) => {
          const src = new FakeSource();
          const apply = (ds: typeof initial): string[] => {
            const ids: string[] = [];
            for (const d of ds) {
              const id = `dev-${d.n}`;
              ids.push(id);
              if (d.forget) {
                src.devices.delete(id);
                continue;
              }
              src.set(id, d.status, d.since, d.seen, d.drops, d.keepalive);
              if (d.n % 7 === 0) src.names.set(id, `Pump ${d.n}`);
              src.tags.set(id, d.tag ? [d.tag] : []);
            }
            return ids;
          };
          apply(initial);
          const views = new FleetViews(src);
          // The first view exists before the changes; the others are built between them, from kept ones.
          views.window(queries[0], 0, 10);
          for (const batch of batches) {
            views.update(apply(batch));
            for (const q of queries) {
              const all = expected(src, q);
              const w = views.window(q, offset, 10);
              expect(w.total).toBe(all.length);
              expect(w.ids).toEqual(all.slice(w.offset, w.offset + 10));
              expect(w.offset).toBe(Math.max(0, Math.min(offset, all.length - 10)));
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("builds a view from a narrower kept one only when that one holds every match (one order, many filters)", () => {
    const oneOrder = fc.record({
      status: fc.constantFrom("all", "online", "offline"),
      search: fc.constantFrom("", "1", "dev-1", "dev-12", "p", "pump"),
      tag: fc.constantFrom("", "roof"),
      sortKey: fc.constant("id"),
      sortDir: fc.constant("asc"),
    }) as fc.Arbitrary<ViewQuery>;
    fc.assert(
      fc.property(
        fc.array(device, { minLength: 20, maxLength: 60 }),
        fc.array(fc.tuple(fc.array(device, { maxLength: 8 }), oneOrder), { minLength: 2, maxLength: 12 }),
        (initial, steps) => {
          const src = new FakeSource();
          const apply = (ds: typeof initial): string[] =>
            ds.map((d) => {
              const id = `dev-${d.n}`;
              src.set(id, d.status, d.since, d.seen, d.drops, d.keepalive);
              if (d.n % 7 === 0) src.names.set(id, `Pump ${d.n}`);
              src.tags.set(id, d.tag ? [d.tag] : []);
              return id;
            });
          apply(initial);
          const views = new FleetViews(src);
          const asked: ViewQuery[] = [];
          for (const [batch, q] of steps) {
            views.update(apply(batch));
            asked.push(q);
            for (const a of asked) expect(views.window(a, 0, 100).ids).toEqual(expected(src, a).slice(0, 100));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps at most MAX_FILTERED_VIEWS filtered views, the least recently used going first", () => {
    const src = new FakeSource();
    for (let i = 0; i < 50; i++) src.set(`dev-${i}`, "online", 0, 0, 0, 10);
    let t = 0;
    const views = new FleetViews(src, { now: () => ++t });
    const q = (search: string): ViewQuery => ({ ...DEFAULT_VIEW, search });
    views.window(q("dev-0"), 0, 10);
    for (let i = 1; i < MAX_FILTERED_VIEWS + 10; i++) {
      views.window(q(`dev-${i}`), 0, 10);
      views.window(q("dev-0"), 0, 10); // kept in use
    }
    expect(views.size).toBe(1 + MAX_FILTERED_VIEWS); // the sort and the filtered views
    expect(views.window(q("dev-0"), 0, 10).ids).toEqual(["dev-0"]);
  });

  it("pages by id with a cursor, also past a device that is gone", () => {
    const src = new FakeSource();
    for (let i = 1; i <= 25; i++) src.set(`dev-${i}`, "online", 0, 0, 0, 10);
    const views = new FleetViews(src);
    const q: ViewQuery = { status: "all", search: "", tag: "", sortKey: "id", sortDir: "asc" };
    const first = views.idsAfter(q, null, 10);
    expect(first.ids).toEqual(Array.from({ length: 10 }, (_, i) => `dev-${i + 1}`));
    src.devices.delete("dev-10");
    views.update(["dev-10"]);
    expect(views.idsAfter(q, "dev-10", 3).ids).toEqual(["dev-11", "dev-12", "dev-13"]);
    expect(views.idsAfter(q, "dev-25", 3).ids).toEqual([]);
  });

  it("drops views nobody asked for, and the rows with the last one", () => {
    let now = 0;
    const src = new FakeSource();
    src.set("a", "online", 0, 0, 0, 10);
    const views = new FleetViews(src, { idleMs: 1000, now: () => now });
    views.window({ status: "online", search: "", tag: "", sortKey: "id", sortDir: "asc" }, 0, 10);
    expect(views.size).toBe(2);
    now = 500;
    views.prune();
    expect(views.active).toBe(true);
    now = 2000;
    views.prune();
    expect(views.active).toBe(false);
    expect(views.size).toBe(0);
  });

  describe("orders", () => {
    const ids = (src: FakeSource, sortKey: ViewQuery["sortKey"], sortDir: ViewQuery["sortDir"]) =>
      new FleetViews(src).window({ status: "all", search: "", tag: "", sortKey, sortDir }, 0, 100).ids;

    it("puts problems first by status, most recent change first within a status", () => {
      const src = new FakeSource();
      src.set("on", "online", 0, 0, 0, 10);
      src.set("off-old", "offline", 100, 0, 0, 10);
      src.set("unk", "unknown", 0, 0, 0, 10);
      src.set("off-new", "offline", 900, 0, 0, 10);
      src.set("late", "late", 0, 0, 0, 10);
      expect(ids(src, "status", "asc")).toEqual(["off-new", "off-old", "late", "unk", "on"]);
      expect(ids(src, "status", "desc")).toEqual(["on", "unk", "late", "off-new", "off-old"]);
    });

    it("puts never-seen devices last in both directions of last seen", () => {
      const src = new FakeSource();
      src.set("never", "unknown", 0, null, 0, 10);
      src.set("recent", "online", 0, 900, 0, 10);
      src.set("old", "online", 0, 100, 0, 10);
      expect(ids(src, "lastSeen", "asc")).toEqual(["old", "recent", "never"]);
      expect(ids(src, "lastSeen", "desc")).toEqual(["recent", "old", "never"]);
    });

    it("sorts keepalive numerically (0 is a value, null is last), and drops with ties by id", () => {
      const src = new FakeSource();
      for (const [id, k] of [
        ["k60", 60],
        ["none", null],
        ["k5", 5],
        ["k0", 0],
        ["k10", 10],
      ] as const)
        src.set(id, "online", 0, 0, id === "k5" || id === "k0" ? 3 : 12, k);
      expect(ids(src, "keepalive", "asc")).toEqual(["k0", "k5", "k10", "k60", "none"]);
      expect(ids(src, "keepalive", "desc")).toEqual(["k60", "k10", "k5", "k0", "none"]);
      expect(ids(src, "disconnectCount", "desc")).toEqual(["k10", "k60", "none", "k0", "k5"]);
    });
  });
});
