/**
 * The operator's inventory in memory: each device's name, tags, notes and,
 * for a device an import expected before it was ever seen, since when. Loaded
 * once at start (lib/store/inventory.ts), changed by the API; read on the hot
 * paths (alert rules by tag, silences by tag, names on the wire), so lookups
 * are one Map access.
 */
import type { DeviceStatus } from "../fleet/types";

export interface DeviceLabelRecord {
  deviceId: string;
  name: string | null;
  tags: string[];
  notes: string | null;
  /** Set by an import for a device the monitor had never seen. */
  expectedAt: number | null;
}

export interface TagCounts {
  tag: string;
  counts: Record<DeviceStatus, number> & { total: number };
}

const NO_TAGS: readonly string[] = [];

export class Inventory {
  private readonly records = new Map<string, DeviceLabelRecord>();

  load(records: Iterable<DeviceLabelRecord>): void {
    for (const r of records) this.records.set(r.deviceId, r);
  }

  set(record: DeviceLabelRecord): void {
    this.records.set(record.deviceId, record);
  }

  get(deviceId: string): DeviceLabelRecord | undefined {
    return this.records.get(deviceId);
  }

  nameOf(deviceId: string): string | null {
    return this.records.get(deviceId)?.name ?? null;
  }

  tagsOf(deviceId: string): readonly string[] {
    return this.records.get(deviceId)?.tags ?? NO_TAGS;
  }

  expectedSince(deviceId: string): number | null {
    return this.records.get(deviceId)?.expectedAt ?? null;
  }

  /** Devices the inventory expects (imported, maybe never seen). */
  *expected(): Iterable<DeviceLabelRecord> {
    for (const r of this.records.values()) if (r.expectedAt !== null) yield r;
  }

  has(deviceId: string, tag: string): boolean {
    return this.records.get(deviceId)?.tags.includes(tag) ?? false;
  }

  /** Every tag in use with the status counts of its devices (`statusOf` null: the fleet does not hold it). */
  tagCounts(statusOf: (deviceId: string) => DeviceStatus | null): TagCounts[] {
    const byTag = new Map<string, TagCounts["counts"]>();
    for (const r of this.records.values()) {
      if (r.tags.length === 0) continue;
      const status = statusOf(r.deviceId);
      if (status === null) continue;
      for (const tag of r.tags) {
        let c = byTag.get(tag);
        if (!c) byTag.set(tag, (c = { online: 0, late: 0, offline: 0, unknown: 0, total: 0 }));
        c[status]++;
        c.total++;
      }
    }
    return [...byTag].map(([tag, counts]) => ({ tag, counts })).sort((a, b) => (a.tag < b.tag ? -1 : 1));
  }
}
