/**
 * The device page in real Chromium against the real app (Mosquitto +
 * Postgres stack): a device with 7 days of PINGREQs every 5 s seeded into
 * the activity tables renders its timeline (downsampled) and diagnosis; the
 * render time is printed, not asserted. A hostile id renders as plain text.
 */
import pg from "pg";
import { test, expect } from "./fixtures/stack";

const DAY = 86_400_000;
const SEEDED = "seed-7d-pinger";
const HOSTILE = `<img src=x onerror="window.__pwned=1">%41`;

async function seed(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const now = Date.now();
    const start = now - 7 * DAY;
    for (let d = Math.floor(start / DAY) * DAY; d <= now + DAY; d += DAY) {
      const name = `device_activity_p${new Date(d).toISOString().slice(0, 10).replace(/-/g, "")}`;
      const rname = `device_activity_minutes_p${new Date(d).toISOString().slice(0, 10).replace(/-/g, "")}`;
      const range = `FOR VALUES FROM ('${new Date(d).toISOString()}') TO ('${new Date(d + DAY).toISOString()}')`;
      await client.query(`CREATE TABLE IF NOT EXISTS "${name}" PARTITION OF device_activity ${range}`);
      await client.query(`CREATE TABLE IF NOT EXISTS "${rname}" PARTITION OF device_activity_minutes ${range}`);
    }
    await client.query(
      `INSERT INTO devices (id, status, status_since, keepalive_seconds, last_seen_at, last_ping_at, connected_at, session_open, first_seen_at, sources, address, protocol, clean_start)
       VALUES ($1, 'online', $2, 10, $3, $3, $2, true, $2, ARRAY['aedes'], '10.0.0.7:50123', '3.1.1', true),
              ($4, 'offline', $2, 30, $3, NULL, $2, false, $2, ARRAY['mosquitto-log'], NULL, NULL, NULL)
       ON CONFLICT (id) DO NOTHING`,
      [SEEDED, new Date(start), new Date(now - 1000), HOSTILE],
    );
    await client.query(
      `INSERT INTO sessions (device_id, connected_at, disconnected_at, reason, keepalive_seconds)
       VALUES ($1, $2, $3, 'taken_over', 10), ($1, $3, $4, 'taken_over', 10), ($1, $4, NULL, NULL, 10)
       ON CONFLICT DO NOTHING`,
      [SEEDED, new Date(start), new Date(start + 3 * DAY), new Date(start + 3 * DAY + 5_000)],
    );
    // 7 days of PINGREQs every 5 s (120,960 rows), with a near miss (13 s) every 6 h, and their minute roll-ups.
    await client.query(
      `INSERT INTO device_activity (device_id, at, kind)
       SELECT $1, $2::timestamptz + g * interval '5 seconds' + CASE WHEN g % 4320 = 0 THEN interval '8 seconds' ELSE interval '0' END, 2
         FROM generate_series(0, 120959) g ON CONFLICT DO NOTHING`,
      [SEEDED, new Date(start)],
    );
    await client.query(
      `INSERT INTO device_activity_minutes (device_id, minute, count, max_gap_ms)
       SELECT $1, date_trunc('minute', at), count(*), 5000 FROM device_activity WHERE device_id = $1 GROUP BY 2
       ON CONFLICT DO NOTHING`,
      [SEEDED],
    );
    await client.query(
      `UPDATE device_activity_minutes m SET max_gap_ms = 13000
         FROM generate_series(0, 27) k
        WHERE m.device_id = $1 AND m.minute = date_trunc('minute', $2::timestamptz + k * interval '6 hours' + interval '8 seconds')`,
      [SEEDED, new Date(start)],
    );
  } finally {
    await client.end();
  }
}

