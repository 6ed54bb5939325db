/**
 * The benchmark's results as a compact stdout table and as docs/BENCHMARKS.md
 * (machine facts, figures against their targets, how each was measured, and
 * every round's raw figures).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { withAdmin } from "../../lib/store/testing";
import { ALERT_CATCH_UP_MS, fmt } from "./common";
import { BROKER_CONFIG, type IngestSummary } from "./ingest";
import type { RestoreSummary } from "./restore";
import type { PageSummary } from "./page";
import { FAILOVER_SECONDS, type FailoverSummary } from "./failover";
import { DEFAULT_MEMORY, type MemorySummary } from "./memory";
import { SERVER_NODE_FLAGS } from "../node-options.mjs";

const DEFAULT_WARMUP = DEFAULT_MEMORY.warmup;
import type { DetectionSummary } from "./detection";
import type { ExportBenchResult } from "./export";
import { diskAtDefaults, type ActivityBenchResult } from "./activity";

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export interface ExportSummary {
  runs: ExportBenchResult[];
  seconds: number;
  rowsPerSecond: number;
  peakRssMb: number;
  rssGrowthMb: number;
  firstByteMs: number;
  deepPageMs: number;
  /** Median RSS at each checkpoint (25 %, 50 %, 100 % of the rows). */
  checkpoints: Array<{ rows: number; rssMb: number }>;
}

export function summarizeExport(runs: ExportBenchResult[]): ExportSummary {
  return {
    runs,
    seconds: median(runs.map((r) => r.seconds)),
    rowsPerSecond: median(runs.map((r) => r.rowsPerSecond)),
    peakRssMb: median(runs.map((r) => r.peakRssMb)),
    rssGrowthMb: median(runs.map((r) => r.rssGrowthMb)),
    firstByteMs: median(runs.map((r) => r.firstByteMs)),
    deepPageMs: median(runs.map((r) => r.deepPageMs)),
    checkpoints: runs[0].checkpoints.map((c, i) => ({
      rows: c.rows,
      rssMb: median(runs.map((r) => r.checkpoints[i]?.rssMb ?? Number.NaN)),
    })),
  };
}

export interface ActivitySummary {
  runs: ActivityBenchResult[];
  rowsPerSecond: number;
  fleetRowsPerSecond: number;
  rawBytesPerDay: number;
  rollupBytesPerDay: number;
  rawBytesPerRow: number;
  rollupBytesPerRow: number;
  packedBytesPerDay: number;
  packedBytesPerRow: number;
  packSeconds: number;
  diskAtDefaults: number;
  droppedPoints: number;
}

export function summarizeActivity(runs: ActivityBenchResult[]): ActivitySummary {
  return {
    runs,
    rowsPerSecond: median(runs.map((r) => r.rowsPerSecond)),
    fleetRowsPerSecond: runs[0].fleetRowsPerSecond,
    rawBytesPerDay: median(runs.map((r) => r.rawBytesPerDay)),
    rollupBytesPerDay: median(runs.map((r) => r.rollupBytesPerDay)),
    rawBytesPerRow: median(runs.map((r) => r.rawBytesPerRow)),
    rollupBytesPerRow: median(runs.map((r) => r.rollupBytesPerRow)),
    packedBytesPerDay: median(runs.map((r) => r.packedBytesPerDay)),
    packedBytesPerRow: median(runs.map((r) => r.packedBytesPerRow)),
    packSeconds: median(runs.map((r) => r.packSeconds)),
    diskAtDefaults: median(runs.map(diskAtDefaults)),
    droppedPoints: runs.reduce((n, r) => n + r.droppedPoints, 0),
  };
}

const gib = (bytes: number) => (bytes / 1024 ** 3).toFixed(2);

