import { describe, expect, it } from "vitest";
import { LoginThrottle } from "./throttle";

describe("sign-in throttling", () => {
  it("refuses after five failures within a minute per key, until the oldest leaves the window", () => {
    const t = new LoginThrottle();
    const keys = ["user:root", "ip:10.0.0.1"];
    for (let i = 0; i < 5; i++) {
      expect(t.blockedFor(keys, 1_000 * i)).toBe(0);
      t.fail(keys, 1_000 * i);
    }
    expect(t.blockedFor(keys, 5_000)).toBe(55_000);
    expect(t.blockedFor(["user:other", "ip:10.0.0.1"], 5_000)).toBe(55_000);
    expect(t.blockedFor(["user:other", "ip:10.0.0.2"], 5_000)).toBe(0);
    expect(t.blockedFor(keys, 60_001)).toBe(0);
  });

  it("forgets a name's failures on success, and stays bounded", () => {
    const t = new LoginThrottle({ maxKeys: 100 });
    for (let i = 0; i < 4; i++) t.fail(["user:a"], i);
    t.succeed("user:a");
    t.fail(["user:a"], 10);
    expect(t.blockedFor(["user:a"], 11)).toBe(0);
    for (let i = 0; i < 1_000; i++) t.fail([`ip:${i}`], 20);
    for (let i = 0; i < 4; i++) t.fail(["ip:999"], 21);
    expect(t.blockedFor(["ip:999"], 22)).toBeGreaterThan(0);
    expect(t.blockedFor(["ip:0"], 22)).toBe(0); // evicted
  });
});
