/**
 * The fleet page's views, owned by the server: every open tab asks for a
 * window (filter, search, tag, sort, offset, limit) and gets only those rows.
 *
 * - A **sorted index** per sort in use (`SortedList` of `Row`s) is built once
 *   (one O(n log n) sort) and then kept in order change by change, O(log n)
 *   each.
 * - A **filtered view** (status, tag or search) is built by walking its sort's
 *   index and keeping the matches: O(n), no sort. It is then kept up to date
 *   the same way.
 * - Views nobody asked for within `idleMs` are dropped, and with the last of
 *   them the rows: a fleet nobody watches costs nothing here.
 *
 * Rows copy the fields they sort and filter on, so a device's old place can be
 * found (and left) after its state changed.
 */
import type { DeviceState, DeviceStatus } from "../fleet/types";
import { SortedList, type Compare } from "./sorted-list";

export const SORT_KEYS = ["id", "status", "lastSeen", "disconnectCount", "keepalive"] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortDir = "asc" | "desc";
export type StatusFilter = "all" | DeviceStatus;

/** What a tab shows: its filter and order. */
export interface ViewQuery {
  readonly status: StatusFilter;
  /** Case-insensitive substring of the id or the name; "" for all. */
  readonly search: string;
  /** Only devices with this tag; "" for any. */
  readonly tag: string;
  readonly sortKey: SortKey;
  readonly sortDir: SortDir;
}

/** Problems first: status ascending puts offline, then late, then unknown on top. */
export const DEFAULT_VIEW: ViewQuery = { status: "all", search: "", tag: "", sortKey: "status", sortDir: "asc" };

/** Direction a column gets when it is first chosen (the most useful end first). */
export const DEFAULT_SORT_DIR: Record<SortKey, SortDir> = {
  id: "asc",
  status: "asc",
  lastSeen: "asc", // longest silent first
  disconnectCount: "desc", // most flapping first
  keepalive: "asc",
};

/** Severity order of the status sort. */
export const STATUS_RANK: Record<DeviceStatus, number> = { offline: 0, late: 1, unknown: 2, online: 3 };

/** One device as the views sort and filter it (a copy: the fleet's state moves on). */
export interface Row {
  readonly id: string;
  /** Natural sort key of the id (naturalKey). */
  readonly nat: string;
  /** The id and the name in lower case, as a search compares them (made once, not per search). */
  readonly lowId: string;
  readonly lowName: string | null;
  readonly name: string | null;
  readonly tags: readonly string[];
  readonly rank: number;
  readonly since: number;
  readonly seen: number | null;
  readonly drops: number;
  readonly keepalive: number | null;
}

/**
 * A key whose plain string order is the natural order of ids, case-insensitive:
 * each run of digits becomes "0", a length mark and the digits without leading
 * zeros, so "dev-2" < "dev-10" and digit runs sort before letters.
 */
export function naturalKey(id: string): string {
  return id.toLowerCase().replace(/\d+/g, (run) => {
    const digits = run.replace(/^0+(?=\d)/, "");
    return "0" + String.fromCharCode(0x40 + Math.min(digits.length, 0xff00)) + digits;
  });
}

