/**
 * Performance figures for keepwatch: `npm run bench`.
 *
 *   ingest     keepwatch end to end into Postgres vs a bare MQTT.js subscriber, same load, same run
 *   memory     resident memory growth per 100,000 known devices (100k stages, and 0 → 1M)
 *   detection  silence-verdict lateness at 100k and at 1M devices, and the cost of a deadline tick
 *   export     the disconnect CSV export over 1,000,000 sessions: time, rows/s, RSS as rows grow
 *   activity   activity recording for 10,000 devices pinging every 30 s: rows/s, disk per day
 *   restore    start-up with 100k and 1M devices on Postgres: seconds, peak RSS
 *   page       the fleet page in Chromium at 100k and 1M devices: first rows, search, filter, sort, snapshot size
 *   failover   a leader and a standby: kill -9 and SIGTERM of the leader, time to a new leader, what the switch did
 *
 * Prints a table and writes docs/BENCHMARKS.md (machine facts, figures, targets, method, raw rounds)
 * when every scenario ran. Options: --rounds N (every scenario), --only ingest,memory,detection,export,activity,restore,page,failover,
 * --no-write.
 * Needs what the integration tests need: Mosquitto and a local Postgres (role kw).
 * Exits non-zero when a scenario fails or a measurement is invalid (lost messages, missed verdicts).
 * No timing assertion lives in any test: these figures are only measured and reported here.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { runIngest, DEFAULT_INGEST, type IngestSummary } from "./bench/ingest";
import { runMemory, runMemoryLarge, DEFAULT_MEMORY, type MemorySummary } from "./bench/memory";
import { runDetection, DEFAULT_DETECTION, type DetectionSummary } from "./bench/detection";
import { benchExport, type ExportBenchResult } from "./bench/export";
import { benchActivity, type ActivityBenchResult } from "./bench/activity";
import { machineFacts, markdown, stdoutTable, summarizeActivity, summarizeExport, type Results } from "./bench/report";
import { releaseAll } from "./bench/common";
import { runRestore, DEFAULT_RESTORE, type RestoreSummary } from "./bench/restore";
import { runPage, DEFAULT_PAGE, type PageSummary } from "./bench/page";
import { runFailover, DEFAULT_FAILOVER, type FailoverSummary } from "./bench/failover";

const SCENARIOS = ["ingest", "memory", "detection", "export", "activity", "restore", "page", "failover"] as const;
type Scenario = (typeof SCENARIOS)[number];
/** export and activity seed or write millions of rows per round: one round unless asked for more. */
const DEFAULT_ROUNDS: Record<Scenario, number> = {
  ingest: 4,
  memory: 3,
  detection: 3,
  export: 1,
  activity: 1,
  restore: 1,
  page: 3,
  failover: 3,
};
/** The fleet size of the large stages. */
const LARGE_FLEET = 1_000_000;
/**
 * Silence at 1M with the 100k stage's rates per second (15,000 connects, then
 * as many verdicts of each kind, a second): keepalive and window ten times
 * longer. See largeDetection() in bench/report.ts.
 */
const LARGE_DETECTION = { devices: LARGE_FLEET, keepaliveSeconds: 60, windowMs: 60_000, pingEveryMs: 30_000 };
const OUTPUT = new URL("../docs/BENCHMARKS.md", import.meta.url);

