/**
 * The uptime report against a real Postgres: figures computed by hand for
 * seeded sessions, tags and a monitoring gap; the CSV byte for byte; the
 * disconnect summary agreeing with the report; bad input refused.
 *
 * Period 2026-11-01 00:00–02:00 (7,200 s), now 03:00, a monitoring gap 00:32–00:35.
 *   rp-a  seen long before; 23:00→00:30, 00:40→01:30, 01:50→open
 *         online 1800+3000+600 = 5400 (75 %); offline 0:30–0:32, 0:35–0:40, 1:30–1:50 = 1620,
 *         unknown 180 (the gap); 2 disconnects; longest outage 1200
 *   rp-b  first seen 01:00; 01:00→(never closed, cut at the next connect 01:30), 01:30→01:45
 *         online 2700 (37.5 %); unknown 3600 (before first seen); offline 900; 1 disconnect
 *   rp-c  seen long before, no session in the period: offline 7020, unknown 180,
 *         longest outage 0:35–2:00 = 5100
 *   rp-late first seen after the period: not in the report
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectSqlSession, createDb, type Db } from "../store/db";
import { createTestDatabase, type TestDatabase } from "../store/testing";
import { parseSummaryQuery, summarizeDisconnects } from "./disconnects";
import { AppError } from "./errors";
import { buildUptimeReport, parseUptimeQuery, uptimeReportResponse, UptimeReportSchema } from "./reports";

const NOW = Date.parse("2026-11-01T03:00:00Z");
const RANGE = "from=2026-11-01T00:00:00Z&to=2026-11-01T02:00:00Z";
const LIMITS = { maxDays: 31, maxDevices: 100 };
const url = (path: string, qs: string) => `http://127.0.0.1${path}?${qs}`;
const parse = (qs: string, limits = LIMITS) => parseUptimeQuery(url("/api/reports/uptime", qs), limits, NOW);

let testDb: TestDatabase;
let db: Db;

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = createDb({ connectionString: testDb.url });
  const sql = await connectSqlSession(testDb.url);
  try {
    await sql.query(`
      INSERT INTO devices (id, status, status_since, first_seen_at) VALUES
        ('rp-a', 'online', now(), '2026-10-31T00:00:00Z'),
        ('rp-b', 'offline', now(), '2026-11-01T01:00:00Z'),
        ('rp-c', 'offline', now(), '2026-10-01T00:00:00Z'),
        ('rp-late', 'online', now(), '2026-11-01T02:30:00Z')`);
    await sql.query(`
      INSERT INTO device_labels (device_id, name, tags) VALUES
        ('rp-a', 'Pump A', '{site:north}'),
        ('rp-b', NULL, '{pumps,site:north}'),
        ('rp-c', '=cmd', '{south}')`);
    await sql.query(`
      INSERT INTO sessions (device_id, connected_at, disconnected_at, reason) VALUES
        ('rp-a', '2026-10-31T23:00:00Z', '2026-11-01T00:30:00Z', 'keepalive_timeout'),
        ('rp-a', '2026-11-01T00:40:00Z', '2026-11-01T01:30:00Z', 'clean'),
        ('rp-a', '2026-11-01T01:50:00Z', NULL, NULL),
        ('rp-b', '2026-11-01T01:00:00Z', NULL, NULL),
        ('rp-b', '2026-11-01T01:30:00Z', '2026-11-01T01:45:00Z', 'connection_lost'),
        ('rp-c', '2026-10-01T00:00:00Z', '2026-10-02T00:00:00Z', 'clean'),
        ('rp-late', '2026-11-01T02:30:00Z', NULL, NULL)`);
    await sql.query(`
      INSERT INTO monitor_gaps (started_at, ended_at, reason) VALUES
        ('2026-11-01T00:32:00Z', '2026-11-01T00:35:00Z', 'link')`);
  } finally {
    await sql.end();
  }
});

afterAll(async () => {
  await db?.$disconnect();
  await testDb?.drop();
});

const nameOf = (id: string) => ({ "rp-a": "Pump A", "rp-c": "=cmd" })[id] ?? null;

describe("uptime report", () => {
  it("gives each device's hand-computed figures and the tags' totals", async () => {
    const report = await buildUptimeReport(db, parse(RANGE), nameOf);
    expect(UptimeReportSchema.parse(report)).toEqual(report);
    expect(report.period).toEqual({ from: "2026-11-01T00:00:00.000Z", to: "2026-11-01T02:00:00.000Z" });
    expect(report.bucketSeconds).toBe(300);
    expect(report.nextCursor).toBeNull();
    const { sparkline: sparkA, ...a } = report.devices[0];
    expect(report.devices.map((d) => d.deviceId)).toEqual(["rp-a", "rp-b", "rp-c"]);
    expect(a).toEqual({
      deviceId: "rp-a",
      name: "Pump A",
      tags: ["site:north"],
      firstSeenAt: "2026-10-31T00:00:00.000Z",
      uptimePercent: 75,
      disconnects: 2,
      meanSecondsBetweenDisconnects: 3600,
      longestOutageSeconds: 1200,
      statusSeconds: { online: 5400, late: null, offline: 1620, unknown: 180 },
    });
    // 5-minute buckets: up until 0:30, down 0:30–0:40, up 0:40–1:30, down 1:30–1:50, up again.
    expect(sparkA).toEqual([100, 100, 100, 100, 100, 100, 0, 0, ...Array(10).fill(100), 0, 0, 0, 0, 100, 100]);
    expect(report.devices[1]).toMatchObject({
      deviceId: "rp-b",
      uptimePercent: 37.5,
      disconnects: 1,
      meanSecondsBetweenDisconnects: 7200,
      longestOutageSeconds: 900,
      statusSeconds: { online: 2700, late: null, offline: 900, unknown: 3600 },
    });
    expect(report.devices[2]).toMatchObject({
      deviceId: "rp-c",
      uptimePercent: 0,
      disconnects: 0,
      meanSecondsBetweenDisconnects: null,
      longestOutageSeconds: 5100,
      statusSeconds: { online: 0, late: null, offline: 7020, unknown: 180 },
    });
    expect(report.tags).toEqual([
      {
        tag: "pumps",
        devices: 1,
        uptimePercent: 37.5,
        disconnects: 1,
        meanSecondsBetweenDisconnects: 7200,
        longestOutageSeconds: 900,
        statusSeconds: { online: 2700, late: null, offline: 900, unknown: 3600 },
      },
      {
        tag: "site:north",
        devices: 2,
        uptimePercent: 56.25,
        disconnects: 3,
        meanSecondsBetweenDisconnects: 4800,
        longestOutageSeconds: 1200,
        statusSeconds: { online: 8100, late: null, offline: 2520, unknown: 3780 },
      },
      {
        tag: "south",
        devices: 1,
        uptimePercent: 0,
        disconnects: 0,
        meanSecondsBetweenDisconnects: null,
        longestOutageSeconds: 5100,
        statusSeconds: { online: 0, late: null, offline: 7020, unknown: 180 },
      },
    ]);
  });

  it("filters by tag and by device glob", async () => {
    const north = await buildUptimeReport(db, parse(`${RANGE}&tag=site:north`));
    expect(north.devices.map((d) => d.deviceId)).toEqual(["rp-a", "rp-b"]);
    const glob = await buildUptimeReport(db, parse(`${RANGE}&device=rp-[bc]`));
    expect(glob.devices.map((d) => d.deviceId)).toEqual(["rp-b", "rp-c"]);
  });

  it("pages by cursor when there are more devices than the limit", async () => {
    const first = await buildUptimeReport(db, parse(`${RANGE}&limit=2`));
    expect(first.devices.map((d) => d.deviceId)).toEqual(["rp-a", "rp-b"]);
    expect(first.nextCursor).not.toBeNull();
    const second = await buildUptimeReport(db, parse(`${RANGE}&limit=2&cursor=${first.nextCursor}`));
    expect(second.devices.map((d) => d.deviceId)).toEqual(["rp-c"]);
    expect(second.nextCursor).toBeNull();
  });

  it("answers CSV as a named download, formula-like names neutralized", async () => {
    const res = await uptimeReportResponse(db, parse(`${RANGE}&format=csv`), nameOf);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
    expect(res.headers.get("content-disposition")).toBe(
      'attachment; filename="keepwatch-uptime_2026-11-01T00-00Z_2026-11-01T02-00Z.csv"',
    );
    expect(await res.text()).toBe(
      [
        "device_id,device_name,tags,period_from,period_to,uptime_percent,disconnects,mean_s_between_disconnects,longest_outage_s,online_s,late_s,offline_s,unknown_s",
        "rp-a,Pump A,site:north,2026-11-01T00:00:00.000Z,2026-11-01T02:00:00.000Z,75,2,3600,1200,5400,,1620,180",
        "rp-b,,pumps site:north,2026-11-01T00:00:00.000Z,2026-11-01T02:00:00.000Z,37.5,1,7200,900,2700,,900,3600",
        `rp-c,'=cmd,south,2026-11-01T00:00:00.000Z,2026-11-01T02:00:00.000Z,0,0,,5100,0,,7020,180`,
        "",
      ].join("\r\n"),
    );
  });

  it("agrees with the disconnect summary for the same device and period", async () => {
    for (const id of ["rp-a", "rp-b"]) {
      const report = await buildUptimeReport(db, parse(`${RANGE}&device=${id}`));
      const summary = await summarizeDisconnects(
        db,
        parseSummaryQuery(url("/api/disconnects/summary", `${RANGE}&device=${id}`), NOW),
      );
      expect(summary.topDevices).toHaveLength(1);
      expect(summary.topDevices[0].uptimePercent).toBe(report.devices[0].uptimePercent);
      expect(summary.topDevices[0].disconnects).toBe(report.devices[0].disconnects);
      expect(summary.topDevices[0].meanSecondsBetweenDisconnects).toBe(report.devices[0].meanSecondsBetweenDisconnects);
    }
  });

  it("ends the period at now and defaults to the last 24 hours", async () => {
    const q = parse("to=2026-11-02T00:00:00Z");
    expect(new Date(q.from).toISOString()).toBe("2026-11-01T00:00:00.000Z");
    expect(q.to).toBe(NOW);
    const d = parse("");
    expect([d.from, d.to]).toEqual([NOW - 86_400_000, NOW]);
  });

  it("refuses bad input with a 400 naming the problem", () => {
    const bad: Array<[string, RegExp]> = [
      ["from=yesterday", /from: "yesterday" is not an ISO-8601 time/],
      ["from=2026-11-01T00:00:00", /has no time zone/],
      ["from=2026-11-01T02:00:00Z&to=2026-11-01T01:00:00Z", /must be before to/],
      ["from=2026-11-01T01:00:00Z&to=2026-11-01T01:00:00Z", /must be before to/],
      ["from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z", /in the future/],
      ["from=2026-09-01&to=2026-11-01", /longer than 31 days \(KEEPWATCH_REPORT_MAX_DAYS\)/],
      ["limit=101", /limit must be a whole number from 1 to 100/],
      ["limit=0", /limit must be a whole number from 1 to 100/],
      ["cursor=%%%", /cursor/],
      ["bogus=1", /unknown parameter "bogus"/],
    ];
    for (const [qs, message] of bad) {
      let err: unknown;
      try {
        parse(qs);
      } catch (e) {
        err = e;
      }
      expect(err, qs).toBeInstanceOf(AppError);
      expect((err as AppError).status, qs).toBe(400);
      expect((err as AppError).message, qs).toMatch(message);
    }
    // Zod refusals become 400s through the route's error handler (lib/api/errors.ts).
    expect(() => parse("format=xml")).toThrow(/format must be json or csv/);
  });
});
