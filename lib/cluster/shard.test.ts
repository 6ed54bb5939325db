import { describe, expect, it } from "vitest";
import { hashId, parseShard, shardOf } from "./shard";

describe("KEEPWATCH_SHARD", () => {
  it("parses k/n and refuses anything else", () => {
    expect(parseShard(undefined)).toMatchObject({ key: "1/1", index: 1, count: 1 });
    expect(parseShard("2/4")).toMatchObject({ key: "2/4", index: 2, count: 4 });
    for (const bad of ["0/4", "5/4", "2", "a/b", "2/0", "-1/3", " 1/2"]) expect(() => parseShard(bad)).toThrow(/k\/n/);
  });

  it("puts every device in exactly one shard, spread evenly, the same everywhere", () => {
    const shards = [1, 2, 3, 4].map((k) => parseShard(`${k}/4`));
    const per = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) {
      const id = `device-${i}`;
      const owners = shards.filter((s) => s.has(id));
      expect(owners).toHaveLength(1);
      per[owners[0].index - 1]++;
    }
    for (const n of per) expect(Math.abs(n - 10_000)).toBeLessThan(500);
    // FNV-1a 32 of "a" (a published test vector): the hash is stable, not per process.
    expect(hashId("a")).toBe(0xe40c292c);
    expect(shardOf("ünïcode-id", 7)).toBe(shardOf("ünïcode-id", 7));
    expect(parseShard("1/1").has("anything")).toBe(true);
  });
});
