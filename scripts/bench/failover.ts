/**
 * Failover, caused for real: two keepwatch processes (lib/testing/keepwatch-process.ts, the server's V8
 * options) on one Postgres and one Mosquitto, real MQTT.js devices, a webhook receiver for the
 * notifications. Each round kills the leader with SIGKILL, then (the killed one started again, standing by)
 * stops the new leader with SIGTERM; devices disconnect during each switch. Measured: the time until the
 * other instance answers as leader, and what the switch did to the fleet: devices it turned `unknown`,
 * disconnects of the switch not stored, sessions stored twice, alerts or notifications doubled.
 */
import mqtt, { type MqttClient } from "mqtt";
import { createDb } from "../../lib/store/db";
import { createChannel } from "../../lib/store/notifications";
import { createTestDatabase } from "../../lib/store/testing";
import { eventually } from "../../lib/testing/clients";
import { offlineAfterOneSecond, startKeepwatchProcess, type KeepwatchProcess } from "../../lib/testing/cluster";
import { startMosquitto } from "../../lib/testing/mosquitto";
import { startWebhookReceiver } from "../../lib/testing/webhooks";
import { fmt, median, sleep, using } from "./common";

export interface FailoverOptions {
  rounds: number;
  /** Devices connected through the whole run. */
  devices: number;
  /** Devices that disconnect during each switch. */
  dropDuring: number;
  log(msg: string): void;
}

export const DEFAULT_FAILOVER = { devices: 200, dropDuring: 10 };

/** KEEPWATCH_FAILOVER_SECONDS's default: the target for a killed leader. */
export const FAILOVER_SECONDS = 5;

export interface FailoverRun {
  round: number;
  signal: "SIGKILL" | "SIGTERM";
  /** Signal sent → the other instance answers `leader` (health polled every 25 ms). */
  ms: number;
  /** Devices `unknown` on the new leader right after the switch. */
  unknown: number;
  /** Devices that disconnected during the switch, and how many of those disconnects Postgres holds. */
  dropped: number;
  stored: number;
  /** Devices with more than one stored session (each connected once). */
  doubledSessions: number;
  /** Devices with more than one alert row, or more than one "fired" notification. */
  doubledAlerts: number;
  /** Notifications received twice (the same Idempotency-Key). */
  doubledNotifications: number;
}

export interface FailoverSummary {
  options: Omit<FailoverOptions, "log">;
  runs: FailoverRun[];
  killMs: number;
  killMaxMs: number;
  termMs: number;
  termMaxMs: number;
  unknown: number;
  lost: number;
  doubled: number;
}

