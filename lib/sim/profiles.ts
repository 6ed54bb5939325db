/**
 * Simulated device behaviour, modelled on how real MQTT clients behave, as
 * pure schedule generators: a connection's plan (plain data, from a seeded
 * PRNG) → the sessions it goes through, each a reconnect delay and the
 * timed actions of that session. No I/O and no clock: runner.ts plays them
 * over real MQTT connections.
 *
 * | profile    | client   | behaviour                                                                 |
 * |------------|----------|---------------------------------------------------------------------------|
 * | healthy    | MQTT.js  | keepalive 30–60 s, MQTT.js pings by itself, never drops                   |
 * | telemetry  | MQTT.js  | keepalive 60, publishes devices/{id}/telemetry every 5–15 s, retained     |
 * |            |          | devices/{id}/status "online", last will "offline" (retained)              |
 * | umqtt      | raw      | MicroPython umqtt.simple: keepalive 10 but never pings, publishes every   |
 * |            |          | 20 s, so the broker drops it after ~15 s; it notices at its next publish  |
 * |            |          | and reconnects                                                            |
 * | late       | raw      | keepalive 20–60, pings at ~0.95 × keepalive (on time, barely)             |
 * | sleepy     | MQTT.js  | keepalive 0; wakes, publishes a retained "online" and a reading, sleeps   |
 * |            |          | 30–90 s; usually disconnects cleanly, sometimes just powers off (will)    |
 * | flapping   | raw      | keepalive 30; its link drops every 5–20 s, back 1–4 s later               |
 * | backoff    | raw      | stable for minutes, then a flaky spell of 2–4 failed connections, each    |
 * |            |          | retried with exponential backoff + full jitter                            |
 * | storm      | raw      | the same spells, 5–15 failed connections, retried at once (no backoff)    |
 * | duplicate  | MQTT.js×2| two connections with one client id, each reconnecting on a fixed period:  |
 * |            |          | they take the id over from each other again and again                     |
 *
 * "raw" clients speak MQTT over a plain socket (packets.ts) so their wire
 * behaviour is exactly the modelled one; "MQTT.js" clients are the real
 * library with its own keepalive.
 */
import { backoffDelay } from "../backoff";
import { integer, pick, type Rng, rngFor, uniform } from "./prng";

export const PROFILES = [
  "healthy",
  "telemetry",
  "umqtt",
  "late",
  "sleepy",
  "flapping",
  "backoff",
  "storm",
  "duplicate",
] as const;
export type ProfileName = (typeof PROFILES)[number];

/** Share of each profile in the `mix` (percent). */
export const MIX_WEIGHTS: Readonly<Record<ProfileName, number>> = {
  healthy: 30,
  telemetry: 15,
  umqtt: 12,
  late: 8,
  sleepy: 8,
  flapping: 8,
  backoff: 8,
  storm: 4,
  duplicate: 7,
};

export type SimAction =
  | { at: number; do: "ping" }
  | { at: number; do: "publish"; topic: string; payload: string; retain: boolean }
  /** Close the socket without DISCONNECT (power loss, lost link). Ends the session. */
  | { at: number; do: "drop" }
  /** Send DISCONNECT, then close. Ends the session. */
  | { at: number; do: "disconnect" };

export interface SessionPlan {
  /** Wait before connecting: the start-up stagger for the first session, the reconnect delay after. */
  waitMs: number;
  /**
   * What the client does once connected, `at` in ms after CONNACK, ascending
   * (lazy; may never end). The session ends at a drop or disconnect, or when
   * the broker closes the connection first.
   */
  actions: Iterable<SimAction>;
}

export interface ConnectionPlan {
  deviceId: string;
  clientId: string;
  profile: ProfileName;
  library: "mqttjs" | "raw";
  keepaliveSeconds: number;
  clean: boolean;
  will: { topic: string; payload: string; retain: boolean } | null;
  /** Delay before the first connect (spreads the fleet's start). */
  startDelayMs: number;
  /** Seeds every later random choice of this connection. */
  seed: number;
  /** 0 or 1: which of a duplicate pair. */
  index: number;
}

export interface DevicePlan {
  id: string;
  profile: ProfileName;
  connections: ConnectionPlan[];
}

