/**
 * A simulated fleet against any MQTT broker (see lib/sim/profiles.ts for the
 * device behaviours):
 *   npm run simulate -- --url mqtt://127.0.0.1:1883 --devices 200 --profile mix
 * Runs until Ctrl-C (or --duration), then prints what the devices did.
 */
import { formatSummary, parseSimulateArgs, UsageError, USAGE } from "../lib/sim/cli";
import { planFleet } from "../lib/sim/fleet";
import { Simulation } from "../lib/sim/runner";

async function main(): Promise<void> {
  let args;
  try {
    args = parseSimulateArgs(process.argv.slice(2), process.env);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`simulate: ${e.message}\n\n${USAGE}`);
      process.exit(2);
    }
    throw e;
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  if (args.outageSeconds !== null) {
    console.error("simulate: --outage needs keepwatch's own broker: use npm run demo -- --outage <seconds>");
    process.exit(2);
  }
  const plans = planFleet({ devices: args.devices, profile: args.profile, seed: args.seed, prefix: args.prefix });
  const sim = new Simulation({
    url: args.url,
    plans,
    username: args.username ?? undefined,
    password: args.password ?? undefined,
  });
  const started = Date.now();
  sim.start();
  const connections = plans.reduce((n, d) => n + d.connections.length, 0);
  console.log(
    `simulate: ${plans.length} devices (${connections} connections, profile ${args.profile}, seed ${args.seed}) → ${args.url}; Ctrl-C to stop`,
  );
  const progress = setInterval(() => {
    const t = sim.total();
    console.log(
      `simulate: ${sim.connected} connected; ${t.connects} connects, ${t.closedByBroker} closed by the broker, ${t.failedConnects} failed`,
    );
  }, 15_000);

  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
    if (args.durationSeconds !== null) setTimeout(resolve, args.durationSeconds * 1000);
  });
  clearInterval(progress);
  await sim.stop();
  console.log(formatSummary(sim.stats(), sim.total(), (Date.now() - started) / 1000));
  if (sim.total().connects === 0) {
    console.error(`simulate: no device could connect to ${args.url}: is a broker listening there?`);
    process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  console.error(`simulate: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
