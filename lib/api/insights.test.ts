import { describe, expect, it } from "vitest";
import { newDevice } from "../fleet/machine";
import { BUCKET_DEVICES, keepaliveDistribution } from "./insights";

const dev = (id: string, k: number | null) => ({ ...newDevice(id, 0), keepaliveSeconds: k });

describe("keepaliveDistribution", () => {
  it("puts every device in exactly one bucket, with its id", () => {
    const out = keepaliveDistribution([
      dev("a", null),
      dev("b", 0),
      dev("c", 10),
      dev("d", 11),
      dev("e", 60),
      dev("f", 61),
      dev("g", 301),
    ]);
    expect(out.map((b) => [b.key, b.count, b.devices])).toEqual([
      ["unknown", 1, ["a"]],
      ["0", 1, ["b"]],
      ["1-10", 1, ["c"]],
      ["11-30", 1, ["d"]],
      ["31-60", 1, ["e"]],
      ["61-300", 1, ["f"]],
      ["300+", 1, ["g"]],
    ]);
  });
  it("counts all devices but lists at most BUCKET_DEVICES", () => {
    const many = Array.from({ length: BUCKET_DEVICES + 5 }, (_, i) => dev(`d${i}`, 30));
    const b = keepaliveDistribution(many).find((x) => x.key === "11-30")!;
    expect(b.count).toBe(BUCKET_DEVICES + 5);
    expect(b.devices).toHaveLength(BUCKET_DEVICES);
  });
});