const statusTopic = (id: string) => `devices/${id}/status`;
const telemetryTopic = (id: string) => `devices/${id}/telemetry`;
const ms = Math.round;

/** A simulated device's reconnect: 1 s doubling to 30 s, with jitter drawn from its own generator. */
const RECONNECT = { initialMs: 1_000, maxMs: 30_000 };

/** The connection(s) of one device. `rng` decides the device's fixed traits; later choices use `seed`. */
export function planDevice(id: string, profile: ProfileName, rng: Rng, seed: number, startDelayMs: number): DevicePlan {
  const base = {
    deviceId: id,
    clientId: id,
    profile,
    clean: true,
    will: null,
    startDelayMs,
    index: 0,
  };
  const one = (c: Omit<ConnectionPlan, keyof typeof base | "seed"> & Partial<ConnectionPlan>): DevicePlan => ({
    id,
    profile,
    connections: [{ ...base, seed: rngSeed(seed, id, 0), ...c }],
  });
  switch (profile) {
    case "healthy":
      return one({ library: "mqttjs", keepaliveSeconds: integer(rng, 30, 60) });
    case "telemetry":
      return one({
        library: "mqttjs",
        keepaliveSeconds: 60,
        will: { topic: statusTopic(id), payload: "offline", retain: true },
      });
    case "umqtt":
      // Booted at different times, so their 20 s cycles are not in step.
      return one({ library: "raw", keepaliveSeconds: 10, startDelayMs: startDelayMs + ms(uniform(rng, 0, 20_000)) });
    case "late":
      return one({ library: "raw", keepaliveSeconds: pick(rng, [20, 30, 45, 60]) });
    case "sleepy":
      return one({
        library: "mqttjs",
        keepaliveSeconds: 0,
        clean: false,
        will: { topic: statusTopic(id), payload: "offline", retain: true },
      });
    case "flapping":
    case "backoff":
    case "storm":
      return one({ library: "raw", keepaliveSeconds: 30 });
    case "duplicate": {
      const keepaliveSeconds = 30;
      const second = startDelayMs + ms(uniform(rng, 2_000, 5_000));
      return {
        id,
        profile,
        connections: [0, 1].map((index) => ({
          ...base,
          library: "mqttjs" as const,
          keepaliveSeconds,
          index,
          startDelayMs: index === 0 ? startDelayMs : second,
          seed: rngSeed(seed, id, index),
        })),
      };
    }
  }
}

function rngSeed(seed: number, id: string, index: number): number {
  return Math.floor(rngFor(seed, id, index)() * 2 ** 32);
}

/** Every `periodMs` (± jitter) from `firstAt`, forever. */
function* every(
  rng: Rng,
  firstAt: number,
  periodMs: number,
  jitter: number,
  make: (at: number, n: number) => SimAction,
) {
  let at = firstAt;
  for (let n = 0; ; n++) {
    yield make(ms(at), n);
    at += periodMs * uniform(rng, 1 - jitter, 1 + jitter);
  }
}

/** Pings every `fraction` × keepalive, then drops at `dropAt` (or never). */
function* pingsUntil(
  rng: Rng,
  keepaliveSeconds: number,
  fraction: number,
  dropAt: number | null,
): Generator<SimAction> {
  const period = keepaliveSeconds * 1000 * fraction;
  let at = period * uniform(rng, 0.99, 1.01);
  while (dropAt === null || at < dropAt) {
    yield { at: ms(at), do: "ping" };
    at += period * uniform(rng, 0.99, 1.01);
  }
  yield { at: dropAt, do: "drop" };
}

function reading(rng: Rng): string {
  return JSON.stringify({ t: Math.round(uniform(rng, 18, 26) * 10) / 10, rssi: integer(rng, -90, -40) });
}

/**
 * The sessions of one connection, forever. Deterministic: the same plan
 * gives the same sessions.
 */
