/**
 * Resident memory growth per 100,000 known devices (see memory-child.ts for
 * how). Each round runs each variant in a fresh process; the runtime variant
 * writes into its own fresh database and adds two stages of 100k devices:
 *
 * - growth 0 → 100k: what the target asks (RSS after GC with 100k devices
 *   minus RSS after GC with none), fixed costs that fill up with use included;
 * - growth 100k → 200k: the increment per device once those are saturated.
 */
import { createTestDatabase } from "../../lib/store/testing";
import { Child, median, using } from "./common";
import type { MemoryPlan, MemoryPoint, MemoryResult } from "./memory-child";
import { SERVER_NODE_FLAGS } from "../node-options.mjs";

export interface MemoryOptions {
  rounds: number;
  devices: number;
  warmup: number;
  log(msg: string): void;
}

export const DEFAULT_MEMORY = { devices: 100_000, warmup: 2_000 };

export interface MemoryMeasurement {
  variant: MemoryPlan["variant"];
  round: number;
  points: MemoryPoint[];
  /** MB per 100k devices for each stage (RSS and heapUsed). */
  rssPer100kMb: number[];
  heapPer100kMb: number[];
}

export interface MemorySummary {
  options: Omit<MemoryOptions, "log">;
  runs: MemoryMeasurement[];
  /** Medians over rounds, MB per 100k devices. */
  runtime: { rssFirst: number; heapFirst: number; rssSecond: number; heapSecond: number };
  fleet: { rss: number; heap: number };
}

async function measure(
  variant: MemoryPlan["variant"],
  stages: number[],
  round: number,
  o: MemoryOptions,
): Promise<MemoryMeasurement> {
  return using(async (res) => {
    let databaseUrl: string | undefined;
    if (variant === "runtime") {
      const db = await createTestDatabase();
      res.defer("database", () => db.drop());
      databaseUrl = db.url;
    }
    const plan: MemoryPlan = { variant, stages, warmup: o.warmup, databaseUrl };
    const child = new Child(
      `memory ${variant}`,
      "./memory-child.ts",
      [JSON.stringify(plan)],
      [...SERVER_NODE_FLAGS, "--expose-gc"],
    );
    res.defer(`memory ${variant}`, () => child.close());
    const { points } = await child.next<MemoryResult>("result", 240_000);
    const per100k = (key: "rssMb" | "heapMb") =>
      points.slice(1).map((p, i) => ((p[key] - points[i][key]) * 100_000) / (p.devices - points[i].devices));
    const m: MemoryMeasurement = {
      variant,
      round,
      points,
      rssPer100kMb: per100k("rssMb"),
      heapPer100kMb: per100k("heapMb"),
    };
    const stagesText = points
      .slice(1)
      .map(
        (p, i) =>
          `${points[i].devices / 1000}k→${p.devices / 1000}k: RSS +${m.rssPer100kMb[i].toFixed(1)}, heap +${m.heapPer100kMb[i].toFixed(1)} MB per 100k (${p.seconds.toFixed(1)} s)`,
      )
      .join("; ");
    o.log(`memory round ${round} ${variant.padEnd(7)} RSS ${points[0].rssMb.toFixed(1)} MB at start; ${stagesText}`);
    return m;
  });
}

/** The runtime variant in one stage from none to `devices` (the 1M stage): RSS and heap per 100k. */
export async function runMemoryLarge(o: MemoryOptions): Promise<{ devices: number; rss: number; heap: number }> {
  const runs: MemoryMeasurement[] = [];
  for (let round = 1; round <= o.rounds; round++) runs.push(await measure("runtime", [o.devices], round, o));
  return {
    devices: o.devices,
    rss: median(runs.map((r) => r.rssPer100kMb[0])),
    heap: median(runs.map((r) => r.heapPer100kMb[0])),
  };
}

export async function runMemory(o: MemoryOptions): Promise<MemorySummary> {
  const runs: MemoryMeasurement[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    runs.push(await measure("runtime", [o.devices, o.devices], round, o));
    runs.push(await measure("fleet", [o.devices], round, o));
  }
  const of = (v: MemoryPlan["variant"]) => runs.filter((r) => r.variant === v);
  const med = (v: MemoryPlan["variant"], key: "rssPer100kMb" | "heapPer100kMb", stage: number) =>
    median(of(v).map((r) => r[key][stage]));
  const { log: _log, ...options } = o;
  return {
    options,
    runs,
    runtime: {
      rssFirst: med("runtime", "rssPer100kMb", 0),
      heapFirst: med("runtime", "heapPer100kMb", 0),
      rssSecond: med("runtime", "rssPer100kMb", 1),
      heapSecond: med("runtime", "heapPer100kMb", 1),
    },
    fleet: { rss: med("fleet", "rssPer100kMb", 0), heap: med("fleet", "heapPer100kMb", 0) },
  };
}
