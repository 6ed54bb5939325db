/**
 * The disconnect API's read models against a real Postgres: JSON pages with
 * opaque cursors, the summary DTO, and the streamed CSV export byte for byte.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { freePort } from "../testing/mosquitto";
import { connectSqlSession, createDb, type Db } from "../store/db";
import { createTestDatabase, type TestDatabase } from "../store/testing";
import {
  disconnectsCsvResponse,
  listDisconnects,
  openDisconnectsCsv,
  parseCsvQuery,
  parseListQuery,
  parseSummaryQuery,
  summarizeDisconnects,
} from "./disconnects";
import { AppError } from "./errors";

const T = Date.parse("2026-11-01T00:00:00.000Z");
const HOSTILE = '=HYPERLINK("http://x","y")';
const url = (path: string, qs: string) => `http://127.0.0.1${path}?${qs}`;
const RANGE = "from=2026-11-01T00:00:00Z&to=2026-11-01T02:00:00Z";

let testDb: TestDatabase;
let db: Db;

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = createDb({ connectionString: testDb.url });
  const sql = await connectSqlSession(testDb.url);
  try {
    await sql.query(
      `
      INSERT INTO devices (id, status, status_since, first_seen_at)
      SELECT id, 'offline', now(), '2026-11-01T00:00:00Z' FROM unnest($1::text[]) AS id`,
      [["dev-a", "dev-b", HOSTILE, 'dev,c"q"']],
    );
    await sql.query(
      `
      INSERT INTO sessions (device_id, connected_at, disconnected_at, reason, keepalive_seconds, last_activity_at) VALUES
        ('dev-a', '2026-11-01T00:00:00Z',     '2026-11-01T00:10:00.500Z', 'keepalive_timeout', 10, '2026-11-01T00:09:45.250Z'),
        ('dev-a', '2026-11-01T00:11:00.500Z', NULL, NULL, 10, NULL),
        ('dev-b', '2026-11-01T00:05:00Z',     '2026-11-01T00:20:00Z', 'connection_lost', NULL, NULL),
        ($1,      '2026-11-01T00:30:00Z',     '2026-11-01T00:40:00Z', 'clean', 60, '2026-11-01T00:39:59Z'),
        ($2,      '2026-11-01T00:45:00Z',     '2026-11-01T00:50:00Z', 'taken_over', 5, '2026-11-01T00:49:58Z'),
        ($2,      '2026-11-01T00:50:00.001Z', '2026-11-01T03:00:00Z', 'clean', 5, NULL)`,
      [HOSTILE, 'dev,c"q"'],
    );
  } finally {
    await sql.end();
  }
});

afterAll(async () => {
  await db?.$disconnect();
  await testDb?.drop();
});

async function readAll(stream: ReadableStream<Uint8Array>): Promise<{ text: string; chunks: number }> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return { text: new TextDecoder("utf-8", { ignoreBOM: true }).decode(Buffer.concat(parts)), chunks: parts.length };
}

const EXPECTED_CSV = [
  "device_id,disconnected_at,reason,keepalive_s,last_activity_at,silence_s,connected_at,session_s,reconnected_at,offline_s,inferred,device_name",
  `"dev,c""q""",2026-11-01T00:50:00.000Z,taken_over,5,2026-11-01T00:49:58.000Z,2,2026-11-01T00:45:00.000Z,300,2026-11-01T00:50:00.001Z,0.001,false,`,
  `"'=HYPERLINK(""http://x"",""y"")",2026-11-01T00:40:00.000Z,clean,60,2026-11-01T00:39:59.000Z,1,2026-11-01T00:30:00.000Z,600,,,false,`,
  "dev-b,2026-11-01T00:20:00.000Z,connection_lost,,,,2026-11-01T00:05:00.000Z,900,,,false,",
  "dev-a,2026-11-01T00:10:00.500Z,keepalive_timeout,10,2026-11-01T00:09:45.250Z,15.25,2026-11-01T00:00:00.000Z,600.5,2026-11-01T00:11:00.500Z,60,false,",
  "",
].join("\r\n");

describe("CSV export", () => {
  it("streams the filtered disconnects as RFC 4180 CSV, hostile ids neutralized", async () => {
    const q = parseCsvQuery(url("/api/disconnects.csv", RANGE));
    const { text, chunks } = await readAll(await openDisconnectsCsv(db, { ...q, pageSize: 1 }));
    expect(text).toBe(EXPECTED_CSV);
    // Header with the first page, then one chunk per further page.
    expect(chunks).toBe(4);
  });

  it("answers with a download named after the range, and a BOM when asked", async () => {
    const res = await disconnectsCsvResponse(db, parseCsvQuery(url("/api/disconnects.csv", `${RANGE}&bom=1`)));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
    expect(res.headers.get("content-disposition")).toBe(
      'attachment; filename="keepwatch-disconnects_2026-11-01T00-00Z_2026-11-01T02-00Z.csv"',
    );
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes)).toBe(`\uFEFF${EXPECTED_CSV}`);
  });

  it("writes only the header when nothing matches, and follows the device and reason filters", async () => {
    const none = await readAll(
      await openDisconnectsCsv(db, parseCsvQuery(url("/api/disconnects.csv", `${RANGE}&device=nobody`))),
    );
    expect(none.text).toBe(EXPECTED_CSV.split("\r\n")[0] + "\r\n");
    const some = await readAll(
      await openDisconnectsCsv(
        db,
        parseCsvQuery(url("/api/disconnects.csv", `${RANGE}&device=dev-*&reason=keepalive_timeout,connection_lost`)),
      ),
    );
    expect(some.text.split("\r\n").map((l) => l.split(",")[0])).toEqual(["device_id", "dev-b", "dev-a", ""]);
  });

  it("reads no further ahead than asked while the consumer waits, and stops when it cancels", async () => {
    const spy = vi.spyOn(db, "$queryRaw");
    // The number of queries once it stops moving (no change over 200 ms): no timing guess per round trip.
    const settled = async () => {
      let n = -1;
      while (n !== spy.mock.calls.length) {
        n = spy.mock.calls.length;
        await new Promise((r) => setTimeout(r, 200));
      }
      return n;
    };
    try {
      const q = parseCsvQuery(url("/api/disconnects.csv", RANGE));
      const stream = await openDisconnectsCsv(db, { ...q, pageSize: 1, readAhead: 1 });
      await vi.waitFor(() => expect(spy.mock.calls.length).toBeGreaterThanOrEqual(4), { timeout: 5_000 });
      // The first page and where it ends, then the next page and where that ends: nothing more while nobody reads.
      expect(await settled()).toBe(4);
      const reader = stream.getReader();
      await reader.read();
      await reader.read();
      await vi.waitFor(() => expect(spy.mock.calls.length).toBeGreaterThan(4), { timeout: 5_000 });
      const calls = await settled();
      expect(calls).toBeLessThanOrEqual(8);
      await reader.cancel();
      expect(await settled()).toBe(calls);
    } finally {
      spy.mockRestore();
    }
  });

  it("breaks the download, rather than ending it short, when the database fails mid-export", async () => {
    const q = parseCsvQuery(url("/api/disconnects.csv", RANGE));
    const stream = await openDisconnectsCsv(db, { ...q, pageSize: 1, readAhead: 1 });
    const spy = vi
      .spyOn(db, "$queryRaw")
      .mockImplementation((() => Promise.reject(new Error("connection terminated"))) as never);
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const reader = stream.getReader();
      const chunks: string[] = [];
      const failure = await (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return null;
          chunks.push(new TextDecoder().decode(value));
        }
      })().catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toBe("connection terminated");
      // What did arrive is whole records: the header with the first page, then the page already read ahead.
      expect(chunks.join("")).toBe(EXPECTED_CSV.split("\r\n").slice(0, 3).join("\r\n") + "\r\n");
    } finally {
      spy.mockRestore();
      errors.mockRestore();
    }
  });

  it("fails with 503 before sending anything when the database is down", async () => {
    const port = await freePort();
    const down = createDb({ connectionString: `postgresql://kw:kw@127.0.0.1:${port}/nothing` });
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const err = await openDisconnectsCsv(down, parseCsvQuery(url("/api/disconnects.csv", RANGE))).catch((e) => e);
      expect(err).toBeInstanceOf(AppError);
      expect(err.status).toBe(503);
      expect(err.message).toBe("the database is not available: disconnect history cannot be read");
    } finally {
      errors.mockRestore();
      await down.$disconnect();
    }
  });
});

describe("JSON list and summary", () => {
  it("pages with opaque cursors and agrees with the CSV", async () => {
    const first = await listDisconnects(db, parseListQuery(url("/api/disconnects", `${RANGE}&limit=3`)));
    expect(first.disconnects.map((d) => d.deviceId)).toEqual(['dev,c"q"', HOSTILE, "dev-b"]);
    expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = await listDisconnects(
      db,
      parseListQuery(url("/api/disconnects", `${RANGE}&limit=3&cursor=${first.nextCursor}`)),
    );
    expect(second).toEqual({
      disconnects: [
        {
          deviceId: "dev-a",
          deviceName: null,
          disconnectedAt: "2026-11-01T00:10:00.500Z",
          reason: "keepalive_timeout",
          keepaliveSeconds: 10,
          lastActivityAt: "2026-11-01T00:09:45.250Z",
          inferred: false,
          silenceSeconds: 15.25,
          connectedAt: "2026-11-01T00:00:00.000Z",
          sessionSeconds: 600.5,
          reconnectedAt: "2026-11-01T00:11:00.500Z",
          offlineSeconds: 60,
        },
      ],
      nextCursor: null,
    });
  });

  it("summarizes the same filter", async () => {
    const s = await summarizeDisconnects(db, {
      ...parseSummaryQuery(url("/api/disconnects/summary", RANGE)),
      now: T + 3 * 3_600_000,
    });
    expect(s).toEqual({
      period: { from: "2026-11-01T00:00:00.000Z", to: "2026-11-01T02:00:00.000Z" },
      total: 4,
      devices: 4,
      byReason: [
        { reason: "clean", count: 1 },
        { reason: "connection_lost", count: 1 },
        { reason: "keepalive_timeout", count: 1 },
        { reason: "taken_over", count: 1 },
      ],
      topDevices: [
        {
          deviceId: HOSTILE,
          deviceName: null,
          disconnects: 1,
          uptimePercent: 8.333,
          meanSecondsBetweenDisconnects: 7200,
        },
        // [00:45, 00:50) + [00:50:00.001, 02:00) of 2 h
        {
          deviceId: 'dev,c"q"',
          deviceName: null,
          disconnects: 1,
          uptimePercent: 62.5,
          meanSecondsBetweenDisconnects: 7200,
        },
        // [00:00, 00:10:00.5) + [00:11:00.5, 02:00) open until now
        {
          deviceId: "dev-a",
          deviceName: null,
          disconnects: 1,
          uptimePercent: 99.167,
          meanSecondsBetweenDisconnects: 7200,
        },
        {
          deviceId: "dev-b",
          deviceName: null,
          disconnects: 1,
          uptimePercent: 12.5,
          meanSecondsBetweenDisconnects: 7200,
        },
      ],
    });
  });
});

describe("export limits", () => {
  it("runs at most MAX_CONCURRENT_EXPORTS exports at once: one more answers 429; a finished or cancelled one frees its place", async () => {
    const q = () => parseCsvQuery(url("/api/disconnects.csv", RANGE));
    const a = await disconnectsCsvResponse(db, q(), 2);
    const b = await disconnectsCsvResponse(db, q(), 2);
    const refused = await disconnectsCsvResponse(db, q(), 2).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: "TOO_MANY_REQUESTS", retryAfterSeconds: 5 });
    await a.body!.cancel();
    const c = await disconnectsCsvResponse(db, q(), 2);
    expect(await b.text()).toMatch(/^device_id,/);
    expect(await c.text()).toMatch(/^device_id,/);
    const d = await disconnectsCsvResponse(db, q(), 2);
    await d.text();
  });
});
