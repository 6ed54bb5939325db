import { describe, expect, it } from "vitest";
import { formatSummary, parseSimulateArgs, UsageError } from "./cli";
import { PROFILES } from "./profiles";
import type { ProfileStats } from "./runner";

describe("simulate options", () => {
  it("has defaults for everything", () => {
    expect(parseSimulateArgs([])).toEqual({
      url: "mqtt://127.0.0.1:1883",
      devices: 200,
      profile: "mix",
      seed: 1,
      prefix: "sim",
      durationSeconds: null,
      outageSeconds: null,
      username: null,
      password: null,
      help: false,
    });
  });

  it("reads --flag value and --flag=value, and credentials from the environment", () => {
    const args = parseSimulateArgs(
      [
        "--url",
        "mqtt://10.0.0.2:1884",
        "--devices=50",
        "--profile",
        "umqtt",
        "--seed",
        "7",
        "--prefix=lab",
        "--duration",
        "30",
      ],
      { MQTT_USERNAME: "dev", MQTT_PASSWORD: "pw" },
    );
    expect(args).toMatchObject({
      url: "mqtt://10.0.0.2:1884",
      devices: 50,
      profile: "umqtt",
      seed: 7,
      prefix: "lab",
      durationSeconds: 30,
      username: "dev",
      password: "pw",
    });
    expect(parseSimulateArgs(["--username", "x"], { MQTT_USERNAME: "dev" }).username).toBe("x");
    expect(parseSimulateArgs(["--help"]).help).toBe(true);
  });

  it("accepts every profile by name", () => {
    for (const p of PROFILES) expect(parseSimulateArgs(["--profile", p]).profile).toBe(p);
  });

  it.each([
    [["--devices", "0"], '--devices must be a whole number from 1 to 100000, got "0"'],
    [["--devices", "2.5"], '--devices must be a whole number from 1 to 100000, got "2.5"'],
    [["--devices", "100001"], '--devices must be a whole number from 1 to 100000, got "100001"'],
    [["--devices"], "--devices needs a value"],
    [["--devices", "--seed", "1"], "--devices needs a value"],
    [
      ["--profile", "chaos"],
      '--profile must be mix or one of healthy, telemetry, umqtt, late, sleepy, flapping, backoff, storm, duplicate; got "chaos"',
    ],
    [["--url", "localhost:1883"], "--url must be an mqtt:// URL (plain MQTT over TCP), got localhost://"],
    [["--url", "ws://127.0.0.1:8080"], "--url must be an mqtt:// URL (plain MQTT over TCP), got ws://"],
    [["--url", "not a url"], '--url must be a URL like mqtt://127.0.0.1:1883, got "not a url"'],
    [["--url", "mqtt://127.0.0.1:0"], '--url needs a host and a port from 1 to 65535, got "mqtt://127.0.0.1:0"'],
    [["--prefix", "a b"], `--prefix must be 1-40 letters, digits, '_', '.' or '-'; got "a b"`],
    [["--seed", "-1"], '--seed must be a whole number from 0 to 4294967295, got "-1"'],
    [["--bogus", "1"], "unknown option --bogus"],
    [["200"], 'unexpected argument "200" (options start with --)'],
    [["--seed", "1", "--seed", "2"], "--seed given twice"],
  ])("rejects %j: %s", (argv, message) => {
    expect(() => parseSimulateArgs(argv)).toThrow(UsageError);
    expect(() => parseSimulateArgs(argv)).toThrow(message);
  });
});

describe("summary", () => {
  it("lists the profiles that have devices and a total", () => {
    const zero: ProfileStats = {
      devices: 0,
      connects: 0,
      failedConnects: 0,
      closedByBroker: 0,
      drops: 0,
      disconnects: 0,
      publishes: 0,
      pings: 0,
    };
    const stats = Object.fromEntries(PROFILES.map((p) => [p, { ...zero }])) as Record<
      (typeof PROFILES)[number],
      ProfileStats
    >;
    stats.umqtt = { ...zero, devices: 2, connects: 6, closedByBroker: 4, publishes: 6 };
    const text = formatSummary(stats, { ...stats.umqtt }, 61.4);
    expect(text.split("\n")).toEqual([
      "simulated fleet, 61 s:",
      "profile          devices      connects        failed broker closed         drops   disconnects     publishes         pings",
      "umqtt                  2             6             0             4             0             0             6             0",
      "total                  2             6             0             4             0             0             6             0",
    ]);
  });
});