export function* sessionPlans(plan: ConnectionPlan): Generator<SessionPlan> {
  const rng = rngFor(plan.seed, "sessions");
  const id = plan.deviceId;
  const k = plan.keepaliveSeconds;
  let waitMs = plan.startDelayMs;
  switch (plan.profile) {
    case "healthy":
      for (;;) {
        yield { waitMs, actions: [] };
        waitMs = 1_000; // MQTT.js' default reconnectPeriod
      }
    case "telemetry":
      for (;;) {
        const r = rngFor(plan.seed, "telemetry", waitMs, rng());
        const period = uniform(rng, 5_000, 15_000);
        yield {
          waitMs,
          actions: (function* (): Generator<SimAction> {
            yield { at: 0, do: "publish", topic: statusTopic(id), payload: "online", retain: true };
            yield* every(r, period * uniform(r, 0.1, 1), period, 0.1, (at) => ({
              at,
              do: "publish",
              topic: telemetryTopic(id),
              payload: reading(r),
              retain: false,
            }));
          })(),
        };
        waitMs = 1_000;
      }
    case "umqtt":
      for (;;) {
        const r = rngFor(plan.seed, "umqtt", rng());
        // Connects, publishes, sleeps 20 s, publishes... never calls ping().
        yield {
          waitMs,
          actions: every(r, 0, 20_000, 0, (at) => ({
            at,
            do: "publish",
            topic: telemetryTopic(id),
            payload: reading(r),
            retain: false,
          })),
        };
        // Dropped at ~15 s; its next publish (at 20 s) fails, and it reconnects.
        waitMs = ms(uniform(rng, 4_000, 6_000));
      }
    case "late":
      for (;;) {
        yield { waitMs, actions: pingsUntil(rngFor(plan.seed, "late", rng()), k, 0.95, null) };
        waitMs = ms(uniform(rng, 1_000, 3_000));
      }
    case "sleepy":
      for (;;) {
        const r = rngFor(plan.seed, "sleepy", rng());
        const awake = ms(uniform(rng, 2_000, 8_000));
        const crash = rng() < 0.1;
        yield {
          waitMs,
          actions: [
            { at: 0, do: "publish", topic: statusTopic(id), payload: "online", retain: true },
            { at: 200, do: "publish", topic: telemetryTopic(id), payload: reading(r), retain: false },
            { at: awake, do: crash ? "drop" : "disconnect" },
          ],
        };
        waitMs = ms(uniform(rng, 30_000, 90_000));
      }
    case "flapping":
      for (;;) {
        const up = ms(uniform(rng, 5_000, 20_000));
        yield { waitMs, actions: pingsUntil(rngFor(plan.seed, "flap", rng()), k, 0.5, up) };
        waitMs = ms(uniform(rng, 1_000, 4_000));
      }
    case "backoff":
    case "storm": {
      const storm = plan.profile === "storm";
      for (;;) {
        // A stable stretch...
        const stable = ms(uniform(rng, 40_000, 120_000));
        yield { waitMs, actions: pingsUntil(rngFor(plan.seed, "stable", rng()), k, 0.5, stable) };
        // ...then a flaky spell: connections that die within a second or two.
        const failures = storm ? integer(rng, 5, 15) : integer(rng, 2, 4);
        for (let attempt = 0; attempt < failures; attempt++) {
          waitMs = storm ? ms(uniform(rng, 0, 100)) : backoffDelay(attempt, RECONNECT, rng);
          const life = ms(storm ? uniform(rng, 200, 1_000) : uniform(rng, 500, 2_000));
          yield { waitMs, actions: [{ at: life, do: "drop" }] };
        }
        waitMs = storm ? ms(uniform(rng, 0, 100)) : backoffDelay(failures, RECONNECT, rng);
      }
    }
    case "duplicate": {
      // MQTT.js reconnects on a fixed period (reconnectPeriod), without backoff.
      const period = ms(uniform(rng, 3_000, 8_000));
      for (;;) {
        yield { waitMs, actions: [] };
        waitMs = period;
      }
    }
  }
}

/** The first `n` sessions with at most `maxActions` actions each (for tests and summaries). */
export function firstSessions(
  plan: ConnectionPlan,
  n: number,
  maxActions = 50,
): Array<{ waitMs: number; actions: SimAction[] }> {
  const out: Array<{ waitMs: number; actions: SimAction[] }> = [];
  for (const s of sessionPlans(plan)) {
    const actions: SimAction[] = [];
    for (const a of s.actions) {
      actions.push(a);
      if (actions.length >= maxActions || a.do === "drop" || a.do === "disconnect") break;
    }
    out.push({ waitMs: s.waitMs, actions });
    if (out.length >= n) break;
  }
  return out;
}
