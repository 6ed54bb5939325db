/**
 * Alert hygiene on a real Mosquitto 2.0 (debug log followed) and a real
 * Postgres, with real MQTT.js clients and a webhook receiver on localhost:
 * - the broker stops: one system alert after ALERT_BROKER_DOWN_SECONDS, no
 *   device alert while it is down nor after it is back;
 * - the broker restarts and 15 devices never return: ONE incident and one
 *   notification where 15 device notifications went before;
 * - an acknowledged alert stops repeating, and repeats again once un-acknowledged;
 * - a silence records without sending, and notifies once at its end for what
 *   still fires (nothing for a device that came back meanwhile);
 * - devices imported as expected that never show up raise `never_seen`;
 * - the database refuses connections: a system alert is sent while it is
 *   down, and written (fired and resolved) once it is back.
 */
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config";
import { Runtime } from "../runtime";
import { importDevices } from "../api/inventory";
import {
  createAlertRule,
  listAlertRules,
  listAlerts,
  setAlertAck,
  updateAlertRule,
  type AlertRecord,
} from "../store/alerts";
import { createSilence } from "../store/silences";
import { createTestDatabase, withAdmin, type TestDatabase } from "../store/testing";
import { startWebhookReceiver, type WebhookReceiver } from "../testing/webhooks";
import { eventually } from "../testing/clients";
import { startMosquitto, type TestBroker } from "../testing/mosquitto";
import { DEFAULT_RULE } from "./rules";

let broker: TestBroker;
let database: TestDatabase;
let runtime: Runtime;
let receiver: WebhookReceiver;
let hookUrl: string;
let hooks: WebhookReceiver["hooks"] = [];
const clients: MqttClient[] = [];

const db = () => runtime.db!.prisma;
const feed = () => runtime.alerts!.feed();
const hooksSince = (i: number) => hooks.slice(i).map((h) => h.body);
const deviceHooks = (i: number, prefix: string) =>
  hooksSince(i).filter((b) => b.alert?.deviceId?.startsWith(prefix) ?? false);

async function connect(clientId: string, opts: { reconnect: boolean }): Promise<MqttClient> {
  const c = await mqtt.connectAsync(broker.url, {
    clientId,
    keepalive: 5,
    reconnectPeriod: opts.reconnect ? 300 : 0,
  });
  c.on("error", () => undefined);
  clients.push(c);
  return c;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  broker = await startMosquitto({ debugLog: true });
  const logFile = broker.debugLogFile!;
  database = await createTestDatabase();
  receiver = await startWebhookReceiver();
  hooks = receiver.hooks;
  hookUrl = receiver.url;
  runtime = new Runtime(
    loadConfig({
      MQTT_URL: broker.url,
      DATABASE_URL: database.url,
      MOSQUITTO_LOG_FILE: logFile,
      PORT: "3988",
      ALERT_RESTART_WINDOW_SECONDS: "3",
      ALERT_BROKER_DOWN_SECONDS: "3",
      ALERT_DATABASE_DOWN_SECONDS: "3",
      INCIDENT_GROUP_WAIT_SECONDS: "1",
      INCIDENT_WINDOW_SECONDS: "120",
      EXPECTED_GRACE_HOURS: "0.002", // 7.2 s
      KEEPWATCH_WEBHOOK_ALLOW: "127.0.0.1",
    }),
  );
  await runtime.start();
  await eventually(() => runtime.health().broker.connected && runtime.pingsVisible, 10_000, "link up, pings visible");
  const [def] = (await listAlertRules(db())).filter((r) => r.isDefault);
  await updateAlertRule(db(), def.id, { ...DEFAULT_RULE, resolveAfterSeconds: 2, webhookUrl: hookUrl });
  await runtime.alerts!.reloadRules();
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.end(true);
  await runtime?.stop();
  await broker?.dispose();
  await database?.drop();
  await receiver?.close();
});

