import { describe, expect, it } from "vitest";
import type { FleetEffect } from "../fleet/types";
import type { SqlStatement } from "./db";
import { StoreWriter } from "./writer";

const open = (deviceId: string, connectedAt: number): FleetEffect => ({
  type: "session-open",
  session: { deviceId, connectedAt, disconnectedAt: null, reason: null, keepaliveSeconds: 30, lastActivityAt: null },
});

function writer() {
  const written: SqlStatement[] = [];
  const w = new StoreWriter({
    db: null as never,
    sql: async (statements) => void written.push(...statements),
    flushIntervalMs: 10,
  });
  return { w, written, text: () => JSON.stringify(written.map((s) => s.values)) };
}

describe("StoreWriter paused (a standby)", () => {
  it("buffers without writing, forgets what another instance has written, writes the rest once started", async () => {
    const { w, written, text } = writer();
    w.pause();
    w.enqueue([open("old", Date.UTC(2026, 0, 1, 0, 0, 1))], []);
    w.forgetBefore(-1, 1_000); // nothing is that old
    w.enqueue([open("recent", Date.UTC(2026, 0, 1, 0, 0, 2))], []);
    w.openGap(500, "standby's own link");
    w.openGap(1_800, "newer gap");
    await new Promise((r) => setTimeout(r, 50));
    expect(written).toEqual([]);
    expect(w.health().pendingWrites).toBe(4);
    // Enqueued before 1,500: "old" (before the mark at 1,000) and the first gap.
    w.forgetBefore(1_500, 2_000);
    expect(w.health().pendingWrites).toBe(2);
    w.start();
    await w.flush();
    expect(text()).toContain("recent");
    expect(text()).not.toContain('"old"');
    expect(text()).toContain("newer gap");
    expect(text()).not.toContain("standby's own link");
    await w.stop();
  });

  it("forgets nothing while it writes", async () => {
    const { w } = writer();
    w.pause();
    w.start();
    w.enqueue([open("d", 1_000)], []);
    w.forgetBefore(Number.MAX_SAFE_INTEGER);
    expect(w.health().pendingWrites).toBe(1);
    await w.stop();
  });
});
