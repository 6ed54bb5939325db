import { afterEach, describe, expect, it } from "vitest";
import { startTicker } from "./ticker";

let stop: (() => void) | null = null;
afterEach(() => stop?.());

describe("startTicker", () => {
  it("runs a tick that has more to do again behind I/O, and starts no second run meanwhile", async () => {
    const turns: string[] = [];
    let slices = 0;
    stop = startTicker(() => {
      slices++;
      turns.push("tick");
      // The I/O callback queued during this slice runs before the next slice.
      if (slices <= 3) setImmediate(() => turns.push("io"));
      return slices < 4;
    }, 10);
    await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 40));
    stop();
    expect(turns.slice(0, 7)).toEqual(["tick", "io", "tick", "io", "tick", "io", "tick"]);
    expect(slices).toBeGreaterThanOrEqual(4);
  });
});
