/**
 * Silence detection at fleet scale, in a fresh process.
 *
 * Part 1, real clock: `devices` devices in a real Runtime on a ping-visible
 * setup (its embedded broker: pingsVisible → true; scripts/bench/runtime.ts)
 * with a Postgres database, ticked by the runtime's own loop (a 100 ms
 * interval calling fleet.tick(), timed here). A share of the devices stays active (a PINGREQ every few
 * seconds, so their deadlines keep moving in the heap); the others connect
 * evenly over a window and then stay silent, so their `late` deadlines
 * (keepalive later) are spread over as long, and their `offline` ones
 * (1.5 × keepalive) over as long again. Lateness of a verdict = when
 * the fleet's listeners receive its status-change minus its true deadline
 * (the change's own `at`, stamped at the deadline).
 *
 * Part 2, simulated clock: the cost of one tick() with 100k deadlines pending
 * when none is due, and when exactly k are due, plus the idle cost at 1k
 * devices: the cost must follow k, not the fleet size.
 */
import { constants as perfConstants, performance, PerformanceObserver } from "node:perf_hooks";
import pg from "pg";
import type { ActivityEvent } from "../../lib/ingest/events";
import { Fleet } from "../../lib/fleet/fleet";
import { LATE_GRACE_MS } from "../../lib/keepalive";
import { ALERT_CATCH_UP_MS, childMain, median, percentileSorted, send, sleep } from "./common";
import { feed, flushAll, startBenchRuntime } from "./runtime";

export interface DetectionPlan {
  devices: number;
  activeShare: number;
  keepaliveSeconds: number;
  /** From the end of the set-up to the first silent device's connect (ms). */
  leadMs: number;
  /** The silent devices connect evenly over this window (ms), so their deadlines are spread over as much. */
  windowMs: number;
  /** An active device pings every this many ms. */
  pingEveryMs: number;
  databaseUrl: string;
}

