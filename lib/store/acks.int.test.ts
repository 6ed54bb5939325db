/**
 * Acknowledging alerts and incidents on a real Postgres: the row changes, and
 * the notifications are derived only from a new acknowledgement.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { setAlertAck, setIncidentAck, type IncidentRecord } from "./alerts";
import { createDb, type Db } from "./db";
import { createTestDatabase, type TestDatabase } from "./testing";

const T0 = Date.parse("2026-05-10T08:30:00.000Z");
let testDb: TestDatabase;
let db: Db;

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = createDb({ connectionString: testDb.url });
  await db.$executeRaw`
    INSERT INTO "incidents" ("id", "state", "opened_at", "cause_kind", "cause_reason", "device_count", "still_offline", "message")
    VALUES ('inc-1', 'open', ${new Date(T0).toISOString()}::timestamptz, 'disconnect', 'keepalive_timeout', 12, 12, '12 devices offline')`;
});

afterAll(async () => {
  await db?.$disconnect();
  await testDb?.drop();
});

describe("setIncidentAck", () => {
  it("acknowledges, tells only a new acknowledgement, and undoes", async () => {
    const notify = vi.fn((_: IncidentRecord) => []);
    const acked = await setIncidentAck(db, "inc-1", { by: "op-1", comment: "on it", at: T0 + 1_000 }, notify);
    expect(acked).toMatchObject({
      id: "inc-1",
      acknowledgedAt: T0 + 1_000,
      acknowledgedBy: "op-1",
      ackComment: "on it",
    });
    expect(notify).toHaveBeenCalledTimes(1);
    const again = await setIncidentAck(db, "inc-1", { by: "op-2", comment: "still", at: T0 + 2_000 }, notify);
    expect(again).toMatchObject({ acknowledgedBy: "op-2", ackComment: "still" });
    expect(notify).toHaveBeenCalledTimes(1);
    const undone = await setIncidentAck(db, "inc-1", null, notify);
    expect(undone).toMatchObject({ acknowledgedAt: null, acknowledgedBy: null, ackComment: null });
    expect(notify).toHaveBeenCalledTimes(1);
    await setIncidentAck(db, "inc-1", { by: "op-3", comment: null, at: T0 + 3_000 }, notify);
    expect(notify).toHaveBeenCalledTimes(2);
  });

  it("answers null for an incident or alert that does not exist", async () => {
    expect(await setIncidentAck(db, "inc-404", { by: "op", comment: null, at: T0 })).toBeNull();
    expect(await setAlertAck(db, "987654321", { by: "op", comment: null, at: T0 })).toBeNull();
  });
});
