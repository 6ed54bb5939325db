/**
 * The physical shape of the database (tables, columns, keys, indexes, enums)
 * in one comparable form, built two ways:
 *   - expectedShape(): what schema.prisma declares, from Prisma's DMMF, with
 *     Prisma's own type mapping and default constraint/index names;
 *   - readShape(): what a migrated database really has, from pg_catalog.
 * diffShapes() lists the differences in words. lib/store/schema.int.test.ts
 * uses them to prove that the migrations produce the schema.
 *
 * Only what keepwatch's schema uses (and the common neighbours) is mapped; an
 * unmapped type or default throws so the comparison never passes by accident.
 *
 * Partitioned tables: schema.prisma cannot say that a table is partitioned,
 * so a partitioned parent (relkind 'p', e.g. device_activity) is compared as
 * the model that declares it (columns, primary key, indexes), and its
 * partitions (relispartition: device_activity_p20261122, …), which the
 * application creates and drops at run time, are left out of the comparison.
 */
import type { SqlSession } from "./db";
import type { DmmfDatamodel, DmmfField, DmmfModel } from "./schema-dmmf";

export interface ColumnShape {
  name: string;
  /** As Postgres' format_type() prints it, e.g. "timestamp(3) with time zone". */
  type: string;
  nullable: boolean;
  /** As pg_get_expr() prints it, or null. */
  default: string | null;
}
export interface ForeignKeyShape {
  name: string;
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  onDelete: ReferentialAction;
  onUpdate: ReferentialAction;
}
export interface IndexShape {
  name: string;
  unique: boolean;
  method: string;
  columns: { name: string; desc: boolean; opclass: string | null }[];
}
export interface TableShape {
  name: string;
  columns: ColumnShape[];
  primaryKey: { name: string; columns: string[] } | null;
  foreignKeys: ForeignKeyShape[];
  indexes: IndexShape[];
  /** CHECK, UNIQUE and EXCLUDE constraints: Prisma declares none of them. */
  otherConstraints: string[];
}
export interface SchemaShape {
  tables: TableShape[];
  enums: { name: string; values: string[] }[];
}

export type ReferentialAction = "Cascade" | "Restrict" | "NoAction" | "SetNull" | "SetDefault";

/** Postgres' identifier limit, which Prisma's default names respect. */
const MAX_IDENTIFIER = 63;
/** Tables that belong to the migration machinery, not to schema.prisma. */
const BOOKKEEPING_TABLES = new Set(["_prisma_migrations"]);
/**
 * Partial indexes that schema.prisma cannot declare: they exist in migration
 * SQL only. Each is left out of the comparison by table and exact name, and
 * only while it is still partial (readShape marks those), so dropping it or
 * making it a plain index still shows up as a difference. Their presence is
 * asserted by lib/store/schema.int.test.ts.
 *   alerts_one_firing_idx: UNIQUE (device_id, kind) WHERE state = 'firing',
 *   at most one firing alert per device and kind (lib/store/alerts.ts).
 *   alerts_one_firing_system_idx: UNIQUE (source) WHERE state = 'firing' AND
 *   device_id IS NULL, at most one firing system alert per source.
 */
export const SQL_ONLY_INDEXES: Readonly<Record<string, readonly string[]>> = {
  alerts: ["alerts_one_firing_idx", "alerts_one_firing_system_idx"],
};
const isSqlOnlyIndex = (table: string, name: string) =>
  (SQL_ONLY_INDEXES[table] ?? []).some((n) => name === `${n} (partial or expression index)`);

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Prisma's default constraint/index name: `<table>_<columns>_<suffix>`, cut to fit. */
export function prismaDefaultName(table: string, columns: string[], suffix: "pkey" | "fkey" | "idx" | "key"): string {
  const base = suffix === "pkey" ? table : [table, ...columns].join("_");
  const room = MAX_IDENTIFIER - suffix.length - 1;
  return `${base.length > room ? base.slice(0, room) : base}_${suffix}`;
}