describe("system alerts: the broker before its devices", () => {
  it("a broker stop raises one system alert after ALERT_BROKER_DOWN_SECONDS and no device alert", async () => {
    for (const id of ["bd-1", "bd-2", "bd-3"]) await connect(id, { reconnect: true });
    await eventually(
      () => ["bd-1", "bd-2", "bd-3"].every((id) => runtime.fleet.get(id)?.status === "online"),
      5_000,
      "online",
    );
    const mark = hooks.length;
    const stoppedAt = Date.now();
    await broker.stop();
    const fired = await eventually(
      () => hooksSince(mark).find((b) => b.event === "fired" && b.alert?.source === "broker"),
      10_000,
      "broker system alert notified",
    );
    const firedAt = Date.parse(fired.alert!.firedAt);
    console.log(`[hygiene] broker down → system alert after ${firedAt - stoppedAt} ms (threshold 3000)`);
    expect(firedAt - stoppedAt).toBeGreaterThanOrEqual(3_000);
    expect(firedAt - stoppedAt).toBeLessThan(6_000);
    expect(fired.alert).toMatchObject({ kind: "system", deviceId: null, state: "firing" });
    expect(feed().firing.filter((a) => a.source === "broker")).toHaveLength(1);
    // Down a while longer: the devices are unknown, nothing fires for them.
    await wait(3_000);
    expect(feed().firing.filter((a) => a.deviceId?.startsWith("bd-"))).toEqual([]);

    await broker.start();
    await eventually(
      () => hooksSince(mark).find((b) => b.event === "resolved" && b.alert?.source === "broker"),
      10_000,
      "broker system alert resolved",
    );
    await eventually(
      () => ["bd-1", "bd-2", "bd-3"].every((id) => runtime.fleet.get(id)?.status === "online"),
      10_000,
      "back",
    );
    // Past the reconnect window: still nothing for the devices, and exactly one broker alert in all.
    await wait(4_000);
    expect(deviceHooks(mark, "bd-")).toEqual([]);
    expect((await listAlerts(db(), { limit: 1000 })).filter((a) => a.deviceId?.startsWith("bd-"))).toEqual([]);
    expect(hooksSince(mark).filter((b) => b.event === "fired" && b.alert?.source === "broker")).toHaveLength(1);
    // The restart itself is an event: fired and resolved at once.
    const restart = (await listAlerts(db(), { limit: 1000 })).filter((a) => a.source === "broker_restart");
    expect(restart.length).toBeGreaterThanOrEqual(1);
    expect(restart[0].state).toBe("resolved");
  }, 60_000);
});

describe("incidents", () => {
  it("a broker restart where 15 devices leave gives one incident and one notification", async () => {
    const leaving = Array.from({ length: 15 }, (_, i) => `inc-${String(i + 1).padStart(2, "0")}`);
    for (const id of leaving) await connect(id, { reconnect: false });
    for (const id of ["inc-back-1", "inc-back-2"]) await connect(id, { reconnect: true });
    const all = [...leaving, "inc-back-1", "inc-back-2"];
    await eventually(() => all.every((id) => runtime.fleet.get(id)?.status === "online"), 5_000, "online");
    const mark = hooks.length;
    await broker.stop();
    await broker.start();
    const opened = await eventually(
      () => hooksSince(mark).find((b) => b.event === "incident_opened"),
      20_000,
      "incident notified",
    );
    expect(opened.incident).toMatchObject({
      state: "open",
      deviceCount: 15,
      stillOffline: 15,
      cause: { kind: "broker_restart" },
    });
    expect(opened.incident!.message).toMatch(/^15 devices offline after broker restart at \d\d:\d\d:\d\d UTC$/);
    // Give stray notifications time to show.
    await wait(3_000);
    const since = hooksSince(mark);
    console.log(
      `[hygiene] restart, 15 leave: notifications ${JSON.stringify(since.map((b) => b.event + ":" + (b.alert?.source ?? b.alert?.deviceId ?? b.incident?.id)))}`,
    );
    expect(since.filter((b) => b.event === "incident_opened")).toHaveLength(1);
    expect(deviceHooks(mark, "inc-")).toEqual([]);
    expect(feed().incidents).toHaveLength(1);
    // The 15 offline alerts are recorded, in the incident, not notified on their own.
    const alerts = (await listAlerts(db(), { state: "firing", limit: 1000 })).filter((a) =>
      a.deviceId?.startsWith("inc-"),
    );
    expect(alerts.map((a) => a.deviceId).sort()).toEqual(leaving);
    for (const a of alerts)
      expect(a).toMatchObject({ kind: "offline", incidentId: opened.incident!.id, notified: false });

    // Three come back: counted, no notification (updates at most every INCIDENT_UPDATE_SECONDS).
    const before = hooks.length;
    for (const id of leaving.slice(0, 3)) await connect(id, { reconnect: false });
    await eventually(() => feed().incidents[0]?.stillOffline === 12, 40_000, "12 still offline");
    expect(hooksSince(before).filter((b) => b.incident)).toEqual([]);
  }, 90_000);
});

