import { describe, expect, it } from "vitest";
import { sourceSubscriptions } from "./worker";

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
