/**
 * Child of the restore scenario: a real Runtime (lib/runtime.ts) on a seeded
 * Postgres and a real Mosquitto, started as `instrumentation.ts` starts it.
 * Reports how long start() took (migrations checked, the fleet restored page
 * by page, writers and leadership started) and until the restored states
 * were written back, the process's peak resident memory (VmHWM) over both,
 * and the fleet it holds.
 */
import { readFileSync } from "node:fs";
import { loadConfig } from "../../lib/config";
import { Runtime } from "../../lib/runtime";
import { freePort } from "../../lib/testing/mosquitto";
import { childMain, exitOnStop, send } from "./common";

export interface RestorePlan {
  databaseUrl: string;
  mqttUrl: string;
}

export interface RestoreResult {
  type: "result";
  seconds: number;
  /** Until the restored states were written back too (the writer idle). */
  settledSeconds: number;
  devices: number;
  peakRssMb: number;
  rssMb: number;
}

const kbOf = (field: string) =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? NaN);

childMain(async () => {
  const plan = JSON.parse(process.argv[2]) as RestorePlan;
  const runtime = new Runtime(
    loadConfig({ DATABASE_URL: plan.databaseUrl, MQTT_URL: plan.mqttUrl, PORT: String(await freePort()) }),
  );
  exitOnStop(() => runtime.stop());
  const started = performance.now();
  await runtime.start();
  const seconds = (performance.now() - started) / 1000;
  while ((runtime.writer?.health().pendingWrites ?? 0) > 0) await new Promise((r) => setTimeout(r, 100));
  const settledSeconds = (performance.now() - started) / 1000;
  await send<RestoreResult>({
    type: "result",
    seconds,
    settledSeconds,
    devices: runtime.fleet.size,
    peakRssMb: kbOf("VmHWM") / 1024,
    rssMb: kbOf("VmRSS") / 1024,
  });
});
