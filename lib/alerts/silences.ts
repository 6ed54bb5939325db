/**
 * Silences and maintenance windows: while a silence mutes a device, its
 * alerts are recorded but not sent.
 *
 * A silence covers devices by a glob on the device id (`match`, the same
 * syntax as alert rules and the history filter) and/or by `tags`. A device is
 * covered when the glob matches its id OR it carries any of the silence's
 * tags: a silence with both covers the devices of either. (Alert rules differ
 * on purpose: a rule with both needs both, as it narrows who a threshold
 * applies to; a silence widens who is kept quiet.)
 *
 * A silence lasts from `startsAt` to `endsAt` (or until it is ended early,
 * `endedAt`), whichever comes first. A recurring silence (a maintenance
 * window) mutes only during its weekly occurrences within that span: each
 * occurrence starts at the wall time `start` on weekday `day` in `timeZone`
 * and lasts `minutes` of real elapsed time, so a 180-minute window that
 * starts at 01:00 on the night the clocks go back ends at 03:00 on the wall
 * clock, after three real hours. Occurrences that began before `startsAt`
 * count from `startsAt` only. Occurrences may cross midnight and last up to
 * a week; overlapping or touching ones mute as one.
 *
 * Wall times that the clock skips (spring forward) move forward by the gap,
 * as luxon does it: 02:30 on the night Europe/Berlin goes from 02:00 to 03:00
 * becomes 03:30 CEST. Wall times that happen twice (fall back) mean the first
 * of the two instants. All time-zone math is luxon's; every function here is
 * pure and takes `now` in epoch milliseconds.
 *
 * A one-off silence must end (`endsAt`): an open-ended one would keep a
 * device quiet forever once forgotten. A recurring one may run indefinitely.
 */
import { DateTime, IANAZone } from "luxon";
import { z } from "../zod";
import { MAX_TAGS, TAG_PATTERN } from "../inventory/labels";
import { globProblem } from "./rules";

export const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Day = (typeof DAYS)[number];

/** The longest occurrence: one week. */
export const MAX_WINDOW_MINUTES = 10_080;
export const MAX_WEEKLY_WINDOWS = 50;
export const MAX_COMMENT = 1000;

export type WeeklyWindow = { day: Day; start: string; minutes: number };

export type Recurrence = { weekly: WeeklyWindow[]; timeZone: string };

/** A silence as the API takes it in (times in epoch ms). */
export type SilenceInput = {
  /** Device glob, or null: then the tags alone. */
  match: string | null;
  /** Devices carrying any of these (deduplicated, sorted); empty: the glob alone. */
  tags: string[];
  startsAt: number;
  /** null only for a recurring silence: it recurs until ended. */
  endsAt: number | null;
  recurrence: Recurrence | null;
  comment: string;
};

/** A silence as stored. */
export type Silence = SilenceInput & {
  id: string;
  /** When an operator ended it early; null while it runs its course. */
  endedAt: number | null;
  createdBy: string | null;
  createdAt: number;
};

export type SilenceState = "active" | "upcoming" | "expired";

// ---------------------------------------------------------------------------
// Validation

const ISO_EXAMPLE = "2026-03-29T02:00:00Z";
const START_PATTERN = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;

const instant = (field: string) => {
  const message = `${field} must be an ISO-8601 date-time with an offset or Z, such as ${ISO_EXAMPLE}`;
  return z
    .string({ error: message })
    .pipe(z.iso.datetime({ offset: true, error: message }))
    .transform((v, ctx) => {
      const at = DateTime.fromISO(v, { setZone: true });
      if (!at.isValid) {
        ctx.addIssue({ code: "custom", message });
        return z.NEVER;
      }
      return at.toMillis();
    })
    .nullable()
    .optional();
};

// Messages of the recurrence's parts leave out their subject: the field's
// dotted path (`recurrence.weekly.0.start`) is put in front of them.
const windowSchema = z.object(
  {
    day: z.enum(DAYS, { error: `must be one of ${DAYS.join(", ")}` }),
    start: z
      .string({ error: "must be a time of day HH:MM" })
      .regex(START_PATTERN, "must be a time of day HH:MM, 00:00 to 23:59"),
    minutes: z
      .number({ error: "must be a number of minutes" })
      .int("must be a whole number of minutes")
      .min(1, `must be 1 to ${MAX_WINDOW_MINUTES} minutes (a week)`)
      .max(MAX_WINDOW_MINUTES, `must be 1 to ${MAX_WINDOW_MINUTES} minutes (a week)`),
  },
  { error: "must be an object { day, start, minutes }" },
);