describe("acknowledge", () => {
  it("an acknowledged alert stops repeating; un-acknowledged it repeats again", async () => {
    await createAlertRule(db(), {
      ...DEFAULT_RULE,
      name: "ack",
      match: "ack-*",
      offlineFactor: null,
      offlineSeconds: 1,
      repeatIntervalSeconds: 10,
      webhookUrl: hookUrl,
    });
    await runtime.alerts!.reloadRules();
    const mark = hooks.length;
    const c = await connect("ack-1", { reconnect: false });
    await eventually(() => runtime.fleet.get("ack-1")?.status === "online", 5_000, "online");
    await c.endAsync();
    const fired = await eventually(
      () => deviceHooks(mark, "ack-1").find((b) => b.event === "fired"),
      10_000,
      "offline alert notified",
    );
    const id = fired.alert!.id;
    const ackEntries = (r: AlertRecord) => runtime.alerts!.ackEntries(r);
    const acked = await setAlertAck(db(), id, { by: "operator-1", comment: "on it", at: Date.now() }, ackEntries);
    runtime.alerts!.noteAck(acked!);
    expect(feed().firing.find((a) => a.id === id)).toMatchObject({ acknowledgedBy: "operator-1", ackComment: "on it" });
    const ackedAt = Date.now();
    // The acknowledgement is told once, with its comment; acknowledging again only changes the comment.
    const told = await eventually(
      () => deviceHooks(mark, "ack-1").find((b) => b.event === "acknowledged"),
      5_000,
      "acknowledgement notified",
    );
    expect(told.note).toBe("on it");
    runtime.alerts!.noteAck(
      (await setAlertAck(db(), id, { by: "operator-2", comment: "still on it", at: Date.now() }, ackEntries))!,
    );
    await wait(12_000);
    expect(deviceHooks(mark, "ack-1").filter((b) => b.event === "repeat")).toEqual([]);
    expect(deviceHooks(mark, "ack-1").filter((b) => b.event === "acknowledged")).toHaveLength(1);
    runtime.alerts!.noteAck((await setAlertAck(db(), id, null))!);
    const repeat = await eventually(
      () => deviceHooks(mark, "ack-1").find((b) => b.event === "repeat"),
      12_000,
      "repeat after un-acknowledging",
    );
    console.log(`[hygiene] acknowledged for ${Date.now() - ackedAt} ms without a repeat; repeat after un-ack`);
    expect(repeat.alert!.id).toBe(id);
  }, 60_000);
});

describe("silences", () => {
  it("records without sending, and notifies once at its end for what still fires", async () => {
    await createAlertRule(db(), {
      ...DEFAULT_RULE,
      name: "sil",
      match: "sil-*",
      // Longer than the clients' keepalive (5 s): a healthy connected client is never silent that long.
      offlineFactor: null,
      offlineSeconds: 6,
      resolveAfterSeconds: 0,
      webhookUrl: hookUrl,
    });
    await runtime.alerts!.reloadRules();
    const endsAt = Date.now() + 16_000;
    await createSilence(
      db(),
      { match: "sil-*", tags: [], startsAt: Date.now(), endsAt, recurrence: null, comment: "maintenance" },
      "operator-1",
    );
    await runtime.alerts!.reloadSilences();
    const mark = hooks.length;
    const one = await connect("sil-1", { reconnect: false });
    const two = await connect("sil-2", { reconnect: false });
    await eventually(
      () => ["sil-1", "sil-2"].every((id) => runtime.fleet.get(id)?.status === "online"),
      5_000,
      "online",
    );
    expect(runtime.deviceDto(runtime.fleet.get("sil-1")!).muted).toBe(true);
    await one.endAsync();
    await two.endAsync();
    await eventually(
      () => ["sil-1", "sil-2"].every((id) => feed().firing.some((a) => a.deviceId === id && a.silenced)),
      12_000,
      "both fire, silenced",
    );
    // sil-2 is fine again before the silence ends.
    await connect("sil-2", { reconnect: false });
    await eventually(() => !feed().firing.some((a) => a.deviceId === "sil-2"), 10_000, "sil-2 resolved");
    expect(deviceHooks(mark, "sil-")).toEqual([]);
    await wait(Math.max(0, endsAt - Date.now()));
    const fired = await eventually(
      () => deviceHooks(mark, "sil-").find((b) => b.event === "fired"),
      5_000,
      "sil-1 notified at the silence's end",
    );
    console.log(`[hygiene] silence ended → notified after ${Date.now() - endsAt} ms`);
    expect(fired.alert!.deviceId).toBe("sil-1");
    await wait(2_000);
    expect(deviceHooks(mark, "sil-").map((b) => `${b.event}:${b.alert!.deviceId}`)).toEqual(["fired:sil-1"]);
    expect(runtime.deviceDto(runtime.fleet.get("sil-1")!).muted).toBe(false);
  }, 60_000);
});

