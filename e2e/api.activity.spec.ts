/** GET /api/devices/{id}/activity on embedded defaults: real points from a real client, and the 400s. */
import mqtt from "mqtt";
import { test, expect } from "./fixtures/embedded";

test.describe("activity API", () => {
  test("returns PINGREQ points about 2 s apart for a keepalive 2 client, and rejects bad ranges", async ({
    request,
    embedded,
  }) => {
    test.setTimeout(30_000);
    const client = await mqtt.connectAsync(embedded.mqttUrl, {
      clientId: "api-act-k2",
      keepalive: 2,
      reconnectPeriod: 0,
    });
    await new Promise((r) => setTimeout(r, 7_500));
    await client.endAsync();
    const from = new Date(Date.now() - 60_000).toISOString();
    const to = new Date(Date.now() + 10_000).toISOString();
    // The recorder writes every 0.5 s: read until the disconnect, the last point, is stored.
    let body: {
      points: { kind: string; at: string; reason?: string }[];
      rollups: { minute: string; count: number; maxGapSeconds: number | null }[];
    } = { points: [], rollups: [] };
    await expect
      .poll(
        async () => {
          const res = await request.get(`/api/devices/api-act-k2/activity?from=${from}&to=${to}`);
          expect(res.status()).toBe(200);
          body = await res.json();
          return body.points.at(-1)?.kind;
        },
        { timeout: 5_000 },
      )
      .toBe("disconnect");
    const kinds = body.points.map((p: { kind: string }) => p.kind);
    expect(kinds[0]).toBe("connect");
    expect(kinds.at(-1)).toBe("disconnect");
    expect(body.points.at(-1)?.reason).toBe("clean");
    const pings = body.points
      .filter((p: { kind: string }) => p.kind === "pingreq")
      .map((p: { at: string }) => Date.parse(p.at));
    const spacing = pings.slice(1).map((t: number, i: number) => (t - pings[i]) / 1000);
    console.log(`[api] PINGREQ spacing (s): ${spacing.join(", ")}`);
    expect(spacing.length).toBeGreaterThanOrEqual(2);
    // Every gap under the 1.5 × keepalive deadline; the typical one within 0.2 s of the keepalive (a stall of
    // either process can delay one ping).
    for (const s of spacing) expect(s).toBeGreaterThan(1.5);
    for (const s of spacing) expect(s).toBeLessThan(2.9);
    const sorted = [...spacing].sort((a, b) => a - b);
    expect(Math.abs(sorted[Math.floor(sorted.length / 2)] - 2)).toBeLessThan(0.2);
    expect(body.rollups.length).toBeGreaterThanOrEqual(1);
    for (const r of body.rollups) {
      expect(Object.keys(r).sort()).toEqual(["count", "maxGapSeconds", "minute"]);
      expect(r.count).toBeGreaterThanOrEqual(1);
    }
    // A minute that holds only the session's connect has no gap (null); the 7.5 s session spans at most
    // two minutes, and the one holding the pings has its largest gap at about 2 s.
    const gaps = body.rollups.map((r: { maxGapSeconds: number | null }) => r.maxGapSeconds);
    expect(gaps.every((g: number | null) => g === null || typeof g === "number")).toBe(true);
    const largest = Math.max(...gaps.filter((g: number | null) => g !== null));
    expect(largest).toBeGreaterThan(1.5);
    expect(largest).toBeLessThan(2.9);
    // Roll-ups count signs of life: every point but the disconnect, which the broker reports.
    expect(body.rollups.reduce((n: number, r: { count: number }) => n + r.count, 0)).toBe(body.points.length - 1);

    const detail = await (await request.get(`/api/devices/api-act-k2`)).json();
    expect(detail.lastPingAt).toEqual(expect.any(String));
    expect(detail.diagnosis).toEqual([]);

    for (const [query, pattern] of [
      [`from=${to}&to=${from}`, /before/],
      [`from=yesterday`, /ISO-8601/],
      [`from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z`, /35 days/],
      [`kinds=ping`, /unknown kind/],
      [`frm=${from}`, /unknown parameter/],
    ] as const) {
      const bad = await request.get(`/api/devices/api-act-k2/activity?${query}`);
      expect(bad.status(), query).toBe(400);
      expect((await bad.json()).error).toEqual({ code: "BAD_REQUEST", message: expect.stringMatching(pattern) });
    }
    expect((await request.get(`/api/devices/nobody-here/activity`)).status()).toBe(404);
  });
});
