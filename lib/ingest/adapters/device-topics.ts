/**
 * Device topics: the operator names where devices publish (DEVICE_TOPICS, a
 * comma-separated list of topic patterns with one `{id}` level, default
 * `devices/{id}/#`). A subscriber cannot see who published, so the device id is
 * read from the topic.
 *
 * Every publish on a matching topic is a sign of life (PublishEvent), except:
 * - a retained replay: the broker re-sends an old message on subscribe, so it is
 *   state, not fresh activity;
 * - a status message saying offline: that is usually the device's last will, which
 *   the broker publishes after the device is gone.
 * Well-known status conventions also yield a StatusEvent (retained or not), but only
 * on topics the operator's patterns already match (enable them with e.g.
 * `tele/{id}/#,homie/{id}/#`). For Homie 5 use `homie/5/{id}/#`: with `homie/{id}/#`
 * the "5" level would be taken as the device id.
 */
import type { ActivityEvent, AdapterResult } from "../events";
import { byteLength, decodeUtf8, noEvents, parseJsonObject, stringField } from "./payload";
import type { Adapter, AdapterContext } from "./types";

export const name = "device-topics";
export const DEFAULT_DEVICE_TOPICS = "devices/{id}/#";
const ID = "{id}";

export interface DeviceTopicMatch {
  deviceId: string;
  /** The configured pattern that matched. */
  pattern: string;
  /** Index of the topic level that holds the id. */
  idLevel: number;
}

export interface CompiledDeviceTopics {
  readonly patterns: readonly string[];
  /** MQTT subscriptions to make: each pattern with `{id}` replaced by `+`. */
  readonly subscriptions: string[];
  match(topic: string): DeviceTopicMatch | null;
}

// ---------------------------------------------------------------------------
// Patterns

interface CompiledPattern {
  source: string;
  levels: readonly string[];
  idIndex: number;
}

function invalid(pattern: string, why: string): Error {
  return new Error(`Invalid DEVICE_TOPICS pattern ${JSON.stringify(pattern)}: ${why}`);
}

function checkLevel(pattern: string, level: string, index: number, count: number): void {
  if (level === ID || level === "+") return;
  if (level === "#") {
    if (index !== count - 1) throw invalid(pattern, "'#' must be the last level");
    return;
  }
  if (level.includes(ID)) throw invalid(pattern, "{id} must be a whole topic level");
  if (level.includes("#") || level.includes("+")) throw invalid(pattern, "'+' and '#' must be whole topic levels");
  if (/[{}]/.test(level)) throw invalid(pattern, `unknown placeholder in level ${JSON.stringify(level)} (only {id})`);
}

function compilePattern(pattern: string): CompiledPattern {
  if (pattern === "") throw invalid(pattern, "empty pattern");
  if (pattern.startsWith("$")) throw invalid(pattern, "device topics cannot start with '$' (broker topics)");
  if (pattern.includes("\u0000")) throw invalid(pattern, "NUL character");
  const levels = pattern.split("/");
  levels.forEach((level, i) => checkLevel(pattern, level, i, levels.length));
  const idLevels = levels.filter((l) => l === ID).length;
  if (idLevels === 0) throw invalid(pattern, "no {id} level");
  if (idLevels > 1) throw invalid(pattern, "more than one {id} level");
  return { source: pattern, levels, idIndex: levels.indexOf(ID) };
}

function matchLevels(p: CompiledPattern, topicLevels: readonly string[]): DeviceTopicMatch | null {
  for (let i = 0; i < p.levels.length; i++) {
    const level = p.levels[i];
    if (level === "#") break; // also matches the parent level (MQTT: "a/#" matches "a")
    if (i >= topicLevels.length) return null;
    if (level !== "+" && level !== ID && level !== topicLevels[i]) return null;
  }
  const multi = p.levels[p.levels.length - 1] === "#";
  if (!multi && topicLevels.length !== p.levels.length) return null;
  const deviceId = topicLevels[p.idIndex];
  return deviceId ? { deviceId, pattern: p.source, idLevel: p.idIndex } : null;
}

/** Throws an Error naming the bad pattern for an invalid spec. */
export function compileDeviceTopics(spec: string): CompiledDeviceTopics {
  if (spec.trim() === "") throw invalid(spec, "empty DEVICE_TOPICS");
  const compiled = spec.split(",").map((p) => compilePattern(p.trim()));
  const subscriptions = [...new Set(compiled.map((p) => p.levels.map((l) => (l === ID ? "+" : l)).join("/")))];

  return {
    patterns: compiled.map((p) => p.source),
    subscriptions,
    match(topic) {
      if (topic.startsWith("$")) return null; // $SYS and other broker topics are never devices
      const levels = topic.split("/");
      for (const pattern of compiled) {
        const match = matchLevels(pattern, levels);
        if (match) return match;
      }
      return null;
    },
  };
}

