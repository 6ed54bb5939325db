/**
 * Alerting end to end on embedded defaults (keepwatch's own broker, where
 * pings are visible, and PGlite), with real clients and a real webhook
 * receiver on localhost:
 * - a rule `offlineSeconds: 3` for thr-*: a keepalive-60 client that goes
 *   silent without closing its socket raises an offline alert within 3 s + 1 s
 *   (the broker would drop it only at 90 s); back and pinging for
 *   resolveAfterSeconds, the alert resolves; the receiver gets both;
 * - five reconnects within a minute raise exactly one flapping alert;
 * - a restart while alerts fire: still firing, no duplicate, no storm.
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config";
import { Runtime } from "../runtime";
import { createAlertRule, listAlerts } from "../store/alerts";
import { listDeliveries } from "../store/notifications";
import { startWebhookReceiver, type WebhookReceiver } from "../testing/webhooks";
import { eventually, rawConnect } from "../testing/clients";
import { freePort } from "../testing/mosquitto";
import { DEFAULT_RULE } from "./rules";

let dataDir: string;
let mqttPort: number;
let runtime: Runtime;
let receiver: WebhookReceiver;
let hookUrl: string;
let hooks: WebhookReceiver["hooks"] = [];
const sockets: Socket[] = [];
const PINGREQ = Buffer.from([0xc0, 0x00]);

function newRuntime(): Runtime {
  return new Runtime(
    loadConfig({
      KEEPWATCH_DATA_DIR: dataDir,
      MQTT_PORT: String(mqttPort),
      PORT: "3997",
      ALERT_RESTART_WINDOW_SECONDS: "0",
      // The webhook receiver is on 127.0.0.1, a destination refused unless listed.
      KEEPWATCH_WEBHOOK_ALLOW: "127.0.0.1",
    }),
  );
}

const db = () => runtime.db!.prisma;
const firing = (deviceId: string) => runtime.alerts!.feed().firing.filter((a) => a.deviceId === deviceId);

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "kw-alerts-"));
  mqttPort = await freePort();
  receiver = await startWebhookReceiver();
  hooks = receiver.hooks;
  hookUrl = receiver.url;
  runtime = newRuntime();
  await runtime.start();
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await runtime?.stop();
  await receiver?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("alerts on the embedded broker", () => {
  it("alerts on a silent keepalive-60 client within 3 s + 1 s, resolves it once back, and notifies both", async () => {
    await createAlertRule(db(), {
      ...DEFAULT_RULE,
      name: "thresholds",
      match: "thr-*",
      offlineFactor: null,
      offlineSeconds: 3,
      resolveAfterSeconds: 2,
      flapDisconnects: null,
      flapWindowSeconds: null,
      webhookUrl: hookUrl,
    });
    await runtime.alerts!.reloadRules();

    const socket = await rawConnect(mqttPort, "thr-1", 60);
    sockets.push(socket);
    const connectedAt = Date.now();
    const [alert] = await eventually(() => firing("thr-1").length === 1 && firing("thr-1"), 6_000, "offline alert");
    const noticed = Date.now();
    const lastLife = runtime.fleet.get("thr-1")!.lastConfirmedAt!;
    const latency = Date.parse(alert.firedAt) - lastLife;
    console.log(
      `[acceptance] offline alert: fired ${latency} ms after the last sign of life (threshold 3000 ms); ` +
        `visible in the feed ${noticed - connectedAt} ms after CONNACK`,
    );
    expect(alert.kind).toBe("offline");
    expect(latency).toBeGreaterThanOrEqual(3_000);
    expect(latency).toBeLessThanOrEqual(4_000);
    expect(noticed - connectedAt).toBeLessThanOrEqual(4_000);
    // The broker has not dropped it (that happens at 90 s): the fleet still calls it connected.
    expect(["online", "late"]).toContain(runtime.fleet.get("thr-1")!.status);

    const fired = await eventually(
      () => hooks.find((h) => h.body.event === "fired" && h.body.alert?.deviceId === "thr-1"),
      3_000,
      "webhook for the fired alert",
    );
    expect(fired.body).toMatchObject({
      alert: { id: alert.id, kind: "offline", state: "firing" },
      rule: { name: "thresholds" },
    });
    console.log(
      `[acceptance] webhook 'fired' received ${fired.at - Date.parse(alert.firedAt)} ms after the alert fired`,
    );

    // Back: a PINGREQ every 500 ms on the same connection.
    const backAt = Date.now();
    const pinger = setInterval(() => socket.write(PINGREQ), 500);
    socket.write(PINGREQ);
    try {
      await eventually(() => firing("thr-1").length === 0, 6_000, "resolution");
      const resolvedAfter = Date.now() - backAt;
      console.log(`[acceptance] resolved ${resolvedAfter} ms after the client came back (resolveAfterSeconds 2)`);
      expect(resolvedAfter).toBeGreaterThanOrEqual(1_900);
      const resolved = await eventually(
        () => hooks.find((h) => h.body.event === "resolved" && h.body.alert?.deviceId === "thr-1"),
        3_000,
        "webhook for the resolution",
      );
      expect(resolved.body.alert).toMatchObject({ id: alert.id, state: "resolved" });
      expect(resolved.body.note).toMatch(/signs of life/);
    } finally {
      clearInterval(pinger);
    }
    const rows = await listAlerts(db(), { deviceId: "thr-1" });
    expect(rows.map((r) => [r.kind, r.state])).toEqual([["offline", "resolved"]]);
    // The delivery log is written after the receiver has answered, off the alerting path: wait for it.
    const thr1Log = async () => {
      const log = await listDeliveries(db());
      return log.filter((d) => d.deviceId === "thr-1").map((d) => [d.event, d.ok, d.statusCode]);
    };
    await eventually(async () => (await thr1Log()).length >= 2, 5_000, "both deliveries logged");
    expect(await thr1Log()).toEqual([
      ["resolved", true, 200],
      ["fired", true, 200],
    ]);
    socket.destroy();
    // Silent again: its second offline alert fires now, not in the middle of a later test's snapshot.
    await eventually(() => firing("thr-1").length === 1, 8_000, "offline alert after the pings stop");
    await runtime.alerts!.flush();
  }, 40_000);

  it("raises exactly one flapping alert for a client that reconnects 5 times within a minute", async () => {
    for (let i = 0; i < 6; i++) {
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
        clientId: "flap-1",
        keepalive: 30,
        reconnectPeriod: 0,
      });
      await c.endAsync();
      if (i === 4) await eventually(() => firing("flap-1").length === 1, 2_000, "flapping alert after the fifth");
    }
    await new Promise((r) => setTimeout(r, 500));
    await runtime.alerts!.flush();
    const rows = await listAlerts(db(), { deviceId: "flap-1" });
    expect(rows.map((r) => [r.kind, r.state])).toEqual([["flapping", "firing"]]);
    expect(rows[0].message).toMatch(/5 disconnects within 60 s/);
  }, 20_000);

  it("keeps firing alerts firing across a restart, without duplicates or a storm", async () => {
    const before = await listAlerts(db(), { limit: 1000 });
    const firingBefore = before.filter((a) => a.state === "firing").map((a) => a.id);
    expect(firingBefore.length).toBeGreaterThanOrEqual(1);
    await runtime.stop();
    runtime = newRuntime();
    await runtime.start();
    expect(
      runtime
        .alerts!.feed()
        .firing.map((a) => a.id)
        .sort(),
    ).toEqual([...firingBefore].sort());
    await new Promise((r) => setTimeout(r, 3_000));
    await runtime.alerts!.flush();
    const after = await listAlerts(db(), { limit: 1000 });
    expect(after.map((a) => [a.id, a.state]).sort()).toEqual(before.map((a) => [a.id, a.state]).sort());
  }, 60_000);
});
