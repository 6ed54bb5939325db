import { describe, expect, it } from "vitest";
import { parseAlertFeed } from "./feed";

const alert = {
  id: "1",
  deviceId: "d",
  ruleId: 1,
  kind: "offline",
  state: "firing",
  firedAt: "2026-11-22T00:00:00.000Z",
  resolvedAt: null,
  message: "m",
};

describe("parseAlertFeed", () => {
  it("accepts the contract and rejects anything else whole", () => {
    const ok = { serverTime: "2026-11-22T00:00:00.000Z", firingCount: 1, firing: [alert], graceUntil: null };
    expect(parseAlertFeed(JSON.stringify(ok))).toEqual(ok);
    expect(parseAlertFeed("nope")).toBeNull();
    expect(parseAlertFeed(JSON.stringify({ ...ok, firingCount: "1" }))).toBeNull();
    expect(parseAlertFeed(JSON.stringify({ ...ok, firing: [{ ...alert, kind: "weird" }] }))).toBeNull();
    expect(parseAlertFeed(JSON.stringify({ ...ok, graceUntil: 5 }))).toBeNull();
  });
});
