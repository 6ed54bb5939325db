/**
 * Start-up at scale: a Postgres seeded with N devices (half with an open
 * session), then a fresh keepwatch process (restore-child.ts) that restores
 * them. Figures: seconds until the runtime has started, peak RSS of the
 * process (VmHWM) and RSS right after. One stage per fleet size.
 */
import pg from "pg";
import { createTestDatabase } from "../../lib/store/testing";
import { startMosquitto } from "../../lib/testing/mosquitto";
import { Child, median, using } from "./common";
import type { RestorePlan, RestoreResult } from "./restore-child";
import { SERVER_NODE_FLAGS } from "../node-options.mjs";

export interface RestoreOptions {
  rounds: number;
  sizes: number[];
  log(msg: string): void;
}

export const DEFAULT_RESTORE = { sizes: [100_000, 1_000_000] };

export interface RestoreMeasurement {
  devices: number;
  round: number;
  seconds: number;
  settledSeconds: number;
  peakRssMb: number;
  rssMb: number;
}

export interface RestoreSummary {
  options: Omit<RestoreOptions, "log">;
  runs: RestoreMeasurement[];
  /** Medians per fleet size. */
  stages: { devices: number; seconds: number; settledSeconds: number; peakRssMb: number; rssMb: number }[];
}

/** N devices as keepwatch writes them; the even ones online with an open session. */
export async function seed(url: string, n: number): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(
      `INSERT INTO "devices" ("id", "status", "status_since", "keepalive_seconds", "last_seen_at", "last_confirmed_at",
                              "connected_at", "session_open", "disconnect_count", "sources", "first_seen_at", "updated_at")
       SELECT 'dev-' || lpad(i::text, 7, '0'), CASE WHEN i % 2 = 0 THEN 'online' ELSE 'offline' END,
              now() - interval '1 hour', 60, now() - interval '10 seconds', now() - interval '10 seconds',
              now() - interval '1 hour', i % 2 = 0, i % 5, ARRAY['mosquitto-log'], now() - interval '1 day', now()
         FROM generate_series(1, $1) AS i`,
      [n],
    );
    await c.query(
      `INSERT INTO "sessions" ("device_id", "connected_at", "keepalive_seconds", "last_activity_at")
       SELECT 'dev-' || lpad(i::text, 7, '0'), now() - interval '1 hour', 60, now() - interval '10 seconds'
         FROM generate_series(2, $1, 2) AS i`,
      [n],
    );
    await c.query(`ANALYZE "devices"; ANALYZE "sessions"`);
  } finally {
    await c.end();
  }
}

export async function runRestore(o: RestoreOptions): Promise<RestoreSummary> {
  const runs: RestoreMeasurement[] = [];
  for (const devices of o.sizes) {
    await using(async (res) => {
      const db = await createTestDatabase();
      res.defer("database", () => db.drop());
      const broker = await startMosquitto();
      res.defer("broker", () => broker.stop());
      const seeding = Date.now();
      await seed(db.url, devices);
      o.log(
        `restore: seeded ${devices.toLocaleString("en")} devices in ${((Date.now() - seeding) / 1000).toFixed(1)} s`,
      );
      for (let round = 1; round <= o.rounds; round++) {
        const plan: RestorePlan = { databaseUrl: db.url, mqttUrl: broker.url };
        const child = new Child("restore", "./restore-child.ts", [JSON.stringify(plan)], [...SERVER_NODE_FLAGS]);
        try {
          const r = await child.next<RestoreResult>("result", 300_000);
          if (r.devices !== devices) throw new Error(`restored ${r.devices} devices, expected ${devices}`);
          const { seconds, settledSeconds, peakRssMb, rssMb } = r;
          runs.push({ devices, round, seconds, settledSeconds, peakRssMb, rssMb });
          o.log(
            `restore ${devices.toLocaleString("en")} round ${round}: started in ${seconds.toFixed(1)} s, written back by ${settledSeconds.toFixed(1)} s, peak RSS ${Math.round(peakRssMb)} MB, then ${Math.round(rssMb)} MB`,
          );
        } finally {
          await child.close(30_000);
        }
      }
    });
  }
  const stages = o.sizes.map((devices) => {
    const mine = runs.filter((r) => r.devices === devices);
    return {
      devices,
      seconds: median(mine.map((r) => r.seconds)),
      settledSeconds: median(mine.map((r) => r.settledSeconds)),
      peakRssMb: median(mine.map((r) => r.peakRssMb)),
      rssMb: median(mine.map((r) => r.rssMb)),
    };
  });
  return { options: { rounds: o.rounds, sizes: o.sizes }, runs, stages };
}
