/**
 * The operator's inventory as stored (table `device_labels`): names, tags,
 * notes, and when an import expected a device never seen. The fleet's own
 * table (`devices`) is the monitor's; this one is the operator's, so neither
 * overwrites the other.
 */
import type { ImportColumn, ImportRow, LabelsPatch } from "../inventory/labels";
import type { DeviceLabelRecord } from "../inventory/inventory";
import type { Db } from "./db";

interface LabelRow {
  device_id: string;
  name: string | null;
  tags: string[] | null;
  notes: string | null;
  expected_at: Date | null;
}

const toRecord = (r: LabelRow): DeviceLabelRecord => ({
  deviceId: r.device_id,
  name: r.name,
  tags: r.tags ?? [],
  notes: r.notes,
  expectedAt: r.expected_at === null ? null : new Date(r.expected_at).getTime(),
});

export async function loadLabels(db: Db): Promise<DeviceLabelRecord[]> {
  const rows = await db.$queryRaw<LabelRow[]>`SELECT * FROM "device_labels"`;
  return rows.map(toRecord);
}

/** Sets the given fields of one device's labels (the others are kept). */
export async function patchLabels(db: Db, deviceId: string, patch: LabelsPatch): Promise<DeviceLabelRecord> {
  const hasName = patch.name !== undefined;
  const hasTags = patch.tags !== undefined;
  const hasNotes = patch.notes !== undefined;
  const rows = await db.$queryRaw<LabelRow[]>`
    INSERT INTO "device_labels" ("device_id", "name", "tags", "notes")
    VALUES (${deviceId}, ${patch.name ?? null}::text, ${patch.tags ?? []}::text[], ${patch.notes ?? null}::text)
    ON CONFLICT ("device_id") DO UPDATE SET
      "name" = CASE WHEN ${hasName} THEN EXCLUDED."name" ELSE "device_labels"."name" END,
      "tags" = CASE WHEN ${hasTags} THEN EXCLUDED."tags" ELSE "device_labels"."tags" END,
      "notes" = CASE WHEN ${hasNotes} THEN EXCLUDED."notes" ELSE "device_labels"."notes" END,
      "updated_at" = now()
    RETURNING *`;
  return toRecord(rows[0]);
}

/**
 * Writes an import in one statement (all or nothing). Only the columns the
 * file has are set; `expected` ids (never seen by the monitor) get
 * `expected_at` unless they already had one.
 */
export async function importLabels(
  db: Db,
  rows: readonly ImportRow[],
  columns: readonly ImportColumn[],
  expected: ReadonlySet<string>,
  at: number,
): Promise<DeviceLabelRecord[]> {
  if (rows.length === 0) return [];
  const has = (c: ImportColumn) => columns.includes(c);
  const result = await db.$queryRaw<LabelRow[]>`
    INSERT INTO "device_labels" ("device_id", "name", "tags", "notes", "expected_at")
    SELECT u.id, u.name, string_to_array(u.tags, ';'), u.notes,
           CASE WHEN u.expected THEN ${new Date(at).toISOString()}::timestamptz END
      FROM unnest(${rows.map((r) => r.deviceId)}::text[], ${rows.map((r) => r.name)}::text[],
                  ${rows.map((r) => r.tags.join(";"))}::text[], ${rows.map((r) => r.notes)}::text[],
                  ${rows.map((r) => expected.has(r.deviceId))}::boolean[]) AS u(id, name, tags, notes, expected)
    ON CONFLICT ("device_id") DO UPDATE SET
      "name" = CASE WHEN ${has("name")} THEN EXCLUDED."name" ELSE "device_labels"."name" END,
      "tags" = CASE WHEN ${has("tags")} THEN EXCLUDED."tags" ELSE "device_labels"."tags" END,
      "notes" = CASE WHEN ${has("notes")} THEN EXCLUDED."notes" ELSE "device_labels"."notes" END,
      "expected_at" = COALESCE("device_labels"."expected_at", EXCLUDED."expected_at"),
      "updated_at" = now()
    RETURNING *`;
  return result.map(toRecord);
}
