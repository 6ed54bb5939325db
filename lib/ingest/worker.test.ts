import { describe, expect, it } from "vitest";
import { backoffDelay, sourceSubscriptions } from "./worker";

describe("backoffDelay", () => {
  it("doubles up to the cap and keeps the jitter within [0.5, 1] of the ceiling", () => {
    expect(backoffDelay(0, 500, 30_000, () => 1)).toBe(500);
    expect(backoffDelay(0, 500, 30_000, () => 0)).toBe(250);
    expect(backoffDelay(3, 500, 30_000, () => 1)).toBe(4_000);
    expect(backoffDelay(10, 500, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelay(10, 500, 30_000, () => 0)).toBe(15_000);
    // absurd attempt counts stay finite
    expect(backoffDelay(10_000, 500, 30_000, () => 0.5)).toBe(22_500);
  });

  it("spreads reconnects of many monitors apart (jitter)", () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(4, 500, 30_000)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(4_000);
      expect(d).toBeLessThanOrEqual(8_000);
    }
  });
});

describe("sourceSubscriptions", () => {
  it("subscribes to Mosquitto's whole log tree, not only notices (takeovers arrive on log/E)", () => {
    expect(sourceSubscriptions("mosquitto")).toContain("$SYS/broker/log/#");
  });

  it("covers every broker flavour when detecting, and only one when forced", () => {
    const auto = sourceSubscriptions("auto");
    expect(auto).toEqual(
      expect.arrayContaining(["$SYS/broker/log/#", "$SYS/brokers/+/clients/#", "$SYS/brokers/client_status"]),
    );
    expect(sourceSubscriptions("emqx").some((t) => t.startsWith("$SYS/broker/"))).toBe(false);
    expect(sourceSubscriptions("nanomq")).toEqual([
      "$SYS/brokers/connected",
      "$SYS/brokers/disconnected",
      "$SYS/brokers/client_status",
    ]);
  });
});
