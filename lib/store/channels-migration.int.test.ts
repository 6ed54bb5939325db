/**
 * Upgrading a database whose rules carry webhook URLs: each distinct URL
 * becomes one webhook channel (a default for system alerts, as every rule's
 * webhook was before), and each rule points at its URL's channel, so
 * existing rules keep notifying where they did.
 */
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectSqlSession, type OwnedSqlSession } from "./db";
import { migrate } from "./migrate";
import { createTestDatabase, MIGRATIONS_DIR, type TestDatabase } from "./testing";

const CHANNELS = "20261203040000_channels";
let database: TestDatabase;
let session: OwnedSqlSession;
let dir: string;

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false });
  session = await connectSqlSession(database.url);
  dir = await mkdtemp(path.join(tmpdir(), "kw-channel-migration-"));
  for (const name of await readdir(MIGRATIONS_DIR))
    if (name < CHANNELS) await cp(path.join(MIGRATIONS_DIR, name), path.join(dir, name), { recursive: true });
  await migrate({ db: session, migrationsDir: dir });
});

afterAll(async () => {
  await session?.end();
  await database?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the channels migration", () => {
  it("turns each distinct webhook URL into one webhook channel and points the rules at it", async () => {
    await session.query(`
      INSERT INTO "alert_rules" ("name", "match", "webhook_url") VALUES
        ('pumps', 'pump-*', 'https://hooks.example/T1/secret-a'),
        ('valves', 'valve-*', 'https://hooks.example/T1/secret-a'),
        ('gates', 'gate-*', 'http://10.0.0.5:8080/hook'),
        ('quiet', 'q-*', NULL)`);
    await cp(path.join(MIGRATIONS_DIR, CHANNELS), path.join(dir, CHANNELS), { recursive: true });
    expect(await migrate({ db: session, migrationsDir: dir })).toContain(CHANNELS);

    const channels = (
      await session.query(`SELECT "id", "name", "type", "config", "default_for_system" FROM "channels" ORDER BY "id"`)
    ).rows;
    expect(channels.map((c) => [c.name, c.type, c.config, c.default_for_system])).toEqual([
      ["Webhook 10.0.0.5:8080", "webhook", { url: "http://10.0.0.5:8080/hook" }, true],
      ["Webhook hooks.example", "webhook", { url: "https://hooks.example/T1/secret-a" }, true],
    ]);
    const [gate, hooks] = channels.map((c) => c.id);
    const rules = (await session.query(`SELECT "name", "channel_ids" FROM "alert_rules" ORDER BY "id"`)).rows;
    const byName = Object.fromEntries(rules.map((r) => [r.name, r.channel_ids]));
    expect(byName).toMatchObject({ pumps: [hooks], valves: [hooks], gates: [gate], quiet: [] });
  });
});
