/**
 * Benchmark: the disconnect CSV export over a large history.
 *
 * Seeds a throwaway database (createTestDatabase) with `rows` ended sessions
 * (default 1,000,000, over 10,000 devices, one INSERT … SELECT
 * generate_series), then reads the whole export through the code that
 * serves GET /api/disconnects.csv (openDisconnectsCsv: keyset pages of 5,000
 * rows, encoded as they are pulled). It measures the time to the first byte
 * and to the last, and the process RSS, sampled every 50 ms, with the values
 * at 25 %, 50 % and 100 % of the rows to show memory stays flat as rows grow.
 * It also times one deep page of the JSON list (90 % into the history).
 *
 *   tsx scripts/bench/export.ts [rows]
 */
import { pathToFileURL } from "node:url";
import { openDisconnectsCsv } from "../../lib/api/disconnects";
import { connectSqlSession, createDb } from "../../lib/store/db";
import { getDisconnects, type DisconnectFilter } from "../../lib/store/disconnects";
import { createTestDatabase } from "../../lib/store/testing";

export interface ExportBenchResult {
  rows: number;
  seconds: number;
  peakRssMb: number;
  rssGrowthMb: number;
  rowsPerSecond: number;
  /** Bytes of CSV produced. */
  bytes: number;
  /** Time until the first chunk (header and first page) was out. */
  firstByteMs: number;
  /** RSS when the export passed each share of its rows. */
  checkpoints: Array<{ rows: number; rssMb: number }>;
  /** One 100-row page of GET /api/disconnects 90 % deep into the history, by cursor. */
  deepPageMs: number;
  seedSeconds: number;
}

const DEVICES = 10_000;
const mb = (bytes: number) => Math.round((bytes / 1_048_576) * 10) / 10;

/**
 * Seeds `rows` ended sessions over 10,000 devices (one in a thousand with a
 * formula-like id): a session every ~10 minutes per device, a mix of reasons,
 * some without last activity or keepalive. One INSERT … SELECT generate_series.
 */
export async function seedDisconnects(url: string, rows: number): Promise<void> {
  const sql = await connectSqlSession(url);
  try {
    await sql.query(
      `INSERT INTO devices (id, status, status_since, first_seen_at)
       SELECT CASE WHEN i % 1000 = 7 THEN '=HYPERLINK("http://x","bench-' || i || '")' ELSE 'bench-' || lpad(i::text, 5, '0') END,
              'offline', now(), timestamptz '2026-01-01'
       FROM generate_series(0, $1::int - 1) AS i`,
      [DEVICES],
    );
    await sql.query(
      `INSERT INTO sessions (device_id, connected_at, disconnected_at, reason, keepalive_seconds, last_activity_at)
       SELECT CASE WHEN d % 1000 = 7 THEN '=HYPERLINK("http://x","bench-' || d || '")' ELSE 'bench-' || lpad(d::text, 5, '0') END,
              start,
              start + interval '9 minutes' + (g % 57) * interval '1 second',
              (ARRAY['clean','keepalive_timeout','connection_lost','taken_over','protocol_error'])[1 + g % 5],
              CASE WHEN g % 11 = 0 THEN NULL ELSE 30 END,
              CASE WHEN g % 7 = 0 THEN NULL ELSE start + interval '8 minutes' END
       FROM generate_series(0, $1::int - 1) AS g,
            LATERAL (SELECT g % $2::int AS d) AS dev,
            LATERAL (SELECT timestamptz '2026-01-01' + (g / $2::int) * interval '10 minutes'
                            + (g % $2::int) * interval '37 milliseconds' AS start) AS t`,
      [rows, DEVICES],
    );
    // A history weeks old has been vacuumed by autovacuum (visibility map set); a fresh bulk load has not.
    await sql.query("VACUUM ANALYZE sessions");
    await sql.query("ANALYZE devices");
  } finally {
    await sql.end();
  }
}

