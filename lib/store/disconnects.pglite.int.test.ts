/**
 * Disconnect history on the embedded database: the same rows, pages,
 * summary and CSV from PGlite as from Postgres for the same sessions.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDisconnectsCsv } from "../api/disconnects";
import { buildUptimeReport, parseUptimeQuery } from "../api/reports";
import { compileDeviceGlob } from "../api/glob";
import { connectSqlSession, createDb, type Db } from "./db";
import { getDisconnects, getDisconnectSummary, iterateDisconnects, type DisconnectFilter } from "./disconnects";
import { migrate } from "./migrate";
import { openEmbeddedDatabase, type Database } from "./open";
import { createTestDatabase, MIGRATIONS_DIR, type TestDatabase } from "./testing";

const SEED = `
  INSERT INTO devices (id, status, status_since, first_seen_at)
  SELECT 'dev-' || i, 'offline', now(), '2026-11-01T00:00:00Z' FROM generate_series(0, 4) i;
  INSERT INTO devices (id, status, status_since, first_seen_at) VALUES ('=cmd|x', 'offline', now(), '2026-11-01T00:00:00Z');
  INSERT INTO sessions (device_id, connected_at, disconnected_at, reason, keepalive_seconds, last_activity_at)
  SELECT 'dev-' || (g % 5),
         timestamptz '2026-11-01T00:00:00Z' + g * interval '70 seconds',
         timestamptz '2026-11-01T00:00:00Z' + g * interval '70 seconds' + interval '61.25 seconds',
         (ARRAY['clean','keepalive_timeout','connection_lost','taken_over','weird'])[1 + g % 5],
         CASE WHEN g % 3 = 0 THEN NULL ELSE 30 END,
         CASE WHEN g % 4 = 0 THEN NULL ELSE timestamptz '2026-11-01T00:00:00Z' + g * interval '70 seconds' + interval '30 seconds' END
  FROM generate_series(0, 59) g;
  INSERT INTO sessions (device_id, connected_at, disconnected_at, reason) VALUES
    ('=cmd|x', '2026-11-01T00:30:00Z', '2026-11-01T00:31:00Z', 'clean'),
    ('dev-0', '2026-11-01T05:00:00Z', NULL, NULL);
  INSERT INTO device_labels (device_id, tags) VALUES ('dev-0', '{a}'), ('dev-1', '{a,b}'), ('=cmd|x', '{b}');
  INSERT INTO monitor_gaps (started_at, ended_at, reason) VALUES ('2026-11-01T00:10:00Z', '2026-11-01T00:12:30Z', 'link');
`;

const dirs: string[] = [];
let embedded: Database;
let postgres: TestDatabase;
let pgDb: Db;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "kw-pglite-history-"));
  dirs.push(dir);
  embedded = await openEmbeddedDatabase(dir);
  await migrate({ db: embedded.queryable, migrationsDir: MIGRATIONS_DIR });
  await embedded.queryable.exec!(SEED);
  postgres = await createTestDatabase();
  pgDb = createDb({ connectionString: postgres.url });
  const sql = await connectSqlSession(postgres.url);
  try {
    await sql.query(SEED);
  } finally {
    await sql.end();
  }
}, 60_000);

afterAll(async () => {
  await embedded?.close();
  await pgDb?.$disconnect();
  await postgres?.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const FILTERS: DisconnectFilter[] = [
  { from: null, to: Date.parse("2026-11-02T00:00:00Z"), device: null, reasons: null },
  {
    from: Date.parse("2026-11-01T00:20:00Z"),
    to: Date.parse("2026-11-01T00:50:00Z"),
    device: compileDeviceGlob("dev-[0-2]"),
    reasons: ["clean", "unknown", "keepalive_timeout"],
  },
  { from: null, to: Date.parse("2026-11-02T00:00:00Z"), device: compileDeviceGlob("=cmd*"), reasons: null },
];

async function csv(db: Db, filter: DisconnectFilter): Promise<string> {
  const reader = (await openDisconnectsCsv(db, { filter, pageSize: 7 })).getReader();
  let text = "";
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text + decoder.decode();
    text += decoder.decode(value, { stream: true });
  }
}

describe("disconnect history on PGlite", () => {
  it("answers exactly as Postgres does", async () => {
    const now = Date.parse("2026-11-01T06:00:00Z");
    for (const filter of FILTERS) {
      const pgPage = await getDisconnects(pgDb, { filter, limit: 1000 });
      expect(pgPage.disconnects.length).toBeGreaterThan(0);
      expect(await getDisconnects(embedded.prisma, { filter, limit: 1000 })).toEqual(pgPage);
      const pages: string[] = [];
      for await (const page of iterateDisconnects(embedded.prisma, { filter, pageSize: 4, readAhead: 2 })) {
        pages.push(...page.map((d) => `${d.deviceId}@${d.disconnectedAt}`));
      }
      expect(pages).toEqual(pgPage.disconnects.map((d) => `${d.deviceId}@${d.disconnectedAt}`));
      expect(await getDisconnectSummary(embedded.prisma, { filter, now })).toEqual(
        await getDisconnectSummary(pgDb, { filter, now }),
      );
      expect(await csv(embedded.prisma, filter)).toBe(await csv(pgDb, filter));
    }
  });

  it("keeps the derived values and neutralization on the embedded database too", async () => {
    const [filter, , hostile] = FILTERS;
    const page = await getDisconnects(embedded.prisma, { filter, limit: 1000 });
    expect(page.disconnects).toHaveLength(61);
    const last = page.disconnects.find(
      (d) => d.deviceId === "dev-4" && d.connectedAt === Date.parse("2026-11-01T01:03:00Z"),
    )!;
    expect(last.reason).toBe("unknown");
    expect(last).toMatchObject({ sessionMs: 61_250, silenceMs: 31_250, offlineMs: 288_750 });
    expect((await csv(embedded.prisma, hostile)).split("\r\n")[1]).toBe(
      `'=cmd|x,2026-11-01T00:31:00.000Z,clean,,,,2026-11-01T00:30:00.000Z,60,,,false,`,
    );
  });

  it("gives the same uptime report as Postgres", async () => {
    const now = Date.parse("2026-11-01T06:00:00Z");
    const range = "from=2026-11-01T00:00:00Z&to=2026-11-01T02:00:00Z";
    for (const qs of [range, `${range}&tag=a&device=dev-*`, `${range}&limit=2`]) {
      const q = parseUptimeQuery(`http://127.0.0.1/api/reports/uptime?${qs}`, { maxDays: 31, maxDevices: 100 }, now);
      const fromPg = await buildUptimeReport(pgDb, q);
      expect(fromPg.devices.length, qs).toBeGreaterThan(0);
      expect(await buildUptimeReport(embedded.prisma, q), qs).toEqual(fromPg);
    }
  });
});