// ---------------------------------------------------------------------------
// Status conventions

interface StatusReading {
  online: boolean;
  /** The payload word as sent. */
  detail: string;
}

interface StatusConvention {
  name: string;
  /** Topic levels before and after the id level. */
  before: readonly string[];
  after: readonly string[];
  read(text: string): StatusReading | null;
}

function wordReader(words: Readonly<Record<string, boolean>>) {
  // A Map, not the object: a payload such as "__proto__" or "constructor" must not find Object's own keys.
  const known = new Map(Object.entries(words));
  return (word: string): StatusReading | null => {
    const trimmed = word.trim();
    const online = known.get(trimmed.toLowerCase());
    return online === undefined ? null : { online, detail: trimmed };
  };
}

const onlineOffline = wordReader({ online: true, offline: false });

/** "online" / "offline", or JSON {"status": …} / {"state": …} with those words. */
function readOnlineOfflineOrJson(text: string): StatusReading | null {
  const plain = onlineOffline(text);
  if (plain || !text.trim().startsWith("{")) return plain;
  const json = parseJsonObject(text);
  if (!json.ok) return null;
  const word = stringField(json.value, "status") ?? stringField(json.value, "state");
  return word === null ? null : onlineOffline(word);
}

/**
 * Homie $state: ready → online; init (connected, still announcing) and alert
 * (connected, needs attention) → online with the word as detail; disconnected
 * (clean), lost (last will) and sleeping → offline.
 */
const homieState = wordReader({
  ready: true,
  init: true,
  alert: true,
  disconnected: false,
  lost: false,
  sleeping: false,
});

const CONVENTIONS: readonly StatusConvention[] = [
  { name: "generic", before: ["devices"], after: ["status"], read: readOnlineOfflineOrJson },
  { name: "tasmota", before: ["tele"], after: ["LWT"], read: onlineOffline },
  { name: "homie", before: ["homie"], after: ["$state"], read: homieState },
  { name: "homie5", before: ["homie", "5"], after: ["$state"], read: homieState },
  { name: "esphome", before: [], after: ["status"], read: onlineOffline },
  { name: "zigbee2mqtt", before: ["zigbee2mqtt"], after: ["availability"], read: readOnlineOfflineOrJson },
  { name: "shelly", before: ["shellies"], after: ["online"], read: wordReader({ true: true, false: false }) },
];

/** Status payloads are a word or a tiny JSON object; bigger payloads are data. */
const MAX_STATUS_BYTES = 256;

function conventionFor(levels: readonly string[], idIndex: number): StatusConvention | null {
  return (
    CONVENTIONS.find(
      (c) =>
        c.before.length === idIndex &&
        levels.length === c.before.length + 1 + c.after.length &&
        c.before.every((l, i) => levels[i] === l) &&
        c.after.every((l, i) => levels[idIndex + 1 + i] === l),
    ) ?? null
  );
}

export function readStatus(levels: readonly string[], idIndex: number, payload: Buffer | string): StatusReading | null {
  const convention = conventionFor(levels, idIndex);
  if (!convention) return null;
  if (byteLength(payload) > MAX_STATUS_BYTES) return null;
  const text = decodeUtf8(payload);
  return text === null ? null : convention.read(text);
}

// ---------------------------------------------------------------------------
// Events

export function parseDeviceMessage(
  topics: CompiledDeviceTopics,
  topic: string,
  payload: Buffer | string,
  ctx: AdapterContext,
): AdapterResult {
  const match = topics.match(topic);
  if (!match) return noEvents();
  const { deviceId } = match;
  const status = readStatus(topic.split("/"), match.idLevel, payload);

  const events: ActivityEvent[] = [];
  if (!ctx.retained && (status === null || status.online)) {
    events.push({ kind: "publish", deviceId, at: ctx.receivedAt, source: "device-topic", topic });
  }
  if (status) {
    events.push({
      kind: "status",
      deviceId,
      at: ctx.receivedAt,
      source: "device-topic",
      online: status.online,
      detail: status.detail,
      retained: ctx.retained,
    });
  }
  return { events };
}

export function createDeviceTopicsAdapter(topics: CompiledDeviceTopics): Adapter {
  return {
    name,
    matches: (topic) => topics.match(topic) !== null,
    parse: (topic, payload, ctx) => parseDeviceMessage(topics, topic, payload, ctx),
  };
}
