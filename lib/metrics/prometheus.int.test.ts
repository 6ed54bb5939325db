/**
 * GET /metrics on a running monitor (embedded broker, PGlite), read with the
 * Prometheus project's own text-format parser: every family is there with
 * its type, and its values follow what happened — a device online, a silent
 * one judged offline (its verdict's lateness observed) with its alert
 * firing and delivered, an id refused at ingest, a failed delivery, a broker
 * restart counted after keepwatch (its broker) restarted. Access: a token by
 * default, no credentials with METRICS_ANONYMOUS=1; per-device series only
 * with METRICS_PER_DEVICE=1.
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET } from "../../app/metrics/route";
import { DEFAULT_RULE } from "../alerts/rules";
import { hashPassword, newSecret, secretHash, TOKEN_PREFIX } from "../auth/secrets";
import { testEvent } from "../notify/events";
import { startRuntime, type Runtime } from "../runtime";
import { createAlertRule } from "../store/alerts";
import { createToken, createUser } from "../store/auth";
import { createChannel } from "../store/notifications";
import { eventually, rawConnect } from "../testing/clients";
import { freePort } from "../testing/mosquitto";
import { parsePrometheus, sampleValue as value, type Family } from "../testing/prometheus";
import { startWebhookReceiver, type WebhookReceiver } from "../testing/webhooks";

let dataDir: string;
let mqttPort: number;
let runtime: Runtime;
let receiver: WebhookReceiver;
let token: string;
const sockets: Socket[] = [];
const ORIGIN = "http://127.0.0.1:3985";
const PINGREQ = Buffer.from([0xc0, 0x00]);

const env = (extra: Record<string, string> = {}) => ({
  KEEPWATCH_DATA_DIR: dataDir,
  MQTT_PORT: String(mqttPort),
  PORT: "3985",
  ALERT_RESTART_WINDOW_SECONDS: "0",
  INCIDENT_GROUP_WAIT_SECONDS: "0",
  KEEPWATCH_WEBHOOK_ALLOW: "127.0.0.1",
  ...extra,
});

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "kw-metrics-"));
  mqttPort = await freePort();
  receiver = await startWebhookReceiver();
  runtime = await startRuntime(env());
  const db = runtime.db!.prisma;
  const user = await createUser(db, {
    username: "scraper",
    role: "viewer",
    passwordHash: await hashPassword("pw-scraper-1"),
  });
  token = newSecret(TOKEN_PREFIX);
  await createToken(db, {
    name: "prometheus",
    role: "viewer",
    tokenHash: secretHash(token),
    createdBy: user!.id,
    expiresAt: null,
  });
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await runtime?.stop();
  await receiver?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function scrape(bearer: string | null): Promise<{ status: number; families: Map<string, Family>; type: string }> {
  const res = await GET(
    new Request(`${ORIGIN}/metrics`, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} }),
  );
  const text = await res.text();
  const families = res.status === 200 ? parsePrometheus(text) : new Map<string, Family>();
  return { status: res.status, families, type: res.headers.get("content-type") ?? "" };
}

/** A counter's sample: the family is named without `_total`, its sample with it. */
const total = (f: Family | undefined, labels: Record<string, string> = {}) => value(f, labels, `${f?.name}_total`);

// Family names as the parser gives them (a counter's family drops `_total`).
const FAMILIES: Array<[string, string]> = [
  ["keepwatch_devices", "gauge"],
  ["keepwatch_broker_connected", "gauge"],
  ["keepwatch_broker_restarts", "counter"],
  ["keepwatch_ingest_messages", "counter"],
  ["keepwatch_ingest_rejected", "counter"],
  ["keepwatch_ingest_lag_seconds", "histogram"],
  ["keepwatch_verdict_lateness_seconds", "histogram"],
  ["keepwatch_db_pending_writes", "gauge"],
  ["keepwatch_db_rejected_rows", "counter"],
  ["keepwatch_alert_pending_writes", "gauge"],
  ["keepwatch_alert_dropped_writes", "counter"],
  ["keepwatch_alert_evaluation_lag_seconds", "gauge"],
  ["keepwatch_alerts_firing", "gauge"],
  ["keepwatch_notifications", "counter"],
  ["keepwatch_sse_streams", "gauge"],
  ["process_resident_memory_bytes", "gauge"],
  ["nodejs_eventloop_lag_seconds", "gauge"],
];