const recurrenceSchema = z
  .object(
    {
      weekly: z
        .array(windowSchema, { error: "must be a list of { day, start, minutes }" })
        .min(1, "must hold at least one window")
        .max(MAX_WEEKLY_WINDOWS, `must hold at most ${MAX_WEEKLY_WINDOWS} windows`),
      timeZone: z
        .string({ error: "must be an IANA time zone such as Europe/Berlin" })
        .refine((tz) => IANAZone.isValidZone(tz), "must be an IANA time zone such as Europe/Berlin"),
    },
    { error: "must be an object { weekly: [{ day, start, minutes }], timeZone }" },
  )
  .nullable()
  .optional();

const fieldSchemas = {
  match: z
    .string({ error: "match must be a device glob such as pump-*, or null" })
    .superRefine((glob, ctx) => {
      const problem = globProblem(glob);
      if (problem) ctx.addIssue({ code: "custom", message: `match ${problem}` });
    })
    .nullable()
    .optional(),
  tags: z
    .array(z.string({ error: "tags must be strings" }).regex(TAG_PATTERN, "tags must each match [a-z0-9_.:-]{1,64}"), {
      error: "tags must be a list of tags",
    })
    .max(MAX_TAGS, `tags must be at most ${MAX_TAGS}`)
    .nullable()
    .optional(),
  startsAt: instant("startsAt"),
  endsAt: instant("endsAt"),
  recurrence: recurrenceSchema,
  comment: z
    .string({ error: "comment is required (why the devices are silenced)" })
    .trim()
    .min(1, "comment must not be empty")
    .max(MAX_COMMENT, `comment must be at most ${MAX_COMMENT} characters`),
};

/** The body of `POST /api/silences` as the API documents it; parseSilenceInput checks each field with these. */
export const silenceInputSchema = z.object(fieldSchemas);

type FieldValues = { [K in keyof typeof fieldSchemas]?: z.output<(typeof fieldSchemas)[K]> };

export type SilenceFieldErrors = Record<string, string>;

export type ParsedSilence = { ok: true; silence: SilenceInput } | { ok: false; fields: SilenceFieldErrors };

/**
 * Validates a silence from the API (JSON body): every bad field is named, with
 * one message each (the parts of a recurrence by their dotted path, such as
 * `recurrence.weekly.0.start`). Unknown fields are ignored. `startsAt`
 * defaults to `now`.
 */
export function parseSilenceInput(body: unknown, now: number): ParsedSilence {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return { ok: false, fields: { body: "expected a JSON object with the silence's fields" } };
  const raw = body as Record<string, unknown>;
  const fields: SilenceFieldErrors = {};
  const values: FieldValues = {};
  for (const key of Object.keys(fieldSchemas) as (keyof typeof fieldSchemas)[]) {
    const parsed = fieldSchemas[key].safeParse(raw[key]);
    if (parsed.success) {
      (values as Record<string, unknown>)[key] = parsed.data;
      continue;
    }
    for (const issue of parsed.error.issues) {
      if (key === "recurrence") {
        const path = ["recurrence", ...issue.path.map(String)].join(".");
        fields[path] ??= `${path} ${issue.message}`;
      } else fields[key] ??= issue.message;
    }
  }

  const match = values.match ?? null;
  const tags = [...new Set(values.tags ?? [])].sort();
  if (fields.match === undefined && fields.tags === undefined && match === null && tags.length === 0)
    fields.match = "match or tags is required";

  const startsAt = values.startsAt ?? now;
  const endsAt = values.endsAt ?? null;
  const recurrence = values.recurrence ?? null;
  if (fields.startsAt === undefined && endsAt !== null && endsAt <= startsAt)
    fields.endsAt ??= "endsAt must be after startsAt";
  if (endsAt === null && recurrence === null && fields.endsAt === undefined && !hasRecurrenceError(fields))
    fields.endsAt = "endsAt is required unless the silence recurs";

  if (Object.keys(fields).length > 0) return { ok: false, fields };
  return {
    ok: true,
    silence: {
      match,
      tags,
      startsAt,
      endsAt,
      recurrence: recurrence && {
        weekly: recurrence.weekly.map((w) => ({ day: w.day, start: w.start, minutes: w.minutes })),
        timeZone: recurrence.timeZone,
      },
      comment: values.comment!,
    },
  };
}

