/**
 * One side of the ingest comparison, in a fresh process per measurement:
 *
 * - `bare`: an MQTT.js subscriber with the monitor's own connection options
 *   and subscriptions that only counts what arrives (the ceiling);
 * - `keepwatch`: the real Runtime (lib/runtime.ts: IngestWorker → adapters →
 *   Fleet → StoreWriter and ActivityRecorder into Postgres, LiveHub, alerts)
 *   against the same broker. "Done" means every expected event was applied by
 *   the fleet AND everything buffered for Postgres is written (the writer's
 *   pendingWrites and the activity recorder's pending points back to 0).
 *
 * It counts the load's own traffic (device ids with the plan's prefix) to know
 * when everything arrived, and reports what it received, so losses show.
 */
import mqtt from "mqtt";
import type { ActivityEvent } from "../../lib/ingest/events";
import { sourceSubscriptions } from "../../lib/ingest/worker";
import { compileDeviceTopics } from "../../lib/ingest/adapters/device-topics";
import { loadConfig } from "../../lib/config";
import { Runtime } from "../../lib/runtime";
import { childMain, exitOnStop, send, sleep } from "./common";
import { flushAll } from "./runtime";

export const DEVICE_TOPICS = "devices/{id}/#";

export interface ConsumerConfig {
  url: string;
  databaseUrl?: string;
  idPrefix: string;
  expect: { deviceMessages: number; connects: number; disconnects: number };
  /** Give up when nothing new arrived for this long (messages were lost). */
  stallMs: number;
}

export interface Received {
  deviceMessages: number;
  connects: number;
  disconnects: number;
}

export interface ConsumerResult {
  type: "result";
  received: Received;
  complete: boolean;
  /** Everything expected received (bare) or applied by the fleet (keepwatch). */
  appliedAt: number;
  /** keepwatch: the writer's device and session rows written (pendingWrites 0). Equal to appliedAt for bare. */
  stateDurableAt: number;
  /** keepwatch: everything buffered for Postgres written (activity points too). Equal to appliedAt for bare. */
  durableAt: number;
  /** Every event the fleet applied, the load's and any other (keepwatch only). */
  events: number;
  /** Messages that arrived on the MQTT connection (keepwatch only: the worker does not expose a count). */
  messages: number;
  cpuMs: number;
  maxRssMb: number;
  /** Largest heapUsed / external (incl. array buffers) sampled every 100 ms during the measurement. */
  maxHeapMb: number;
  maxExternalMb: number;
  db?: { devices: number; closedSessions: number; activityPoints: number; droppedWrites: number };
}

/** Samples the process's memory while the load runs. */
function memorySampler(): () => { maxHeapMb: number; maxExternalMb: number } {
  let heap = 0;
  let external = 0;
  const sample = () => {
    const m = process.memoryUsage();
    heap = Math.max(heap, m.heapUsed);
    external = Math.max(external, m.external);
  };
  const timer = setInterval(sample, 100);
  return () => {
    clearInterval(timer);
    sample();
    return { maxHeapMb: heap / 2 ** 20, maxExternalMb: external / 2 ** 20 };
  };
}

function complete(r: Received, e: ConsumerConfig["expect"]): boolean {
  return r.deviceMessages >= e.deviceMessages && r.connects >= e.connects && r.disconnects >= e.disconnects;
}

/** Waits until `check` holds, or nothing changed in `progress()` for stallMs. */
async function waitFor(check: () => boolean, progress: () => number, stallMs: number): Promise<boolean> {
  let last = progress();
  let lastChange = Date.now();
  while (!check()) {
    await sleep(2);
    const now = progress();
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > stallMs) return false;
  }
  return true;
}

