/**
 * Ingest throughput: keepwatch end to end into Postgres versus a bare MQTT.js
 * subscriber, on the same generated load, alternating per round (bare first
 * in odd rounds, keepwatch first in even ones) so drift on a shared machine
 * hits both alike. Each measurement gets a fresh broker, fresh processes and,
 * for keepwatch, a fresh migrated database.
 *
 * Rate = the load's messages / (time from the generator's first write until
 * the consumer is done). Both sides count the same messages: device-topic
 * publishes plus the three log lines of each connection cycle.
 */
import { startMosquitto } from "../../lib/testing/mosquitto";
import { createTestDatabase } from "../../lib/store/testing";
import { Child, median, using } from "./common";
import type { ConsumerConfig, ConsumerResult } from "./ingest-consumer";
import type { LoadPlan, LoadSent } from "./ingest-load";
import { SERVER_NODE_FLAGS } from "../node-options.mjs";

export type IngestMode = "bare" | "keepwatch";

export interface IngestOptions {
  rounds: number;
  devices: number;
  telemetry: number;
  statusEvery: number;
  publishers: number;
  cycles: number;
  concurrency: number;
  log(msg: string): void;
}

export const DEFAULT_INGEST: Omit<IngestOptions, "log" | "rounds"> = {
  devices: 10_000,
  telemetry: 600_000,
  statusEvery: 20,
  publishers: 4,
  cycles: 3_000,
  concurrency: 16,
};

/**
 * Mosquitto drops QoS 0 messages for a subscriber once max_queued_messages
 * (default 1000) packets wait in its outgoing queue; 0 lifts the limit, so a
 * consumer slower than the generator gets everything, late, instead of a sample.
 */
export const BROKER_CONFIG = ["max_queued_messages 0", "set_tcp_nodelay true"];

export interface IngestMeasurement {
  mode: IngestMode;
  round: number;
  /** Messages of the load the consumer had to take in (device publishes + 3 log lines per cycle). */
  messages: number;
  seconds: number;
  /** keepwatch: seconds until the fleet had applied everything (before the final flush). */
  appliedSeconds: number;
  /** keepwatch: seconds until the writer's device and session rows were all written (activity points may still wait). */
  stateSeconds: number;
  rate: number;
  /** keepwatch: events applied by the fleet per second, end to end. */
  eventRate: number;
  lost: { deviceMessages: number; connects: number; disconnects: number };
  complete: boolean;
  cpuMsPer1k: number;
  maxRssMb: number;
  publishSeconds: number;
  cycleFailures: number;
  db?: ConsumerResult["db"];
}

export interface IngestSummary {
  options: Omit<IngestOptions, "log">;
  runs: IngestMeasurement[];
  bareRate: number;
  keepwatchRate: number;
  keepwatchEventRate: number;
  /** Median of the per-round ratios keepwatch / bare, and the ratios themselves. */
  ratio: number;
  ratios: number[];
  keepwatchAppliedRate: number;
  /** Rate counting only until the writer's device and session rows were written (not the activity points). */
  keepwatchStateRate: number;
  /** CPU time of the consumer process per 1,000 messages (medians): steadier than wall time on a shared machine. */
  bareCpuPer1k: number;
  keepwatchCpuPer1k: number;
  losses: number;
  durableOk: boolean;
}

const ID_PREFIX = "dev-";

