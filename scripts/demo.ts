/**
 * `npm run demo`: keepwatch on embedded defaults (PGlite under ./data, its
 * own MQTT broker on MQTT_PORT) with a simulated fleet connected to it.
 *   npm run demo                       200 devices, seed 1
 *   npm run demo -- --devices 1000 --seed 7
 *   npm run demo -- --outage 90        the broker drops every connection once, 90 s after start
 * Builds the app if needed, starts the real server (`next start`), waits
 * until it answers, starts the simulator, prints where to look. Ctrl-C stops
 * both; the history stays in ./data for the next run.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import path from "node:path";
import { formatSummary, parseSimulateArgs, UsageError, USAGE } from "../lib/sim/cli";
import { planFleet } from "../lib/sim/fleet";
import { Simulation } from "../lib/sim/runner";
import { serverNodeOptions } from "./node-options.mjs";

const say = (msg: string) => console.log(`[demo] ${msg}`);

function fail(msg: string): never {
  console.error(`[demo] ${msg}`);
  process.exit(1);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ port, host: "::", ipv6Only: false }, () => srv.close(() => resolve(true)));
  });
}

function portOf(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) fail(`${name} must be a port number from 1 to 65535, got ${raw}`);
  return n;
}

async function waitForHealth(baseUrl: string, server: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null) fail("keepwatch exited during start-up (see above)");
    try {
      const res = await fetch(`${baseUrl}/api/health`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) fail(`keepwatch did not answer on ${baseUrl} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  let args;
  try {
    args = parseSimulateArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) fail(`${e.message}\n\n${USAGE.replace("npm run simulate", "npm run demo")}`);
    throw e;
  }
  if (args.help) {
    console.log(USAGE.replace("npm run simulate", "npm run demo"));
    return;
  }
  if (process.argv.some((a) => a.startsWith("--url"))) {
    fail("the demo runs its own broker; to simulate devices against another one use npm run simulate -- --url …");
  }

  const port = portOf("PORT", 3000);
  const mqttPort = portOf("MQTT_PORT", 1883);
  const dataDir = process.env.KEEPWATCH_DATA_DIR || "./data";
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    MQTT_PORT: String(mqttPort),
    NODE_ENV: "production",
  };
  // An admin to sign in with, unless one was given: a fresh password each run (it is reset at start).
  const adminUser = env.KEEPWATCH_ADMIN_USER || "admin";
  const adminPassword = env.KEEPWATCH_ADMIN_PASSWORD || randomBytes(12).toString("base64url");
  env.KEEPWATCH_ADMIN_USER = adminUser;
  env.KEEPWATCH_ADMIN_PASSWORD = adminPassword;
  if (args.outageSeconds !== null) env.DEMO_BROKER_OUTAGE_SECONDS = String(args.outageSeconds);
  for (const name of ["DATABASE_URL", "MQTT_URL"] as const) {
    if (env[name]) say(`ignoring ${name}: the demo runs on the embedded database and broker`);
    delete env[name];
  }
  if (!(await portFree(mqttPort))) {
    fail(
      `MQTT_PORT ${mqttPort} is in use (another MQTT broker?). Stop it, or run the demo on another port: ` +
        `MQTT_PORT=${mqttPort === 1883 ? 1884 : mqttPort + 1} npm run demo`,
    );
  }
  if (!(await portFree(port)))
    fail(`PORT ${port} is in use. Run the demo on another one: PORT=${port + 1} npm run demo`);

  const build = spawnSync(process.execPath, ["scripts/build-if-stale.mjs"], { stdio: "inherit", env });
  if (build.status !== 0) fail("the build failed (see above)");

  const server = spawn(path.join("node_modules", ".bin", "next"), ["start", "-p", String(port)], {
    env: { ...env, NODE_OPTIONS: serverNodeOptions(env.NODE_OPTIONS) },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHealth(baseUrl, server, 90_000);

  const plans = planFleet({ devices: args.devices, profile: args.profile, seed: args.seed, prefix: args.prefix });
  const sim = new Simulation({ url: `mqtt://127.0.0.1:${mqttPort}`, plans });
  sim.start();
  const readyIn = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    [
      "",
      `keepwatch demo is running (ready in ${readyIn} s)`,
      `  open        http://localhost:${port}`,
      `  sign in     ${adminUser} / ${adminPassword}`,
      `  broker      mqtt://localhost:${mqttPort} (embedded), ${plans.length} simulated devices, profile ${args.profile}, seed ${args.seed}`,
      `  database    ${path.resolve(dataDir)} (embedded PGlite)`,
      `  try         mosquitto_sub -h 127.0.0.1 -p ${mqttPort} -i probe-1 -k 5 -t x   (then kill -9 it)`,
      "Ctrl-C stops the demo; start it again and the history is still there.",
      "",
    ].join("\n"),
  );

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say("stopping keepwatch and the simulated fleet…");
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));
      server.kill("SIGINT");
      const killer = setTimeout(() => server.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(killer);
    }
    await sim.stop();
    console.log(formatSummary(sim.stats(), sim.total(), (Date.now() - started) / 1000));
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  server.once("exit", (code, signal) => {
    if (!stopping) {
      console.error(`[demo] keepwatch exited (${signal ?? `code ${code}`})`);
      void stop(1);
    }
  });
}

main().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