export interface MachineFacts {
  date: string;
  nproc: string;
  cpuModel: string;
  memoryGb: string;
  node: string;
  kernel: string;
  mosquitto: string;
  postgres: string;
  loadAverage: string;
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch (err) {
    // `mosquitto -h` prints its usage and exits non-zero.
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ""}${e.stderr ?? ""}`.trim();
  }
}

export async function machineFacts(): Promise<MachineFacts> {
  let cpuModel = "unknown";
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1].trim() ?? cpuModel;
  } catch {
    // not Linux
  }
  const postgres = await withAdmin((c) => c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).then(
    (r) => `PostgreSQL ${r.rows[0].v}`,
    () => "unknown",
  );
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    nproc: run("nproc", []) || String(os.availableParallelism()),
    cpuModel,
    memoryGb: (os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    mosquitto: run("mosquitto", ["-h"]).split("\n")[0] || "unknown",
    postgres,
    loadAverage: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" / "),
  };
}

export interface Results {
  facts: MachineFacts;
  ingest?: IngestSummary;
  memory?: MemorySummary;
  /** The runtime from none to 1M devices (one round). */
  memoryLarge?: { devices: number; rss: number; heap: number };
  /** Detection with the same method at 1M devices (one round). */
  detectionLarge?: DetectionSummary;
  detection?: DetectionSummary;
  export?: ExportSummary;
  activity?: ActivitySummary;
  restore?: RestoreSummary;
  page?: PageSummary;
  failover?: FailoverSummary;
  seconds: number;
  problems: string[];
}

interface Row {
  figure: string;
  value: string;
  target: string;
  met: string;
}

const yes = (ok: boolean) => (ok ? "yes" : "**no**");

function rows(r: Results): Row[] {
  const out: Row[] = [];
  const i = r.ingest;
  if (i) {
    out.push({
      figure: "Ingest: bare MQTT.js subscriber (ceiling)",
      value: `${fmt(i.bareRate)} msg/s`,
      target: "—",
      met: "—",
    });
    out.push({
      figure: "Ingest: keepwatch end to end into Postgres",
      value: `${fmt(i.keepwatchRate)} msg/s (${fmt(i.keepwatchEventRate)} events/s)`,
      target: "—",
      met: "—",
    });
    out.push({
      figure: "Ingest: keepwatch, until applied / until device+session rows written",
      value: `${fmt(i.keepwatchAppliedRate)} / ${fmt(i.keepwatchStateRate)} msg/s`,
      target: "—",
      met: "—",
    });
    out.push({
      figure: "Ingest: keepwatch / bare (median of per-round ratios)",
      value: `${i.ratio.toFixed(2)} × (rounds ${Math.min(...i.ratios).toFixed(2)}–${Math.max(...i.ratios).toFixed(2)})`,
      target: "≥ 0.5 ×",
      met: yes(i.ratio >= 0.5),
    });
    out.push({
      figure: "Ingest: consumer CPU per 1,000 messages, bare / keepwatch",
      value: `${i.bareCpuPer1k.toFixed(1)} / ${i.keepwatchCpuPer1k.toFixed(1)} ms (${(i.bareCpuPer1k / i.keepwatchCpuPer1k).toFixed(2)} ×)`,
      target: "—",
      met: "—",
    });
    out.push({
      figure: "Ingest: messages lost (all rounds, both sides)",
      value: fmt(i.losses),
      target: "0",
      met: yes(i.losses === 0),
    });
  }
  const m = r.memory;
  if (m) {
    out.push({
      figure: "Memory: RSS growth, runtime wiring, 0 → 100k devices",
      value: `${m.runtime.rssFirst.toFixed(1)} MB per 100k (heap ${m.runtime.heapFirst.toFixed(1)})`,
      target: "≤ 100 MB per 100k",
      met: yes(m.runtime.rssFirst <= 100),
    });
    out.push({
      figure: "Memory: RSS growth, runtime wiring, 100k → 200k devices",
      value: `${m.runtime.rssSecond.toFixed(1)} MB per 100k (heap ${m.runtime.heapSecond.toFixed(1)})`,
      target: "≤ 100 MB per 100k",
      met: yes(m.runtime.rssSecond <= 100),
    });
    out.push({
      figure: "Memory: RSS growth, Fleet alone, 0 → 100k devices",
      value: `${m.fleet.rss.toFixed(1)} MB per 100k (heap ${m.fleet.heap.toFixed(1)})`,
      target: "≤ 100 MB per 100k",
      met: yes(m.fleet.rss <= 100),
    });
  }
  const ml = r.memoryLarge;
  if (ml)
    out.push({
      figure: `Memory: RSS growth, runtime wiring, 0 → ${fmt(ml.devices)} devices (after ${fmt(DEFAULT_WARMUP)} warm-up)`,
      value: `${ml.rss.toFixed(1)} MB per 100k (heap ${ml.heap.toFixed(1)})`,
      target: "≤ 100 MB per 100k",
      met: yes(ml.rss <= 100),
    });
  const dl = r.detectionLarge;
  if (dl) {
    out.push({
      figure: `Detection: verdict lateness at ${fmt(dl.options.devices)} devices (keepalive ${dl.options.keepaliveSeconds} s), p50 / p99 / max`,
      value: `${fmt(dl.p50)} / ${fmt(dl.p99)} / ${fmt(dl.max)} ms`,
      target: "p99 ≤ 1,000 ms",
      met: yes(dl.p99 <= 1000),
    });
    out.push({
      figure: `Detection at ${fmt(dl.options.devices)}: verdicts missed / on active devices`,
      value: `${fmt(dl.missed)} / ${fmt(dl.falseVerdicts)}`,
      target: "0 / 0",
      met: yes(dl.missed === 0 && dl.falseVerdicts === 0),
    });
    const a = dl.runs[0].alerts;
    const silent = Math.round(dl.options.devices * (1 - dl.options.activeShare));
    const wait = `${ALERT_CATCH_UP_MS / 1000} s`;
    out.push({
      figure: `Detection at ${fmt(dl.options.devices)}: offline alerts stored / alert writes dropped, and when the last was stored`,
      value: `${fmt(a.stored)} / ${fmt(a.dropped)}, ${a.caughtUpMs === null ? `over ${wait}` : `${fmt(a.caughtUpMs / 1000, 1)} s`} after the last verdict`,
      target: `${fmt(silent)} / 0, within ${wait}`,
      met: yes(a.stored === silent && a.dropped === 0 && a.caughtUpMs !== null),
    });
  }
  const d = r.detection;
  if (d) {
    out.push({
      figure: `Detection: verdict lateness at ${fmt(d.options.devices)} devices, p50 / p99 / max`,
      value: `${fmt(d.p50)} / ${fmt(d.p99)} / ${fmt(d.max)} ms`,
      target: "≤ 1,000 ms (every verdict)",
      met: yes(d.maxOverall <= 1000),
    });
    out.push({
      figure: "Detection: verdicts missed / on active devices",
      value: `${fmt(d.missed)} / ${fmt(d.falseVerdicts)}`,
      target: "0 / 0",
      met: yes(d.missed === 0 && d.falseVerdicts === 0),
    });
    const idle = d.micro.find((x) => x.fleetSize === d.options.devices && x.due === 0);
    const idleSmall = d.micro.find((x) => x.fleetSize !== d.options.devices && x.due === 0);
    const k1000 = d.micro.find((x) => x.fleetSize === d.options.devices && x.due === 1000);
    if (idle && idleSmall && k1000) {
      out.push({
        figure: `Detection: tick() with nothing due, ${fmt(idleSmall.fleetSize)} vs ${fmt(idle.fleetSize)} devices`,
        value: `${idleSmall.us.toFixed(2)} vs ${idle.us.toFixed(2)} µs`,
        target: "independent of fleet size",
        met: yes(idle.us < Math.max(5, 3 * idleSmall.us)),
      });
      out.push({
        figure: `Detection: tick() with 1,000 due of ${fmt(idle.fleetSize)}`,
        value: `${fmt(k1000.us / 1000, 1)} ms (${(k1000.us / 1000).toFixed(1)} µs per verdict)`,
        target: "O(k log n)",
        met: "—",
      });
    }
  }
  const e = r.export;
  if (e) {
    const rows = e.runs[0].rows;
    out.push({
      figure: `Export: CSV of ${fmt(rows)} disconnects, time / rows/s`,
      value: `${e.seconds.toFixed(1)} s / ${fmt(e.rowsPerSecond)} rows/s (first byte ${fmt(e.firstByteMs)} ms)`,
      target: "—",
      met: "—",
    });
    out.push({
      figure: "Export: peak RSS (growth during the export)",
      value: `${e.peakRssMb.toFixed(1)} MB (+${e.rssGrowthMb.toFixed(1)} MB)`,
      target: "—",
      met: "—",
    });
    out.push({
      figure: "Export: RSS at 25 % / 50 % / 100 % of the rows",
      value: `${e.checkpoints.map((c) => c.rssMb.toFixed(1)).join(" / ")} MB`,
      target: "flat as rows grow",
      met: "—",
    });
  }
  const a = r.activity;
  if (a) {
    out.push({
      figure: "Activity: raw rows written per second (10,000 devices, a ping every 30 s)",
      value: `${fmt(a.rowsPerSecond)} rows/s (the fleet produces ${fmt(a.fleetRowsPerSecond)})`,
      target: `≥ ${fmt(a.fleetRowsPerSecond)} rows/s`,
      met: yes(a.rowsPerSecond >= a.fleetRowsPerSecond),
    });
    out.push({
      figure: "Activity: disk per day, raw points / minute roll-ups / roll-ups packed by hour",
      value: `${gib(a.rawBytesPerDay)} / ${gib(a.rollupBytesPerDay)} / ${gib(a.packedBytesPerDay)} GiB (${a.rawBytesPerRow.toFixed(0)} / ${a.rollupBytesPerRow.toFixed(0)} B per row, ${a.packedBytesPerRow.toFixed(0)} B per device-hour)`,
      target: "—",
      met: "—",
    });
    out.push({
      figure: "Activity: disk at the defaults (24 h raw, 30 d roll-ups), 10,000 devices",
      value: `${gib(a.diskAtDefaults)} GiB (packing a day's roll-ups ≈ ${(a.packSeconds * 24).toFixed(0)} s, once a day)`,
      target: "—",
      met: "—",
    });
  }
  for (const st of r.restore?.stages ?? []) {
    const n = fmt(st.devices);
    out.push({
      figure: `Restore: start-up with ${n} devices on Postgres, started / states written back`,
      value: `${st.seconds.toFixed(1)} s / ${st.settledSeconds.toFixed(1)} s`,
      target: st.devices >= 1_000_000 ? "≤ 30 s" : "—",
      met: st.devices >= 1_000_000 ? yes(st.seconds <= 30) : "—",
    });
    out.push({
      figure: `Restore: peak RSS with ${n} devices (then)`,
      value: `${fmt(st.peakRssMb)} MB (${fmt(st.rssMb)} MB)`,
      target: st.devices >= 1_000_000 ? "≤ 1,536 MB" : "—",
      met: st.devices >= 1_000_000 ? yes(st.peakRssMb <= 1536) : "—",
    });
  }
  if (r.failover) {
    const f = r.failover;
    out.push({
      figure: `Failover: kill -9 of the leader → the standby leads (KEEPWATCH_FAILOVER_SECONDS ${FAILOVER_SECONDS}), median (worst)`,
      value: `${fmt(f.killMs)} ms (${fmt(f.killMaxMs)} ms)`,
      target: `≤ ${fmt(FAILOVER_SECONDS * 1000)} ms`,
      met: yes(f.killMaxMs <= FAILOVER_SECONDS * 1000),
    });
    out.push({
      figure: "Failover: SIGTERM of the leader → hand-over, median (worst)",
      value: `${fmt(f.termMs)} ms (${fmt(f.termMaxMs)} ms)`,
      target: "≤ 1,000 ms",
      met: yes(f.termMaxMs <= 1000),
    });
    out.push({
      figure: `Failover: over ${f.runs.length} switches, devices turned unknown / disconnects of the switch lost / sessions, alerts or notifications doubled`,
      value: `${f.unknown} / ${f.lost} / ${f.doubled}`,
      target: "0 / 0 / 0",
      met: yes(f.unknown === 0 && f.lost === 0 && f.doubled === 0),
    });
  }
  for (const st of r.page?.stages ?? []) {
    const n = fmt(st.devices);
    out.push({
      figure: `Fleet page, ${n} devices: first rows after navigation, warm (cold: first tab after start)`,
      value: `${fmt(st.firstRowsMs)} ms (${fmt(st.coldFirstRowsMs)} ms)`,
      target: "≤ 1,000 ms",
      met: yes(st.firstRowsMs <= 1000),
    });
    out.push({
      figure: `Fleet page, ${n} devices: search answered / status filter answered`,
      value: `${fmt(st.searchMs)} ms / ${fmt(st.statusMs)} ms`,
      target: "≤ 300 ms",
      met: yes(Math.max(st.searchMs, st.statusMs) <= 300),
    });
    out.push({
      figure: `Fleet page, ${n} devices: new sort answered, warm (cold: its index built)`,
      value: `${fmt(st.sortMs)} ms (${fmt(st.coldSortMs)} ms)`,
      target: "—",
      met: "—",
    });
    out.push({
      figure: `Fleet page, ${n} devices: one tab's stream snapshot`,
      value: `${fmt(st.snapshotBytes / 1024)} KiB`,
      target: "< 1 MiB",
      met: yes(st.snapshotBytes < 1024 * 1024),
    });
  }
  return out;
}