const hasRecurrenceError = (fields: SilenceFieldErrors) =>
  Object.keys(fields).some((k) => k === "recurrence" || k.startsWith("recurrence."));

// ---------------------------------------------------------------------------
// Schedule

const MINUTE = 60_000;
/**
 * Days of occurrences looked at before `now`'s local date: an occurrence lasts
 * at most 7 real days, so one that starts 9 local days back ends before
 * today even when the clocks moved forward in between.
 */
const LOOK_BACK_DAYS = 8;
/** And after it: every weekday comes round within 7 days, so a next start is always in sight. */
const LOOK_AHEAD_DAYS = 8;

const WEEKDAY: Record<Day, number> = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7 };

interface Slot {
  hour: number;
  minute: number;
  ms: number;
}

/** A recurrence ready to evaluate: its windows by luxon weekday (1 = Monday … 7 = Sunday). */
interface Schedule {
  zone: string;
  byWeekday: Slot[][];
}

function compileSchedule(r: Recurrence): Schedule {
  const byWeekday: Slot[][] = Array.from({ length: 8 }, () => []);
  for (const w of r.weekly) {
    const m = START_PATTERN.exec(w.start);
    const weekday = WEEKDAY[w.day];
    // A malformed stored window never mutes (alerts go out rather than vanish).
    if (!m || weekday === undefined || !(w.minutes > 0)) continue;
    byWeekday[weekday].push({ hour: Number(m[1]), minute: Number(m[2]), ms: w.minutes * MINUTE });
  }
  return { zone: r.timeZone, byWeekday };
}

/** When a silence stops muting for good: endsAt or endedAt, the earlier; Infinity when neither. */
function endOf(s: Silence): number {
  return Math.min(s.endsAt ?? Infinity, s.endedAt ?? Infinity);
}

/** The local start of the day holding `at`, in the schedule's zone; null for a zone luxon does not know. */
function localDay(schedule: Schedule, at: number): DateTime | null {
  const day = DateTime.fromMillis(at, { zone: schedule.zone }).startOf("day");
  return day.isValid ? day : null;
}

/**
 * The instant a wall time happens on a local day. A skipped wall time moves
 * forward by the gap; one that happens twice means its first instant. (Built
 * from the day rather than with `DateTime.fromObject`, whose choice between the
 * two instants depends on the clock of the machine it runs on.)
 */
function wallTime(day: DateTime, slot: Slot): number {
  const at = day.set({ hour: slot.hour, minute: slot.minute, second: 0, millisecond: 0 });
  let first = at.toMillis();
  for (const alt of at.getPossibleOffsets()) first = Math.min(first, alt.toMillis());
  return first;
}

/** Whether one of the schedule's occurrences holds `now` (ignoring startsAt and the end). */
function occurring(schedule: Schedule, now: number): boolean {
  const today = localDay(schedule, now);
  if (!today) return false;
  for (let k = 0; k <= LOOK_BACK_DAYS; k++) {
    const day = k === 0 ? today : today.minus({ days: k });
    for (const slot of schedule.byWeekday[day.weekday]) {
      const start = wallTime(day, slot);
      if (start <= now && now < start + slot.ms) return true;
    }
  }
  return false;
}

function mutingWith(s: Silence, schedule: Schedule | null, now: number): boolean {
  if (now < s.startsAt || now >= endOf(s)) return false;
  return schedule === null || occurring(schedule, now);
}

/**
 * The next instant after `now` at which the silence's muting or its state
 * changes; null when neither ever changes again. Exact, except that
 * occurrences chaining into each other for longer than a week may yield a
 * change that is not one (never one that comes too late).
 */
