/**
 * What ingest refuses before an event reaches the fleet: device ids (client
 * ids, ids from topics) longer than MAX_DEVICE_ID_BYTES in UTF-8, empty ones,
 * and ones holding control characters or text that is not valid Unicode
 * (a lone surrogate: no UTF-8 encoding exists). Such an id would be a device
 * nobody can name, and one too long for the database's indexes. Refusals are
 * counted by cause, for `/api/health` → `ingest.rejected`.
 */
import type { ActivityEvent } from "./events";

export const DEFAULT_MAX_DEVICE_ID_BYTES = 256;

export type RejectCause =
  | "id_too_long"
  | "id_empty"
  | "id_control_characters"
  | "id_invalid_unicode"
  /** The embedded broker refused a client's publish on another device's topic (MQTT_TOPIC_AUTH). */
  | "foreign_publish"
  /** The embedded broker disconnected a client for a packet over MQTT_MAX_PACKET_BYTES. */
  | "packet_too_large"
  /** The embedded broker refused a WebSocket connection from a browser origin not in MQTT_WS_ORIGINS. */
  | "ws_origin"
  /** The embedded broker refused a retained message on a new topic beyond MQTT_MAX_RETAINED. */
  | "retained_full"
  /** The embedded broker refused an empty client id with clean session 0 (MQTT 3.1.1). */
  | "empty_client_id";

// C0 and C1 control characters, DEL.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why this id is refused, or null when it is fine. */
export function refuseId(id: string, maxBytes: number): RejectCause | null {
  if (id.length === 0) return "id_empty";
  // UTF-8 takes at most 3 bytes per UTF-16 unit: most ids are decided without encoding.
  if (id.length * 3 > maxBytes && Buffer.byteLength(id, "utf8") > maxBytes) return "id_too_long";
  if (CONTROL.test(id)) return "id_control_characters";
  if (LONE_SURROGATE.test(id)) return "id_invalid_unicode";
  return null;
}

export class IngestScreen {
  readonly rejected: Partial<Record<RejectCause, number>> = {};

  constructor(private readonly maxIdBytes: number = DEFAULT_MAX_DEVICE_ID_BYTES) {}

  /** Counts a refusal made elsewhere (the embedded broker's topic authorization). */
  count(cause: RejectCause): void {
    this.rejected[cause] = (this.rejected[cause] ?? 0) + 1;
  }

  /** The events whose device id is fine (the same array when all are). */
  admit(events: ActivityEvent[]): ActivityEvent[] {
    let kept: ActivityEvent[] | null = null;
    for (let i = 0; i < events.length; i++) {
      const cause = refuseId(events[i].deviceId, this.maxIdBytes);
      if (cause === null) {
        kept?.push(events[i]);
        continue;
      }
      this.rejected[cause] = (this.rejected[cause] ?? 0) + 1;
      kept ??= events.slice(0, i);
    }
    return kept ?? events;
  }
}