async function measure(mode: IngestMode, round: number, o: IngestOptions): Promise<IngestMeasurement> {
  return using(async (res) => {
    const broker = await startMosquitto({ extraConfig: BROKER_CONFIG });
    res.defer("broker", () => broker.stop());
    let databaseUrl: string | undefined;
    if (mode === "keepwatch") {
      const db = await createTestDatabase();
      res.defer("database", () => db.drop());
      databaseUrl = db.url;
    }
    const plan: LoadPlan = {
      port: broker.port,
      idPrefix: ID_PREFIX,
      devices: o.devices,
      telemetry: o.telemetry,
      statusEvery: o.statusEvery,
      publishers: o.publishers,
      cycles: o.cycles,
      concurrency: o.concurrency,
    };
    const cfg: ConsumerConfig = {
      url: broker.url,
      databaseUrl,
      idPrefix: ID_PREFIX,
      expect: { deviceMessages: o.telemetry, connects: o.cycles, disconnects: o.cycles },
      stallMs: 15_000,
    };
    // BENCH_CPU_PROF=<dir>: a V8 CPU profile of each consumer (open it in Chrome DevTools).
    const profile = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    // keepwatch runs as `npm start` runs it; the bare subscriber on Node's defaults.
    const flags = mode === "keepwatch" ? SERVER_NODE_FLAGS : [];
    const consumer = new Child(
      `${mode} consumer`,
      "./ingest-consumer.ts",
      [mode, JSON.stringify(cfg)],
      [...flags, ...profile],
    );
    res.defer(`${mode} consumer`, () => consumer.close());
    await consumer.next("ready", 60_000);
    const load = new Child("load generator", "./ingest-load.ts", [JSON.stringify(plan)]);
    res.defer("load generator", () => load.close());
    await load.next("ready", 60_000);
    load.send({ type: "go" });
    const started = await load.next<{ type: "started"; at: number }>("started", 10_000);
    const result = await consumer.next<ConsumerResult>("result", 240_000);
    const sent = await load.next<LoadSent>("sent", 60_000);

    const messages = sent.deviceMessages + 3 * sent.cycles;
    const seconds = (result.durableAt - started.at) / 1000;
    const appliedSeconds = (result.appliedAt - started.at) / 1000;
    const stateSeconds = (result.stateDurableAt - started.at) / 1000;
    const lost = {
      deviceMessages: sent.deviceMessages - result.received.deviceMessages,
      connects: sent.cycles - result.received.connects,
      disconnects: sent.cycles - result.received.disconnects,
    };
    const m: IngestMeasurement = {
      mode,
      round,
      messages,
      seconds,
      appliedSeconds,
      stateSeconds,
      rate: messages / seconds,
      eventRate: result.events / seconds,
      lost,
      complete: result.complete,
      cpuMsPer1k: (result.cpuMs / messages) * 1000,
      maxRssMb: result.maxRssMb,
      publishSeconds: (sent.publishedAt - sent.firstWriteAt) / 1000,
      cycleFailures: sent.cycleFailures,
      db: result.db,
    };
    o.log(
      `ingest round ${round} ${mode.padEnd(9)} ${Math.round(m.rate).toLocaleString("en-US")} msg/s` +
        ` (${seconds.toFixed(2)} s; generator done in ${m.publishSeconds.toFixed(2)} s, churn in ${((sent.cyclesDoneAt - sent.firstWriteAt) / 1000).toFixed(2)} s` +
        (mode === "keepwatch"
          ? `; applied at ${appliedSeconds.toFixed(2)} s, device/session rows written at ${stateSeconds.toFixed(2)} s` +
            `; ${Math.round(m.eventRate).toLocaleString("en-US")} events/s` +
            `; rows: ${m.db?.devices} devices, ${m.db?.closedSessions} closed sessions, ${m.db?.activityPoints} activity points`
          : "") +
        `; lost ${lost.deviceMessages}/${lost.connects}/${lost.disconnects})`,
    );
    return m;
  });
}

export async function runIngest(o: IngestOptions): Promise<IngestSummary> {
  const runs: IngestMeasurement[] = [];
  const ratios: number[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const order: IngestMode[] = round % 2 === 1 ? ["bare", "keepwatch"] : ["keepwatch", "bare"];
    const pair: Partial<Record<IngestMode, IngestMeasurement>> = {};
    for (const mode of order) {
      const m = await measure(mode, round, o);
      runs.push(m);
      pair[mode] = m;
    }
    ratios.push(pair.keepwatch!.rate / pair.bare!.rate);
  }
  const of = (mode: IngestMode) => runs.filter((r) => r.mode === mode);
  const kw = of("keepwatch");
  const { log: _log, ...options } = o;
  return {
    options,
    runs,
    bareRate: median(of("bare").map((r) => r.rate)),
    keepwatchRate: median(kw.map((r) => r.rate)),
    keepwatchEventRate: median(kw.map((r) => r.eventRate)),
    keepwatchAppliedRate: median(kw.map((r) => r.messages / r.appliedSeconds)),
    keepwatchStateRate: median(kw.map((r) => r.messages / r.stateSeconds)),
    bareCpuPer1k: median(of("bare").map((r) => r.cpuMsPer1k)),
    keepwatchCpuPer1k: median(kw.map((r) => r.cpuMsPer1k)),
    ratio: median(ratios),
    ratios,
    losses: runs.reduce((n, r) => n + r.lost.deviceMessages + r.lost.connects + r.lost.disconnects, 0),
    durableOk: kw.every((r) => r.db?.devices === o.devices && r.db.closedSessions === o.cycles),
  };
}
