/**
 * Silence-verdict lateness at 100k devices and the cost of a deadline tick
 * (see detection-child.ts). Each round is a fresh process with its own fresh
 * database.
 */
import { createTestDatabase } from "../../lib/store/testing";
import { ALERT_CATCH_UP_MS, Child, fmt, median, using } from "./common";
import type { DetectionPlan, DetectionResult, MicroTick } from "./detection-child";
import { SERVER_NODE_FLAGS } from "../node-options.mjs";

export interface DetectionOptions {
  rounds: number;
  devices: number;
  activeShare: number;
  keepaliveSeconds: number;
  leadMs: number;
  windowMs: number;
  pingEveryMs: number;
  log(msg: string): void;
}

export const DEFAULT_DETECTION = {
  devices: 100_000,
  activeShare: 0.1,
  keepaliveSeconds: 6,
  leadMs: 500,
  windowMs: 6_000,
  pingEveryMs: 3_000,
};

export interface DetectionRun extends Omit<DetectionResult, "type"> {
  round: number;
}

export interface DetectionSummary {
  options: Omit<DetectionOptions, "log">;
  runs: DetectionRun[];
  /** Medians over rounds of each round's figure (ms); maxOverall is the worst of all rounds. */
  p50: number;
  p99: number;
  max: number;
  maxOverall: number;
  missed: number;
  falseVerdicts: number;
  idleTickUs: number;
  busyTickUs: number;
  busyTickDue: number;
  worstTickUs: number;
  /** Medians over rounds of the simulated-clock tick costs, keyed "size/due". */
  micro: MicroTick[];
}

export async function runDetection(o: DetectionOptions): Promise<DetectionSummary> {
  const runs: DetectionRun[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const r = await using(async (res) => {
      const db = await createTestDatabase();
      res.defer("database", () => db.drop());
      const plan: DetectionPlan = {
        devices: o.devices,
        activeShare: o.activeShare,
        keepaliveSeconds: o.keepaliveSeconds,
        leadMs: o.leadMs,
        windowMs: o.windowMs,
        pingEveryMs: o.pingEveryMs,
        databaseUrl: db.url,
      };
      const child = new Child("detection", "./detection-child.ts", [JSON.stringify(plan)], [...SERVER_NODE_FLAGS]);
      res.defer("detection", () => child.close());
      // Setting up the fleet grows with it (about 2 minutes per 100k devices allowed).
      const timeout =
        o.leadMs +
        o.windowMs +
        o.keepaliveSeconds * 1500 +
        ALERT_CATCH_UP_MS +
        120_000 * Math.max(1, o.devices / 100_000);
      return child.next<DetectionResult>("result", timeout);
    });
    const { type: _type, ...rest } = r;
    runs.push({ ...rest, round });
    const missed = r.expected - r.all.count;
    o.log(
      `detection round ${round}: ${fmt(r.all.count)} verdicts, lateness p50 ${fmt(r.all.p50)} ms,` +
        ` p99 ${fmt(r.all.p99)} ms, max ${fmt(r.all.max)} ms (late p99 ${fmt(r.late.p99)},` +
        ` offline p99 ${fmt(r.offline.p99)}); missed ${missed}, false ${r.falseVerdicts};` +
        ` tick idle ${fmt(r.ticks.idleUs)} µs (${r.ticks.idleTicks} ticks, ${fmt(r.ticks.idlePending)} pending),` +
        ` busy ${fmt(r.ticks.busyUs)} µs` +
        ` for ${fmt(r.ticks.busyDue)} due; GC ${fmt(r.gc.share * 100, 1)} % of the time` +
        ` (${r.gc.majorCount} major, longest ${fmt(r.gc.majorMaxMs)} ms); alert writes pending at the end` +
        ` ${fmt(r.alerts.pendingAtEnd)}, dropped ${fmt(r.alerts.dropped)}, stored ${fmt(r.alerts.stored)} offline,` +
        ` caught up after ${r.alerts.caughtUpMs === null ? `more than ${ALERT_CATCH_UP_MS / 1000} s` : `${fmt(r.alerts.caughtUpMs)} ms`};` +
        ` set-up ${fmt(r.setupSeconds, 1)} s`,
    );
  }
  const micro = runs[0].micro.map((m, i) => ({ ...m, us: median(runs.map((r) => r.micro[i].us)) }));
  const { log: _log, ...options } = o;
  return {
    options,
    runs,
    p50: median(runs.map((r) => r.all.p50)),
    p99: median(runs.map((r) => r.all.p99)),
    max: median(runs.map((r) => r.all.max)),
    maxOverall: Math.max(...runs.map((r) => r.all.max)),
    missed: runs.reduce((n, r) => n + r.expected - r.all.count, 0),
    falseVerdicts: runs.reduce((n, r) => n + r.falseVerdicts, 0),
    idleTickUs: median(runs.map((r) => r.ticks.idleUs)),
    busyTickUs: median(runs.map((r) => r.ticks.busyUs)),
    busyTickDue: median(runs.map((r) => r.ticks.busyDue)),
    worstTickUs: median(runs.map((r) => r.ticks.worstUs)),
    micro,
  };
}
