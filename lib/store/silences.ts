/**
 * Silences and maintenance windows as stored (lib/alerts/silences.ts decides
 * when one mutes whom). Ended silences stay for the record; ending one early
 * sets `ended_at`.
 */
import { randomBytes } from "node:crypto";
import type { Recurrence, Silence, SilenceInput } from "../alerts/silences";
import type { Db } from "./db";

interface SilenceRow {
  id: string;
  match: string | null;
  tags: string[] | null;
  starts_at: Date;
  ends_at: Date | null;
  recurrence: Recurrence | null;
  comment: string;
  created_by: string | null;
  created_at: Date;
  ended_at: Date | null;
}

const ms = (d: Date | null) => (d === null ? null : new Date(d).getTime());
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

const toSilence = (r: SilenceRow): Silence => ({
  id: r.id,
  match: r.match,
  tags: r.tags ?? [],
  startsAt: ms(r.starts_at)!,
  endsAt: ms(r.ends_at),
  recurrence: r.recurrence,
  comment: r.comment,
  createdBy: r.created_by,
  createdAt: ms(r.created_at)!,
  endedAt: ms(r.ended_at),
});

/** Every silence that has not ended long ago (expired ones of the last 30 days stay listed). */
export async function listSilences(db: Db, opts: { keepExpiredMs?: number } = {}): Promise<Silence[]> {
  const since = new Date(Date.now() - (opts.keepExpiredMs ?? 30 * 86_400_000)).toISOString();
  const rows = await db.$queryRaw<SilenceRow[]>`
    SELECT * FROM "silences"
     WHERE COALESCE(LEAST("ends_at", "ended_at"), "ends_at", "ended_at", 'infinity'::timestamptz) > ${since}::timestamptz
     ORDER BY "starts_at" DESC, "id"`;
  return rows.map(toSilence);
}

export async function createSilence(db: Db, s: SilenceInput, createdBy: string | null): Promise<Silence> {
  const id = `sil_${Date.now().toString(36)}${randomBytes(5).toString("hex")}`;
  const rows = await db.$queryRaw<SilenceRow[]>`
    INSERT INTO "silences" ("id", "match", "tags", "starts_at", "ends_at", "recurrence", "comment", "created_by")
    VALUES (${id}, ${s.match}::text, ${s.tags}::text[], ${iso(s.startsAt)}::timestamptz, ${iso(s.endsAt)}::timestamptz,
            ${s.recurrence === null ? null : JSON.stringify(s.recurrence)}::jsonb, ${s.comment}, ${createdBy}::text)
    RETURNING *`;
  return toSilence(rows[0]);
}

/** Ends a silence now (no-op for one already over); null when there is no such silence. */
export async function endSilence(db: Db, id: string, at: number): Promise<Silence | null> {
  const rows = await db.$queryRaw<SilenceRow[]>`
    UPDATE "silences" SET "ended_at" = LEAST(COALESCE("ended_at", ${iso(at)}::timestamptz), ${iso(at)}::timestamptz)
     WHERE "id" = ${id} RETURNING *`;
  return rows[0] ? toSilence(rows[0]) : null;
}
