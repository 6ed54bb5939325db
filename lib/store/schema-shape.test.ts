/**
 * expectedShape(): Prisma's mapping of a schema to Postgres, as the schema
 * test relies on it. The DMMF comes from Prisma's own schema WebAssembly.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { getDatamodel } from "./schema-dmmf";
import { expectedShape, prismaDefaultName } from "./schema-shape";

const header = `datasource db {\n  provider = "postgresql"\n}\n`;

describe("expectedShape", () => {
  it("maps types, nullability and defaults the way Prisma Migrate renders them", () => {
    const shape = expectedShape(
      getDatamodel(`${header}
        model Thing {
          id       BigInt   @id @default(autoincrement())
          name     String   @default("it's") @db.VarChar(40)
          count    Int      @default(0)
          delta    Int      @default(-1)
          ratio    Float?
          on       Boolean  @default(true)
          at       DateTime @default(now())
          atTz     DateTime? @db.Timestamptz(3)
          tags     String[] @default([])
          blob     Bytes?
          data     Json?
          uid      String   @default(uuid())
        }`),
    );
    expect(shape.tables).toHaveLength(1);
    expect(shape.tables[0].columns).toEqual([
      { name: "at", type: "timestamp(3) without time zone", nullable: false, default: "CURRENT_TIMESTAMP" },
      { name: "atTz", type: "timestamp(3) with time zone", nullable: true, default: null },
      { name: "blob", type: "bytea", nullable: true, default: null },
      { name: "count", type: "integer", nullable: false, default: "0" },
      { name: "data", type: "jsonb", nullable: true, default: null },
      { name: "delta", type: "integer", nullable: false, default: "'-1'::integer" },
      { name: "id", type: "bigint", nullable: false, default: `nextval('"Thing_id_seq"'::regclass)` },
      { name: "name", type: "character varying(40)", nullable: false, default: "'it''s'::character varying" },
      { name: "on", type: "boolean", nullable: false, default: "true" },
      { name: "ratio", type: "double precision", nullable: true, default: null },
      { name: "tags", type: "text[]", nullable: true, default: "ARRAY[]::text[]" },
      { name: "uid", type: "text", nullable: false, default: null },
    ]);
    expect(shape.tables[0].primaryKey).toEqual({ name: "Thing_pkey", columns: ["id"] });
  });

  it("derives foreign keys with Prisma's default names and referential actions", () => {
    const shape = expectedShape(
      getDatamodel(`${header}
        model Owner {
          id    Int    @id
          pets  Pet[]
          toys  Toy[]
          @@map("owners")
        }
        model Pet {
          id      Int   @id
          ownerId Int   @map("owner_id")
          owner   Owner @relation(fields: [ownerId], references: [id])
          @@map("pets")
        }
        model Toy {
          id      Int    @id
          ownerId Int?
          owner   Owner? @relation(fields: [ownerId], references: [id], onUpdate: NoAction)
          @@unique([ownerId, id])
          @@index([id(sort: Desc)], map: "toy_recent")
        }`),
    );
    const pets = shape.tables.find((t) => t.name === "pets")!;
    expect(pets.foreignKeys).toEqual([
      {
        name: "pets_owner_id_fkey",
        columns: ["owner_id"],
        referencedTable: "owners",
        referencedColumns: ["id"],
        onDelete: "Restrict",
        onUpdate: "Cascade",
      },
    ]);
    const toy = shape.tables.find((t) => t.name === "Toy")!;
    expect(toy.foreignKeys[0]).toMatchObject({ name: "Toy_ownerId_fkey", onDelete: "SetNull", onUpdate: "NoAction" });
    expect(toy.indexes).toEqual([
      {
        name: "Toy_ownerId_id_key",
        unique: true,
        method: "btree",
        columns: [
          { name: "ownerId", desc: false, opclass: null },
          { name: "id", desc: false, opclass: null },
        ],
      },
      { name: "toy_recent", unique: false, method: "btree", columns: [{ name: "id", desc: true, opclass: null }] },
    ]);
  });

  it("reads keepwatch's schema.prisma", () => {
    const schema = readFileSync(new URL("../../prisma/schema.prisma", import.meta.url), "utf8");
    const shape = expectedShape(getDatamodel(schema));
    expect(shape.tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(["alert_deliveries", "alert_rules", "alerts", "devices", "monitor_gaps", "sessions"]),
    );
    const devices = shape.tables.find((t) => t.name === "devices")!;
    expect(devices.indexes.find((i) => i.name === "devices_id_prefix_idx")?.columns).toEqual([
      { name: "id", desc: false, opclass: "text_pattern_ops" },
    ]);
  });

  it("refuses a type it has no mapping for instead of passing silently", () => {
    expect(() => expectedShape(getDatamodel(`${header}model M {\n  id String @id @db.Inet\n}`))).toThrow(
      /no Postgres type mapping for M.id/,
    );
  });
});

describe("prismaDefaultName", () => {
  it("builds <table>_<columns>_<suffix>, cut to Postgres' 63 characters", () => {
    expect(prismaDefaultName("sessions", ["device_id"], "fkey")).toBe("sessions_device_id_fkey");
    expect(prismaDefaultName("sessions", ["device_id", "connected_at"], "pkey")).toBe("sessions_pkey");
    expect(prismaDefaultName("devices", ["status", "id"], "idx")).toBe("devices_status_id_idx");
    const long = prismaDefaultName("a_rather_long_table_name", ["with_a_long_column", "and_another_long_one"], "idx");
    expect(long).toBe("a_rather_long_table_name_with_a_long_column_and_another_lon_idx");
    expect(long).toHaveLength(63);
  });
});