export interface LatenessStats {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface TickCosts {
  /** Median µs of a tick with nothing due (real-clock run), and the median number of deadlines pending then. */
  idleUs: number;
  idleTicks: number;
  idlePending: number;
  /** Ticks of the real-clock run with at least one verdict: median µs and median verdicts per tick. */
  busyUs: number;
  busyDue: number;
  busyTicks: number;
  /** Worst tick of the run (µs) and how many it decided. */
  worstUs: number;
  worstDue: number;
  /** How late the interval itself fired (ms), p50 / p99 / max. */
  timerLateP50: number;
  timerLateP99: number;
  timerLateMax: number;
}

/** Garbage collection while verdicts were due (from the first silence deadline to the end). */
export interface GcCosts {
  /** Mark-compact collections: how many, their total and longest pause (ms). */
  majorCount: number;
  majorTotalMs: number;
  majorMaxMs: number;
  /** Scavenges and the rest: how many and their total pause (ms). */
  minorCount: number;
  minorTotalMs: number;
  /** All pauses over the window's wall time (0…1). */
  share: number;
}

/** The alert writes of the verdicts (one offline alert per silent device, grouped into incidents). */
export interface AlertLag {
  /** Alert writes still pending when the last verdict came, and dropped (the service's bound) by then. */
  pendingAtEnd: number;
  dropped: number;
  /** From the last verdict until every alert write was stored (ms), or null if not within ALERT_CATCH_UP_MS. */
  caughtUpMs: number | null;
  /** Offline alerts of the silent devices stored in the end. */
  stored: number;
}

export interface MicroTick {
  fleetSize: number;
  due: number;
  /** Median µs of one tick() over the repeats. */
  us: number;
}

export interface DetectionResult {
  type: "result";
  setupSeconds: number;
  late: LatenessStats;
  offline: LatenessStats;
  all: LatenessStats;
  /** Verdicts the silent devices should have produced, and verdicts that hit an active device (must be 0). */
  expected: number;
  falseVerdicts: number;
  ticks: TickCosts;
  gc: GcCosts;
  alerts: AlertLag;
  micro: MicroTick[];
}

const activeId = (i: number) => `esp32-a${String(i).padStart(6, "0")}`;
const silentId = (i: number) => `esp32-s${String(i).padStart(6, "0")}`;

function connectEvent(deviceId: string, at: number, keepaliveSeconds: number, i: number): ActivityEvent {
  return {
    kind: "connect",
    deviceId,
    at,
    source: "mosquitto-debug",
    keepaliveSeconds,
    address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:${32768 + (i % 28000)}`,
    protocol: "3.1.1",
    cleanStart: true,
    username: null,
  };
}

function stats(values: number[]): LatenessStats {
  const s = Float64Array.from(values).sort();
  return {
    count: s.length,
    p50: percentileSorted(s, 50),
    p99: percentileSorted(s, 99),
    max: s.length ? s[s.length - 1] : NaN,
  };
}

async function realClock(plan: DetectionPlan) {
  const runtime = await startBenchRuntime(plan.databaseUrl);
  const fleet = runtime.fleet;
  const lateGraceMs = LATE_GRACE_MS;

  // What the benchmark observes, registered after the runtime's own listeners: it sees a verdict when they have it.
  const lateness = { late: [] as number[], offline: [] as number[] };
  const pauses: Array<{ at: number; ms: number; major: boolean }> = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      pauses.push({
        at: performance.timeOrigin + e.startTime,
        ms: e.duration,
        major: kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR,
      });
    }
  });
  gcObserver.observe({ entryTypes: ["gc"] });
  let falseVerdicts = 0;
  let inTick = false;
  let tickDue = 0;
  let measuring = true;
  fleet.onEffects((effects, changed) => {
    if (!measuring) return;
    const now = Date.now();
    if (inTick) tickDue += changed.length;
    for (const e of effects) {
      if (e.type !== "status-change" || e.from === null || (e.to !== "late" && e.to !== "offline")) continue;
      if (e.deviceId.startsWith("esp32-a")) falseVerdicts++;
      else lateness[e.to].push(now - e.at);
    }
  });

  // The runtime's own tick loop (a 100 ms interval calling fleet.tick(), again behind I/O while a slice leaves
  // verdicts due) calls this, timed.
  // `pending`: deadlines the heap holds (every connected device that is not offline yet).
  const ticks: Array<{ us: number; due: number; at: number; pending: number }> = [];
  let activeCount = 0;
  const timerLate: number[] = [];
  let lastTick: number | null = null;
  let chained = false;
  let nextSilent = 0;
  const tick = fleet.tick.bind(fleet);
  fleet.tick = (limit?: number) => {
    const started = performance.now();
    // A slice that follows a slice runs behind I/O, not on the interval: not a timer figure.
    if (lastTick !== null && !chained) timerLate.push(started - lastTick - 100);
    lastTick = started;
    inTick = true;
    tickDue = 0;
    let more = false;
    try {
      more = tick(limit);
    } finally {
      inTick = false;
      const pending = activeCount + nextSilent - lateness.offline.length;
      ticks.push({ us: (performance.now() - started) * 1000, due: tickDue, at: Date.now(), pending });
    }
    chained = more;
    return more;
  };

  activeCount = Math.round(plan.devices * plan.activeShare);
  const silentCount = plan.devices - activeCount;
  const k = plan.keepaliveSeconds * 1000;

  // Set-up: the active devices connect, in worker-sized batches, and are written.
  const base = Date.now();
  for (let i = 0; i < activeCount; i += 1000) {
    const n = Math.min(1000, activeCount - i);
    feed(
      runtime,
      Array.from({ length: n }, (_, j) => connectEvent(activeId(i + j), Date.now(), plan.keepaliveSeconds, i + j)),
    );
    await new Promise((resolve) => setImmediate(resolve));
  }
  await flushAll(runtime);
  const setupSeconds = (Date.now() - base) / 1000;

  // From here on the clock matters. The silent devices connect over the first window, each at its planned time
  // (the event stamped with it, as a broker stamps a log line), so their `late` deadlines are spread over
  // [connectStart + k, connectStart + k + window] whatever the set-up cost, and never send anything again.
  const connectStart = Date.now() + plan.leadMs;
  const connectedAt = (s: number) => connectStart + Math.floor((s * plan.windowMs) / silentCount);
  const firstDeadline = connectStart + k + lateGraceMs;
  const feeder = setInterval(() => {
    const now = Date.now();
    const batch: ActivityEvent[] = [];
    while (nextSilent < silentCount && connectedAt(nextSilent) <= now) {
      batch.push(connectEvent(silentId(nextSilent), connectedAt(nextSilent), plan.keepaliveSeconds, nextSilent));
      nextSilent++;
    }
    if (batch.length) feed(runtime, batch);
    if (nextSilent === silentCount) clearInterval(feeder);
  }, 10);

  // Active devices ping: all at once now, then each every pingEveryMs, in batches every 50 ms.
  const now = Date.now();
  feed(
    runtime,
    Array.from({ length: activeCount }, (_, i): ActivityEvent => ({
      kind: "ping",
      deviceId: activeId(i),
      at: now,
      source: "mosquitto-debug",
    })),
  );
  // Scheduled by the wall clock, not by counting intervals: a busy event loop must not make them ping late.
  const slices = Math.max(1, Math.round(plan.pingEveryMs / 50));
  const sliceDue = Array.from({ length: slices }, (_, j) => now + ((j + 1) * plan.pingEveryMs) / slices);
  const pinger = setInterval(() => {
    const now = Date.now();
    const pings: ActivityEvent[] = [];
    for (let j = 0; j < slices; j++) {
      if (sliceDue[j] > now) continue;
      sliceDue[j] += plan.pingEveryMs;
      for (let i = j; i < activeCount; i += slices) {
        pings.push({ kind: "ping", deviceId: activeId(i), at: now, source: "mosquitto-debug" });
      }
    }
    if (pings.length) feed(runtime, pings);
  }, 50);

  const expected = 2 * silentCount;
  const giveUp = firstDeadline + plan.windowMs + k / 2 + 10_000;
  while (lateness.late.length + lateness.offline.length < expected && Date.now() < giveUp) await sleep(50);
  clearInterval(feeder);
  const windowEnd = Date.now();
  measuring = false;
  const service = runtime.alerts!;
  const pendingAtEnd = service.pendingWrites;
  while (service.pendingWrites > 0 && Date.now() - windowEnd < ALERT_CATCH_UP_MS) await sleep(50);
  const caughtUpMs = service.pendingWrites === 0 ? Date.now() - windowEnd : null;
  clearInterval(pinger);
  await runtime.stop();
  const stored = await countOfflineAlerts(plan.databaseUrl);
  gcObserver.disconnect();
  const inWindow = pauses.filter((p) => p.at >= firstDeadline && p.at <= windowEnd);
  const major = inWindow.filter((p) => p.major);
  const minor = inWindow.filter((p) => !p.major);
  const total = (ps: typeof pauses) => ps.reduce((n, p) => n + p.ms, 0);
  const gc: GcCosts = {
    majorCount: major.length,
    majorTotalMs: total(major),
    majorMaxMs: Math.max(0, ...major.map((p) => p.ms)),
    minorCount: minor.length,
    minorTotalMs: total(minor),
    share: total(inWindow) / Math.max(1, windowEnd - firstDeadline),
  };

  // Nothing due: the ticks after the set-up and before the first silence deadline, while the heap fills up.
  const idle = ticks.filter((t) => t.due === 0 && t.at >= connectStart && t.at < firstDeadline);
  const busy = ticks.filter((t) => t.due > 0);
  const worst = ticks.reduce((w, t) => (t.us > w.us ? t : w), { us: 0, due: 0, at: 0 });
  const lateSorted = Float64Array.from(timerLate).sort();
  const tickCosts: TickCosts = {
    idleUs: median(idle.map((t) => t.us)),
    idleTicks: idle.length,
    idlePending: median(idle.map((t) => t.pending)),
    busyUs: median(busy.map((t) => t.us)),
    busyDue: median(busy.map((t) => t.due)),
    busyTicks: busy.length,
    worstUs: worst.us,
    worstDue: worst.due,
    timerLateP50: percentileSorted(lateSorted, 50),
    timerLateP99: percentileSorted(lateSorted, 99),
    timerLateMax: lateSorted[lateSorted.length - 1],
  };
  return {
    setupSeconds,
    late: stats(lateness.late),
    offline: stats(lateness.offline),
    all: stats([...lateness.late, ...lateness.offline]),
    expected,
    falseVerdicts,
    ticks: tickCosts,
    gc,
    alerts: { pendingAtEnd, dropped: service.droppedWrites, caughtUpMs, stored },
  };
}

async function countOfflineAlerts(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT count(*) AS n FROM "alerts" WHERE "kind" = 'offline' AND "device_id" LIKE 'esp32-s%'`,
    );
    return Number(rows[0].n);
  } finally {
    await client.end();
  }
}

