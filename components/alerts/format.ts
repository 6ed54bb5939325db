import type { AlertKind } from "@/lib/alerts/rules";

export const KIND_LABEL: Record<AlertKind, string> = {
  offline: "offline",
  late: "late",
  flapping: "flapping",
  "near-miss": "near-miss",
};

export const KIND_STYLE: Record<AlertKind, string> = {
  offline: "bg-red-500/15 text-red-300 ring-red-500/40",
  late: "bg-amber-500/15 text-amber-300 ring-amber-500/40",
  flapping: "bg-fuchsia-500/15 text-fuchsia-300 ring-fuchsia-500/40",
  "near-miss": "bg-sky-500/15 text-sky-300 ring-sky-500/40",
};

/** "2026-11-22 03:04:05Z" */
export function shortTime(iso: string | null): string {
  return iso === null ? "—" : iso.replace("T", " ").replace(/\.\d+Z$/, "Z");
}

/** The device's own page. */
export function deviceHref(id: string): string {
  return `/devices/${encodeURIComponent(id)}`;
}

/** GET a JSON body; an API error becomes an Error with the API's message. */
export async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  const r = await fetch(url, { signal });
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new Error(body?.error?.message ?? `HTTP ${r.status}`);
  return body as T;
}