// ---------------------------------------------------------------------------
// Expected shape from the DMMF

const tableName = (m: DmmfModel) => m.dbName ?? m.name;
const columnName = (f: DmmfField) => f.dbName ?? f.name;

function fieldOf(model: DmmfModel, name: string): DmmfField {
  const f = model.fields.find((x) => x.name === name);
  if (!f) throw new Error(`DMMF: ${model.name} has no field ${name}`);
  return f;
}

function columnType(dm: DmmfDatamodel, model: DmmfModel, f: DmmfField): string {
  const [native, args] = f.nativeType ?? [null, []];
  const arg = (i: number) => args[i];
  let type: string | undefined;
  if (f.kind === "enum") {
    const e = dm.enums.find((x) => x.name === f.type);
    type = e?.dbName ?? f.type;
  } else if (f.kind === "scalar") {
    switch (f.type) {
      case "String":
        type =
          !native || native === "Text"
            ? "text"
            : native === "VarChar"
              ? args.length
                ? `character varying(${arg(0)})`
                : "character varying"
              : native === "Char"
                ? `character(${arg(0) ?? 1})`
                : native === "Uuid"
                  ? "uuid"
                  : undefined;
        break;
      case "Int":
        type = !native || native === "Integer" ? "integer" : native === "SmallInt" ? "smallint" : undefined;
        break;
      case "BigInt":
        type = !native || native === "BigInt" ? "bigint" : undefined;
        break;
      case "Boolean":
        type = !native || native === "Boolean" ? "boolean" : undefined;
        break;
      case "Float":
        type = !native || native === "DoublePrecision" ? "double precision" : native === "Real" ? "real" : undefined;
        break;
      case "Decimal":
        type = !native ? "numeric(65,30)" : native === "Decimal" ? `numeric(${args.join(",")})` : undefined;
        break;
      case "DateTime":
        type = !native
          ? "timestamp(3) without time zone"
          : native === "Timestamptz"
            ? `timestamp(${arg(0) ?? 6}) with time zone`
            : native === "Timestamp"
              ? `timestamp(${arg(0) ?? 6}) without time zone`
              : native === "Date"
                ? "date"
                : undefined;
        break;
      case "Json":
        type = !native || native === "JsonB" ? "jsonb" : native === "Json" ? "json" : undefined;
        break;
      case "Bytes":
        type = !native || native === "ByteA" ? "bytea" : undefined;
        break;
    }
  }
  if (!type) {
    throw new Error(
      `schema-shape: no Postgres type mapping for ${model.name}.${f.name} (${f.type} ${native ?? ""}); extend columnType()`,
    );
  }
  return f.isList ? `${type}[]` : type;
}

/** An identifier as Postgres prints it inside expressions (quote_ident, keywords aside). */
function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

function sqlLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function columnDefault(table: string, type: string, f: DmmfField): string | null {
  if (!f.hasDefaultValue || f.default === undefined) return null;
  const d = f.default;
  if (Array.isArray(d)) {
    if (d.length === 0) return `ARRAY[]::${type}`;
    throw new Error(`schema-shape: non-empty list default on ${table}.${f.name}; extend columnDefault()`);
  }
  if (typeof d === "object") {
    switch (d.name) {
      case "autoincrement":
        return `nextval('${quoteIdent(`${table}_${columnName(f)}_seq`)}'::regclass)`;
      case "now":
        return "CURRENT_TIMESTAMP";
      case "dbgenerated":
        return typeof d.args[0] === "string" ? d.args[0] : null;
      case "uuid":
      case "cuid":
      case "nanoid":
      case "ulid":
        return null; // generated by the client, not the database
    }
    throw new Error(`schema-shape: unknown default function ${d.name}() on ${table}.${f.name}`);
  }
  if (typeof d === "boolean") return String(d);
  if (typeof d === "number") return d < 0 ? `'${d}'::${type}` : String(d);
  // BigInt defaults come as decimal strings.
  if (type === "bigint" && typeof d === "string" && /^-?\d+$/.test(d)) return d.startsWith("-") ? `'${d}'::bigint` : d;
  if (f.kind === "enum") return `${sqlLiteral(d)}::"${type}"`;
  if (type === "text") return `${sqlLiteral(d)}::text`;
  if (type.startsWith("character varying")) return `${sqlLiteral(d)}::character varying`;
  throw new Error(`schema-shape: literal default on ${table}.${f.name} of type ${type}; extend columnDefault()`);
}

