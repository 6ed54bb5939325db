/**
 * The opaque `cursor` of paged disconnect lists: the last row's history key
 * (lib/store/disconnects.ts DisconnectKey) as base64url JSON. Clients pass it
 * back unchanged; anything that does not decode to a valid key is a 400.
 */
import { z } from "../zod";
import type { DisconnectKey } from "../store/disconnects";
import { AppError } from "./errors";

/** Longest cursor accepted: a key with a device id of a few kilobytes. */
export const CURSOR_MAX = 12_000;

const MAX_TIME = Date.parse("9999-12-31T23:59:59.999Z");
const time = z.number().int().min(0).max(MAX_TIME);
const wire = z.strictObject({
  v: z.literal(1),
  d: time,
  i: z
    .string()
    .min(1)
    .refine((s) => !s.includes("\u0000")),
  c: time,
});

export function encodeCursor(key: DisconnectKey): string {
  const json = JSON.stringify({ v: 1, d: key.disconnectedAt, i: key.deviceId, c: key.connectedAt });
  return Buffer.from(json, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): DisconnectKey {
  const invalid = () => new AppError("BAD_REQUEST", "cursor: not a cursor this API returned");
  if (cursor.length > CURSOR_MAX || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  const result = wire.safeParse(parsed);
  if (!result.success) throw invalid();
  const { d, i, c } = result.data;
  // A session never ends before it starts; a key that says otherwise was not made here.
  if (c > d) throw invalid();
  return { disconnectedAt: d, deviceId: i, connectedAt: c };
}
