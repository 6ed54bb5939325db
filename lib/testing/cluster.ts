/**
 * Test harness for several keepwatch processes on one database and broker:
 * each runs lib/testing/keepwatch-process.ts (the real Runtime with the
 * server's signal handling) and answers on a control port.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { HealthDto } from "../api/dto";
import type { AlertFeedMessage } from "../alerts/dto";
import type { AlertRuleInput } from "../alerts/rules";
import { eventually, exited } from "./clients";
import { freePort } from "./mosquitto";
import { SERVER_NODE_FLAGS } from "../../scripts/node-options.mjs";

export interface KeepwatchProcess {
  id: string;
  port: number;
  proc: ChildProcess;
  /** The last 50 kB of its output. */
  readonly out: string;
  health(): Promise<HealthDto>;
  /** Every device's status in its fleet. */
  statuses(): Promise<Record<string, string>>;
  /** Its alert feed (the stream's `alerts` event). */
  alerts(): Promise<AlertFeedMessage>;
  /** Saves a rule through this instance (written to the database; every instance reloads); the HTTP status. */
  addRule(rule: AlertRuleInput): Promise<number>;
  /** Acknowledges an alert through this instance, as the API does. */
  ack(alertId: string, by: string): Promise<void>;
  /** Sends the signal; resolves once the process has exited (SIGSTOP/SIGCONT: at once). */
  signal(signal: NodeJS.Signals): Promise<void>;
}

export async function startKeepwatchProcess(id: string, env: Record<string, string>): Promise<KeepwatchProcess> {
  const port = await freePort();
  const proc = spawn(process.execPath, [...SERVER_NODE_FLAGS, "--import", "tsx", "lib/testing/keepwatch-process.ts"], {
    env: { ...process.env, KEEPWATCH_INSTANCE_ID: id, PORT: String(port), CONTROL_PORT: String(port), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-50_000));
  proc.stdout!.on("data", keep);
  proc.stderr!.on("data", keep);
  const get = async <T>(path: string): Promise<T> =>
    (await (await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2_000) })).json()) as T;
  const p: KeepwatchProcess = {
    id,
    port,
    proc,
    get out() {
      return out;
    },
    health: () => get<HealthDto>("/health"),
    statuses: () => get<Record<string, string>>("/devices"),
    alerts: () => get<AlertFeedMessage>("/alerts"),
    async addRule(rule) {
      const res = await fetch(`http://127.0.0.1:${port}/rules`, { method: "POST", body: JSON.stringify(rule) });
      return res.status;
    },
    async ack(alertId, by) {
      const url = `http://127.0.0.1:${port}/ack?id=${encodeURIComponent(alertId)}&by=${encodeURIComponent(by)}`;
      const res = await fetch(url, { method: "POST", signal: AbortSignal.timeout(5_000) });
      if (!res.ok) throw new Error(`ack on ${id}: HTTP ${res.status}`);
    },
    async signal(signal) {
      proc.kill(signal);
      if (signal !== "SIGSTOP" && signal !== "SIGCONT") await exited(proc);
    },
  };
  await eventually(() => out.includes("control ready") || proc.exitCode !== null, 60_000, `instance ${id} ready`);
  if (proc.exitCode !== null) throw new Error(`instance ${id} exited during start-up:\n${out}`);
  return p;
}

/** A rule for the devices `match` names: offline after 1 s, resolved after 1 s, notified on `channelIds`. */
export function offlineAfterOneSecond(name: string, match: string, channelIds: number[]): AlertRuleInput {
  return {
    name,
    match,
    offlineFactor: null,
    offlineSeconds: 1,
    lateFactor: null,
    flapDisconnects: 50,
    flapWindowSeconds: 60,
    nearMissRatio: null,
    resolveAfterSeconds: 1,
    repeatIntervalSeconds: null,
    channelIds,
    tags: [],
    enabled: true,
  };
}
