/**
 * Disconnect history against a real Postgres: exact rows and derived
 * durations, keyset pages without gaps or repeats, filters (time range,
 * device globs through Postgres' own LIKE and regex, reasons) and the summary.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileDeviceGlob } from "../api/glob";
import { connectSqlSession, createDb, type Db, type OwnedSqlSession } from "./db";
import {
  getDisconnects,
  getDisconnectSummary,
  iterateDisconnects,
  type DisconnectFilter,
  type DisconnectRecord,
} from "./disconnects";
import { createTestDatabase, type TestDatabase } from "./testing";

const T = Date.parse("2026-11-01T00:00:00.000Z");
const H = 3_600_000;
const HOSTILE = '=HYPERLINK("http://x","y")';

type Row = [
  device: string,
  connected: number,
  disconnected: number | null,
  reason: string | null,
  keepalive: number | null,
  last: number | null,
];

// prettier-ignore
const SESSIONS: Row[] = [
  ["alpha", T, T + 600_000, "keepalive_timeout", 10, T + 585_000],
  ["alpha", T + 660_000, T + 3_600_000, "clean", 10, T + 3_599_500],
  ["alpha", T + 3_700_000, null, null, 10, T + 3_700_000],
  ["beta", T + 100_000, T + 600_000, "connection_lost", 30, null],
  // The broker's whole-second disconnect time is before the monitor's own last-activity stamp.
  ["gamma-1", T + 200_000, T + 300_000, "taken_over", 5, T + 300_400],
  ["gamma-1", T + 300_000, T + 1_200_000, "cosmic_ray", 5, T + 1_199_000],
  [HOSTILE, T + 1_000_000, T + 1_500_000, "clean", 60, T + 1_499_000],
  ["weird_%", T + 50_000, T + 2 * H - 1, "protocol_error", null, null],
  ["zeta", T - 5_000, T - 1, "clean", 20, null], // before the range
  ["zeta", T - 1, T, "admin", 20, null], // exactly at `from`: in
  ["zeta", T + 1_000, T + 2 * H, "clean", 20, null], // exactly at `to`: out
  // A session whose end was never recorded: it must not count as up after the next connect.
  ["ghost", T + 100, null, null, 15, null],
  ["ghost", T + 5_000, T + 10_000, "keepalive_timeout", 15, T + 5_000],
];

const FIRST_SEEN: Record<string, number> = { zeta: T - 10_000 };

/** Bulk rows for paging: 30 devices × 12 sessions, every 4 devices dropping at the same instant. */
const P0 = T + 48 * H;
const PAGED: Row[] = [];
for (let dev = 0; dev < 30; dev++) {
  for (let k = 0; k < 12; k++) {
    const id = `pg-${String(dev).padStart(2, "0")}`;
    const disconnected = P0 + k * 60_000 + Math.floor(dev / 4) * 1_000;
    PAGED.push([id, disconnected - 30_000 - dev, disconnected, k % 3 === 0 ? "clean" : "connection_lost", 30, null]);
  }
}

let testDb: TestDatabase;
let db: Db;
let sql: OwnedSqlSession;

async function seed(rows: Row[]): Promise<void> {
  const ids = [...new Set(rows.map((r) => r[0]))];
  await sql.query(
    `INSERT INTO devices (id, status, status_since, first_seen_at)
     SELECT id, 'offline', now(), first_seen FROM unnest($1::text[], $2::timestamptz[]) AS u(id, first_seen)`,
    [
      ids,
      ids.map((id) =>
        new Date(FIRST_SEEN[id] ?? Math.min(...rows.filter((r) => r[0] === id).map((r) => r[1]))).toISOString(),
      ),
    ],
  );
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  await sql.query(
    `INSERT INTO sessions (device_id, connected_at, disconnected_at, reason, keepalive_seconds, last_activity_at)
     SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::text[], $5::int4[], $6::timestamptz[])`,
    [
      rows.map((r) => r[0]),
      rows.map((r) => iso(r[1])),
      rows.map((r) => iso(r[2])),
      rows.map((r) => r[3]),
      rows.map((r) => r[4]),
      rows.map((r) => iso(r[5])),
    ],
  );
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = createDb({ connectionString: testDb.url });
  sql = await connectSqlSession(testDb.url);
  await seed(SESSIONS);
  await seed(PAGED);
});

