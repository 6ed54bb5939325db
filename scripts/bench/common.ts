/**
 * Shared plumbing for the benchmark scenarios: child processes with an IPC
 * channel (each scenario measures in fresh processes), cleanup that runs on
 * failure too, and the statistics quoted in docs/BENCHMARKS.md.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

// ---------------------------------------------------------------- statistics

export function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** Percentile with linear interpolation between closest ranks (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = sorted(values);
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo] + (s[hi] - s[lo]) * (rank - lo);
}

/** Percentile of values already sorted ascending. */
export function percentileSorted(s: ArrayLike<number>, p: number): number {
  if (s.length === 0) return Number.NaN;
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo] + (s[hi] - s[lo]) * (rank - lo);
}

export const median = (values: readonly number[]): number => percentile(values, 50);

/** A number for people; NaN (sent as null over IPC) shows as n/a. */
export function fmt(n: number | null | undefined, digits = 0): string {
  if (typeof n !== "number" || !Number.isFinite(n)) return "n/a";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- cleanup

/** Cleanups registered as resources are acquired, run in reverse order whatever happened. */
export class Resources {
  private readonly cleanups: Array<{ what: string; fn: () => Promise<unknown> | unknown }> = [];

  defer(what: string, fn: () => Promise<unknown> | unknown): void {
    this.cleanups.push({ what, fn });
  }

  async release(): Promise<void> {
    while (this.cleanups.length > 0) {
      const { what, fn } = this.cleanups.pop()!;
      try {
        await fn();
      } catch (err) {
        console.error(`bench: cleanup of ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

const liveResources = new Set<Resources>();

/** Runs `fn` with a fresh Resources and always releases them. */
export async function using<T>(fn: (res: Resources) => Promise<T>): Promise<T> {
  const res = new Resources();
  liveResources.add(res);
  try {
    return await fn(res);
  } finally {
    await res.release();
    liveResources.delete(res);
  }
}

/** For an interrupted run: releases whatever is still held (brokers, databases, processes). */
export async function releaseAll(): Promise<void> {
  await Promise.all([...liveResources].map((r) => r.release()));
  killAllChildren();
}

// ---------------------------------------------------------------- child processes

/** Every child still alive, so that an interrupted run can kill them. */
const liveChildren = new Set<ChildProcess>();

export function killAllChildren(): void {
  for (const proc of liveChildren) proc.kill("SIGKILL");
  liveChildren.clear();
}

export interface ChildMessage {
  type: string;
}

/**
 * A TypeScript module run in its own Node process (through tsx's loader) with
 * an IPC channel. Its output is kept (last lines) to explain a failure.
 */
export class Child {
  readonly proc: ChildProcess;
  private readonly inbox: ChildMessage[] = [];
  private readonly waiters = new Set<() => void>();
  private output = "";
  private exitInfo: string | null = null;

  constructor(
    readonly name: string,
    script: string,
    args: string[] = [],
    nodeArgs: string[] = [],
  ) {
    const path = fileURLToPath(new URL(script, import.meta.url));
    this.proc = spawn(process.execPath, [...nodeArgs, "--import", "tsx", path, ...args], {
      cwd: PROJECT_ROOT,
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      env: { ...process.env, NODE_ENV: "production" },
    });
    liveChildren.add(this.proc);
    const keep = (d: Buffer) => (this.output = (this.output + d.toString()).slice(-6000));
    this.proc.stdout?.on("data", keep);
    this.proc.stderr?.on("data", keep);
    this.proc.on("message", (m: ChildMessage) => {
      this.inbox.push(m);
      this.wake();
    });
    this.proc.once("exit", (code, signal) => {
      liveChildren.delete(this.proc);
      this.exitInfo = signal ? `killed by ${signal}` : `exited with code ${code}`;
      this.wake();
    });
  }

  send(message: ChildMessage): void {
    if (this.proc.connected) this.proc.send(message);
  }

  /** The next message of `type`; an `error` message, an exit or the timeout reject. */
  async next<T extends ChildMessage>(type: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.type === type || m.type === "error");
      if (i >= 0) {
        const [m] = this.inbox.splice(i, 1);
        if (m.type === "error")
          throw new Error(`${this.name}: ${String((m as { message?: unknown }).message)}${this.tail()}`);
        return m as T;
      }
      if (this.exitInfo) throw new Error(`${this.name} ${this.exitInfo} before sending "${type}"${this.tail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no "${type}" within ${timeoutMs} ms${this.tail()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  /** Asks the child to stop, then kills it if it does not. */
  async close(graceMs = 5000): Promise<void> {
    if (this.exitInfo) return;
    const exited = new Promise<void>((resolve) => this.proc.once("exit", () => resolve()));
    this.send({ type: "stop" });
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }

  private tail(): string {
    const out = this.output.trim();
    return out ? `\n--- last output of ${this.name} ---\n${out.split("\n").slice(-30).join("\n")}` : "";
  }
}

/** Detection: how long the alert writes are waited for after the last verdict (the child waits, the parent allows it). */
export const ALERT_CATCH_UP_MS = 30_000;

// ---------------------------------------------------------------- child side

/**
 * For the child modules: reports a failure to the parent and exits non-zero;
 * exits when the parent goes away (no orphans).
 */
export function childMain(run: () => Promise<void>): void {
  process.on("disconnect", () => process.exit(2));
  run().catch((err: unknown) => {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    console.error(message);
    if (process.send) process.send({ type: "error", message }, () => process.exit(1));
    else process.exit(1);
  });
}

export function send<T extends ChildMessage>(message: T): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) return reject(new Error("not started with an IPC channel"));
    process.send(message, (err: Error | null) => (err ? reject(err) : resolve()));
  });
}

/** Resolves on the parent's next message of `type`. */
export function receive<T extends ChildMessage>(type: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (m: ChildMessage) => {
      if (m.type !== type) return;
      process.off("message", onMessage);
      resolve(m as T);
    };
    process.on("message", onMessage);
  });
}

/** Exits (after `cleanup`) when the parent says stop. */
export function exitOnStop(cleanup: () => Promise<void> = async () => {}): void {
  void receive("stop").then(async () => {
    try {
      await cleanup();
    } finally {
      process.exit(0);
    }
  });
}

/** Full garbage collection until the heap settles (needs --expose-gc). */
export async function settleGc(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --expose-gc");
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(50);
  }
}
