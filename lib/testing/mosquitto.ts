/**
 * Test harness: a real Mosquitto on a free loopback port with `log_dest topic`,
 * started and stopped by tests (broker outages are part of what we test).
 * Used by integration tests, end-to-end tests and the benchmark.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once("connect", () => (s.destroy(), resolve(true)));
      s.once("error", () => (s.destroy(), resolve(false)));
      s.connect(port, "127.0.0.1");
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface TestBroker {
  port: number;
  url: string;
  configPath: string;
  /** (Re)starts the broker on the same port. */
  /** With `debugLog`: the file the broker's full log (`log_type all`) is appended to, for MOSQUITTO_LOG_FILE. */
  debugLogFile?: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops the broker and removes its directory (config and debug log). */
  dispose(): Promise<void>;
  readonly running: boolean;
}

export async function startMosquitto(
  opts: {
    port?: number;
    extraConfig?: string[];
    /**
     * The broker's full debug log, as an operator sets it up for MOSQUITTO_LOG_FILE: `log_dest stderr` and
     * `log_type all`, stderr appended to `debugLogFile` in the broker's directory (unbuffered, unlike `log_dest file`).
     */
    debugLog?: boolean;
  } = {},
): Promise<TestBroker> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "kw-mosq-"));
  const configPath = join(dir, "mosquitto.conf");
  const debugLogFile = opts.debugLog ? join(dir, "debug.log") : undefined;
  if (debugLogFile) writeFileSync(debugLogFile, "");
  writeFileSync(
    configPath,
    [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      "persistence false",
      // keepwatch learns about clients from the broker's log, published on $SYS/broker/log/#
      "log_dest topic",
      "log_type error",
      "log_type warning",
      "log_type notice",
      "log_type information",
      "sys_interval 1",
      ...(debugLogFile ? ["log_dest stderr", "log_type all"] : []),
      ...(opts.extraConfig ?? []),
      "",
    ].join("\n"),
  );
  let proc: ChildProcess | null = null;
  const broker: TestBroker = {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    configPath,
    debugLogFile,
    get running() {
      return proc !== null;
    },
    async start() {
      if (proc) return;
      const fd = debugLogFile ? openSync(debugLogFile, "a") : null;
      const child = spawn("mosquitto", ["-c", configPath], { stdio: ["ignore", "ignore", fd ?? "pipe"] });
      if (fd !== null) closeSync(fd); // the child holds its own copy
      let stderr = "";
      child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      child.once("exit", () => {
        if (proc === child) proc = null;
      });
      proc = child;
      try {
        await waitForPort(port);
      } catch (err) {
        child.kill("SIGKILL");
        throw new Error(`mosquitto did not start: ${(err as Error).message}\n${stderr}`);
      }
    },
    async stop() {
      const child = proc;
      if (!child) return;
      proc = null;
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 3000).unref();
      });
    },
    async dispose() {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await broker.start();
  return broker;
}
