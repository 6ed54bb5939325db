/**
 * The embedded database (PGlite in a temp dir) runs the same migrations, the
 * same batched writer and the same queries as Postgres, with the same
 * results: one event stream is written to both and read back from both.
 * Also: restart on the same directory, and the one-process-per-directory lock.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Fleet } from "../fleet/fleet";
import type { ActivityEvent, DisconnectReason } from "../ingest/events";
import { createDb, type Db } from "./db";
import { getDevice, loadFleet } from "./devices";
import { getOpenGap, listGaps } from "./gaps";
import { migrate, readMigrations } from "./migrate";
import { openEmbeddedDatabase, type Database } from "./open";
import { DataDirLockedError, lockDataDir } from "./pglite";
import { getDatamodel } from "./schema-dmmf";
import { diffShapes, expectedShape, readShape } from "./schema-shape";
import { getDeviceSessions } from "./sessions";
import { createTestDatabase, MIGRATIONS_DIR, type TestDatabase } from "./testing";
import { StoreWriter } from "./writer";

const T0 = Date.parse("2026-04-02T09:00:00.000Z");
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), "kw-pglite-"));
  dirs.push(d);
  return d;
};

let dataDir: string;
let embedded: Database;
let postgres: TestDatabase;
let pgDb: Db;

beforeAll(async () => {
  dataDir = tempDir();
  embedded = await openEmbeddedDatabase(dataDir);
  postgres = await createTestDatabase();
  pgDb = createDb({ connectionString: postgres.url });
}, 60_000);

afterAll(async () => {
  await embedded?.close();
  await pgDb?.$disconnect();
  await postgres?.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("migrations on PGlite", () => {
  it("applies the project's migrations with Prisma's bookkeeping, then finds nothing to do", async () => {
    expect(embedded.kind).toBe("pglite");
    expect(embedded.location).toBe(path.join(dataDir, "pglite"));
    const names = (await readMigrations(MIGRATIONS_DIR)).map((m) => m.name);
    expect(names[0]).toBe("20261122002113_init");
    const applied = await migrate({ db: embedded.queryable, migrationsDir: MIGRATIONS_DIR });
    expect(applied).toEqual(names);
    expect(await migrate({ db: embedded.queryable, migrationsDir: MIGRATIONS_DIR })).toEqual([]);
    const rows = (
      await embedded.queryable.query(
        `SELECT migration_name, finished_at IS NOT NULL AS finished, rolled_back_at, applied_steps_count FROM "_prisma_migrations"`,
      )
    ).rows;
    expect(rows).toEqual(
      names.map((migration_name) => ({ migration_name, finished: true, rolled_back_at: null, applied_steps_count: 1 })),
    );
  });

  it("produces exactly the schema schema.prisma declares", async () => {
    const schemaText = readFileSync(new URL("../../prisma/schema.prisma", import.meta.url), "utf8");
    const actual = await readShape(embedded.queryable);
    expect(diffShapes(expectedShape(getDatamodel(schemaText)), actual)).toEqual([]);
    expect(actual.tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(["alert_deliveries", "alert_rules", "alerts", "devices", "monitor_gaps", "sessions"]),
    );
  });
});

// ---------------------------------------------------------------------------
// One event stream, two databases

/** A deterministic stream: connects, pings, publishes, drops with every reason, takeovers, wills, hostile ids. */
function eventStream(): ActivityEvent[] {
  const reasons: DisconnectReason[] = ["clean", "keepalive_timeout", "connection_lost", "protocol_error", "admin"];
  const ids = [
    ...Array.from({ length: 40 }, (_, i) => `dev-${i}`),
    `<img src=x onerror=alert(1)>`,
    `=HYPERLINK("http://x","y")`,
    "\u202Eevil 😀",
    "nul\u0000inside",
    "o'quote\"double\\back",
  ];
  const out: ActivityEvent[] = [];
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) as number;
  let t = T0;
  for (let round = 0; round < 6; round++) {
    ids.forEach((deviceId, i) => {
      t += 17;
      const source = "aedes" as const;
      out.push({
        kind: "connect",
        deviceId,
        at: t,
        source,
        keepaliveSeconds: 5 + (i % 4) * 15,
        address: `10.0.0.${i}:5${i}00`,
        protocol: "3.1.1",
        cleanStart: i % 2 === 0,
      });
      out.push({ kind: "ping", deviceId, at: t + 3, source });
      if (i % 3 === 0) out.push({ kind: "publish", deviceId, at: t + 5, source, topic: `devices/${deviceId}/t` });
      const r = rand();
      if (r < 0.2) out.push({ kind: "takeover", deviceId, at: t + 8, source });
      else if (r < 0.3)
        out.push({
          kind: "status",
          deviceId,
          at: t + 8,
          source: "device-topic",
          online: false,
          detail: "offline",
          retained: false,
        });
      else if (r < 0.85)
        out.push({
          kind: "disconnect",
          deviceId,
          at: t + 8,
          source,
          reason: reasons[Math.floor(rand() * reasons.length)],
        });
    });
  }
  return out;
}