function nextChangeWith(s: Silence, schedule: Schedule | null, now: number): number | null {
  const end = endOf(s);
  if (now >= end) return null;
  if (now < s.startsAt) return Math.min(s.startsAt, end);
  const finalChange = Number.isFinite(end) ? end : null;
  if (schedule === null) return finalChange;
  const today = localDay(schedule, now);
  if (!today) return finalChange;

  const spans: Array<[number, number]> = [];
  for (let k = -LOOK_BACK_DAYS; k <= LOOK_AHEAD_DAYS; k++) {
    const day = k === 0 ? today : today.plus({ days: k });
    for (const slot of schedule.byWeekday[day.weekday]) {
      const start = wallTime(day, slot);
      const from = Math.max(start, s.startsAt);
      const to = Math.min(start + slot.ms, end);
      if (from < to) spans.push([from, to]);
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  // Walk the spans merged: overlapping or touching occurrences mute as one.
  for (let i = 0; i < spans.length;) {
    const from = spans[i][0];
    let to = spans[i][1];
    for (i++; i < spans.length && spans[i][0] <= to; i++) to = Math.max(to, spans[i][1]);
    if (from > now) return from;
    if (to > now) return to;
  }
  return finalChange;
}

/**
 * Whether the silence mutes at `now`: within [startsAt, endsAt/endedAt) and,
 * for a recurring one, within one of its weekly occurrences.
 */
export function mutingAt(s: Silence, now: number): boolean {
  return mutingWith(s, s.recurrence && compileSchedule(s.recurrence), now);
}

/**
 * upcoming: before startsAt; expired: from endsAt or endedAt on (a silence
 * ended before it started is expired too); else active, also for a recurring
 * silence between its occurrences (it does not mute then, see `mutingAt`).
 */
export function silenceState(s: Silence, now: number): SilenceState {
  if (now >= endOf(s)) return "expired";
  if (now < s.startsAt) return "upcoming";
  return "active";
}

/**
 * The next instant after `now` at which `mutingAt` or `silenceState` may
 * change (an occurrence starting or ending, startsAt, endsAt or endedAt); null
 * when nothing ever changes again. Meant for a timer.
 */
export function nextChange(s: Silence, now: number): number | null {
  return nextChangeWith(s, s.recurrence && compileSchedule(s.recurrence), now);
}

// ---------------------------------------------------------------------------
// Index

interface Entry {
  silence: Silence;
  end: number;
  glob: ((deviceId: string) => boolean) | null;
  tags: ReadonlySet<string> | null;
  schedule: Schedule | null;
  /** Muting is `muting` throughout [from, until) (until: the next change, Infinity for none). */
  from: number;
  until: number;
  muting: boolean;
}

/**
 * The silences in force, ready to ask which one mutes a device. Each glob is
 * compiled once; a recurring silence's schedule is worked out once per change
 * (not per question), so asking is cheap between changes.
 */
export class SilenceIndex {
  private readonly entries: Entry[];

  /**
   * `matcher` compiles a device glob (lib/api/glob.ts `globMatcher`). A glob it
   * refuses matches no device; the silence's tags still do.
   */
  constructor(silences: readonly Silence[], matcher: (glob: string) => (deviceId: string) => boolean) {
    this.entries = silences.map((silence) => {
      let glob: Entry["glob"] = null;
      if (silence.match !== null) {
        try {
          glob = matcher(silence.match);
        } catch {
          glob = null;
        }
      }
      return {
        silence,
        end: endOf(silence),
        glob,
        tags: silence.tags.length > 0 ? new Set(silence.tags) : null,
        schedule: silence.recurrence && compileSchedule(silence.recurrence),
        from: Infinity,
        until: -Infinity,
        muting: false,
      };
    });
  }

  /**
   * The id of a silence that mutes the device now (the first one in the order
   * given), or null. A silence covers the device when its glob matches the id
   * or the device carries any of its tags.
   */
  mutedBy(deviceId: string, tags: readonly string[], now: number): string | null {
    for (const e of this.entries) {
      if (now < e.silence.startsAt || now >= e.end) continue;
      if (!covers(e, deviceId, tags)) continue;
      if (e.schedule === null || refresh(e, now).muting) return e.silence.id;
    }
    return null;
  }

  /** The next instant after `now` at which any silence's muting or state may change; null when none will. */
  nextChange(now: number): number | null {
    let next = Infinity;
    for (const e of this.entries) next = Math.min(next, refresh(e, now).until);
    return Number.isFinite(next) ? next : null;
  }
}

function covers(e: Entry, deviceId: string, tags: readonly string[]): boolean {
  if (e.tags !== null) for (const t of tags) if (e.tags.has(t)) return true;
  return e.glob !== null && e.glob(deviceId);
}

function refresh(e: Entry, now: number): Entry {
  if (now >= e.from && now < e.until) return e;
  e.muting = mutingWith(e.silence, e.schedule, now);
  e.until = nextChangeWith(e.silence, e.schedule, now) ?? Infinity;
  e.from = now;
  return e;
}