afterAll(async () => {
  await sql?.end();
  await db?.$disconnect();
  await testDb?.drop();
});

const RANGE: DisconnectFilter = { from: T, to: T + 2 * H, device: null, reasons: null };
const all = async (filter: DisconnectFilter, pageSize = 1000): Promise<DisconnectRecord[]> => {
  const out: DisconnectRecord[] = [];
  for await (const page of iterateDisconnects(db, { filter, pageSize })) out.push(...page);
  return out;
};
const ids = (rows: DisconnectRecord[]) => rows.map((r) => `${r.deviceId}@${r.disconnectedAt - T}`);
const glob = (g: string): DisconnectFilter => ({ ...RANGE, device: compileDeviceGlob(g) });
const PAGED_FILTER: DisconnectFilter = {
  from: P0 - H,
  to: P0 + 24 * H,
  device: compileDeviceGlob("pg-*"),
  reasons: null,
};

describe("disconnect rows", () => {
  it("lists the range's disconnects newest first with every derived field", async () => {
    const { disconnects, next } = await getDisconnects(db, { filter: RANGE, limit: 100 });
    expect(next).toBeNull();
    expect(ids(disconnects)).toEqual([
      `weird_%@${2 * H - 1}`,
      "alpha@3600000",
      `${HOSTILE}@1500000`,
      "gamma-1@1200000",
      "beta@600000", // ties on time: device id descending
      "alpha@600000",
      "gamma-1@300000",
      "ghost@10000",
      "zeta@0",
    ]);
    const byKey = new Map(disconnects.map((d) => [`${d.deviceId}@${d.disconnectedAt - T}`, d]));
    expect(byKey.get("alpha@600000")).toEqual({
      deviceId: "alpha",
      connectedAt: T,
      disconnectedAt: T + 600_000,
      reason: "keepalive_timeout",
      keepaliveSeconds: 10,
      lastActivityAt: T + 585_000,
      inferred: false,
      reconnectedAt: T + 660_000,
      silenceMs: 15_000,
      sessionMs: 600_000,
      offlineMs: 60_000,
    });
    expect(byKey.get("alpha@3600000")).toMatchObject({
      reason: "clean",
      reconnectedAt: T + 3_700_000,
      silenceMs: 500,
      sessionMs: 2_940_000,
      offlineMs: 100_000,
    });
    expect(byKey.get("beta@600000")).toMatchObject({
      keepaliveSeconds: 30,
      lastActivityAt: null,
      silenceMs: null,
      reconnectedAt: null,
      offlineMs: null,
      sessionMs: 500_000,
    });
    // Clamped at zero: activity stamped after the broker's disconnect time, and a takeover's instant reconnect.
    expect(byKey.get("gamma-1@300000")).toMatchObject({
      reason: "taken_over",
      silenceMs: 0,
      reconnectedAt: T + 300_000,
      offlineMs: 0,
    });
    expect(byKey.get("gamma-1@1200000")).toMatchObject({ reason: "unknown", silenceMs: 1_000 });
    expect(byKey.get("weird_%@7199999")).toMatchObject({ keepaliveSeconds: null, sessionMs: 2 * H - 1 - 50_000 });
    expect(byKey.get("zeta@0")).toMatchObject({ reason: "admin", reconnectedAt: T + 1_000, offlineMs: 1_000 });
  });

  it("has no lower bound without `from`", async () => {
    const rows = await all({ ...RANGE, from: null });
    expect(ids(rows).slice(-2)).toEqual(["zeta@0", "zeta@-1"]);
  });

  it("pages by keyset without gaps or repeats, whatever the page size", async () => {
    const filter = PAGED_FILTER;
    const expected = [...PAGED]
      .sort((a, b) => b[2]! - a[2]! || (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0) || b[1] - a[1])
      .map((r) => `${r[0]}@${r[2]! - T}`);
    expect(expected).toHaveLength(360);
    for (const size of [1, 7, 100, 359, 360, 361]) {
      const seen: string[] = [];
      let after = null;
      let pages = 0;
      for (;;) {
        const page: Awaited<ReturnType<typeof getDisconnects>> = await getDisconnects(db, {
          filter,
          after,
          limit: size,
        });
        seen.push(...ids(page.disconnects));
        pages++;
        if (!page.next) break;
        expect(page.disconnects).toHaveLength(size);
        after = page.next;
      }
      expect(seen, `page size ${size}`).toEqual(expected);
      expect(pages).toBe(Math.max(1, Math.ceil(360 / size)));
    }
  });

  it("iterates every row once with pages read ahead, whatever the page size and depth", async () => {
    const expected = ids((await getDisconnects(db, { filter: PAGED_FILTER, limit: 1000 })).disconnects);
    for (const [pageSize, readAhead, firstPageSize] of [
      [1, 3, 1],
      [7, 1, 7],
      [7, 2, 3],
      [59, 4, 1],
      [360, 2, 360],
      [361, 1, 100],
    ]) {
      const seen: string[] = [];
      const sizes: number[] = [];
      for await (const page of iterateDisconnects(db, { filter: PAGED_FILTER, pageSize, readAhead, firstPageSize })) {
        seen.push(...ids(page));
        sizes.push(page.length);
      }
      expect(seen, `${pageSize} × ${readAhead}`).toEqual(expected);
      expect(sizes[0]).toBe(Math.min(firstPageSize, 360));
      expect(sizes).toHaveLength(1 + Math.ceil(Math.max(0, 360 - firstPageSize) / pageSize));
    }
  });

  it("never repeats or skips a row when a late write lands in the history during an export", async () => {
    const L0 = T + 96 * H;
    const rows: Row[] = [];
    for (let k = 0; k < 50; k++)
      rows.push([`lw-${k % 5}`, L0 + k * 60_000 - 20_000, L0 + k * 60_000, "clean", 30, null]);
    await seed(rows);
    const filter: DisconnectFilter = { from: L0 - H, to: L0 + H, device: compileDeviceGlob("lw-*"), reasons: null };
    const seen: string[] = [];
    let pages = 0;
    try {
      for await (const page of iterateDisconnects(db, { filter, pageSize: 10, readAhead: 1 })) {
        seen.push(...ids(page));
        if (++pages === 1) {
          // One write inside the range already handed out, one far ahead of the reading.
          await sql.query(
            `INSERT INTO sessions (device_id, connected_at, disconnected_at, reason) VALUES
               ('lw-0', $1::timestamptz, $2::timestamptz, 'will'), ('lw-1', $3::timestamptz, $4::timestamptz, 'will')`,
            [
              new Date(L0 + 45 * 60_000 + 1_000).toISOString(),
              new Date(L0 + 45 * 60_000 + 30_000).toISOString(),
              new Date(L0 + 2 * 60_000 + 1_000).toISOString(),
              new Date(L0 + 2 * 60_000 + 30_000).toISOString(),
            ],
          );
        }
      }
    } finally {
      await sql.query(`DELETE FROM sessions WHERE device_id LIKE 'lw-%'`);
      await sql.query(`DELETE FROM devices WHERE id LIKE 'lw-%'`);
    }
    expect(new Set(seen).size).toBe(seen.length);
    const original = rows.map((r) => `${r[0]}@${r[2]! - T}`);
    expect(seen.filter((k) => original.includes(k))).toHaveLength(50);
    expect(seen).not.toContain(`lw-0@${L0 - T + 45 * 60_000 + 30_000}`); // behind the reading: not seen
    expect(seen).toContain(`lw-1@${L0 - T + 2 * 60_000 + 30_000}`); // ahead of it: read in its place
    expect(seen).toHaveLength(51);
  });

  it("continues strictly after a key inside a group of equal times", async () => {
    const filter = PAGED_FILTER;
    const last = P0 - T + 11 * 60_000;
    const first = await getDisconnects(db, { filter, limit: 3 });
    // pg-28 and pg-29 dropped at one instant, pg-24..pg-27 together a second earlier.
    expect(ids(first.disconnects)).toEqual([`pg-29@${last + 7_000}`, `pg-28@${last + 7_000}`, `pg-27@${last + 6_000}`]);
    const second = await getDisconnects(db, { filter, after: first.next, limit: 3 });
    expect(ids(second.disconnects)).toEqual([
      `pg-26@${last + 6_000}`,
      `pg-25@${last + 6_000}`,
      `pg-24@${last + 6_000}`,
    ]);
  });

  it("filters by reason; `unknown` also finds values outside the vocabulary", async () => {
    expect(ids(await all({ ...RANGE, reasons: ["clean"] }))).toEqual(["alpha@3600000", `${HOSTILE}@1500000`]);
    expect(ids(await all({ ...RANGE, reasons: ["unknown", "admin"] }))).toEqual(["gamma-1@1200000", "zeta@0"]);
    expect(await all({ ...RANGE, reasons: ["will"] })).toEqual([]);
  });

  it("filters by device glob with Postgres' own LIKE and regular expressions", async () => {
    const devices = async (g: string) => [...new Set((await all(glob(g))).map((r) => r.deviceId))].sort();
    expect(await devices("alpha")).toEqual(["alpha"]);
    expect(await devices("gamma-*")).toEqual(["gamma-1"]);
    expect(await devices("[ab]*")).toEqual(["alpha", "beta"]);
    expect(await devices("[!a-f]*")).toEqual([HOSTILE, "gamma-1", "ghost", "weird_%", "zeta"].sort());
    expect(await devices("?????")).toEqual(["alpha", "ghost"]);
    // % and _ in a glob are literal characters, not LIKE wildcards.
    expect(await devices("weird_%")).toEqual(["weird_%"]);
    expect(await devices("weird%")).toEqual([]);
    expect(await devices("we?rd_*")).toEqual(["weird_%"]);
    expect(await devices("*_%")).toEqual(["weird_%"]);
    expect(await devices('=HYPERLINK("*')).toEqual([HOSTILE]);
    expect(await devices("[(]*")).toEqual([]);
    expect(await devices("*")).toEqual(
      ['=HYPERLINK("http://x","y")', "alpha", "beta", "gamma-1", "ghost", "weird_%", "zeta"].sort(),
    );
  });
});