describe("the same history on Postgres and PGlite", () => {
  it("writes one fleet's effects to both and reads back identical devices, sessions and gaps", async () => {
    const writers = [
      new StoreWriter({ db: embedded.prisma, sql: embedded.batch, maxBatch: 64 }),
      new StoreWriter({ db: pgDb, maxBatch: 64 }),
    ];
    let now = T0;
    const fleet = new Fleet({ now: () => now, pingsVisible: () => true });
    fleet.onEffects((effects, changed) => {
      for (const w of writers) w.enqueue(effects, changed);
    });
    for (const ev of eventStream()) {
      now = ev.at;
      fleet.apply(ev);
    }
    now += 600_000; // every silence deadline passes: late, then keepalive_timeout
    fleet.tick();
    for (const w of writers) {
      w.openGap(T0 + 1_000, "broker connection lost");
      w.closeGap(T0 + 2_000);
      w.openGap(T0 + 3_000, "still gone");
    }
    await Promise.all(writers.map((w) => w.flush()));
    for (const w of writers) expect(w.health()).toMatchObject({ ok: true, pendingWrites: 0, droppedWrites: 0 });

    const [lite, pg] = await Promise.all([loadFleet(embedded.prisma), loadFleet(pgDb)]);
    expect(lite.devices).toHaveLength(45);
    expect(lite).toEqual(pg);
    // The PGlite rows are the fleet's own states (not just equal to another database's).
    for (const d of lite.devices) {
      const held = fleet.get(d.id.replace("\uFFFD", "\u0000"))!; // NUL is stored as U+FFFD
      expect(d.status).toBe(held.status);
      expect(d.disconnectCount).toBe(held.disconnectCount);
      expect(d.lastDisconnectReason).toBe(held.lastDisconnectReason);
      expect(d.connectedAt).toBe(held.connectedAt);
      expect(d.lastPingAt).toBe(held.lastPingAt);
    }
    expect(lite.devices.find((d) => d.id === "nul\uFFFDinside")).toBeDefined();

    let sessions = 0;
    const reasons = new Set<string | null>();
    for (const d of lite.devices) {
      const [a, b] = await Promise.all([
        getDeviceSessions(embedded.prisma, d.id, 100),
        getDeviceSessions(pgDb, d.id, 100),
      ]);
      expect(a).toEqual(b);
      sessions += a.length;
      for (const s of a) reasons.add(s.reason);
      expect(await getDevice(embedded.prisma, d.id)).toEqual(await getDevice(pgDb, d.id));
    }
    expect(sessions).toBe(6 * 45);
    expect([...reasons].sort()).toEqual(
      [
        "admin",
        "clean",
        "connection_lost",
        "keepalive_timeout",
        "protocol_error",
        "taken_over",
        "unknown",
        "will",
      ].sort(),
    );

    expect(await listGaps(embedded.prisma)).toEqual(await listGaps(pgDb));
    expect(await getOpenGap(embedded.prisma)).toMatchObject({
      startedAt: T0 + 3_000,
      endedAt: null,
      reason: "still gone",
    });
  });

  it("writes a 10,000-effect batch in one transaction", async () => {
    const w = new StoreWriter({ db: embedded.prisma, sql: embedded.batch, maxBatch: 20_000 });
    const effects = [];
    for (let i = 0; i < 5_000; i++) {
      const deviceId = `bulk-${i}`;
      const session = {
        deviceId,
        connectedAt: T0,
        disconnectedAt: null,
        reason: null,
        keepaliveSeconds: 30,
        lastActivityAt: T0,
      };
      effects.push({ type: "session-open" as const, session });
      effects.push({
        type: "session-close" as const,
        deviceId,
        connectedAt: T0,
        disconnectedAt: T0 + 900,
        reason: "keepalive_timeout" as const,
        lastActivityAt: T0 + 10,
      });
    }
    w.enqueue(effects, []);
    await w.flush();
    expect(w.health()).toMatchObject({ ok: true, pendingWrites: 0 });
    const rows = await embedded.prisma.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM "sessions" WHERE "device_id" LIKE 'bulk-%' AND "reason" = 'keepalive_timeout'`;
    expect(Number(rows[0].n)).toBe(5_000);
  });
});

// ---------------------------------------------------------------------------

describe("one process per data directory", () => {
  it("refuses a second open of a directory in use, in this process and in another", async () => {
    await expect(openEmbeddedDatabase(dataDir)).rejects.toThrow(DataDirLockedError);
    await expect(openEmbeddedDatabase(dataDir)).rejects.toThrow(/in use by this process/);

    const script = path.join(tempDir(), "lock.mjs");
    writeFileSync(
      script,
      `import { lockDataDir } from ${JSON.stringify(new URL("./pglite.ts", import.meta.url).pathname)};
       try { lockDataDir(process.argv[2]); console.log("locked"); } catch (e) { console.log(e.code + ": " + e.message); }`,
    );
    const child = spawnSync("node_modules/.bin/tsx", [script, dataDir], { encoding: "utf8" });
    expect(child.stdout).toContain(
      `DATA_DIR_LOCKED: the embedded database in ${dataDir} is in use by process ${process.pid}`,
    );
  });

  it("takes over a lock left by a process that no longer runs", async () => {
    const dir = tempDir();
    const dead = spawnSync("true").pid!; // exited by now
    writeFileSync(
      path.join(dir, "pglite.lock"),
      JSON.stringify({ pid: dead, host: (await import("node:os")).hostname(), since: "x" }),
    );
    const release = lockDataDir(dir);
    expect(JSON.parse(readFileSync(path.join(dir, "pglite.lock"), "utf8")).pid).toBe(process.pid);
    release();
    expect(() => readFileSync(path.join(dir, "pglite.lock"))).toThrow(/ENOENT/);
  });

  it("keeps everything across a close and reopen of the same directory", async () => {
    const before = await loadFleet(embedded.prisma);
    await embedded.close();
    embedded = await openEmbeddedDatabase(dataDir);
    expect(await migrate({ db: embedded.queryable, migrationsDir: MIGRATIONS_DIR })).toEqual([]);
    expect(await loadFleet(embedded.prisma)).toEqual(before);
  });
});
