/**
 * What lib/api reads and changes, as narrow ports: each function asks for
 * the ports it uses, not for the whole monitor. The running monitor
 * (lib/runtime.ts) provides them all; a test can hand over just the ones a
 * function needs.
 */
import type { ActivityRecorder } from "../store/activity";
import type { Db } from "../store/db";
import type { Fleet } from "../fleet/fleet";
import type { DeviceState } from "../fleet/types";
import type { Inventory } from "../inventory/inventory";
import type { FleetViews } from "../live/views";
import type { DeviceDto } from "./dto";
import type { Config } from "../config";

/** The database, null until it is open. */
export interface DbPort {
  readonly db: { readonly prisma: Db } | null;
}

/** The live fleet: device states in memory, and a device as the API shows it. */
export interface FleetPort {
  readonly fleet: Pick<Fleet, "get" | "all" | "expect" | "counts">;
  deviceDto(d: DeviceState): DeviceDto;
  /** Whether a source that sees PINGREQs is active (silence verdicts possible). */
  readonly pingsVisible: boolean;
}

/** The fleet page's server-side views (filter, sort, cursor paging). */
export interface ViewsPort {
  /** The views with every change so far in them (the live hub otherwise applies changes per publish). */
  viewsNow(): Pick<FleetViews, "idsAfter">;
}

/** Activity not yet written, and how long raw points are kept; null without a database. */
export interface ActivityPort {
  readonly activity: Pick<ActivityRecorder, "rawRetentionMs" | "pendingRollups" | "writeStamp"> | null;
}

/** The operator's names, notes and tags, and telling the other parts (and instances) they changed. */
export interface InventoryPort {
  readonly inventory: Pick<Inventory, "get" | "set" | "tagCounts">;
  relabeled(ids: readonly string[]): void;
  changed(kind: "labels", data?: Record<string, unknown>): Promise<void>;
}

/** Limits the operator set (lib/config.ts). */
export interface ConfigPort {
  readonly config: Pick<Config, "MAX_IMPORT_BYTES" | "MAX_DEVICES" | "MAX_DEVICE_ID_BYTES">;
}
