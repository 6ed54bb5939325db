/** Reading migrations from disk: order, checksums, and broken layouts. */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checksumOf, MigrationError, readMigrations } from "./migrate";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "kw-migrations-unit-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function add(name: string, sql: string | Buffer): Promise<void> {
  await mkdir(path.join(dir, name));
  await writeFile(path.join(dir, name, "migration.sql"), sql);
}

describe("readMigrations", () => {
  it("lists migration folders in name order with the sha256 of their bytes", async () => {
    await writeFile(path.join(dir, "migration_lock.toml"), 'provider = "postgresql"\n');
    await add("20260102000000_second", "SELECT 2;\n");
    await add("20260101000000_first", "SELECT 1; -- é\n");
    const files = await readMigrations(dir);
    expect(files.map((f) => f.name)).toEqual(["20260101000000_first", "20260102000000_second"]);
    expect(files[0].checksum).toBe(createHash("sha256").update(Buffer.from("SELECT 1; -- é\n", "utf8")).digest("hex"));
    expect(files[0].checksum).toBe(checksumOf("SELECT 1; -- é\n"));
    expect(files[0].sql).toBe("SELECT 1; -- é\n");
  });

  it("refuses a migrations folder locked to another provider", async () => {
    await writeFile(path.join(dir, "migration_lock.toml"), 'provider = "sqlite"\n');
    await expect(readMigrations(dir)).rejects.toThrow(/is for "sqlite", not "postgresql"/);
  });

  it("refuses a migration folder without migration.sql", async () => {
    await mkdir(path.join(dir, "20260101000000_empty"));
    const e = await readMigrations(dir).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(MigrationError);
    expect((e as MigrationError).migration).toBe("20260101000000_empty");
  });

  it("reports a missing migrations folder clearly", async () => {
    await expect(readMigrations(path.join(dir, "nope"))).rejects.toThrow(/Cannot read migrations directory .*nope/);
  });

  it("finds the project's own migrations", async () => {
    const files = await readMigrations(new URL("../../prisma/migrations", import.meta.url).pathname);
    expect(files.length).toBeGreaterThan(0);
    expect(files[0].name).toMatch(/^\d{14}_init$/);
  });
});
