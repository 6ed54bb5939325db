/**
 * Test harness: the real keepwatch server (`next start`, web + monitor in one
 * process) on a free port, with its own broker and database. Requires a
 * production build (`next build`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { CONTRACT_LOG_ENV } from "../api/contract-log";
import { contractLogDir } from "./contract";
import { freePort } from "./mosquitto";
import { serverNodeOptions } from "../../scripts/node-options.mjs";

export interface TestApp {
  port: number;
  baseURL: string;
  start(): Promise<void>;
  /** SIGTERM (graceful) or SIGKILL (crash). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  output(): string;
}

export async function startApp(env: Record<string, string>): Promise<TestApp> {
  const port = await freePort();
  const baseURL = `http://127.0.0.1:${port}`;
  let proc: ChildProcess | null = null;
  let out = "";
  const app: TestApp = {
    port,
    baseURL,
    output: () => out,
    async start() {
      if (proc) return;
      const child = spawn("node_modules/.bin/next", ["start", "-p", String(port), "-H", "127.0.0.1"], {
        env: {
          ...process.env,
          // Every answer is recorded for the contract check (scripts/contract-check.ts).
          [CONTRACT_LOG_ENV]: contractLogDir(),
          ...env,
          PORT: String(port),
          NODE_ENV: "production",
          // As `npm start` runs it.
          NODE_OPTIONS: serverNodeOptions(env.NODE_OPTIONS ?? process.env.NODE_OPTIONS),
        },
        stdio: ["ignore", "pipe", "pipe"],
        detached: false,
      });
      const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
      child.stdout?.on("data", keep);
      child.stderr?.on("data", keep);
      child.once("exit", () => {
        if (proc === child) proc = null;
      });
      proc = child;
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (!proc) throw new Error(`keepwatch exited during start-up:\n${out}`);
        try {
          const res = await fetch(`${baseURL}/api/health`);
          if (res.status === 200) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`keepwatch did not become ready in 60 s:\n${out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      const child = proc;
      if (!child) return;
      proc = null;
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill(signal);
        setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
      });
    },
  };
  await app.start();
  return app;
}