function pageSection(r: PageSummary): string {
  const runs = r.runs.map((x) => [
    fmt(x.devices),
    x.round === 0 ? "cold" : String(x.round),
    fmt(x.firstRowsMs),
    fmt(x.searchMs),
    fmt(x.statusMs),
    fmt(x.sortMs),
  ]);
  return `
## Fleet page

A Postgres seeded with N devices, the real server (\`next start\`) restoring them, then real Chromium
(\`scripts/bench/page.ts\`), a fresh tab per round at 1440 × 900: ms from \`goto\` until the first device row
is visible; from typing a search until the rows are its ten matches; from clicking the "offline" filter until
its (empty) answer shows, the whole fleet walked; from clicking "Drops" until the first row is the right one.
The three answers are timed in the page on its own clock, from the input or click event's time stamp to the
first animation frame that shows the answer (checked every frame), so Playwright's own round trips to the browser
are not counted; first rows are timed from the bench's side of \`goto\`.
Round "cold" is the first tab after start-up, when the server builds the view's sorted index (and, for the
sort, that sort's index); the warm figures are medians of ${r.options.rounds} rounds. The snapshot is one
tab's \`GET /api/stream\` up to the end of its first event.

${mdTable(["devices", "round", "first rows (ms)", "search (ms)", "status filter (ms)", "sort (ms)"], runs)}
`;
}

