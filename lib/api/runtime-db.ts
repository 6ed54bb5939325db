import type { DbPort } from "./ports";
import type { Db } from "../store/db";
import { AppError } from "./errors";

/** The running monitor's database client, or 503 while it is not open yet. */
export function requireDb(runtime: DbPort): Db {
  const db = runtime.db?.prisma;
  if (!db) throw new AppError("SERVICE_UNAVAILABLE", "the database is not open yet");
  return db;
}