const DEFAULT_ON_UPDATE: ReferentialAction = "Cascade";

export function expectedShape(dm: DmmfDatamodel): SchemaShape {
  const tables = dm.models.map((model): TableShape => {
    const table = tableName(model);
    const columns = model.fields
      .filter((f) => f.kind === "scalar" || f.kind === "enum")
      .map((f): ColumnShape => {
        const type = columnType(dm, model, f);
        // Prisma's scalar lists are nullable columns; other fields follow `?`.
        return {
          name: columnName(f),
          type,
          nullable: f.isList || !f.isRequired,
          default: columnDefault(table, type, f),
        };
      })
      .sort(byName);

    const indexes = dm.indexes.filter((i) => i.model === model.name);
    const colsOf = (fields: { name: string }[]) => fields.map((x) => columnName(fieldOf(model, x.name)));

    const id = indexes.find((i) => i.type === "id");
    const primaryKey = id
      ? { name: id.dbName ?? prismaDefaultName(table, colsOf(id.fields), "pkey"), columns: colsOf(id.fields) }
      : null;

    const foreignKeys = model.fields
      .filter((f) => f.kind === "object" && (f.relationFromFields?.length ?? 0) > 0)
      .map((f): ForeignKeyShape => {
        const target = dm.models.find((m) => m.name === f.type);
        if (!target) throw new Error(`DMMF: relation ${model.name}.${f.name} targets unknown model ${f.type}`);
        const from = f.relationFromFields!.map((n) => columnName(fieldOf(model, n)));
        const requiredFrom = f.relationFromFields!.every((n) => fieldOf(model, n).isRequired);
        return {
          // @relation(map: ...) is not in the DMMF: foreign keys keep Prisma's default names.
          name: prismaDefaultName(table, from, "fkey"),
          columns: from,
          referencedTable: tableName(target),
          referencedColumns: f.relationToFields!.map((n) => columnName(fieldOf(target, n))),
          onDelete: (f.relationOnDelete as ReferentialAction | undefined) ?? (requiredFrom ? "Restrict" : "SetNull"),
          onUpdate: (f.relationOnUpdate as ReferentialAction | undefined) ?? DEFAULT_ON_UPDATE,
        };
      })
      .sort(byName);

    const secondary = indexes
      .filter((i) => i.type === "normal" || i.type === "unique")
      .map((i): IndexShape => {
        const cols = colsOf(i.fields);
        return {
          name: i.dbName ?? prismaDefaultName(table, cols, i.type === "unique" ? "key" : "idx"),
          unique: i.type === "unique",
          method: (i.algorithm ?? "BTree").toLowerCase(),
          columns: i.fields.map((x, n) => ({
            name: cols[n],
            desc: x.sortOrder === "desc",
            opclass: x.operatorClass ?? null,
          })),
        };
      })
      .sort(byName);

    return { name: table, columns, primaryKey, foreignKeys, indexes: secondary, otherConstraints: [] };
  });
  const enums = dm.enums
    .map((e) => ({ name: e.dbName ?? e.name, values: e.values.map((v) => v.dbName ?? v.name) }))
    .sort(byName);
  return { tables: tables.sort(byName), enums };
}

// ---------------------------------------------------------------------------
// Actual shape from pg_catalog (current schema, usually public)