function failoverSection(f: FailoverSummary): string {
  const runs = f.runs.map((x) => [
    String(x.round),
    x.signal,
    fmt(x.ms),
    String(x.unknown),
    `${x.stored} / ${x.dropped}`,
    String(x.doubledSessions),
    String(x.doubledAlerts),
    String(x.doubledNotifications),
  ]);
  return `
## Failover

Two keepwatch processes (\`lib/testing/keepwatch-process.ts\`, the server's V8 options, KEEPWATCH_FAILOVER_SECONDS
at its default of ${FAILOVER_SECONDS}) on one Postgres and one Mosquitto, ${fmt(f.options.devices)} real MQTT.js devices
(keepalive 30 s), a rule that alerts 1 s after a device goes offline and notifies a local webhook receiver (each
device on its own: no incidents). Each round kills the leader with SIGKILL, then, the killed process started again
and standing by, stops the new leader with SIGTERM; ${f.options.dropDuring} devices disconnect right after each
signal, while the leader goes. Time = signal sent → the other process's health answers \`leader\` (polled every
25 ms). Then, on the new leader and in Postgres: devices \`unknown\`, disconnects of the switch stored (given 20 s),
devices with more than one session or alert row, devices notified "fired" more than once, and notifications
received twice (the same Idempotency-Key). ${f.options.rounds} round(s).

${mdTable(["round", "signal", "new leader after (ms)", "unknown", "disconnects stored", "sessions doubled", "alerts doubled", "notifications doubled"], runs)}
`;
}

