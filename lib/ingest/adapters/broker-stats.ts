/**
 * Mosquitto's broker-wide $SYS figures: client counts, load averages, uptime and
 * version. Aggregates only (a broker health panel and a cross-check of the fleet
 * count), never per-device events.
 *
 * Recorded from Mosquitto 2.0.11 (fixtures/mosquitto-2.0-sys.txt): counts are
 * integers ("4"), loads have two decimals ("34.33"), uptime is "121 seconds",
 * version is "mosquitto version 2.0.11". On subscribe the broker replays all of
 * them retained with current values, then republishes changed ones every
 * sys_interval (10 s by default).
 */
import type { AdapterResult } from "../events";
import { decodeUtf8, failure, noEvents, preview } from "./payload";
import type { Adapter, AdapterContext } from "./types";

export const name = "broker-stats";
const PREFIX = "$SYS/broker/";
const VERSION_TOPIC = `${PREFIX}version`;
const CLIENT_COUNTS: ReadonlySet<string> = new Set(["connected", "disconnected", "maximum", "total", "expired"]);

/** "clients/connected", "load/messages/received/1min", "uptime", or null. */
export function statKey(topic: string): string | null {
  if (!topic.startsWith(PREFIX)) return null;
  const key = topic.slice(PREFIX.length);
  if (key === "uptime") return key;
  if (key.startsWith("clients/") && CLIENT_COUNTS.has(key.slice("clients/".length))) return key;
  if (/^load\/[^/]+(\/[^/]+)*$/.test(key)) return key;
  return null;
}

export function matches(topic: string): boolean {
  return topic === VERSION_TOPIC || statKey(topic) !== null;
}

const NUMBER = /^\d+(\.\d+)?$/;
const UPTIME = /^(\d+) seconds$/;

function statValue(key: string, text: string): number | null {
  const m = (key === "uptime" ? UPTIME : NUMBER).exec(text.trim());
  if (!m) return null;
  const value = Number(key === "uptime" ? m[1] : m[0]);
  return Number.isFinite(value) ? value : null;
}

export function parse(topic: string, payload: Buffer | string, ctx: AdapterContext): AdapterResult {
  if (!matches(topic)) return noEvents();
  const text = decodeUtf8(payload);
  if (text === null) return failure(`${topic}: payload is not valid UTF-8`);

  if (topic === VERSION_TOPIC) {
    const version = text.trim();
    return version ? { events: [], brokerVersion: version } : failure(`${topic}: empty version`);
  }
  const key = statKey(topic) as string;
  const value = statValue(key, text);
  if (value === null) {
    const expected = key === "uptime" ? '"<n> seconds"' : "a non-negative number";
    return failure(`${topic}: expected ${expected}, got ${preview(text)}`);
  }
  return { events: [], stats: [{ key, value, at: ctx.receivedAt }] };
}

export const brokerStatsAdapter: Adapter = { name, matches, parse };