/** Lower case, sharing the string when it already is (most ids). */
function lower(s: string): string {
  const l = s.toLowerCase();
  return l === s ? s : l;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
/** Natural order, made total by the raw id. */
const byId = (a: Row, b: Row): number => byString(a.nat, b.nat) || byString(a.id, b.id);

/** Nulls last whichever the direction: "never seen" is not "seen long ago". */
function nullsLast(a: number | null, b: number | null, sign: number): number {
  if (a === null) return b === null ? 0 : 1;
  if (b === null) return -1;
  return sign * (a - b);
}

/** A strict total order: the key, then for status the most recent change first, then the id ascending. */
export function compareRows(key: SortKey, dir: SortDir): Compare<Row> {
  const s = dir === "asc" ? 1 : -1;
  switch (key) {
    case "id":
      return (a, b) => s * byId(a, b);
    case "status":
      return (a, b) => s * (a.rank - b.rank) || b.since - a.since || byId(a, b);
    case "lastSeen":
      return (a, b) => nullsLast(a.seen, b.seen, s) || byId(a, b);
    case "disconnectCount":
      return (a, b) => s * (a.drops - b.drops) || byId(a, b);
    case "keepalive":
      return (a, b) => nullsLast(a.keepalive, b.keepalive, s) || byId(a, b);
  }
}

export function matches(row: Row, q: ViewQuery, needle: string): boolean {
  if (q.status !== "all" && row.rank !== STATUS_RANK[q.status]) return false;
  if (q.tag !== "" && !row.tags.includes(q.tag)) return false;
  return needle === "" || row.lowId.includes(needle) || (row.lowName?.includes(needle) ?? false);
}

/** What the views read: the fleet's devices and the operator's labels. */
export interface ViewSource {
  all(): Iterable<DeviceState>;
  get(id: string): DeviceState | undefined;
  nameOf(id: string): string | null;
  tagsOf(id: string): readonly string[];
}

export interface Window {
  /** Devices the view holds (the filter's matches). */
  total: number;
  /** Where the window starts, clamped to the view. */
  offset: number;
  ids: string[];
}

interface View {
  readonly list: SortedList<Row>;
  readonly query: ViewQuery;
  readonly needle: string;
  usedAt: number;
}

const sortOf = (q: Pick<ViewQuery, "sortKey" | "sortDir">): string => `${q.sortKey}:${q.sortDir}`;
const keyOf = (q: ViewQuery, needle: string): string => `${sortOf(q)}|${q.status}|${q.tag}|${needle}`;
const isFiltered = (q: ViewQuery, needle: string): boolean => q.status !== "all" || q.tag !== "" || needle !== "";

/** A row standing where `id` sorts by id (a cursor's device may be gone). */
function probe(id: string): Row {
  return {
    id,
    nat: naturalKey(id),
    lowId: lower(id),
    lowName: null,
    name: null,
    tags: [],
    rank: 0,
    since: 0,
    seen: null,
    drops: 0,
    keepalive: null,
  };
}

/** Filtered views kept at most (typing a search makes one per keystroke). */
export const MAX_FILTERED_VIEWS = 32;

export class FleetViews {
  /** Every device's current row; empty while no view exists. */
  private rows = new Map<string, Row>();
  /** Sorted indexes by sort (`key:dir`), and filtered views by query: both kept in order. */
  private readonly sorts = new Map<string, View>();
  private readonly filtered = new Map<string, View>();

  constructor(
    private readonly source: ViewSource,
    private readonly opts: { idleMs?: number; now?: () => number } = {},
  ) {}

  /** Whether any view is kept (then every change must reach `update`). */
  get active(): boolean {
    return this.sorts.size > 0;
  }

  /** Views held, for health and tests. */
  get size(): number {
    return this.sorts.size + this.filtered.size;
  }

  /** The ids at `offset…offset+limit` of the view for `q`, building it when needed. */
  window(q: ViewQuery, offset: number, limit: number): Window {
    const view = this.view(q);
    const total = view.list.size;
    const start = Math.max(0, Math.min(offset, Math.max(0, total - limit)));
    return { total, offset: start, ids: view.list.slice(start, limit).map((r) => r.id) };
  }

  /** Ids after `after` (exclusive) in natural id order, `limit` of them, for cursor paging. */
  idsAfter(q: ViewQuery, after: string | null, limit: number): { ids: string[]; total: number } {
    const view = this.view({ ...q, sortKey: "id", sortDir: "asc" });
    let from = after === null ? 0 : view.list.rank(probe(after));
    if (after !== null && view.list.slice(from, 1)[0]?.id === after) from++;
    return { ids: view.list.slice(from, limit).map((r) => r.id), total: view.list.size };
  }

  /** Devices changed (or forgotten: no longer in the source): every kept view follows. */
  update(ids: Iterable<string>): void {
    if (!this.active) return;
    for (const id of ids) {
      const old = this.rows.get(id);
      const d = this.source.get(id);
      const row = d ? this.rowOf(d, old) : undefined;
      if (row === old) continue;
      if (row) this.rows.set(id, row);
      else this.rows.delete(id);
      for (const v of this.sorts.values()) {
        if (old) v.list.delete(old);
        if (row) v.list.add(row);
      }
      for (const v of this.filtered.values()) {
        if (old && matches(old, v.query, v.needle)) v.list.delete(old);
        if (row && matches(row, v.query, v.needle)) v.list.add(row);
      }
    }
  }

  /** Drops views nobody asked for lately (and every row with the last one). */
  prune(): void {
    const before = this.now() - (this.opts.idleMs ?? 120_000);
    for (const [key, v] of this.filtered) if (v.usedAt < before) this.filtered.delete(key);
    for (const [key, v] of this.sorts) {
      const inUse = [...this.filtered.values()].some((f) => sortOf(f.query) === key);
      if (v.usedAt < before && !inUse) this.sorts.delete(key);
    }
    if (this.sorts.size === 0) this.rows = new Map();
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private view(q: ViewQuery): View {
    const needle = q.search.trim().toLowerCase();
    const base = this.sortIndex(q);
    if (!isFiltered(q, needle)) return base;
    const key = keyOf(q, needle);
    let view = this.filtered.get(key);
    if (!view) {
      const kept = this.narrowest(q, needle, base).list.filter((row) => matches(row, q, needle));
      view = {
        list: SortedList.fromSorted(kept, compareRows(q.sortKey, q.sortDir)),
        query: q,
        needle,
        usedAt: this.now(),
      };
      this.filtered.set(key, view);
      this.evictBeyond(MAX_FILTERED_VIEWS);
    }
    view.usedAt = this.now();
    return view;
  }

  /**
   * The smallest kept view, in the same order, that holds every match of `q`:
   * a filtered view whose status and tag are `q`'s or "any" and whose search
   * is part of `q`'s (typing "dev-12" after "dev-1" filters the 1,111 matches
   * of "dev-1", not the whole fleet), or else the whole sort.
   */
  private narrowest(q: ViewQuery, needle: string, base: View): View {
    let best = base;
    for (const v of this.filtered.values()) {
      const f = v.query;
      if (f.sortKey !== q.sortKey || f.sortDir !== q.sortDir) continue;
      if ((f.status !== "all" && f.status !== q.status) || (f.tag !== "" && f.tag !== q.tag)) continue;
      if (!needle.includes(v.needle) || v.list.size >= best.list.size) continue;
      best = v;
    }
    return best;
  }

  /** Every kept filtered view is updated on every change: beyond `max`, the least recently used go. */
  private evictBeyond(max: number): void {
    if (this.filtered.size <= max) return;
    const byUse = [...this.filtered].sort((a, b) => a[1].usedAt - b[1].usedAt);
    for (const [key] of byUse.slice(0, this.filtered.size - max)) this.filtered.delete(key);
  }

  private sortIndex(q: ViewQuery): View {
    const key = sortOf(q);
    let view = this.sorts.get(key);
    if (!view) {
      if (this.rows.size === 0) for (const d of this.source.all()) this.rows.set(d.id, this.rowOf(d, undefined));
      const cmp = compareRows(q.sortKey, q.sortDir);
      const query: ViewQuery = { ...DEFAULT_VIEW, sortKey: q.sortKey, sortDir: q.sortDir };
      view = { list: SortedList.fromSorted([...this.rows.values()].sort(cmp), cmp), query, needle: "", usedAt: 0 };
      this.sorts.set(key, view);
    }
    view.usedAt = this.now();
    return view;
  }

  /** The device's row, or `old` itself when nothing the views look at changed. */
  private rowOf(d: DeviceState, old: Row | undefined): Row {
    const name = this.source.nameOf(d.id);
    const tags = this.source.tagsOf(d.id);
    const rank = STATUS_RANK[d.status];
    if (
      old &&
      old.rank === rank &&
      old.since === d.statusSince &&
      old.seen === d.lastSeenAt &&
      old.drops === d.disconnectCount &&
      old.keepalive === d.keepaliveSeconds &&
      old.name === name &&
      old.tags === tags
    )
      return old;
    return {
      id: d.id,
      nat: old?.nat ?? naturalKey(d.id),
      lowId: old?.lowId ?? lower(d.id),
      lowName: name === null ? null : old?.name === name ? old.lowName : lower(name),
      name,
      tags,
      rank,
      since: d.statusSince,
      seen: d.lastSeenAt,
      drops: d.disconnectCount,
      keepalive: d.keepaliveSeconds,
    };
  }
}
