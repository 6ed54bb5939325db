/** Test data builders for the fleet page (used by tests only). */
import type { DeviceDto, HealthDto, SnapshotMessage, StatusCounts } from "@/lib/api/dto";
import type { DeviceStatus } from "@/lib/fleet/types";
import { DISCONNECT_REASONS } from "@/lib/ingest/events";

export const T0 = Date.parse("2025-06-01T12:00:00.000Z");
export const isoAt = (ms: number): string => new Date(ms).toISOString();

export function device(id: string, patch: Partial<DeviceDto> = {}): DeviceDto {
  return {
    id,
    status: "online",
    statusSince: isoAt(T0 - 60_000),
    keepaliveSeconds: 30,
    lastSeenAt: isoAt(T0 - 5_000),
    connectedAt: isoAt(T0 - 60_000),
    sessionOpen: true,
    lastDisconnectAt: null,
    lastDisconnectReason: null,
    disconnectCount: 0,
    sources: ["mosquitto-log"],
    name: null,
    tags: [],
    expected: false,
    muted: false,
    ...patch,
  };
}

export function health(
  patch: {
    broker?: Partial<HealthDto["broker"]>;
    db?: Partial<HealthDto["db"]>;
    monitor?: Partial<HealthDto["monitor"]>;
    cluster?: Partial<HealthDto["cluster"]>;
  } = {},
): HealthDto {
  const broker: HealthDto["broker"] = {
    connected: true,
    kind: "mosquitto",
    version: "2.0.11",
    url: "mqtt://127.0.0.1:1883",
    since: isoAt(T0 - 3_600_000),
    lastError: null,
    stats: {},
    lastRestart: null,
    ...patch.broker,
  };
  const db: HealthDto["db"] = {
    ok: true,
    pendingWrites: 0,
    droppedWrites: 0,
    rejectedRows: 0,
    alertWrites: { pending: 0, dropped: 0 },
    lastError: null,
    ...patch.db,
  };
  const monitor: HealthDto["monitor"] = {
    startedAt: isoAt(T0 - 7_200_000),
    gapSince: null,
    pingsVisible: true,
    deviceTopics: [],
    relearning: null,
    ...patch.monitor,
  };
  const notifications: HealthDto["notifications"] = {
    pending: 0,
    dead: 0,
    oldestPendingSeconds: null,
    lastError: null,
  };
  const cluster: HealthDto["cluster"] = {
    instanceId: "test:3000",
    role: "single",
    epoch: null,
    leaderId: "test:3000",
    leaderSince: null,
    peers: [],
    ...patch.cluster,
  };
  return { ok: broker.connected && db.ok, broker, db, ingest: { rejected: {} }, monitor, notifications, cluster };
}

export function countsOf(devices: readonly DeviceDto[]): StatusCounts {
  const c: StatusCounts = { online: 0, late: 0, offline: 0, unknown: 0, total: devices.length };
  for (const d of devices) c[d.status]++;
  return c;
}

export function snapshot(devices: DeviceDto[], serverTime = T0, h: HealthDto = health()): SnapshotMessage {
  return {
    serverTime: isoAt(serverTime),
    window: { offset: 0, total: devices.length, ids: devices.map((d) => d.id) },
    devices,
    counts: countsOf(devices),
    health: h,
  };
}

/** Deterministic PRNG (mulberry32) so generated fleets are the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATUSES: readonly DeviceStatus[] = ["online", "online", "online", "online", "late", "offline", "unknown"];
const KEEPALIVES: readonly (number | null)[] = [5, 10, 15, 30, 60, 120, 0, null];

/** A device with random but plausible fields (times before `now`, some nulls, some ties). */
export function randomDevice(id: string, rnd: () => number, now = T0): DeviceDto {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const status = pick(STATUSES);
  const ago = (maxMs: number) => isoAt(now - Math.floor(rnd() * maxMs));
  const dropped = status === "offline" || rnd() < 0.3;
  return {
    id,
    status,
    statusSince: ago(3_600_000),
    keepaliveSeconds: pick(KEEPALIVES),
    lastSeenAt: status === "unknown" && rnd() < 0.5 ? null : ago(600_000),
    connectedAt: rnd() < 0.1 ? null : ago(86_400_000),
    sessionOpen: status === "online" || status === "late",
    lastDisconnectAt: dropped ? ago(3_600_000) : null,
    lastDisconnectReason: dropped ? pick(DISCONNECT_REASONS) : null,
    disconnectCount: dropped ? Math.floor(rnd() * 40) : 0,
    sources: rnd() < 0.5 ? ["mosquitto-log"] : ["aedes", "device-topic"],
    name: rnd() < 0.2 ? `Pump ${id.slice(-3)}` : null,
    tags: rnd() < 0.3 ? ["site:a"] : rnd() < 0.5 ? ["pumps", "site:b"] : [],
    expected: false,
    muted: rnd() < 0.05,
  };
}

export function randomFleet(n: number, seed = 1, now = T0): DeviceDto[] {
  const rnd = prng(seed);
  return Array.from({ length: n }, (_, i) => randomDevice(`dev-${String(i).padStart(5, "0")}`, rnd, now));
}

/** Ids operators have met in the wild, and a few made to hurt. */
export const HOSTILE_IDS: readonly string[] = [
  "<img src=x onerror=alert(1)>",
  "<script>alert('id')</script>",
  "x".repeat(100_000),
  "evil\u202Etxt.exe",
  "dev\u200B-1",
  "👨‍👩‍👧‍👦-family-sensor",
  '=HYPERLINK("http://attacker.example","click")',
  "جهاز-الاستشعار-٧",
  "line\nbreak\ttab",
  "../../etc/passwd?x=1#frag",
  "lone\uD800surrogate",
];