test.describe("device page", () => {
  test("renders 7 days of 5 s pings as a downsampled timeline with its diagnosis", async ({ page, stack }) => {
    await seed(stack.database.url);
    const started = Date.now();
    await page.goto(`/devices/${encodeURIComponent(SEEDED)}?range=7d`);
    const timeline = page.getByTestId("timeline");
    await expect(timeline).toHaveAttribute("data-ready", "true", { timeout: 20_000 });
    await expect(page.getByTestId("finding").first()).toBeVisible();
    const renderMs = Date.now() - started;
    const points = Number(await timeline.getAttribute("data-points"));
    const samples = Number(await timeline.getAttribute("data-samples"));
    const circles = await timeline.locator("svg .recharts-scatter-symbol").count();
    console.log(
      `[device page] 7 d of 5 s pings: rendered in ${renderMs} ms (${samples} roll-up buckets → ${points} points, ${circles} SVG symbols)`,
    );
    // Again with a warm server and browser cache, the way an operator opens a second device.
    const warmStart = Date.now();
    await page.goto(`/devices/${encodeURIComponent(SEEDED)}?range=7d`);
    await expect(timeline).toHaveAttribute("data-ready", "true", { timeout: 20_000 });
    await expect(page.getByTestId("finding").first()).toBeVisible();
    const warmMs = Date.now() - warmStart;
    // A fresh browser (empty cache) on a server that has served the page before: an operator opening it.
    const fresh = await page.context().browser()!.newContext({ baseURL: stack.app.baseURL });
    const freshPage = await fresh.newPage();
    const freshStart = Date.now();
    await freshPage.goto(`/devices/${encodeURIComponent(SEEDED)}?range=7d`);
    await expect(freshPage.getByTestId("timeline")).toHaveAttribute("data-ready", "true", { timeout: 20_000 });
    await expect(freshPage.getByTestId("finding").first()).toBeVisible();
    const freshMs = Date.now() - freshStart;
    await fresh.close();
    const apiStart = Date.now();
    const api = await page.request.get(
      `/api/devices/${SEEDED}/activity?from=${new Date(Date.now() - 7 * DAY).toISOString()}&kinds=disconnect&limit=1&bucketMinutes=15`,
    );
    const apiMs = Date.now() - apiStart;
    console.log(
      `[device page] fresh browser, running server: ${freshMs} ms; warm: ${warmMs} ms; 7 d activity API alone: ${apiMs} ms, ${(await api.body()).length} bytes`,
    );
    expect(samples).toBeGreaterThan(600); // 7 d in 15-minute buckets: 672
    expect(points).toBeGreaterThan(50);
    expect(circles).toBeLessThanOrEqual(1000);
    await expect(page).toHaveTitle(`${SEEDED} · keepwatch`);
    await expect(page.getByTestId("device-id")).toHaveText(SEEDED);
    await expect(page.getByTestId("keepalive")).toHaveText("10 s");
    await expect(page.getByTestId("device-status")).toHaveAttribute("data-status", "online");
    // The seeded takeovers and near misses are diagnosed.
    await expect(page.locator('[data-testid="finding"][data-code="shared_client_id"]')).toContainText(
      "Two clients share this client id",
    );
    await expect(timeline).toHaveAttribute("data-markers", "2");

    // 1 h: every gap from raw points (720 pings, drawn as at most one point per 3 px).
    const t1 = Date.now();
    await page.getByTestId("range-1h").click();
    await expect(timeline).toHaveAttribute("data-samples", /^7[01]\d$/, { timeout: 10_000 });
    console.log(`[device page] 1 h of raw points: switched in ${Date.now() - t1} ms`);
  });

  test("shows a hostile id as plain text", async ({ page, stack }) => {
    await seed(stack.database.url);
    await page.goto(`/devices/${encodeURIComponent(HOSTILE)}`);
    await expect(page.getByTestId("device-id")).toHaveText(HOSTILE);
    await expect(page.getByTestId("device-status")).toHaveAttribute("data-status", "offline");
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await expect(page.locator("img[src=x]")).toHaveCount(0);
  });

  test("says so for an id never seen", async ({ page }) => {
    await page.goto(`/devices/${encodeURIComponent("never-seen-device")}`);
    await expect(page.getByTestId("device-not-found")).toBeVisible();
  });
});