async function bare(cfg: ConsumerConfig): Promise<void> {
  const received: Received = { deviceMessages: 0, connects: 0, disconnects: 0 };
  let messages = 0;
  const connectMark = ` as ${cfg.idPrefix}`;
  const disconnectMark = `: Client ${cfg.idPrefix}`;
  // The monitor's own connection options (lib/ingest/worker.ts).
  const client = mqtt.connect(cfg.url, {
    clientId: "bench-bare-subscriber",
    clean: true,
    keepalive: 30,
    connectTimeout: 10_000,
    reconnectPeriod: 0,
    protocolVersion: 4,
  });
  client.on("error", () => undefined);
  client.on("message", (topic, payload) => {
    messages++;
    if (topic.charCodeAt(0) !== 36 /* $ */) {
      received.deviceMessages++;
    } else if (topic.startsWith("$SYS/broker/log/N")) {
      // Only the few log lines are decoded: enough to know when the load's churn has all arrived.
      const line = payload.toString("utf8");
      if (line.includes(connectMark)) received.connects++;
      else if (line.includes(disconnectMark)) received.disconnects++;
    }
  });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  const topics = [...sourceSubscriptions("auto"), ...compileDeviceTopics(DEVICE_TOPICS).subscriptions];
  await client.subscribeAsync(topics, { qos: 0 });
  exitOnStop(async () => void (await client.endAsync(true)));

  const cpu0 = process.cpuUsage();
  const memory = memorySampler();
  await send({ type: "ready" });
  const ok = await waitFor(
    () => complete(received, cfg.expect),
    () => messages,
    cfg.stallMs,
  );
  const at = Date.now();
  const cpu = process.cpuUsage(cpu0);
  const result: ConsumerResult = {
    type: "result",
    received,
    complete: ok,
    appliedAt: at,
    stateDurableAt: at,
    durableAt: at,
    events: 0,
    messages,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    ...memory(),
  };
  await send(result);
}

async function keepwatch(cfg: ConsumerConfig): Promise<void> {
  const runtime = new Runtime(
    loadConfig({
      MQTT_URL: cfg.url,
      DATABASE_URL: cfg.databaseUrl,
      DEVICE_TOPICS,
      MQTT_CLIENT_ID: "keepwatch-bench",
      PORT: "3999",
    }),
  );
  const received: Received = { deviceMessages: 0, connects: 0, disconnects: 0 };
  let events = 0;
  // Counts what the fleet applied, after applying it (the worker calls fleet.applyBatch per batch).
  const fleet = runtime.fleet;
  const apply = fleet.applyBatch.bind(fleet);
  const prefix = cfg.idPrefix;
  fleet.applyBatch = (evs: readonly ActivityEvent[]) => {
    apply(evs);
    events += evs.length;
    for (const ev of evs) {
      if (!ev.deviceId.startsWith(prefix)) continue;
      if (ev.kind === "status") received.deviceMessages++;
      else if (ev.kind === "publish" && ev.topic.endsWith("/telemetry")) received.deviceMessages++;
      else if (ev.kind === "connect") received.connects++;
      else if (ev.kind === "disconnect") received.disconnects++;
    }
  };
  await runtime.start();
  exitOnStop(() => runtime.stop());
  const linkUp = Date.now() + 15_000;
  while (!runtime.health().broker.connected || runtime.health().broker.kind !== "mosquitto") {
    if (Date.now() > linkUp) throw new Error(`keepwatch did not connect: ${JSON.stringify(runtime.health().broker)}`);
    await sleep(20);
  }

  const cpu0 = process.cpuUsage();
  const memory = memorySampler();
  await send({ type: "ready" });
  const ok = await waitFor(
    () => complete(received, cfg.expect),
    () => events,
    cfg.stallMs,
  );
  const appliedAt = Date.now();
  // Durable: first the writer's device and session rows, then everything else buffered for Postgres (activity).
  for (let i = 0; i < 100 && runtime.writer!.health().pendingWrites > 0; i++) await runtime.writer!.flush();
  const stateDurableAt = Date.now();
  await flushAll(runtime);
  const durableAt = Date.now();
  const cpu = process.cpuUsage(cpu0);
  const health = runtime.writer!.health();

  const like = `${prefix}%`;
  const prisma = runtime.db!.prisma;
  const [devices] = await prisma.$queryRaw<
    { n: bigint }[]
  >`SELECT count(*) AS n FROM "devices" WHERE "id" LIKE ${like}`;
  const [closed] = await prisma.$queryRaw<{ n: bigint }[]>`
    SELECT count(*) AS n FROM "sessions" WHERE "device_id" LIKE ${like} AND "disconnected_at" IS NOT NULL`;
  const [points] = await prisma.$queryRaw<{ n: bigint }[]>`
    SELECT count(*) AS n FROM "device_activity" WHERE "device_id" LIKE ${like}`;
  const result: ConsumerResult = {
    type: "result",
    received,
    complete: ok,
    appliedAt,
    stateDurableAt,
    durableAt,
    events,
    messages: 0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    ...memory(),
    db: {
      devices: Number(devices.n),
      closedSessions: Number(closed.n),
      activityPoints: Number(points.n),
      droppedWrites: health.droppedWrites,
    },
  };
  await send(result);
}

childMain(async () => {
  const mode = process.argv[2];
  const cfg = JSON.parse(process.argv[3]) as ConsumerConfig;
  if (mode === "bare") await bare(cfg);
  else if (mode === "keepwatch") await keepwatch(cfg);
  else throw new Error(`unknown mode ${mode}`);
});
