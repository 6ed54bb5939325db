import { describe, expect, it } from "vitest";
import { RestartDetector } from "./restarts";

const T0 = 1_800_000_000_000;
const sec = (n: number) => T0 + n * 1000;

describe("restart detection from the broker's uptime", () => {
  it("tells a restart (uptime went back) from a link blip (uptime kept growing)", () => {
    const d = new RestartDetector();
    d.linkUp();
    expect(d.uptimeReading(100, sec(0))).toBeNull();
    expect(d.uptimeReading(110, sec(10))).toBeNull();
    d.seenUp(sec(12));
    d.linkDown(sec(13));
    // A blip: the broker ran on.
    d.linkUp();
    d.seenUp(sec(14)); // its retained version arrives before the uptime: which run is not known yet
    expect(d.uptimeReading(114, sec(14))).toBeNull();
    d.linkDown(sec(20));
    // A restart: the broker is back with a small uptime.
    d.linkUp();
    d.seenUp(sec(25));
    const r = d.uptimeReading(2, sec(25));
    expect(r).toMatchObject({ downAt: sec(20), upAt: sec(23), detectedAt: sec(25), keepFrom: sec(20) });
    expect(r!.evidence.join(" ")).toMatch(/uptime went back from 114 s/);
  });

  it("allows for a stale retained reading, and sees a restart that ran longer than the old run did", () => {
    const d = new RestartDetector();
    d.linkUp();
    d.uptimeReading(5, sec(0));
    d.uptimeReading(15, sec(10)); // refreshed every 10 s
    d.linkDown(sec(11));
    d.linkUp();
    // The same run, read 9 s stale: its start looks 9 s later. Not a restart.
    expect(d.uptimeReading(15, sec(19))).toBeNull();
    d.linkDown(sec(20));
    d.linkUp();
    // A new run that started at 100 s, read at 400 s: uptime 300 > 15, but its start is far later.
    const r = d.uptimeReading(300, sec(400));
    expect(r).toMatchObject({ downAt: sec(20), upAt: sec(100) });
  });

  it("remembers the broker across keepwatch's own restart", () => {
    const before = new RestartDetector();
    before.linkUp();
    before.uptimeReading(1000, sec(0));
    before.seenUp(sec(30));
    const saved = before.state();
    expect(saved).toEqual({ uptimeSeconds: 1000, uptimeAt: sec(0), seenUpAt: sec(30) });

    const sameRun = new RestartDetector({ saved });
    sameRun.linkUp();
    expect(sameRun.uptimeReading(1100, sec(100))).toBeNull();

    const restarted = new RestartDetector({ saved });
    restarted.linkUp();
    expect(restarted.uptimeReading(20, sec(100))).toMatchObject({ downAt: sec(30), upAt: sec(80) });
  });
});

describe("restart detection from the followed log", () => {
  it("takes the stop from the terminating line and counts the same restart once", () => {
    const d = new RestartDetector();
    d.linkUp();
    d.uptimeReading(500, sec(0));
    d.logSeen(sec(9));
    expect(d.logLine("terminating", sec(10.999))).toBeNull();
    d.linkDown(sec(11));
    const r = d.logLine("starting", sec(12));
    expect(r).toMatchObject({ downAt: sec(10.999), upAt: sec(12), keepFrom: Infinity });
    expect(r!.evidence[0]).toMatch(/terminating at .*starting at/);
    // The link comes back and the new run's retained uptime (possibly stale) arrives: the same restart.
    d.linkUp();
    expect(d.uptimeReading(0, sec(14))).toBeNull();
    expect(d.uptimeReading(3, sec(15))).toBeNull();
  });

  it("after a kill -9 (no terminating line) ends the old run at its last log line", () => {
    const d = new RestartDetector();
    d.logSeen(sec(5));
    const r = d.logLine("starting", sec(9));
    expect(r).toMatchObject({ downAt: sec(5), upAt: sec(9) });
    expect(r!.evidence.join(" ")).toMatch(/no terminating line/);
  });
});

describe("the embedded broker", () => {
  it("restarts with keepwatch: the old run ended when it was last known up", () => {
    expect(new RestartDetector().embeddedStart(sec(0))).toBeNull();
    const d = new RestartDetector({ saved: { uptimeSeconds: null, uptimeAt: null, seenUpAt: sec(-60) } });
    expect(d.embeddedStart(sec(0))).toMatchObject({ downAt: sec(-60), upAt: sec(0) });
  });
});
