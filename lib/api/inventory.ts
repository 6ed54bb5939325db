/**
 * The operator's inventory over the API: a device's name, tags and notes
 * (`PATCH /api/devices/{id}`), a bulk CSV import (`POST /api/devices/import`)
 * and the tags in use with their status counts (`GET /api/tags`).
 */
import { z } from "../zod";
import { parseImportCsv, parseLabelsPatch, type ImportError } from "../inventory/labels";
import type { TagCounts } from "../inventory/inventory";
import type { ConfigPort, DbPort, FleetPort, InventoryPort } from "./ports";
import { importLabels, patchLabels } from "../store/inventory";
import { readJsonBody, readTextBody } from "./body";
import { statusCountsSchema, type DeviceDto } from "./dto";
import { AppError } from "./errors";
import { requireDb } from "./runtime-db";

/** `POST /api/devices/import` query parameters. */
export const importQuery = {
  dryRun: z.enum(["0", "1", "true", "false"], { error: "dryRun must be 1 or 0" }).optional(),
};

export async function patchDevice(
  runtime: DbPort & FleetPort & InventoryPort,
  id: string,
  request: Request,
): Promise<DeviceDto> {
  const device = runtime.fleet.get(id);
  if (!device && !runtime.inventory.get(id)) throw new AppError("DEVICE_NOT_FOUND", "no device with this id is known");
  const parsed = parseLabelsPatch(await readJsonBody(request));
  if (!parsed.ok) throw new AppError("BAD_REQUEST", Object.values(parsed.fields).join("; "), parsed.fields);
  const record = await patchLabels(requireDb(runtime), id, parsed.patch);
  runtime.inventory.set(record);
  runtime.relabeled([id]);
  await runtime.changed("labels", { ids: [id] });
  const state = runtime.fleet.get(id);
  if (!state) throw new AppError("DEVICE_NOT_FOUND", "no device with this id is held");
  return runtime.deviceDto(state);
}

const importErrorSchema = z.object({ line: z.number().int(), message: z.string() }) satisfies z.ZodType<ImportError>;

export const importResultSchema = z.object({
  dryRun: z.boolean(),
  created: z
    .number()
    .int()
    .describe("Ids new to keepwatch (never seen, not in the inventory): they become expected devices."),
  updated: z.number().int().describe("Ids keepwatch knew: their labels were set."),
  errors: z.array(importErrorSchema),
});
export type ImportResult = z.infer<typeof importResultSchema>;

/**
 * A CSV `device_id,name,tags,notes` (tags separated by `;`). A file with any
 * error changes nothing (the caller answers 400 with every error by line);
 * `dryRun` reports what would happen without writing.
 */
export async function importDevices(
  runtime: DbPort & FleetPort & InventoryPort & ConfigPort,
  request: Request,
  dryRun: boolean,
): Promise<ImportResult> {
  const { config } = runtime;
  const text = await readTextBody(request, config.MAX_IMPORT_BYTES);
  const parsed = parseImportCsv(text, { maxRows: config.MAX_DEVICES, maxDeviceIdBytes: config.MAX_DEVICE_ID_BYTES });
  const known = (id: string) => runtime.fleet.get(id) !== undefined || runtime.inventory.get(id) !== undefined;
  const created = parsed.rows.filter((r) => !known(r.deviceId)).length;
  const result: ImportResult = { dryRun, created, updated: parsed.rows.length - created, errors: parsed.errors };
  if (parsed.errors.length > 0 || dryRun) return result;
  const now = Date.now();
  // Expected: ids the monitor has never seen (imported before the device first connects).
  const expected = new Set(
    parsed.rows.filter((r) => (runtime.fleet.get(r.deviceId)?.lastSeenAt ?? null) === null).map((r) => r.deviceId),
  );
  const records = await importLabels(requireDb(runtime), parsed.rows, parsed.columns, expected, now);
  for (const r of records) runtime.inventory.set(r);
  const ids = records.map((r) => r.deviceId);
  runtime.fleet.expect(
    records.filter((r) => r.expectedAt !== null).map((r) => r.deviceId),
    now,
  );
  runtime.relabeled(ids);
  // NOTIFY payloads are small: past a few ids, peers re-read every label.
  await runtime.changed("labels", ids.length <= 50 ? { ids } : {});
  return result;
}

/** A refused import in the one error shape, with the per-line errors beside it. */
export function importRefused(result: ImportResult): Response {
  const first = result.errors[0];
  const fields: Record<string, string> = {};
  for (const e of result.errors.slice(0, 100)) fields[`line ${e.line}`] ??= e.message;
  return Response.json(
    {
      error: {
        code: "BAD_REQUEST",
        message: `${result.errors.length} problem(s), nothing imported; line ${first.line}: ${first.message}`,
        fields,
      },
      created: 0,
      updated: 0,
      errors: result.errors.slice(0, 1000),
    },
    { status: 400 },
  );
}

export const tagCountsSchema = z.object({ tag: z.string(), counts: statusCountsSchema }) satisfies z.ZodType<TagCounts>;

/** A refused import: the one error shape, with the per-line errors beside it. */
export const importRefusedSchema = z.object({
  error: z.object({ code: z.literal("BAD_REQUEST"), message: z.string(), fields: z.record(z.string(), z.string()) }),
  created: z.literal(0),
  updated: z.literal(0),
  errors: z.array(importErrorSchema),
});

export function tagCounts(runtime: FleetPort & InventoryPort): TagCounts[] {
  return runtime.inventory.tagCounts((id) => runtime.fleet.get(id)?.status ?? null);
}
