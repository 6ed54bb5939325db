/**
 * A one-device silence as the alerts and device pages ask for it, pure: the
 * device id as an exact glob (its metacharacters escaped), from now until the
 * chosen end, with a comment saying who muted it and where.
 */
import { escapeGlob } from "@/components/history/filters";

/** "Mute 1 h". */
export const MUTE_HOUR_MS = 3_600_000;

export interface MuteRequest {
  match: string;
  startsAt: string;
  endsAt: string;
  comment: string;
}

export interface MuteOptions {
  deviceId: string;
  /** Who is signed in (null while not known yet). */
  username: string | null;
  /** Where the mute was asked for, for the comment ("alerts page"). */
  from: string;
  now: number;
  endsAt: number;
  /** The operator's own words; blank: the default comment. */
  comment?: string;
}

/** The body of `POST /api/silences`, or an error message when the end is not after now. */
export function muteRequest(o: MuteOptions): { ok: true; body: MuteRequest } | { ok: false; message: string } {
  if (!Number.isFinite(o.endsAt)) return { ok: false, message: "pick the time the mute ends" };
  if (o.endsAt <= o.now) return { ok: false, message: "the mute must end in the future" };
  const own = o.comment?.trim() ?? "";
  return {
    ok: true,
    body: {
      match: escapeGlob(o.deviceId),
      startsAt: new Date(o.now).toISOString(),
      endsAt: new Date(o.endsAt).toISOString(),
      comment: own !== "" ? own : `muted from the ${o.from} by ${o.username ?? "someone"}`,
    },
  };
}

/** The value of an `<input type="datetime-local">`, read as the browser's local time, in epoch ms (NaN when empty). */
export function localInputToMs(value: string): number {
  return value === "" ? NaN : new Date(value).getTime();
}
