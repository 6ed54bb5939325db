/**
 * The migrations in prisma/migrations must produce exactly what
 * prisma/schema.prisma declares. schema.prisma is read through Prisma's own
 * schema WebAssembly module (DMMF), the database through pg_catalog.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectSqlSession, type OwnedSqlSession } from "./db";
import { getDatamodel } from "./schema-dmmf";
import { diffShapes, expectedShape, readShape, type SchemaShape } from "./schema-shape";
import { createTestDatabase, type TestDatabase } from "./testing";

const SCHEMA_PATH = new URL("../../prisma/schema.prisma", import.meta.url);
const schemaText = readFileSync(SCHEMA_PATH, "utf8");

let testDb: TestDatabase;
let session: OwnedSqlSession;
let actual: SchemaShape;

beforeAll(async () => {
  testDb = await createTestDatabase();
  session = await connectSqlSession(testDb.url);
  actual = await readShape(session);
});

afterAll(async () => {
  await session?.end();
  await testDb?.drop();
});

/** schema.prisma with `extra` inserted at the end of model `model`'s body. */
function withModelLines(model: string, extra: string): string {
  const re = new RegExp(`(model ${model} \\{[\\s\\S]*?)(\\n\\})`);
  if (!re.test(schemaText)) throw new Error(`model ${model} not found in schema.prisma`);
  return schemaText.replace(re, `$1\n${extra}$2`);
}

describe("migrated database vs schema.prisma", () => {
  it("has every table, column, key and index schema.prisma declares, and nothing else", () => {
    const expected = expectedShape(getDatamodel(schemaText));
    expect(diffShapes(expected, actual)).toEqual([]);
    // Guard against a comparison that sees nothing: the three tables are there.
    expect(actual.tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(["alert_deliveries", "alert_rules", "alerts", "devices", "monitor_gaps", "sessions"]),
    );
  });

  it("keeps the names other code relies on", () => {
    const sessions = actual.tables.find((t) => t.name === "sessions")!;
    expect(sessions.primaryKey).toEqual({ name: "sessions_pkey", columns: ["device_id", "connected_at"] });
    expect(sessions.foreignKeys).toEqual([
      {
        name: "sessions_device_id_fkey",
        columns: ["device_id"],
        referencedTable: "devices",
        referencedColumns: ["id"],
        onDelete: "Cascade",
        onUpdate: "Cascade",
      },
    ]);
    const devices = actual.tables.find((t) => t.name === "devices")!;
    expect(devices.indexes.map((i) => i.name)).toEqual(["devices_id_prefix_idx", "devices_status_id_idx"]);
    expect(devices.columns.find((c) => c.name === "status_since")).toEqual({
      name: "status_since",
      type: "timestamp(3) with time zone",
      nullable: false,
      default: null,
    });
  });

  it("notices a field added to schema.prisma without a migration", () => {
    const changed = withModelLines("Device", '  firmware String? @map("firmware_version")');
    const diff = diffShapes(expectedShape(getDatamodel(changed)), actual);
    expect(diff).toEqual(["column devices.firmware_version: declared in schema.prisma, missing in the database"]);
  });

  it("notices an index, a nullability and a default changed without a migration", () => {
    let changed = withModelLines("Session", "  @@index([lastActivityAt])");
    changed = changed.replace("  reason           String?", "  reason           String");
    changed = changed.replace(
      "disconnectCount      Int       @default(0)",
      "disconnectCount      Int       @default(1)",
    );
    const diff = diffShapes(expectedShape(getDatamodel(changed)), actual);
    expect([...diff].sort()).toEqual([
      'column devices.disconnect_count: default "1" declared, "0" in the database',
      "column sessions.reason: NOT NULL declared, nullable in the database",
      "index sessions.sessions_last_activity_at_idx: declared in schema.prisma, missing in the database",
    ]);
  });

  it("notices a table the database has but schema.prisma does not", async () => {
    await session.query(`CREATE TABLE "stray" ("id" INTEGER NOT NULL)`);
    try {
      const diff = diffShapes(expectedShape(getDatamodel(schemaText)), await readShape(session));
      expect(diff).toEqual(["table stray: in the database, not declared in schema.prisma"]);
    } finally {
      await session.query(`DROP TABLE "stray"`);
    }
  });

  it("has the SQL-only partial index 'one firing alert per device and kind', and would notice it changed", async () => {
    const rows = (
      await session.query(
        `SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'alerts_one_firing_idx'`,
      )
    ).rows as { indexdef: string }[];
    expect(rows.map((r) => r.indexdef)).toEqual([
      expect.stringMatching(
        /^CREATE UNIQUE INDEX alerts_one_firing_idx ON .*alerts USING btree \(device_id, kind\) WHERE \(state = 'firing'::text\)$/,
      ),
    ]);
    // Made a plain (non-partial) index, it is no longer allow-listed: the comparison reports it.
    await session.query(`ALTER INDEX "alerts_one_firing_idx" RENAME TO "alerts_one_firing_idx_old"`);
    await session.query(`CREATE UNIQUE INDEX "alerts_one_firing_idx" ON "alerts"("device_id", "kind", "id")`);
    try {
      const diff = diffShapes(expectedShape(getDatamodel(schemaText)), await readShape(session));
      expect(diff).toEqual([
        "index alerts.alerts_one_firing_idx: in the database, not declared in schema.prisma",
        "index alerts.alerts_one_firing_idx_old (partial or expression index): in the database, not declared in schema.prisma",
      ]);
    } finally {
      await session.query(`DROP INDEX "alerts_one_firing_idx"`);
      await session.query(`ALTER INDEX "alerts_one_firing_idx_old" RENAME TO "alerts_one_firing_idx"`);
    }
  });

  it("compares partitioned activity tables by their parent and leaves run-time partitions out", async () => {
    const names = actual.tables.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining(["device_activity", "device_activity_minutes", "device_activity_hours"]),
    );
    const parent = actual.tables.find((t) => t.name === "device_activity")!;
    expect(parent.primaryKey).toEqual({ name: "device_activity_pkey", columns: ["device_id", "at", "kind"] });
    await session.query(
      `CREATE TABLE "device_activity_p20000101" PARTITION OF "device_activity" FOR VALUES FROM ('2000-01-01') TO ('2000-01-02')`,
    );
    try {
      const withPartition = await readShape(session);
      expect(withPartition.tables.map((t) => t.name)).not.toContain("device_activity_p20000101");
      expect(diffShapes(expectedShape(getDatamodel(schemaText)), withPartition)).toEqual([]);
    } finally {
      await session.query(`DROP TABLE "device_activity_p20000101"`);
    }
  });

  it("reports Prisma's validation errors for an invalid schema", () => {
    expect(() => getDatamodel(withModelLines("Device", "  broken Nope"))).toThrow(
      /Type "Nope" is neither a built-in type/,
    );
  });
});