export async function runFailover(o: FailoverOptions): Promise<FailoverSummary> {
  const runs = await using(async (res) => {
    const broker = await startMosquitto();
    res.defer("broker", () => broker.stop());
    const database = await createTestDatabase();
    res.defer("database", () => database.drop());
    const db = createDb({ connectionString: database.url });
    res.defer("database client", () => db.$disconnect());
    const receiver = await startWebhookReceiver();
    res.defer("webhook receiver", () => receiver.close());
    const channel = await createChannel(db, {
      name: "failover",
      type: "webhook",
      config: { url: receiver.url },
      enabled: true,
      defaultForSystem: false,
      ratePerMinute: null,
    });

    const instances = new Map<string, KeepwatchProcess>();
    const start = async (id: string) => {
      const p = await startKeepwatchProcess(id, {
        DATABASE_URL: database.url,
        MQTT_URL: broker.url,
        KEEPWATCH_WEBHOOK_ALLOW: "127.0.0.1",
        // Each dropped device notifies on its own: its notifications can be counted.
        INCIDENT_MIN_DEVICES: "1000000",
        INCIDENT_GROUP_WAIT_SECONDS: "0",
      });
      instances.set(id, p);
      res.defer(`keepwatch ${id}`, async () => {
        p.proc.kill("SIGCONT");
        p.proc.kill("SIGKILL");
      });
      return p;
    };
    await Promise.all(["kw-1", "kw-2"].map(start));
    const role = async (id: string) => {
      try {
        return (await instances.get(id)!.health()).cluster.role;
      } catch {
        return "down";
      }
    };
    const leaderOf = async () => {
      for (const id of instances.keys()) if ((await role(id)) === "leader") return id;
      return null;
    };
    const leader0 = await eventually(leaderOf, 20_000, "a leader");
    const saved = await instances
      .get(leader0)!
      .addRule(offlineAfterOneSecond("failover devices", "fo-*", [channel.id]));
    if (saved !== 201) throw new Error(`rule not saved: HTTP ${saved}`);

    const devices = new Map<string, MqttClient>();
    res.defer("devices", async () => {
      for (const c of devices.values()) c.end(true);
    });
    const ids = Array.from({ length: o.devices }, (_, i) => `fo-${String(i).padStart(4, "0")}`);
    for (let i = 0; i < ids.length; i += 50)
      await Promise.all(
        ids.slice(i, i + 50).map(async (id) => {
          const c = await mqtt.connectAsync(broker.url, { clientId: id, keepalive: 30, reconnectPeriod: 0 });
          c.on("error", () => undefined);
          devices.set(id, c);
        }),
      );
    await eventually(
      async () => {
        for (const p of instances.values()) {
          const s = await p.statuses();
          if (!ids.every((id) => s[id] === "online")) return false;
        }
        return true;
      },
      30_000,
      "every instance sees every device online",
    );

    const out: FailoverRun[] = [];
    let next = 0;
    const switchOnce = async (round: number, signal: FailoverRun["signal"]): Promise<FailoverRun> => {
      const leader = (await leaderOf())!;
      const other = [...instances.keys()].find((id) => id !== leader)!;
      await eventually(async () => (await role(other)) === "standby", 20_000, `${other} stands by`);
      const drops = ids.slice(next, next + o.dropDuring);
      next += drops.length;
      const sentAt = Date.now();
      const stopping = instances.get(leader)!.signal(signal);
      // Devices leave while the leader goes.
      await Promise.all(drops.map((id) => devices.get(id)!.endAsync()));
      for (const id of drops) devices.delete(id);
      let ms = -1;
      for (;;) {
        if ((await role(other)) === "leader") {
          ms = Date.now() - sentAt;
          break;
        }
        if (Date.now() - sentAt > 60_000) throw new Error(`no leader 60 s after ${signal}`);
        await sleep(25);
      }
      await stopping;
      instances.delete(leader);
      const statuses = await instances.get(other)!.statuses();
      const unknown = ids.filter((id) => statuses[id] === "unknown").length;
      // The switch's disconnects and their alerts, from the new leader (given 20 s).
      const closed = async () => {
        const rows = await db.$queryRaw<{ n: bigint }[]>`
          SELECT count(*) AS n FROM "sessions" WHERE "device_id" = ANY(${drops}) AND "disconnected_at" IS NOT NULL`;
        return Number(rows[0].n);
      };
      await eventually(async () => (await closed()) >= drops.length, 20_000, "the switch's disconnects stored").catch(
        () => undefined,
      );
      const fired = (id: string) =>
        receiver.hooks.filter((h) => h.body.event === "fired" && h.body.alert?.deviceId === id).length;
      await eventually(() => drops.every((id) => fired(id) >= 1), 20_000, "the switch's alerts notified").catch(
        () => undefined,
      );
      await sleep(1_500);
      const stored = await closed();
      const [sessions] = await db.$queryRaw<{ n: bigint }[]>`
        SELECT count(*) AS n FROM (SELECT "device_id" FROM "sessions" WHERE "device_id" LIKE 'fo-%'
        GROUP BY 1 HAVING count(*) > 1) d`;
      const [alerts] = await db.$queryRaw<{ n: bigint }[]>`
        SELECT count(*) AS n FROM (SELECT "device_id" FROM "alerts" WHERE "device_id" LIKE 'fo-%'
        GROUP BY 1 HAVING count(*) > 1) d`;
      const keys = receiver.hooks.map((h) => String(h.headers["idempotency-key"]));
      const run: FailoverRun = {
        round,
        signal,
        ms,
        unknown,
        dropped: drops.length,
        stored,
        doubledSessions: Number(sessions.n),
        doubledAlerts: Math.max(Number(alerts.n), ids.filter((id) => fired(id) > 1).length),
        doubledNotifications: keys.length - new Set(keys).size,
      };
      o.log(
        `failover round ${round}, ${signal}: ${other} leads after ${fmt(ms)} ms; unknown ${unknown}, ` +
          `disconnects stored ${stored}/${drops.length}, sessions doubled ${run.doubledSessions}, ` +
          `alerts doubled ${run.doubledAlerts}, notifications doubled ${run.doubledNotifications}`,
      );
      // The stopped one comes back as a standby for the next switch.
      await start(leader);
      return run;
    };
    for (let round = 1; round <= o.rounds; round++) {
      out.push(await switchOnce(round, "SIGKILL"));
      out.push(await switchOnce(round, "SIGTERM"));
    }
    return out;
  });
  const kills = runs.filter((r) => r.signal === "SIGKILL").map((r) => r.ms);
  const terms = runs.filter((r) => r.signal === "SIGTERM").map((r) => r.ms);
  const { log: _log, ...options } = o;
  return {
    options,
    runs,
    killMs: median(kills),
    killMaxMs: Math.max(...kills),
    termMs: median(terms),
    termMaxMs: Math.max(...terms),
    unknown: runs.reduce((n, r) => n + r.unknown, 0),
    lost: runs.reduce((n, r) => n + r.dropped - r.stored, 0),
    doubled: runs.reduce((n, r) => n + r.doubledSessions + r.doubledAlerts + r.doubledNotifications, 0),
  };
}
