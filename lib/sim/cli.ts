/**
 * Command-line options of `npm run simulate` and the summary it prints. Pure:
 * scripts/simulate.ts does the I/O.
 */
import { PROFILES, type ProfileName } from "./profiles";
import type { ProfileStats } from "./runner";
import type { ProfileChoice } from "./fleet";

export interface SimulateArgs {
  url: string;
  devices: number;
  profile: ProfileChoice;
  seed: number;
  prefix: string;
  /** Stop by itself after this many seconds (default: run until Ctrl-C). */
  durationSeconds: number | null;
  /** `npm run demo` only: the embedded broker drops every connection once, this many seconds after start. */
  outageSeconds: number | null;
  username: string | null;
  password: string | null;
  help: boolean;
}

export class UsageError extends Error {}

export const MAX_DEVICES = 100_000;

export const USAGE = `Usage: npm run simulate -- [options]

Runs a simulated fleet of MQTT devices against a broker: every device is a
real MQTT connection. Runs until Ctrl-C, then prints a summary.

  --url <mqtt://host:port>   broker (default mqtt://127.0.0.1:1883)
  --devices <n>              number of devices (default 200, at most ${MAX_DEVICES})
  --profile <name>           mix (default) or one of: ${PROFILES.join(", ")}
  --seed <n>                 the same seed gives the same fleet and schedules (default 1)
  --prefix <text>            device ids are <prefix>-<profile>-<n> (default sim)
  --duration <seconds>       stop by itself after this long
  --outage <seconds>         npm run demo only: this long after start the embedded broker cuts every
                             connection and refuses new ones for 90 s (the alerts page shows an incident)
  --username <u>, --password <p>
                             credentials for the broker (default: MQTT_USERNAME, MQTT_PASSWORD)
  --help                     this text`;

const FLAGS = new Set([
  "url",
  "devices",
  "profile",
  "seed",
  "prefix",
  "duration",
  "outage",
  "username",
  "password",
  "help",
]);

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

export function parseSimulateArgs(argv: readonly string[], env: Record<string, string | undefined> = {}): SimulateArgs {
  const values = new Map<string, string>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--"))
      throw new UsageError(`unexpected argument ${JSON.stringify(arg)} (options start with --)`);
    const eq = arg.indexOf("=");
    const flag = arg.slice(2, eq < 0 ? undefined : eq);
    if (!FLAGS.has(flag)) throw new UsageError(`unknown option --${flag}`);
    if (flag === "help") {
      help = true;
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith("--"))) throw new UsageError(`--${flag} needs a value`);
    if (values.has(flag)) throw new UsageError(`--${flag} given twice`);
    values.set(flag, value);
  }

  const url = values.get("url") ?? "mqtt://127.0.0.1:1883";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url must be a URL like mqtt://127.0.0.1:1883, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== "mqtt:" && parsed.protocol !== "tcp:") {
    throw new UsageError(`--url must be an mqtt:// URL (plain MQTT over TCP), got ${parsed.protocol}//`);
  }
  if (parsed.port === "0" || parsed.hostname === "") {
    throw new UsageError(`--url needs a host and a port from 1 to 65535, got ${JSON.stringify(url)}`);
  }

  const profile = values.get("profile") ?? "mix";
  if (profile !== "mix" && !(PROFILES as readonly string[]).includes(profile)) {
    throw new UsageError(`--profile must be mix or one of ${PROFILES.join(", ")}; got ${JSON.stringify(profile)}`);
  }
  const prefix = values.get("prefix") ?? "sim";
  if (!/^[A-Za-z0-9_.-]{1,40}$/.test(prefix)) {
    throw new UsageError(`--prefix must be 1-40 letters, digits, '_', '.' or '-'; got ${JSON.stringify(prefix)}`);
  }
  return {
    url,
    devices: values.has("devices") ? wholeNumber("devices", values.get("devices")!, 1, MAX_DEVICES) : 200,
    profile: profile as ProfileChoice,
    seed: values.has("seed") ? wholeNumber("seed", values.get("seed")!, 0, 2 ** 32 - 1) : 1,
    prefix,
    durationSeconds: values.has("duration") ? wholeNumber("duration", values.get("duration")!, 1, 31_536_000) : null,
    outageSeconds: values.has("outage") ? wholeNumber("outage", values.get("outage")!, 1, 86_400) : null,
    username: values.get("username") ?? env.MQTT_USERNAME ?? null,
    password: values.get("password") ?? env.MQTT_PASSWORD ?? null,
    help,
  };
}

/** A fixed-width table, one line per profile that has devices, and a total. */
export function formatSummary(
  stats: Record<ProfileName, ProfileStats>,
  total: ProfileStats,
  elapsedSeconds: number,
): string {
  const cols: Array<[string, keyof ProfileStats]> = [
    ["devices", "devices"],
    ["connects", "connects"],
    ["failed", "failedConnects"],
    ["broker closed", "closedByBroker"],
    ["drops", "drops"],
    ["disconnects", "disconnects"],
    ["publishes", "publishes"],
    ["pings", "pings"],
  ];
  const rows: Array<[string, ProfileStats]> = PROFILES.filter((p) => stats[p].devices > 0).map((p) => [p, stats[p]]);
  rows.push(["total", total]);
  const header = ["profile".padEnd(10), ...cols.map(([h]) => h.padStart(14))].join("");
  const lines = rows.map(([name, s]) => [name.padEnd(10), ...cols.map(([, k]) => String(s[k]).padStart(14))].join(""));
  return [`simulated fleet, ${Math.round(elapsedSeconds)} s:`, header, ...lines].join("\n");
}
