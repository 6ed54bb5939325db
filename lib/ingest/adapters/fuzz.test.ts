/**
 * Whatever a broker or a device sends, the adapters answer: events of the
 * documented shape, or a counted error. Random and mutated input into every
 * adapter through the one routing function; no exception may escape.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { mulberry32, type Rng } from "../../sim/prng";
import { parseDebugLine, parseLifecycleLine } from "./mosquitto-debug";
import { compileDeviceTopics, route } from "./index";

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const LOG_LINES = fixture("mosquitto-2.0.log.txt").split("\n").filter(Boolean);
const JSON_SAMPLES = [
  ...Object.values(JSON.parse(fixture("emqx.json"))),
  ...Object.values(JSON.parse(fixture("nanomq.json"))),
]
  .flatMap((v) => (Array.isArray(v) ? v : [v]))
  .map((v) => (typeof v === "string" ? v : JSON.stringify(v)));

const TOPICS = [
  "$SYS/broker/log/N",
  "$SYS/broker/log/E",
  "$SYS/broker/uptime",
  "$SYS/broker/version",
  "$SYS/broker/clients/connected",
  "$SYS/brokers/emqx@127.0.0.1/clients/dev-1/connected",
  "$SYS/brokers/emqx@127.0.0.1/clients/dev-1/disconnected",
  "$SYS/brokers/emqx@127.0.0.1/uptime",
  "$SYS/brokers/connected",
  "$SYS/brokers/disconnected",
  "$SYS/brokers/client_status",
  "devices/dev-1/status",
  "devices/dev-1/temp",
  "tele/dev-1/LWT",
  "homie/dev-1/$state",
  "shellies/dev-1/online",
  "spBv1.0/g/NDEATH/dev-1",
];
const ALPHABET = [
  '"',
  "{",
  "}",
  "[",
  "]",
  ":",
  ",",
  "\\",
  "a",
  "1",
  " ",
  "\u0000",
  "\uFFFD",
  "😀",
  "\n",
  "=",
  "-",
  "(",
];

function mutate(r: Rng, text: string): string {
  const chars = Array.from(text);
  const edits = 1 + Math.floor(r() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(r() * (chars.length + 1));
    const op = r();
    if (op < 0.4) chars.splice(at, 1);
    else if (op < 0.8) chars.splice(at, 0, ALPHABET[Math.floor(r() * ALPHABET.length)]);
    else chars.splice(at, Math.floor(r() * 20));
  }
  return chars.join("");
}

function randomPayload(r: Rng): Buffer | string {
  const kind = r();
  if (kind < 0.25) return Buffer.from(Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256)));
  if (kind < 0.55) return mutate(r, LOG_LINES[Math.floor(r() * LOG_LINES.length)]);
  if (kind < 0.85) return mutate(r, JSON_SAMPLES[Math.floor(r() * JSON_SAMPLES.length)]);
  return Array.from({ length: Math.floor(r() * 40) }, () => ALPHABET[Math.floor(r() * ALPHABET.length)]).join("");
}

const KINDS = new Set(["connect", "disconnect", "takeover", "ping", "packet", "publish", "status"]);

describe("adapters under random and mutated input", () => {
  it("never throw, and give events of the documented shape or an error (30,000 messages)", () => {
    const r = mulberry32(7);
    const deviceTopics = compileDeviceTopics(
      "devices/{id}/#,tele/{id}/LWT,homie/{id}/$state,shellies/{id}/online,spBv1.0/+/NDEATH/{id}",
    );
    let events = 0;
    let errors = 0;
    for (let n = 0; n < 30_000; n++) {
      const topic =
        r() < 0.9 ? TOPICS[Math.floor(r() * TOPICS.length)] : mutate(r, TOPICS[Math.floor(r() * TOPICS.length)]);
      const payload = randomPayload(r);
      const kind = (["auto", "mosquitto", "emqx", "nanomq"] as const)[n % 4];
      const result = route(
        topic,
        payload,
        { receivedAt: 1_800_000_000_000, retained: r() < 0.2 },
        { kind, deviceTopics },
      );
      if (result.error !== undefined) errors++;
      for (const ev of result.events) {
        events++;
        expect(KINDS.has(ev.kind), ev.kind).toBe(true);
        expect(typeof ev.deviceId).toBe("string");
        expect(Number.isFinite(ev.at)).toBe(true);
      }
    }
    // The corpus is rich enough to reach both outcomes.
    expect(events).toBeGreaterThan(1_000);
    expect(errors).toBeGreaterThan(1_000);
  });

  it("debug log lines: never throw (20,000 lines)", () => {
    const r = mulberry32(11);
    for (let n = 0; n < 20_000; n++) {
      const line = mutate(r, LOG_LINES[Math.floor(r() * LOG_LINES.length)]);
      for (const ev of parseDebugLine(line, { receivedAt: 1_800_000_000_000 }))
        expect(Number.isFinite(ev.at)).toBe(true);
      parseLifecycleLine(line, { receivedAt: 1_800_000_000_000 });
    }
  });
});