function restoreSection(r: RestoreSummary): string {
  const runs = r.runs.map((x) => [
    fmt(x.devices),
    String(x.round),
    x.seconds.toFixed(1),
    x.settledSeconds.toFixed(1),
    fmt(x.peakRssMb),
    fmt(x.rssMb),
  ]);
  return `
## Restore

A Postgres seeded with N devices (half online with an open session), then a fresh process running the real
runtime (\`scripts/bench/restore-child.ts\`) against it and a real Mosquitto: seconds until \`start()\` resolved
(the fleet restored in keyset pages of ${fmt(20_000)} devices, leadership taken, alerts started), seconds until
the restored states were written back, and the process's peak RSS (VmHWM) over both. ${r.options.rounds} round(s)
per size.

${mdTable(["devices", "round", "started (s)", "written back (s)", "peak RSS (MB)", "RSS then (MB)"], runs)}
`;
}

export function stdoutTable(r: Results): string {
  const table = rows(r).map((x) => [x.figure, x.value, x.target, x.met.replace(/\*/g, "")]);
  const head = ["figure", "median", "target", "met"];
  const widths = head.map((h, c) => Math.max(h.length, ...table.map((t) => t[c].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...table.map(line)].join("\n");
}

function mdTable(head: string[], body: string[][]): string {
  return [
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...body.map((b) => `| ${b.join(" | ")} |`),
  ].join("\n");
}

function ingestSection(i: IngestSummary): string {
  const o = i.options;
  const runs = i.runs.map((x) => [
    String(x.round),
    x.mode,
    `${fmt(x.rate)} msg/s`,
    x.mode === "keepwatch" ? `${fmt(x.eventRate)}` : "—",
    x.seconds.toFixed(2),
    x.mode === "keepwatch" ? x.appliedSeconds.toFixed(2) : "—",
    x.mode === "keepwatch" ? x.stateSeconds.toFixed(2) : "—",
    x.publishSeconds.toFixed(2),
    `${x.lost.deviceMessages} / ${x.lost.connects} / ${x.lost.disconnects}`,
    x.cpuMsPer1k.toFixed(1),
    fmt(x.maxRssMb),
    x.db ? `${fmt(x.db.devices)} / ${fmt(x.db.closedSessions)} / ${fmt(x.db.activityPoints)}` : "—",
  ]);
  return `## Ingest throughput

Load per measurement (generated by \`scripts/bench/ingest-load.ts\`, a separate process): ${fmt(o.telemetry)} QoS 0
publishes over ${fmt(o.devices)} device ids on \`devices/{id}/telemetry\`, every ${o.statusEvery}th one replaced by
\`devices/{id}/status\` alternating \`offline\`/\`online\`, written by ${o.publishers} connections as fast as the broker
takes them; at the same time ${fmt(o.cycles)} real connections (${o.concurrency} at a time) connect with keepalive 60
and leave, half with DISCONNECT and half by closing the socket, which Mosquitto reports on \`$SYS/broker/log/#\` (three
lines each). Packets are encoded before the start, so the generator is faster than either consumer: the broker queues
what a consumer has not read yet, and the figure is the consumer's capacity.

- **bare**: an MQTT.js client with the monitor's own connection options and subscriptions (every \`$SYS\` source plus
  \`devices/+/#\`) that only counts messages.
- **keepwatch**: the real \`Runtime\` (\`lib/runtime.ts\`) against the same broker and a fresh migrated Postgres
  database: IngestWorker → adapters → Fleet → StoreWriter and ActivityRecorder (plus the LiveHub and the alerts
  service, as wired). It is done when the fleet has applied every expected event **and** everything buffered for
  Postgres is written (the writer's \`pendingWrites\` and the activity recorder's pending points at 0); the rows
  are then counted in Postgres (devices / closed sessions / activity points of the load).
- Rate = the load's messages (publishes + 3 log lines per connection) ÷ (generator's first write → consumer done).
  For keepwatch the table also gives the times at which the fleet had applied everything ("applied") and at which
  the writer's device and session rows were all in Postgres ("rows written"), before the activity points were.
  Each measurement has a fresh broker, fresh processes and (keepwatch) a fresh database; the two sides alternate
  within each round (bare first in odd rounds). The ratio is the median of per-round ratios; their range is shown
  because on a shared machine a burst of foreign load during one side's few seconds moves a round's ratio a lot.
  The consumers' CPU time per message is steadier: compare it when the rates disagree between runs.
- Mosquitto runs with \`${BROKER_CONFIG.join("`, `")}\`: with the default \`max_queued_messages 1000\` the broker drops
  QoS 0 messages for a subscriber that falls 1000 packets behind, which would compare samples, not loads. Both sides
  count what they received; losses are reported (columns: device messages / connect lines / disconnect lines).

${mdTable(
  [
    "round",
    "side",
    "rate",
    "events/s",
    "done (s)",
    "applied (s)",
    "rows written (s)",
    "generator (s)",
    "lost",
    "CPU ms per 1k msg",
    "max RSS (MB)",
    "rows: devices / sessions / activity points",
  ],
  runs,
)}
`;
}

function memorySection(m: MemorySummary): string {
  const runs = m.runs.map((x) => [
    String(x.round),
    x.variant,
    x.points[0].rssMb.toFixed(1),
    x.rssPer100kMb.map((v) => v.toFixed(1)).join(" → "),
    x.heapPer100kMb.map((v) => v.toFixed(1)).join(" → "),
    x.points
      .slice(1)
      .map((p) => p.seconds.toFixed(1))
      .join(" / "),
  ]);
  return `## Memory per known device

A fresh process (\`node --expose-gc\`) per measurement. Devices arrive as production sees them: a Mosquitto log line
\`New client connected from <ip:port> as <id> (p2, c1, k3600).\` and one publish on \`devices/<id>/telemetry\`, both
read by the real adapters (\`route()\`) and applied by the real Fleet in batches of 1,000 events (ids like
\`esp32-240ac4000001\`). RSS and heapUsed are read after repeated full GCs, before and after each stage of
${fmt(m.options.devices)} new devices; a warm-up of ${fmt(m.options.warmup)} other devices runs first so that lazily
loaded code is in the baseline. The keepalive of an hour keeps every device healthy while the stages run (about
3 minutes at 1M): the figure is what a known device costs, not the alert writes of devices going offline, which the
detection scenario measures.

- **runtime**: a real \`Runtime\` with a fresh Postgres database and its embedded broker (so pings are visible and
  the deadline heap holds every device), the events handed over where its ingest sources hand them; measured once
  everything buffered for Postgres is written and the hub has published (what stays resident). Two stages: 0 → 100k
  (the target's definition) and 100k → 200k.
- **fleet**: the Fleet alone, 0 → 100k.

Medians: runtime ${m.runtime.rssFirst.toFixed(1)} MB RSS (${m.runtime.heapFirst.toFixed(1)} MB heap) per 100k from
0 → 100k, ${m.runtime.rssSecond.toFixed(1)} MB RSS (${m.runtime.heapSecond.toFixed(1)} MB heap) from 100k → 200k;
Fleet alone ${m.fleet.rss.toFixed(1)} MB RSS (${m.fleet.heap.toFixed(1)} MB heap). The runtime variant's heap beyond the Fleet's
(${(m.runtime.heapFirst - m.fleet.heap).toFixed(1)} MB at 100k devices) is what the process keeps besides device
state once everything is written (database client, its caches and logs). RSS also moves with what V8 has not yet
returned to the system; heapUsed is the steadier of the two.

${mdTable(["round", "variant", "RSS at start (MB)", "RSS MB per 100k, by stage", "heap MB per 100k, by stage", "stage seconds"], runs)}
`;
}

const detectionRow = (x: DetectionSummary["runs"][number]) => [
  String(x.round),
  fmt(x.all.count),
  `${fmt(x.all.p50)} / ${fmt(x.all.p99)} / ${fmt(x.all.max)}`,
  `${fmt(x.late.p99)} / ${fmt(x.offline.p99)}`,
  `${fmt(x.expected - x.all.count)} / ${fmt(x.falseVerdicts)}`,
  `${fmt(x.ticks.idleUs)} µs (${fmt(x.ticks.idlePending)} pending)`,
  `${fmt(x.ticks.busyUs / 1000, 1)} ms for ${fmt(x.ticks.busyDue)} (worst ${fmt(x.ticks.worstUs / 1000, 1)} ms for ${fmt(x.ticks.worstDue)})`,
  `${fmt(x.ticks.timerLateP50, 1)} / ${fmt(x.ticks.timerLateP99, 1)} / ${fmt(x.ticks.timerLateMax, 1)}`,
  `${fmt(x.gc.share * 100, 1)} % (${x.gc.majorCount} major, longest ${fmt(x.gc.majorMaxMs)} ms)`,
  `${fmt(x.alerts.stored)} / ${fmt(x.alerts.dropped)} / ${x.alerts.caughtUpMs === null ? "> 30 s" : `${fmt(x.alerts.caughtUpMs / 1000, 1)} s`}`,
  x.setupSeconds.toFixed(1),
];
const DETECTION_COLUMNS = [
  "round",
  "verdicts",
  "lateness p50 / p99 / max (ms)",
  "p99 late / offline (ms)",
  "missed / on active devices",
  "tick, nothing due",
  "tick with verdicts: median (worst)",
  "interval firing late p50 / p99 / max (ms)",
  "GC pauses (share of the time)",
  "offline alerts stored / alert writes dropped / stored after the last verdict",
  "set-up (s)",
];

function detectionSection(d: DetectionSummary, large?: DetectionSummary): string {
  const o = d.options;
  const runs = d.runs.map(detectionRow);
  const micro = d.micro.map((x) => [
    fmt(x.fleetSize),
    fmt(x.due),
    x.us < 10 ? x.us.toFixed(2) : fmt(x.us),
    x.due > 0 ? (x.us / x.due).toFixed(1) : "—",
  ]);
  const silent = Math.round(o.devices * (1 - o.activeShare));
  return `## Silence detection

A fresh process and database per round. ${fmt(o.devices)} devices connect with keepalive ${o.keepaliveSeconds} s to a
real \`Runtime\` on a ping-visible setup (its embedded broker: \`pingsVisible → true\`, late grace as configured
there), with Postgres, ticked by the runtime's own loop (a 100 ms \`setInterval\` calling \`fleet.tick()\`, timed by
the benchmark) on the real clock; events are handed over where the runtime's ingest sources hand them. ${fmt(o.devices * o.activeShare)} devices stay active (a ping every ${o.pingEveryMs / 1000} s, so their
deadlines keep moving in the heap); the other ${fmt(silent)} connect evenly over ${o.windowMs / 1000} s (each event
stamped with its planned time, as a broker stamps its log) and then stay silent, so their \`late\` deadlines
(keepalive later) are spread over ${o.windowMs / 1000} s, and their \`offline\` deadlines (1.5 × keepalive) over
another ${o.windowMs / 1000} s, while the heap holds the whole fleet. Lateness = when the fleet's listeners receive
the status-change − its true deadline (the change's own time, stamped at the deadline). GC pauses are those from the first
deadline to the last verdict (\`PerformanceObserver\` on \`gc\`). Every silent device's offline verdict fires the default
rule's offline alert, grouped into mass-disconnect incidents: the alert writes left when the last verdict came are
waited for (up to 30 s, the active devices still pinging), then the silent devices' offline alerts in the database
are counted. p50 / p99 / max per round;
the median over rounds (worst single verdict of all rounds: ${fmt(d.maxOverall)} ms).

${mdTable(DETECTION_COLUMNS, runs)}
${large ? largeDetection(large) : ""}
In the run above a tick with nothing due includes what the busy process adds (cold caches, incremental GC steps on
its few allocations); the mechanism alone is measured below. Tick cost with a simulated clock (same Fleet and heap,
no listeners): every device's deadline 1 ms apart, the clock
advanced so that exactly k are due; median over rounds of the median of 3 ticks (2,000 for k = 0). A tick with
nothing due costs the same at 1k and 100k devices (no scan); with k due it grows with k.

${mdTable(["devices", "due (k)", "tick (µs)", "µs per verdict"], micro)}
`;
}

/**
 * The 1M stage keeps the 100k stage's rates per second, not its keepalive: a
 * million devices on keepalive 6 s would send 167k PINGREQs a second before
 * any silence, several times what one broker link carries (see Ingest).
 */
function largeDetection(l: DetectionSummary): string {
  const o = l.options;
  const silent = Math.round(o.devices * (1 - o.activeShare));
  return `
At ${fmt(o.devices)} devices the same method runs with keepalive ${o.keepaliveSeconds} s: ${fmt(o.devices * o.activeShare)} devices
ping every ${o.pingEveryMs / 1000} s, the other ${fmt(silent)} connect evenly over ${o.windowMs / 1000} s and fall silent. That is
the 100k stage's load per second (${fmt(silent / (o.windowMs / 1000))} connects a second, then as many \`late\` and as many
\`offline\` verdicts a second, overlapping for a third of the time) with ten times the devices in the heap, the
maps and the alert engine. The 100k stage's keepalive of 6 s at a million devices would mean 167,000 PINGREQs a
second before any silence, several times what one MQTT connection delivers (see Ingest).

${mdTable(DETECTION_COLUMNS, l.runs.map(detectionRow))}
`;
}

function exportSection(e: ExportSummary): string {
  const runs = e.runs.map((x, i) => [
    String(i + 1),
    fmt(x.rows),
    x.seedSeconds.toFixed(1),
    x.seconds.toFixed(2),
    fmt(x.rowsPerSecond),
    `${fmt(Math.round(x.bytes / 2 ** 20))} MB`,
    fmt(x.firstByteMs),
    x.peakRssMb.toFixed(1),
    x.rssGrowthMb.toFixed(1),
    x.checkpoints.map((c) => `${fmt(c.rows)}: ${c.rssMb.toFixed(1)}`).join(", "),
    fmt(x.deepPageMs, 1),
  ]);
  return `## Disconnect export

\`scripts/bench/export.ts\`, in the benchmark's own process: a fresh database seeded with ${fmt(e.runs[0].rows)} ended sessions
over 10,000 devices (one INSERT … SELECT generate_series; one id in a thousand formula-like), then the whole CSV read
through the code that serves \`GET /api/disconnects.csv\` (\`openDisconnectsCsv\`: keyset pages of 5,000 rows, encoded
as they are pulled). Time to the first chunk and to the last; the process RSS sampled every 50 ms (peak) and read when
the export passes 25 %, 50 % and 100 % of its rows, which shows whether memory grows with the rows. Also one 100-row
page of the JSON list 90 % deep into the history, by cursor (median of 5).

${mdTable(["round", "rows", "seed (s)", "export (s)", "rows/s", "CSV", "first byte (ms)", "peak RSS (MB)", "RSS growth (MB)", "RSS at rows (MB)", "deep page (ms)"], runs)}
`;
}

function activitySection(a: ActivitySummary): string {
  const runs = a.runs.map((x, i) => [
    String(i + 1),
    fmt(x.rows),
    x.writeSeconds.toFixed(2),
    fmt(x.rowsPerSecond),
    `${x.rawBytesPerRow.toFixed(1)} / ${x.rollupBytesPerRow.toFixed(1)} / ${x.packedBytesPerRow.toFixed(1)}`,
    `${gib(x.rawBytesPerDay)} / ${gib(x.rollupBytesPerDay)} / ${gib(x.packedBytesPerDay)}`,
    `${fmt(x.packedRows)} in ${x.packSeconds.toFixed(2)} s`,
    gib(diskAtDefaults(x)),
    fmt(x.droppedPoints),
  ]);
  return `## Activity recording

\`scripts/bench/activity.ts\`, in the benchmark's own process: the real \`ActivityRecorder\` (wired as the runtime wires
it: batches straight on the pg pool) on a fresh database, fed one hour of PINGREQs of 10,000 devices that ping every
30 s (1,200,000 points, arriving in 10 s slices on a simulated clock, each slice flushed), so the write rate is the
recorder's and Postgres' capacity, next to the ${fmt(a.fleetRowsPerSecond)} rows/s this fleet produces. Then the day's
minute roll-ups are packed into one row per device-hour (\`packMinutes\`, what maintenance does once a day is over)
and timed. Disk per day is extrapolated from \`pg_total_relation_size\` (heap + primary key) per row of the day's
partitions: 28.8 million raw rows, 14.4 million minute roll-ups and 240,000 packed device-hours a day for this fleet.
Disk at the defaults counts, at the most, two days of raw rows, two of minutes (today's, and yesterday's until it is
packed) and 31 of packed hours.

${mdTable(["round", "raw rows", "write (s)", "rows/s", "bytes per row, raw / minute / device-hour", "GiB per day, raw / minutes / packed", "packed device-hours", "GiB at the defaults", "points dropped"], runs)}
`;
}

export function markdown(r: Results): string {
  const f = r.facts;
  const body = rows(r).map((x) => [x.figure, x.value, x.target, x.met]);
  const sections = [
    `# Benchmarks

Written by \`npm run bench\` (\`scripts/bench.ts\`); do not edit by hand. Run it on an otherwise idle machine: the
figures are medians of several rounds, and the ingest comparison is a ratio measured in the same run, but a shared
machine still moves them.

Run ${f.date}, ${fmt(r.seconds)} s in all.

| machine | |
|---|---|
| nproc | ${f.nproc} |
| CPU | ${f.cpuModel} |
| memory | ${f.memoryGb} GiB |
| Node | ${f.node} |
| keepwatch's V8 options (scripts/node-options.mjs, as \`npm start\` runs it) | ${SERVER_NODE_FLAGS.join(" ")} |
| kernel | ${f.kernel} |
| broker | ${f.mosquitto} |
| database | ${f.postgres} (local) |
| load average at start (1 / 5 / 15 min) | ${f.loadAverage} |

## Results

${mdTable(["figure", "median", "target", "met"], body)}
${r.problems.length ? `\n**Problems in this run:**\n\n${r.problems.map((p) => `- ${p}`).join("\n")}\n` : ""}`,
  ];
  if (r.ingest) sections.push(ingestSection(r.ingest));
  if (r.memory) sections.push(memorySection(r.memory));
  if (r.detection) sections.push(detectionSection(r.detection, r.detectionLarge));
  if (r.export) sections.push(exportSection(r.export));
  if (r.activity) sections.push(activitySection(r.activity));
  if (r.restore) sections.push(restoreSection(r.restore));
  if (r.page) sections.push(pageSection(r.page));
  if (r.failover) sections.push(failoverSection(r.failover));
  return sections.join("\n");
}