export async function benchExport(
  opts: { rows?: number; log?: (line: string) => void } = {},
): Promise<ExportBenchResult> {
  const total = opts.rows ?? 1_000_000;
  const log = opts.log ?? (() => {});
  const database = await createTestDatabase();
  const db = createDb({ connectionString: database.url });
  try {
    const seedStart = performance.now();
    await seedDisconnects(database.url, total);
    const seedSeconds = (performance.now() - seedStart) / 1000;
    log(`seeded ${total.toLocaleString("en")} disconnects in ${seedSeconds.toFixed(1)} s`);

    const filter: DisconnectFilter = {
      from: null,
      to: Date.parse("2100-01-01T00:00:00Z"),
      device: null,
      reasons: null,
    };

    // ---- deep page: find the key 90 % in (OFFSET only here, to pick a position), then time the keyset page
    const deepSql = await connectSqlSession(database.url);
    let deepPageMs = Number.NaN;
    try {
      const { rows } = await deepSql.query(
        `SELECT device_id, connected_at, disconnected_at FROM sessions
         ORDER BY disconnected_at DESC, device_id DESC, connected_at DESC OFFSET $1 LIMIT 1`,
        [Math.floor(total * 0.9)],
      );
      if (rows[0]) {
        const after = {
          deviceId: rows[0].device_id as string,
          connectedAt: (rows[0].connected_at as Date).getTime(),
          disconnectedAt: (rows[0].disconnected_at as Date).getTime(),
        };
        await getDisconnects(db, { filter, after, limit: 100 }); // warm the plan and the pages
        const runs: number[] = [];
        for (let i = 0; i < 5; i++) {
          const t0 = performance.now();
          await getDisconnects(db, { filter, after, limit: 100 });
          runs.push(performance.now() - t0);
        }
        deepPageMs = Math.round(runs.sort((a, b) => a - b)[2] * 100) / 100;
      }
    } finally {
      await deepSql.end();
    }

    // ---- export
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    const marks = [0.25, 0.5, 1].map((share) => Math.max(1, Math.round(total * share)));
    const checkpoints: Array<{ rows: number; rssMb: number }> = [];
    let lines = 0;
    let bytes = 0;
    let firstByteMs = Number.NaN;
    const start = performance.now();
    try {
      const reader = (await openDisconnectsCsv(db, { filter })).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (Number.isNaN(firstByteMs)) firstByteMs = Math.round((performance.now() - start) * 10) / 10;
        bytes += value.byteLength;
        for (let i = value.indexOf(10); i !== -1; i = value.indexOf(10, i + 1)) lines++;
        const rss = process.memoryUsage().rss;
        peak = Math.max(peak, rss);
        while (checkpoints.length < marks.length && lines - 1 >= marks[checkpoints.length]) {
          checkpoints.push({ rows: marks[checkpoints.length], rssMb: mb(rss) });
        }
      }
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - start) / 1000;
    const rows = lines - 1; // minus the header
    if (rows !== total) throw new Error(`export produced ${rows} rows, expected ${total}`);
    return {
      rows,
      seconds: Math.round(seconds * 100) / 100,
      peakRssMb: mb(peak),
      rssGrowthMb: mb(peak - baseline),
      rowsPerSecond: Math.round(rows / seconds),
      bytes,
      firstByteMs,
      checkpoints,
      deepPageMs,
      seedSeconds: Math.round(seedSeconds * 10) / 10,
    };
  } finally {
    await db.$disconnect();
    await database.drop();
  }
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  const rows = arg ? Number(arg.replace(/[_,]/g, "")) : undefined;
  const r = await benchExport({ rows, log: (line) => console.log(`export: ${line}`) });
  const n = (x: number) => x.toLocaleString("en");
  console.log(
    `export: ${n(r.rows)} rows, ${n(Math.round(r.bytes / 1024 / 1024))} MB of CSV in ${r.seconds} s (${n(r.rowsPerSecond)} rows/s)`,
  );
  console.log(`export: first byte after ${r.firstByteMs} ms`);
  console.log(`export: peak RSS ${r.peakRssMb} MB, growth during the export ${r.rssGrowthMb} MB`);
  console.log(`export: RSS at ${r.checkpoints.map((c) => `${n(c.rows)} rows ${c.rssMb} MB`).join(", ")}`);
  console.log(`export: deep page (100 rows, 90 % in, by cursor) ${r.deepPageMs} ms`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(`export: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  });
}