/** tick() cost with a simulated clock: devices' `late` deadlines 1 ms apart, so advancing the clock by k ms makes k due. */
function microTicks(fleetSize: number, dues: number[], repeats: number): MicroTick[] {
  let clock = 1_800_000_000_000;
  const keepaliveSeconds = 600;
  const fleet = new Fleet({ now: () => clock, pingsVisible: () => true });
  let decided = 0;
  fleet.onEffects((_effects, changed) => (decided += changed.length));
  const first = clock;
  const batch: ActivityEvent[] = [];
  for (let i = 0; i < fleetSize; i++) {
    batch.push(connectEvent(`esp32-m${String(i).padStart(6, "0")}`, first + i, keepaliveSeconds, i));
    if (batch.length === 1000 || i === fleetSize - 1) fleet.applyBatch(batch.splice(0));
  }
  // The first deadline is first + k; stand just before it.
  clock = first + keepaliveSeconds * 1000 - 1;
  const out: MicroTick[] = [];
  const time = () => {
    const t0 = performance.now();
    fleet.tick();
    return (performance.now() - t0) * 1000;
  };
  for (let i = 0; i < 200; i++) time(); // warm up the idle path
  const idle: number[] = [];
  for (let i = 0; i < 2000; i++) idle.push(time());
  out.push({ fleetSize, due: 0, us: median(idle) });
  for (const due of dues) {
    const samples: number[] = [];
    for (let r = 0; r < repeats; r++) {
      clock += due;
      decided = 0;
      samples.push(time());
      if (decided !== due) throw new Error(`expected ${due} verdicts in one tick, got ${decided}`);
    }
    out.push({ fleetSize, due, us: median(samples) });
  }
  return out;
}

childMain(async () => {
  const plan = JSON.parse(process.argv[2]) as DetectionPlan;
  const real = await realClock(plan);
  const micro = [...microTicks(1_000, [], 0), ...microTicks(plan.devices, [1, 10, 100, 1000, 10000], 3)];
  const result: DetectionResult = { type: "result", ...real, micro };
  await send(result);
  process.exit(0);
});
