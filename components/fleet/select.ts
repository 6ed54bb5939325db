/**
 * The fleet page's view: what the operator filters and sorts by (the server
 * applies it, lib/live/views.ts) and how it travels in URLs: the tag in the
 * page's address, the whole window in the stream's.
 */
import { TAG_PATTERN } from "@/lib/inventory/limits";
import { DEFAULT_VIEW, type ViewQuery } from "@/lib/live/views";

export {
  DEFAULT_SORT_DIR,
  DEFAULT_VIEW,
  SORT_KEYS,
  type SortDir,
  type SortKey,
  type StatusFilter,
  type ViewQuery,
} from "@/lib/live/views";

/** Rows a window asks for: a few screens' worth around what is in view. */
export const WINDOW_LIMIT = 200;
/** A window is moved once the rows in view come this close to its edge. */
export const WINDOW_MARGIN = 40;

export interface WindowWant {
  offset: number;
  limit: number;
}

/**
 * The stream's address for a view and window; parameters at their defaults
 * are left out, so the default view is plain `/api/stream`.
 */
export function streamUrl(view: ViewQuery, want: WindowWant, base = "/api/stream"): string {
  const p = new URLSearchParams();
  if (view.status !== DEFAULT_VIEW.status) p.set("status", view.status);
  const q = view.search.trim();
  if (q) p.set("q", q);
  if (view.tag) p.set("tag", view.tag);
  if (view.sortKey !== DEFAULT_VIEW.sortKey || view.sortDir !== DEFAULT_VIEW.sortDir) {
    p.set("sort", view.sortKey);
    p.set("dir", view.sortDir);
  }
  if (want.offset > 0) p.set("offset", String(want.offset));
  if (want.limit !== WINDOW_LIMIT) p.set("limit", String(want.limit));
  const qs = p.toString();
  return qs ? `${base}?${qs}` : base;
}

/**
 * The window to ask for when rows `first…last` are in view: the current one
 * while they sit well inside it (or it already reaches the end they near),
 * else one that starts a third of a window above them.
 */
export function windowFor(first: number, last: number, total: number, want: WindowWant): WindowWant {
  const end = want.offset + want.limit;
  const topOk = want.offset === 0 || first >= want.offset + WINDOW_MARGIN;
  const bottomOk = end >= total || last < end - WINDOW_MARGIN;
  if (topOk && bottomOk) return want;
  const offset = Math.max(0, first - Math.floor(want.limit / 3));
  return offset === want.offset ? want : { offset, limit: want.limit };
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
