/**
 * GET /api/insights?range=24h|7d — the fleet at a glance: how keepalives are
 * spread (from the live fleet, with the devices in each bucket) and why
 * devices dropped, hour by hour (from the sessions table).
 */
import { z } from "../zod";
import type { DeviceState } from "../fleet/types";
import { DISCONNECT_REASONS, type DisconnectReason } from "../ingest/events";
import type { DbPort, FleetPort } from "./ports";
import { disconnectReasonSchema, isoTime } from "./dto";
import { AppError } from "./errors";
import { parseQuery } from "./query";
import { disconnectsByHour } from "../store/disconnects";

export const KEEPALIVE_BUCKETS = [
  { key: "unknown", label: "not reported", test: (k: number | null) => k === null },
  { key: "0", label: "0 (off)", test: (k: number | null) => k === 0 },
  { key: "1-10", label: "1–10 s", test: (k: number | null) => k !== null && k >= 1 && k <= 10 },
  { key: "11-30", label: "11–30 s", test: (k: number | null) => k !== null && k > 10 && k <= 30 },
  { key: "31-60", label: "31–60 s", test: (k: number | null) => k !== null && k > 30 && k <= 60 },
  { key: "61-300", label: "61–300 s", test: (k: number | null) => k !== null && k > 60 && k <= 300 },
  { key: "300+", label: "over 300 s", test: (k: number | null) => k !== null && k > 300 },
] as const;

/** Devices listed per bucket (the count covers all). */
export const BUCKET_DEVICES = 200;

export const insightsDtoSchema = z.object({
  range: z.object({ from: isoTime, to: isoTime, hours: z.number().int() }),
  keepalive: z.array(
    z.object({ key: z.string(), label: z.string(), count: z.number().int(), devices: z.array(z.string()) }),
  ),
  disconnects: z.array(z.object({ hour: isoTime, counts: z.partialRecord(disconnectReasonSchema, z.number().int()) })),
});
export type InsightsDto = z.infer<typeof insightsDtoSchema>;

const RANGE_HOURS = { "24h": 24, "7d": 168 } as const;

/** `GET /api/insights` query parameters. */
export const insightsQuery = { range: z.enum(["24h", "7d"]).optional() };

export function parseInsightsQuery(url: string) {
  const q = parseQuery(url, insightsQuery);
  return { hours: RANGE_HOURS[q.range ?? "24h"] };
}

export function keepaliveDistribution(devices: Iterable<DeviceState>): InsightsDto["keepalive"] {
  const out = KEEPALIVE_BUCKETS.map((b) => ({ key: b.key, label: b.label, count: 0, devices: [] as string[] }));
  for (const d of devices) {
    const i = KEEPALIVE_BUCKETS.findIndex((b) => b.test(d.keepaliveSeconds));
    out[i].count++;
    if (out[i].devices.length < BUCKET_DEVICES) out[i].devices.push(d.id);
  }
  for (const b of out) b.devices.sort();
  return out;
}

export async function getInsights(runtime: DbPort & FleetPort, hours: number, now = Date.now()): Promise<InsightsDto> {
  const db = runtime.db?.prisma;
  if (!db) throw new AppError("SERVICE_UNAVAILABLE", "the database is not available");
  const to = Math.ceil(now / 3_600_000) * 3_600_000;
  const from = to - hours * 3_600_000;
  let rows: Awaited<ReturnType<typeof disconnectsByHour>>;
  try {
    rows = await disconnectsByHour(db, from, to);
  } catch {
    throw new AppError("SERVICE_UNAVAILABLE", "the database is not available: disconnects cannot be read");
  }
  const byHour = new Map<number, Partial<Record<DisconnectReason, number>>>();
  for (let h = from; h < to; h += 3_600_000) byHour.set(h, {});
  for (const r of rows) {
    const reason = (DISCONNECT_REASONS as readonly string[]).includes(r.reason ?? "")
      ? (r.reason as DisconnectReason)
      : "unknown";
    const counts = byHour.get(r.hour);
    if (counts) counts[reason] = (counts[reason] ?? 0) + r.count;
  }
  return {
    range: { from: new Date(from).toISOString(), to: new Date(to).toISOString(), hours },
    keepalive: keepaliveDistribution(runtime.fleet.all()),
    disconnects: [...byHour].map(([h, counts]) => ({ hour: new Date(h).toISOString(), counts })),
  };
}