const ACTIONS: Record<string, ReferentialAction> = {
  a: "NoAction",
  r: "Restrict",
  c: "Cascade",
  n: "SetNull",
  d: "SetDefault",
};

interface ColumnRow {
  table_name: string;
  column_name: string;
  type: string;
  nullable: boolean;
  column_default: string | null;
}
interface ConstraintRow {
  table_name: string;
  name: string;
  kind: string;
  columns: string[];
  ref_table: string | null;
  ref_columns: string[] | null;
  on_delete: string;
  on_update: string;
}
interface IndexRow {
  table_name: string;
  name: string;
  is_unique: boolean;
  is_primary: boolean;
  method: string;
  is_partial_or_expression: boolean;
  columns: { column: string | null; desc: boolean; opclass: string | null }[];
}
interface EnumRow {
  name: string;
  values: string[];
}

export async function readShape(db: SqlSession): Promise<SchemaShape> {
  const tableRows = (
    await db.query(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition`,
    )
  ).rows as { name: string }[];

  const columnRows = (
    await db.query(
      `SELECT c.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type,
              NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS column_default
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped`,
    )
  ).rows as ColumnRow[];

  const constraintRows = (
    await db.query(
      `SELECT c.relname AS table_name, con.conname AS name, con.contype AS kind,
              ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
              rc.relname AS ref_table,
              CASE WHEN con.confrelid = 0 THEN NULL ELSE
                ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                        JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) END AS ref_columns,
              con.confdeltype AS on_delete, con.confupdtype AS on_update
         FROM pg_constraint con
         JOIN pg_class c ON c.oid = con.conrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_class rc ON rc.oid = con.confrelid
        WHERE n.nspname = current_schema() AND con.contype <> 'n'`,
    )
  ).rows as ConstraintRow[];

  const indexRows = (
    await db.query(
      `SELECT t.relname AS table_name, i.relname AS name, ix.indisunique AS is_unique, ix.indisprimary AS is_primary,
              am.amname AS method, (ix.indexprs IS NOT NULL OR ix.indpred IS NOT NULL) AS is_partial_or_expression,
              json_agg(json_build_object('column', a.attname, 'desc', (k.opt & 1) = 1,
                                         'opclass', CASE WHEN oc.opcdefault THEN NULL ELSE oc.opcname END)
                       ORDER BY k.ord) AS columns
         FROM pg_index ix
         JOIN pg_class i ON i.oid = ix.indexrelid
         JOIN pg_class t ON t.oid = ix.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         JOIN pg_am am ON am.oid = i.relam
         CROSS JOIN LATERAL unnest(ix.indkey::int2[], ix.indoption::int2[], ix.indclass::oid[])
              WITH ORDINALITY AS k(attnum, opt, cls, ord)
         LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0
         LEFT JOIN pg_opclass oc ON oc.oid = k.cls
        WHERE n.nspname = current_schema() AND k.ord <= ix.indnkeyatts
        GROUP BY t.relname, i.relname, ix.indisunique, ix.indisprimary, am.amname, ix.indexprs, ix.indpred`,
    )
  ).rows as IndexRow[];

  const enumRows = (
    await db.query(
      `SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS values
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = current_schema() GROUP BY t.typname`,
    )
  ).rows as EnumRow[];

  const tables = tableRows
    .filter((t) => !BOOKKEEPING_TABLES.has(t.name))
    .map((t): TableShape => {
      const cons = constraintRows.filter((c) => c.table_name === t.name);
      const pk = cons.find((c) => c.kind === "p");
      return {
        name: t.name,
        columns: columnRows
          .filter((c) => c.table_name === t.name)
          .map((c) => ({ name: c.column_name, type: c.type, nullable: c.nullable, default: c.column_default }))
          .sort(byName),
        primaryKey: pk ? { name: pk.name, columns: pk.columns } : null,
        foreignKeys: cons
          .filter((c) => c.kind === "f")
          .map((c) => ({
            name: c.name,
            columns: c.columns,
            referencedTable: c.ref_table ?? "?",
            referencedColumns: c.ref_columns ?? [],
            onDelete: ACTIONS[c.on_delete],
            onUpdate: ACTIONS[c.on_update],
          }))
          .sort(byName),
        indexes: indexRows
          .filter((i) => i.table_name === t.name && !i.is_primary)
          .map((i) => ({
            name: i.is_partial_or_expression ? `${i.name} (partial or expression index)` : i.name,
            unique: i.is_unique,
            method: i.method,
            columns: i.columns.map((c) => ({ name: c.column ?? "(expression)", desc: c.desc, opclass: c.opclass })),
          }))
          .sort(byName),
        otherConstraints: cons
          .filter((c) => c.kind !== "p" && c.kind !== "f")
          .map(
            (c) =>
              `${c.name} (${c.kind === "c" ? "check" : c.kind === "u" ? "unique" : c.kind === "x" ? "exclude" : c.kind})`,
          )
          .sort(),
      };
    })
    .sort(byName);
  return { tables, enums: enumRows.map((e) => ({ name: e.name, values: e.values })).sort(byName) };
}

// ---------------------------------------------------------------------------

const show = (v: unknown) => JSON.stringify(v);

/** Differences between what schema.prisma declares and what the database has. */
export function diffShapes(expected: SchemaShape, actual: SchemaShape): string[] {
  const out: string[] = [];
  /** Matches items by name; `what` is the label prefix, e.g. "column devices." */
  const pair = <T extends { name: string }>(what: string, exp: T[], act: T[], each: (e: T, a: T) => void) => {
    for (const e of exp) {
      const a = act.find((x) => x.name === e.name);
      if (!a) out.push(`${what}${e.name}: declared in schema.prisma, missing in the database`);
      else each(e, a);
    }
    for (const a of act) {
      if (!exp.some((x) => x.name === a.name))
        out.push(`${what}${a.name}: in the database, not declared in schema.prisma`);
    }
  };
  pair("enum ", expected.enums, actual.enums, (e, a) => {
    if (show(e.values) !== show(a.values))
      out.push(`enum ${e.name}: values ${show(e.values)} declared, ${show(a.values)} in the database`);
  });
  pair("table ", expected.tables, actual.tables, (et, at) => {
    const t = et.name;
    pair(`column ${t}.`, et.columns, at.columns, (e, a) => {
      if (e.type !== a.type) out.push(`column ${t}.${e.name}: type ${e.type} declared, ${a.type} in the database`);
      if (e.nullable !== a.nullable)
        out.push(
          `column ${t}.${e.name}: ${e.nullable ? "nullable" : "NOT NULL"} declared, ${a.nullable ? "nullable" : "NOT NULL"} in the database`,
        );
      if (e.default !== a.default)
        out.push(`column ${t}.${e.name}: default ${show(e.default)} declared, ${show(a.default)} in the database`);
    });
    if (show(et.primaryKey) !== show(at.primaryKey)) {
      out.push(`table ${t}: primary key ${show(et.primaryKey)} declared, ${show(at.primaryKey)} in the database`);
    }
    pair(`foreign key ${t}.`, et.foreignKeys, at.foreignKeys, (e, a) => {
      if (show(e) !== show(a)) out.push(`foreign key ${t}.${e.name}: ${show(e)} declared, ${show(a)} in the database`);
    });
    const actualIndexes = at.indexes.filter((i) => !isSqlOnlyIndex(t, i.name));
    pair(`index ${t}.`, et.indexes, actualIndexes, (e, a) => {
      if (show(e) !== show(a)) out.push(`index ${t}.${e.name}: ${show(e)} declared, ${show(a)} in the database`);
    });
    for (const c of at.otherConstraints)
      out.push(`table ${t}: constraint ${c} in the database, not expressible in schema.prisma`);
  });
  return out;
}
