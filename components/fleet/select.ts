/**
 * Pure view helpers for the fleet table: filter by status and tag, search by id or name,
 * sort, and a memoizing row selector that keeps a sorted list up to date
 * across deltas without re-sorting the whole fleet.
 */
import type { DeviceDto } from "@/lib/api/dto";
import type { DeviceStatus } from "@/lib/fleet/types";
import { TAG_PATTERN } from "@/lib/inventory/limits";

export const SORT_KEYS = ["id", "status", "lastSeen", "disconnectCount", "keepalive"] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortDir = "asc" | "desc";
export type StatusFilter = "all" | DeviceStatus;

export interface ViewQuery {
  readonly status: StatusFilter;
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

const idCollator = new Intl.Collator("en", { numeric: true });

/** Natural order ("dev-2" before "dev-10"), made total by a code-unit comparison on ties. */
export function compareIds(a: string, b: string): number {
  const c = idCollator.compare(a, b);
  if (c !== 0) return c;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Wire times are produced by Date#toISOString (fixed width, UTC), so their
 * lexical order is their chronological order.
 */
function compareIso(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Nulls sort last whichever the direction: "never seen" is not "seen long ago". */
function nullsLast<T>(a: T | null, b: T | null, sign: number, cmp: (x: T, y: T) => number): number {
  if (a === null) return b === null ? 0 : 1;
  if (b === null) return -1;
  return sign * cmp(a, b);
}

const byNumber = (a: number, b: number): number => a - b;

type Primary = (a: DeviceDto, b: DeviceDto, sign: number) => number;

const PRIMARY: Record<SortKey, Primary> = {
  id: (a, b, s) => s * compareIds(a.id, b.id),
  status: (a, b, s) => s * (STATUS_RANK[a.status] - STATUS_RANK[b.status]),
  lastSeen: (a, b, s) => nullsLast(a.lastSeenAt, b.lastSeenAt, s, compareIso),
  disconnectCount: (a, b, s) => s * (a.disconnectCount - b.disconnectCount),
  keepalive: (a, b, s) => nullsLast(a.keepaliveSeconds, b.keepaliveSeconds, s, byNumber),
};

/**
 * A strict total order on devices (ids are unique): the chosen key, then for
 * the status sort the most recent change first, then the id ascending.
 */
export function compareDevices(key: SortKey, dir: SortDir): (a: DeviceDto, b: DeviceDto) => number {
  const sign = dir === "asc" ? 1 : -1;
  const primary = PRIMARY[key];
  const byRecentChange = key === "status";
  return (a, b) =>
    primary(a, b, sign) || (byRecentChange ? compareIso(b.statusSince, a.statusSince) : 0) || compareIds(a.id, b.id);
}

export function normalizeSearch(search: string): string {
  return search.trim().toLowerCase();
}

export function matchesStatus(device: DeviceDto, status: StatusFilter): boolean {
  return status === "all" || device.status === status;
}

/** Case-insensitive substring match on the id or the name; `needle` must come from normalizeSearch. */
export function matchesSearch(device: DeviceDto, needle: string): boolean {
  return (
    needle === "" ||
    device.id.toLowerCase().includes(needle) ||
    (device.name !== null && device.name.toLowerCase().includes(needle))
  );
}

export function matchesTag(device: DeviceDto, tag: string): boolean {
  return tag === "" || device.tags.includes(tag);
}

/**
 * The tag filter kept in the page's URL (`?tag=`): a well-formed tag, or ""
 * (any tag) when the parameter is absent, repeated or not a tag.
 */
export function tagFromQuery(value: string | readonly string[] | null | undefined): string {
  return typeof value === "string" && TAG_PATTERN.test(value) ? value : "";
}

/** The page's address with the tag filter set (or removed for ""), the rest of it kept. */
export function hrefWithTag(href: string, tag: string): string {
  const url = new URL(href);
  if (tag) url.searchParams.set("tag", tag);
  else url.searchParams.delete("tag");
  return url.toString();
}

export function filterDevices(
  devices: Iterable<DeviceDto>,
  status: StatusFilter,
  search: string,
  tag = "",
): DeviceDto[] {
  const needle = normalizeSearch(search);
  const out: DeviceDto[] = [];
  for (const d of devices) if (matchesStatus(d, status) && matchesSearch(d, needle) && matchesTag(d, tag)) out.push(d);
  return out;
}

export function sortDevices(devices: Iterable<DeviceDto>, key: SortKey, dir: SortDir): DeviceDto[] {
  return Array.from(devices).sort(compareDevices(key, dir));
}

/** The straightforward definition of the table's rows (the memoized selector must agree with it). */
export function selectDevices(devices: Iterable<DeviceDto>, q: ViewQuery): DeviceDto[] {
  return sortDevices(filterDevices(devices, q.status, q.search, q.tag), q.sortKey, q.sortDir);
}

export interface RowsSelectorStats {
  /** Full O(n log n) sorts performed (snapshot, sort change, or a very large delta). */
  fullSorts: number;
  /** Deltas merged into the sorted list by binary-search insertion. */
  incrementalMerges: number;
}

export interface RowsSelector {
  (devices: ReadonlyMap<string, DeviceDto>, q: ViewQuery): readonly DeviceDto[];
  readonly stats: RowsSelectorStats;
}

const EMPTY: readonly DeviceDto[] = Object.freeze([]);

/** Index of `d` in `sorted`, or where it would be inserted. */
function lowerBound(sorted: readonly DeviceDto[], d: DeviceDto, cmp: (a: DeviceDto, b: DeviceDto) => number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cmp(sorted[mid], d) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sameRows(a: readonly DeviceDto[], b: readonly DeviceDto[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Memoized rows for a device map that is replaced on snapshots and updated in
 * place by deltas (a delta stores new DeviceDto objects, never mutates one).
 *
 * - A new map or a new sort: one full sort.
 * - Same map: the changed devices are found by reference and moved into place
 *   by binary search, so a delta of k devices costs O(n + k log n) instead of
 *   a sort; a delta touching a large part of the fleet falls back to a sort.
 * - Filter and search run over the sorted list (O(n), no sort).
 * - The same array is returned while the visible rows are unchanged, so a
 *   delta that touches only filtered-out devices re-renders nothing.
 */
export function createRowsSelector(): RowsSelector {
  let source: ReadonlyMap<string, DeviceDto> | null = null;
  let placed = new Map<string, DeviceDto>();
  let sorted: DeviceDto[] = [];
  let sortKey: SortKey | null = null;
  let sortDir: SortDir | null = null;
  let cmp = compareDevices(DEFAULT_VIEW.sortKey, DEFAULT_VIEW.sortDir);
  let status: StatusFilter | null = null;
  let needle: string | null = null;
  let tag: string | null = null;
  let output: readonly DeviceDto[] = EMPTY;
  const stats: RowsSelectorStats = { fullSorts: 0, incrementalMerges: 0 };

  const resort = (devices: ReadonlyMap<string, DeviceDto>): void => {
    sorted = Array.from(devices.values()).sort(cmp);
    placed = new Map(devices);
    stats.fullSorts++;
  };

  /** Brings `sorted` up to date with `devices`; returns whether anything changed. */
  const merge = (devices: ReadonlyMap<string, DeviceDto>): boolean => {
    const limit = Math.max(64, devices.size >>> 3);
    const changes: Array<readonly [DeviceDto | undefined, DeviceDto]> = [];
    let added = 0;
    for (const [id, d] of devices) {
      const prev = placed.get(id);
      if (prev === d) continue;
      if (prev === undefined) added++;
      changes.push([prev, d]);
      if (changes.length > limit) {
        resort(devices);
        return true;
      }
    }
    if (placed.size + added !== devices.size) {
      // Devices were removed from the map: not something deltas do; start over.
      resort(devices);
      return true;
    }
    if (changes.length === 0) return false;
    for (const [prev, next] of changes) {
      if (prev !== undefined) {
        let i = lowerBound(sorted, prev, cmp);
        if (sorted[i] !== prev) i = sorted.indexOf(prev);
        if (i < 0) {
          resort(devices);
          return true;
        }
        sorted.splice(i, 1);
      }
      sorted.splice(lowerBound(sorted, next, cmp), 0, next);
      placed.set(next.id, next);
    }
    stats.incrementalMerges++;
    return true;
  };

  const select = (devices: ReadonlyMap<string, DeviceDto>, q: ViewQuery): readonly DeviceDto[] => {
    const sortChanged = q.sortKey !== sortKey || q.sortDir !== sortDir;
    if (sortChanged) {
      sortKey = q.sortKey;
      sortDir = q.sortDir;
      cmp = compareDevices(q.sortKey, q.sortDir);
    }
    let rowsChanged: boolean;
    if (sortChanged || devices !== source) {
      source = devices;
      resort(devices);
      rowsChanged = true;
    } else {
      rowsChanged = merge(devices);
    }
    const nextNeedle = normalizeSearch(q.search);
    const filterChanged = q.status !== status || nextNeedle !== needle || q.tag !== tag;
    if (!rowsChanged && !filterChanged) return output;
    status = q.status;
    needle = nextNeedle;
    tag = q.tag;
    const visible =
      status === "all" && needle === "" && q.tag === ""
        ? sorted
        : sorted.filter((d) => matchesStatus(d, q.status) && matchesSearch(d, nextNeedle) && matchesTag(d, q.tag));
    if (sameRows(visible, output)) return output;
    output = visible === sorted ? sorted.slice() : visible;
    return output;
  };

  return Object.assign(select, { stats });
}