const log = (msg: string) => console.log(`bench: ${msg}`);
const fmtInt = (n: number) => n.toLocaleString("en");

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string" },
      only: { type: "string" },
      "no-write": { type: "boolean", default: false },
    },
  });
  const only = values.only ? values.only.split(",").map((s) => s.trim()) : [...SCENARIOS];
  for (const s of only) if (!SCENARIOS.includes(s as Scenario)) throw new Error(`unknown scenario ${s}`);
  const rounds = (s: Scenario) => (values.rounds ? Math.max(1, Number(values.rounds)) : DEFAULT_ROUNDS[s]);
  const wanted = (s: Scenario) => only.includes(s);

  const started = Date.now();
  const facts = await machineFacts();
  log(`${facts.nproc} CPUs (${facts.cpuModel}), Node ${facts.node}, ${facts.mosquitto}, ${facts.postgres}`);
  log(`load average at start ${facts.loadAverage}`);

  let ingest: IngestSummary | undefined;
  let memory: MemorySummary | undefined;
  let detection: DetectionSummary | undefined;
  if (wanted("ingest")) ingest = await runIngest({ ...DEFAULT_INGEST, rounds: rounds("ingest"), log });
  if (wanted("memory")) memory = await runMemory({ ...DEFAULT_MEMORY, rounds: rounds("memory"), log });
  if (wanted("detection")) detection = await runDetection({ ...DEFAULT_DETECTION, rounds: rounds("detection"), log });
  // The 1M stages: one round each (a round seeds and writes a million devices).
  let memoryLarge: Results["memoryLarge"];
  let detectionLarge: DetectionSummary | undefined;
  if (wanted("memory"))
    // Warm-up devices count toward MAX_DEVICES (1M by default): the fleet ends at exactly LARGE_FLEET.
    memoryLarge = await runMemoryLarge({
      ...DEFAULT_MEMORY,
      devices: LARGE_FLEET - DEFAULT_MEMORY.warmup,
      rounds: 1,
      log,
    });
  if (wanted("detection"))
    detectionLarge = await runDetection({ ...DEFAULT_DETECTION, ...LARGE_DETECTION, rounds: 1, log });
  let exportRuns: ExportBenchResult[] | undefined;
  if (wanted("export")) {
    exportRuns = [];
    for (let round = 1; round <= rounds("export"); round++) {
      const r = await benchExport({ log: (line) => log(`export round ${round}: ${line}`) });
      log(
        `export round ${round}: ${fmtInt(r.rows)} rows in ${r.seconds} s (${fmtInt(r.rowsPerSecond)} rows/s), peak RSS ${r.peakRssMb} MB`,
      );
      exportRuns.push(r);
    }
  }
  let activityRuns: ActivityBenchResult[] | undefined;
  if (wanted("activity")) {
    activityRuns = [];
    for (let round = 1; round <= rounds("activity"); round++) {
      const r = await benchActivity({ log: (line) => log(`activity round ${round}: ${line}`) });
      log(`activity round ${round}: ${fmtInt(r.rows)} rows at ${fmtInt(r.rowsPerSecond)} rows/s`);
      activityRuns.push(r);
    }
  }

  let restore: RestoreSummary | undefined;
  if (wanted("restore")) restore = await runRestore({ ...DEFAULT_RESTORE, rounds: rounds("restore"), log });
  let page: PageSummary | undefined;
  if (wanted("page")) page = await runPage({ ...DEFAULT_PAGE, rounds: rounds("page"), log });
  let failover: FailoverSummary | undefined;
  if (wanted("failover")) failover = await runFailover({ ...DEFAULT_FAILOVER, rounds: rounds("failover"), log });

  // Conditions under which a figure means nothing: reported, and the run fails.
  const problems: string[] = [];
  if (ingest && ingest.losses > 0) problems.push(`ingest: ${ingest.losses} messages lost (the comparison is not fair)`);
  if (ingest && !ingest.durableOk) problems.push("ingest: Postgres does not hold every device and session of the load");
  if (detection && detection.missed > 0) problems.push(`detection: ${detection.missed} silence verdicts never came`);
  if (detectionLarge && detectionLarge.missed > 0)
    problems.push(`detection at 1M: ${detectionLarge.missed} silence verdicts never came`);
  if (droppedActivity(activityRuns))
    problems.push("activity: the recorder dropped points (the write rate is not the recorder's)");
  if (detection && detection.falseVerdicts > 0)
    problems.push(`detection: ${detection.falseVerdicts} verdicts hit devices that kept pinging`);

  const results: Results = {
    facts,
    ingest,
    memory,
    memoryLarge,
    detection,
    detectionLarge,
    export: exportRuns && summarizeExport(exportRuns),
    activity: activityRuns && summarizeActivity(activityRuns),
    restore,
    page,
    failover,
    seconds: (Date.now() - started) / 1000,
    problems,
  };
  console.log(`\n${stdoutTable(results)}\n`);
  for (const p of problems) console.error(`bench: PROBLEM: ${p}`);
  // Every scenario ran: the file is complete (each scenario's table shows how many rounds it had).
  const complete = SCENARIOS.every(wanted);
  if (!values["no-write"] && complete) {
    writeFileSync(OUTPUT, markdown(results));
    log(`wrote docs/BENCHMARKS.md (${results.seconds.toFixed(0)} s)`);
  } else if (!values["no-write"]) {
    log("partial run (--only): docs/BENCHMARKS.md left as it was");
  }
  return problems.length ? 1 : 0;
}

const droppedActivity = (runs: { droppedPoints: number }[] | undefined): boolean =>
  runs !== undefined && runs.some((r) => r.droppedPoints > 0);

let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`bench: ${signal}: cleaning up`);
    void releaseAll().finally(() => process.exit(130));
  });
}

main().then(
  async (code) => {
    await releaseAll();
    process.exit(code);
  },
  async (err: unknown) => {
    console.error(`bench: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await releaseAll();
    process.exit(1);
  },
);