describe("expected devices", () => {
  it("an imported device that never shows up raises never_seen; one that connects in time does not", async () => {
    const csv = "device_id,name,tags\nexp-1,Pump one,site:a;pumps\nexp-2,Pump two,site:a\n";
    const request = new Request("http://localhost/api/devices/import", {
      method: "POST",
      headers: { "content-type": "text/csv" },
      body: csv,
    });
    const result = await importDevices(runtime, request, false);
    expect(result).toMatchObject({ created: 2, updated: 0, errors: [] });
    const importedAt = Date.now();
    expect(runtime.deviceDto(runtime.fleet.get("exp-1")!)).toMatchObject({
      status: "unknown",
      name: "Pump one",
      tags: ["pumps", "site:a"],
      expected: true,
    });
    await connect("exp-2", { reconnect: false });
    const alert = await eventually(
      () => feed().firing.find((a) => a.deviceId === "exp-1" && a.kind === "never_seen"),
      15_000,
      "never_seen for exp-1",
    );
    console.log(`[hygiene] never_seen after ${Date.now() - importedAt} ms (grace 7200 ms)`);
    expect(Date.now() - importedAt).toBeGreaterThanOrEqual(7_000);
    expect(alert.deviceName).toBe("Pump one");
    expect(feed().firing.filter((a) => a.deviceId === "exp-2")).toEqual([]);
    await connect("exp-1", { reconnect: false });
    await eventually(
      () => !feed().firing.some((a) => a.deviceId === "exp-1" && a.kind === "never_seen"),
      5_000,
      "resolved",
    );
  }, 40_000);
});

describe("system alerts: the database", () => {
  const setAccess = (allowed: boolean) =>
    withAdmin(async (admin) => {
      await admin.query(`ALTER DATABASE "${database.name}" WITH ALLOW_CONNECTIONS ${allowed}`);
      if (!allowed)
        await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [database.name]);
    });

  it("writes failing past ALERT_DATABASE_DOWN_SECONDS notify at once, and the alert is stored when it is back", async () => {
    const mark = hooks.length;
    const downAt = Date.now();
    await setAccess(false);
    try {
      const fired = await eventually(
        () => hooksSince(mark).find((b) => b.event === "fired" && b.alert?.source === "database"),
        15_000,
        "database system alert sent while the database is down",
      );
      console.log(`[hygiene] database refused → system alert sent after ${Date.now() - downAt} ms (threshold 3000)`);
      expect(Date.parse(fired.alert!.firedAt) - downAt).toBeGreaterThanOrEqual(3_000);
      expect(fired.alert!.message).toMatch(/database writes failing since/);
    } finally {
      await setAccess(true);
    }
    await eventually(
      () => hooksSince(mark).find((b) => b.event === "resolved" && b.alert?.source === "database"),
      20_000,
      "resolved once writes succeed",
    );
    const stored = await eventually(
      async () =>
        (await listAlerts(db(), { limit: 1000 })).find((a) => a.source === "database" && a.state === "resolved"),
      20_000,
      "the outage's alert written once the database is back",
    );
    expect(stored.resolvedAt! - stored.firedAt).toBeGreaterThan(0);
  }, 60_000);
});

describe("forgetting long-gone devices", () => {
  it("keeps a device the operator labelled, forgets an unlabelled one, at start", async () => {
    const longAgo = new Date(Date.now() - 40 * 86_400_000).toISOString();
    await db().$executeRawUnsafe(
      `INSERT INTO devices (id, status, status_since, first_seen_at, last_seen_at)
       VALUES ('old-plain', 'offline', $1::timestamptz, $1::timestamptz, $1::timestamptz),
              ('old-labelled', 'offline', $1::timestamptz, $1::timestamptz, $1::timestamptz)`,
      longAgo,
    );
    await db().$executeRawUnsafe(`INSERT INTO device_labels (device_id, name) VALUES ('old-labelled', 'Spare pump')`);
    const second = new Runtime(
      loadConfig({ MQTT_URL: broker.url, DATABASE_URL: database.url, PORT: "3987", FORGET_AFTER_DAYS: "30" }),
    );
    try {
      await second.start();
      expect(second.fleet.get("old-labelled")).toBeDefined();
      expect(second.fleet.get("old-plain")).toBeUndefined();
      expect(second.deviceDto(second.fleet.get("old-labelled")!).name).toBe("Spare pump");
    } finally {
      await second.stop();
    }
  }, 60_000);
});
