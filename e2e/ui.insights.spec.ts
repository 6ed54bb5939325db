import pg from "pg";
import { test, expect } from "./fixtures/stack";

const HOUR = 3_600_000;

test.describe("insights page", () => {
  test("the disconnect chart has a count axis, hour labels and a tooltip by pointer and by keyboard", async ({
    page,
    stack,
  }) => {
    // Seven disconnects of one device inside one hour, 17 hours ago: no other spec writes there.
    const hour = Math.floor((Date.now() - 17 * HOUR) / HOUR) * HOUR;
    const db = new pg.Client({ connectionString: stack.database.url });
    await db.connect();
    try {
      await db.query(
        `INSERT INTO devices (id, status, status_since, first_seen_at) VALUES ('ui-insights', 'offline', now(), $1)
         ON CONFLICT (id) DO NOTHING`,
        [new Date(hour - HOUR)],
      );
      await db.query(
        `INSERT INTO sessions (device_id, connected_at, disconnected_at, reason)
         SELECT 'ui-insights', $1::timestamptz + g * interval '5 minutes',
                $1::timestamptz + g * interval '5 minutes' + interval '2 minutes',
                CASE WHEN g < 4 THEN 'keepalive_timeout' ELSE 'connection_lost' END
           FROM generate_series(0, 6) g`,
        [new Date(hour)],
      );
    } finally {
      await db.end();
    }

    await page.goto("/fleet/insights");
    const chart = page.getByTestId("disconnect-chart");
    const bars = chart.getByTestId("hour-bar");
    await expect(bars).toHaveCount(24);
    const bar = chart.locator(
      `[data-testid="hour-bar"][href*="from=${encodeURIComponent(new Date(hour).toISOString())}"]`,
    );
    await expect(bar).toHaveAttribute("data-count", "7");

    // The count axis starts at 0 and reaches at least the tallest bar.
    const ticks = (await chart.getByTestId("y-tick").allTextContents()).map((t) => Number(t.replace(/,/g, "")));
    expect(ticks[0]).toBe(0);
    const counts = await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-count"))));
    expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(Math.max(...counts));
    // Every third hour is labelled, as HH:00.
    const labels = await chart.getByTestId("x-label").allTextContents();
    expect(labels).toHaveLength(8);
    for (const l of labels) expect(l).toMatch(/^(00|03|06|09|12|15|18|21):00$/);

    // The pointer on the bar: its hour, its total and each reason.
    await bar.hover();
    const tooltip = page.getByTestId("hour-tooltip");
    await expect(tooltip).toBeVisible();
    const hh = (ms: number) => new Date(ms).toISOString().slice(11, 13);
    await expect(tooltip).toContainText(`${hh(hour)}:00–${hh(hour + HOUR)}:00 UTC`);
    await expect(tooltip).toContainText("7 disconnects");
    await expect(tooltip.getByRole("listitem").filter({ hasText: "keepalive timeout" })).toContainText("4");
    await expect(tooltip.getByRole("listitem").filter({ hasText: "connection lost" })).toContainText("3");
    await page.mouse.move(0, 0);
    await expect(tooltip).toBeHidden();

    // The keyboard: focus shows the same tooltip, tied to the bar for screen readers.
    await bar.focus();
    await expect(tooltip).toBeVisible();
    await expect(bar).toHaveAttribute("aria-describedby", "hour-tooltip");
    await expect(bar).toHaveAccessibleName(/7 disconnects, keepalive timeout 4, connection lost 3/);
    await page.keyboard.press("Enter");
    await expect(page).toHaveURL(new RegExp(`/history\\?from=${encodeURIComponent(new Date(hour).toISOString())}`));

    // A week: one label per midnight.
    await page.goto("/fleet/insights");
    await page.getByRole("button", { name: "7d" }).click();
    await expect(chart.getByTestId("hour-bar")).toHaveCount(168);
    const days = await chart.getByTestId("x-label").allTextContents();
    expect(days.length).toBeGreaterThanOrEqual(6);
    for (const d of days) expect(d).toMatch(/^[A-Z][a-z]{2} \d{1,2}$/);
  });
});