describe("GET /metrics", () => {
  it("needs credentials by default; a viewer's token reads every family in the text format", async () => {
    expect((await scrape(null)).status).toBe(401);
    const { status, families, type } = await scrape(token);
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const [name, t] of FAMILIES) expect(families.get(name)?.type, name).toBe(t);
    expect(families.has("keepwatch_device_up")).toBe(false);
    expect(value(families.get("keepwatch_broker_connected"))).toBe(1);
  });

  it("follows what happens: devices, a silence verdict and its alert, a refused id, deliveries", async () => {
    const db = runtime.db!.prisma;
    const channel = await createChannel(db, {
      name: "ops",
      type: "webhook",
      config: { url: receiver.url },
      enabled: true,
      defaultForSystem: false,
      ratePerMinute: null,
    });
    await createAlertRule(db, {
      ...DEFAULT_RULE,
      name: "metrics",
      match: "m-*",
      offlineFactor: null,
      offlineSeconds: 1,
      resolveAfterSeconds: 1,
      channelIds: [channel.id],
    });
    await runtime.alerts!.reloadRules();
    const before = (await scrape(token)).families;

    const alive = await rawConnect(mqttPort, "m-alive", 60);
    // Never pings: late by the monitor's own deadline tick after its keepalive, then dropped by the broker at 3 s.
    const silent = await rawConnect(mqttPort, "m-silent", 2);
    sockets.push(alive, silent);
    alive.write(PINGREQ);
    await rawConnect(mqttPort, `m-${"x".repeat(300)}`, 60)
      .then((s) => sockets.push(s))
      .catch(() => undefined);
    await eventually(() => runtime.fleet.get("m-silent")?.status === "offline", 5_000, "m-silent judged offline");
    await eventually(
      () => receiver.hooks.some((h) => h.body.alert?.deviceId === "m-silent" && h.body.event === "fired"),
      10_000,
      "m-silent's alert delivered",
    );
    const after = (await scrape(token)).families;

    const devices = after.get("keepwatch_devices");
    expect(value(devices, { status: "online" })).toBeGreaterThanOrEqual(1);
    expect(value(devices, { status: "offline" })).toBeGreaterThanOrEqual(1);
    const held = ["online", "late", "offline", "unknown"].reduce((n, status) => n + value(devices, { status }), 0);
    expect(held).toBe(runtime.fleet.size);
    expect(total(after.get("keepwatch_ingest_messages"), { source: "aedes" })).toBeGreaterThan(
      total(before.get("keepwatch_ingest_messages"), { source: "aedes" }) || 0,
    );
    expect(value(after.get("keepwatch_ingest_lag_seconds"), {}, "keepwatch_ingest_lag_seconds_count")).toBeGreaterThan(
      0,
    );
    const lateness = after.get("keepwatch_verdict_lateness_seconds");
    const verdicts = value(lateness, { verdict: "late" }, "keepwatch_verdict_lateness_seconds_count");
    expect(verdicts).toBeGreaterThanOrEqual(1);
    // Every verdict within 1 s of its deadline.
    expect(value(lateness, { verdict: "late", le: "1" }, "keepwatch_verdict_lateness_seconds_bucket")).toBe(verdicts);
    expect(total(after.get("keepwatch_ingest_rejected"), { cause: "id_too_long" })).toBeGreaterThanOrEqual(1);
    expect(value(after.get("keepwatch_alerts_firing"), { kind: "offline" })).toBeGreaterThanOrEqual(1);
    expect(value(after.get("keepwatch_alerts_firing"), { kind: "flapping" })).toBe(0);
    expect(
      total(after.get("keepwatch_notifications"), { channel_type: "webhook", outcome: "ok" }),
    ).toBeGreaterThanOrEqual(1);

    // A test message to a destination that refuses the connection: counted as failed.
    const down = await createChannel(db, {
      name: "down",
      type: "ntfy",
      config: { server: "http://127.0.0.1:9", topic: "nobody" },
      enabled: true,
      defaultForSystem: false,
      ratePerMinute: null,
    });
    await runtime.alerts!.dispatcher.sendDirect(down, testEvent(null));
    const last = (await scrape(token)).families;
    expect(total(last.get("keepwatch_notifications"), { channel_type: "ntfy", outcome: "failed" })).toBe(1);
  });

  it("after keepwatch (its broker) restarts: one broker restart counted; METRICS_ANONYMOUS and METRICS_PER_DEVICE", async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await runtime.stop();
    // One monitor per process: the held one goes, and the next start makes a new one.
    const holder = (globalThis as Record<symbol, { runtime?: Runtime; starting?: Promise<Runtime> }>)[
      Symbol.for("keepwatch.runtime")
    ];
    delete holder.runtime;
    delete holder.starting;
    runtime = await startRuntime(env({ METRICS_ANONYMOUS: "1", METRICS_PER_DEVICE: "1" }));
    const alive = await rawConnect(mqttPort, "m-alive", 60);
    sockets.push(alive);
    await eventually(() => runtime.fleet.get("m-alive")?.status === "online", 5_000, "m-alive back");
    const { status, families } = await scrape(null);
    expect(status).toBe(200);
    expect(total(families.get("keepwatch_broker_restarts"))).toBe(1);
    expect(value(families.get("keepwatch_device_up"), { device: "m-alive" })).toBe(1);
    expect(value(families.get("keepwatch_device_up"), { device: "m-silent" })).toBe(0);
    expect(value(families.get("keepwatch_device_keepalive_seconds"), { device: "m-alive" })).toBe(60);
  });
});
