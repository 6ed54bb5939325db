/**
 * Resident memory per known device, measured in a fresh process started with
 * --expose-gc. Devices come in the way production sees them: a Mosquitto log
 * line `New client connected … as <id> (p2, c1, k3600).` and a telemetry publish
 * on `devices/<id>/telemetry`, both read by the real adapters (route()), so
 * the strings a device state keeps are exactly what production keeps.
 *
 * Variants:
 * - `fleet`: the Fleet alone (with its deadline heap: pings visible, the
 *   larger case);
 * - `runtime`: a real Runtime (scripts/bench/runtime.ts: embedded broker, so
 *   pings are visible and the deadline heap holds every device; Postgres),
 *   the events handed over where its ingest sources hand them; measured once
 *   everything buffered is written and the hub has published (what stays
 *   resident, not what waits to be written).
 *
 * RSS (and heapUsed) after full GCs, before the first stage and after each
 * stage of new devices. A warm-up batch of other devices goes through the same
 * path first, so lazily loaded code (Prisma's query compiler, JIT) is in the
 * baseline.
 */
import type { ActivityEvent } from "../../lib/ingest/events";
import { route } from "../../lib/ingest/adapters";
import { compileDeviceTopics } from "../../lib/ingest/adapters/device-topics";
import { Fleet } from "../../lib/fleet/fleet";
import type { Runtime } from "../../lib/runtime";
import { childMain, send, settleGc } from "./common";
import { feed, flushAll, startBenchRuntime } from "./runtime";

export interface MemoryPlan {
  variant: "fleet" | "runtime";
  /** Devices added in each stage; memory is measured before the first stage and after each. */
  stages: number[];
  warmup: number;
  databaseUrl?: string;
}

export interface MemoryPoint {
  devices: number;
  rssMb: number;
  heapMb: number;
  /** Seconds the stage took (0 for the baseline). */
  seconds: number;
}

export interface MemoryResult {
  type: "result";
  points: MemoryPoint[];
}

const deviceTopics = compileDeviceTopics("devices/{id}/#");
/**
 * Long enough that no device turns late or offline while the stages run (about
 * 3 minutes at 1M): the figure is what a known, healthy device costs. With 60 s
 * the first devices went offline mid-run and their alert writes were counted as
 * device memory; a mass outage's alerts are the detection scenario's.
 */
const KEEPALIVE_SECONDS = 3600;
const BATCH = 1000;

/** An id like real fleets use: a product prefix and a MAC address. */
function macId(i: number, stage: number): string {
  const mac = (0x24_0a_c4_00_00_00 + stage * 0x1_00_00_00 + i).toString(16).padStart(12, "0");
  return `esp32-${mac}`;
}

/** The events the worker would hand the fleet for `count` devices connecting and publishing once. */
function* deviceEvents(count: number, stage: number): Generator<ActivityEvent[]> {
  let batch: ActivityEvent[] = [];
  for (let i = 0; i < count; i++) {
    const id = macId(i, stage);
    const now = Date.now();
    const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:${32768 + (i % 28000)}`;
    const line = `${Math.floor(now / 1000)}: New client connected from ${address} as ${id} (p2, c1, k${KEEPALIVE_SECONDS}).`;
    const ctx = { receivedAt: now, retained: false };
    const connect = route("$SYS/broker/log/N", Buffer.from(line), ctx, { kind: "mosquitto", deviceTopics });
    const payload = Buffer.from(`{"t":${(20 + (i % 50) / 10).toFixed(1)},"rssi":-${40 + (i % 40)}}`);
    const publish = route(`devices/${id}/telemetry`, payload, ctx, { kind: "mosquitto", deviceTopics });
    batch.push(...connect.events, ...publish.events);
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

const mb = (bytes: number) => bytes / 2 ** 20;

childMain(async () => {
  const plan = JSON.parse(process.argv[2]) as MemoryPlan;
  let runtime: Runtime | null = null;
  let fleet: Fleet;
  if (plan.variant === "runtime") {
    if (!plan.databaseUrl) throw new Error("runtime variant needs a database");
    runtime = await startBenchRuntime(plan.databaseUrl);
    fleet = runtime.fleet;
  } else {
    fleet = new Fleet({ now: () => Date.now(), pingsVisible: () => true });
  }

  /** Lets the runtime's timers and I/O run between batches, as its event loop would. */
  const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
  async function addDevices(count: number, stage: number): Promise<void> {
    for (const batch of deviceEvents(count, stage)) {
      if (runtime) {
        feed(runtime, batch);
        await yieldToLoop();
      } else fleet.applyBatch(batch);
    }
    if (runtime) {
      await flushAll(runtime);
      runtime.hub.publish();
    }
  }

  async function point(devices: number, seconds: number): Promise<MemoryPoint> {
    await settleGc();
    const m = process.memoryUsage();
    return { devices, rssMb: mb(m.rss), heapMb: mb(m.heapUsed), seconds };
  }

  const before = fleet.size;
  await addDevices(plan.warmup, 0);
  const points = [await point(0, 0)];
  let known = 0;
  for (const [i, count] of plan.stages.entries()) {
    const t0 = Date.now();
    await addDevices(count, i + 1);
    known += count;
    points.push(await point(known, (Date.now() - t0) / 1000));
  }
  const expected = before + plan.warmup + known;
  if (fleet.size !== expected) throw new Error(`fleet holds ${fleet.size} devices, expected ${expected}`);
  const result: MemoryResult = { type: "result", points };
  await send(result);
  await runtime?.stop();
  process.exit(0);
});