describe("disconnect summary", () => {
  const NOW = T + 10 * H;

  it("counts by reason and ranks devices, with uptime and mean time between disconnects", async () => {
    const s = await getDisconnectSummary(db, { filter: RANGE, top: 10, now: NOW });
    expect(s.period).toEqual({ from: T, to: T + 2 * H });
    expect(s.total).toBe(9);
    expect(s.devices).toBe(7);
    expect(s.byReason).toEqual([
      { reason: "clean", count: 2 },
      { reason: "keepalive_timeout", count: 2 },
      { reason: "admin", count: 1 },
      { reason: "connection_lost", count: 1 },
      { reason: "protocol_error", count: 1 },
      { reason: "taken_over", count: 1 },
      { reason: "unknown", count: 1 },
    ]);
    const period = 2 * H;
    const up = (ms: number) => (ms / period) * 100;
    expect(s.topDevices.map((d) => [d.deviceId, d.disconnects])).toEqual([
      ["alpha", 2],
      ["gamma-1", 2],
      [HOSTILE, 1],
      ["beta", 1],
      ["ghost", 1],
      ["weird_%", 1],
      ["zeta", 1],
    ]);
    const byId = new Map(s.topDevices.map((d) => [d.deviceId, d]));
    // alpha: 600 s + 2,940 s + the open session from T+3,700 s to the end of the period (3,500 s).
    expect(byId.get("alpha")!.uptimePercent).toBeCloseTo(up(7_040_000), 9);
    expect(byId.get("alpha")!.meanMsBetweenDisconnects).toBe(H);
    expect(byId.get("gamma-1")!.uptimePercent).toBeCloseTo(up(1_000_000), 9);
    expect(byId.get(HOSTILE)!.uptimePercent).toBeCloseTo(up(500_000), 9);
    expect(byId.get(HOSTILE)!.meanMsBetweenDisconnects).toBe(2 * H);
    expect(byId.get("beta")!.uptimePercent).toBeCloseTo(up(500_000), 9);
    // The never-closed session counts only until the next connect: 4.9 s + 5 s.
    expect(byId.get("ghost")!.uptimePercent).toBeCloseTo(up(9_900), 9);
    expect(byId.get("weird_%")!.uptimePercent).toBeCloseTo(up(2 * H - 1 - 50_000), 9);
    // The session ending exactly at `to` counts up to `to`; the one ending at `from` adds nothing.
    expect(byId.get("zeta")!.uptimePercent).toBeCloseTo(up(2 * H - 1_000), 9);
  });

  it("agrees with the rows for the same filter", async () => {
    for (const filter of [RANGE, PAGED_FILTER, { ...RANGE, reasons: ["clean" as const] }, glob("[ab]*")]) {
      const rows = await all(filter);
      const s = await getDisconnectSummary(db, { filter, top: 100, now: NOW });
      expect(s.total).toBe(rows.length);
      const reasons = new Map<string, number>();
      const devices = new Map<string, number>();
      for (const r of rows) {
        reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
        devices.set(r.deviceId, (devices.get(r.deviceId) ?? 0) + 1);
      }
      expect(Object.fromEntries(s.byReason.map((b) => [b.reason, b.count]))).toEqual(Object.fromEntries(reasons));
      expect(s.devices).toBe(devices.size);
      expect(Object.fromEntries(s.topDevices.map((t) => [t.deviceId, t.disconnects]))).toEqual(
        Object.fromEntries(devices),
      );
    }
  });

  it("caps the period at now, and starts an open-ended one at the first sighting", async () => {
    const capped = await getDisconnectSummary(db, { filter: RANGE, top: 1, now: T + H });
    expect(capped.period).toEqual({ from: T, to: T + H });
    // alpha in [T, T+1h): 600 s + (3,600 − 660) s = 3,540 s of 3,600 s.
    expect(capped.topDevices[0].uptimePercent).toBeCloseTo((3_540 / 3_600) * 100, 9);
    expect(capped.topDevices[0].meanMsBetweenDisconnects).toBe(H / 2);

    const open = await getDisconnectSummary(db, { filter: { ...RANGE, from: null }, top: 1, now: NOW });
    expect(open.period).toEqual({ from: T - 10_000, to: T + 2 * H });
    expect(open.total).toBe(10);
  });

  it("answers zeros for a filter that matches nothing", async () => {
    const s = await getDisconnectSummary(db, { filter: glob("nobody-*"), now: NOW });
    expect(s).toEqual({ period: { from: T, to: T + 2 * H }, total: 0, devices: 0, byReason: [], topDevices: [] });
    const open = await getDisconnectSummary(db, { filter: { ...glob("nobody-*"), from: null }, now: NOW });
    expect(open.period.from).toBeNull();
  });
});
