import { readFile } from "node:fs/promises";
import pg from "pg";
import { test, expect } from "./fixtures/stack";
import { csvRecords } from "../lib/testing/csv";

/**
 * Seeded history, period 2026-11-01 00:00–02:00 UTC (7,200 s):
 *   urp-a  23:00→00:30, 00:40→01:30, 01:50→open: online 5,400 s (75 %), 2 disconnects, longest outage 1,200 s
 *   urp-b  first seen 01:00; 01:00→(no end, next connect 01:30), 01:30→01:45: 37.5 %, 1 disconnect
 *   urp-c  no session in the period: 0 %, offline the whole 7,200 s
 * Tags: urp-a e2e-north; urp-b e2e-north, e2e-pumps; urp-c e2e-south.
 */
const VIEW = "period=custom&from=2026-11-01T00:00:00.000Z&to=2026-11-01T02:00:00.000Z&device=urp-*";

test.describe("reports page", () => {
  test.beforeAll(async ({ stack }) => {
    const client = new pg.Client({ connectionString: stack.database.url });
    await client.connect();
    try {
      await client.query(`
        INSERT INTO devices (id, status, status_since, first_seen_at) VALUES
          ('urp-a', 'offline', now(), '2026-10-31T00:00:00Z'),
          ('urp-b', 'offline', now(), '2026-11-01T01:00:00Z'),
          ('urp-c', 'offline', now(), '2026-10-01T00:00:00Z')`);
      await client.query(`
        INSERT INTO device_labels (device_id, tags) VALUES
          ('urp-a', '{e2e-north}'), ('urp-b', '{e2e-north,e2e-pumps}'), ('urp-c', '{e2e-south}')`);
      await client.query(`
        INSERT INTO sessions (device_id, connected_at, disconnected_at, reason) VALUES
          ('urp-a', '2026-10-31T23:00:00Z', '2026-11-01T00:30:00Z', 'keepalive_timeout'),
          ('urp-a', '2026-11-01T00:40:00Z', '2026-11-01T01:30:00Z', 'clean'),
          ('urp-a', '2026-11-01T01:50:00Z', NULL, NULL),
          ('urp-b', '2026-11-01T01:00:00Z', NULL, NULL),
          ('urp-b', '2026-11-01T01:30:00Z', '2026-11-01T01:45:00Z', 'connection_lost'),
          ('urp-c', '2026-10-01T00:00:00Z', '2026-10-02T00:00:00Z', 'clean')`);
    } finally {
      await client.end();
    }
  });

  test("shows the seeded figures, filters by tag, and downloads the same rows as CSV", async ({ page }) => {
    await page.goto(`/reports?${VIEW}`);
    await expect(page.getByRole("heading", { name: "Uptime report" })).toBeVisible();
    await expect(page.getByTestId("report-period")).toContainText("2026-11-01 00:00:00 – 2026-11-01 02:00:00 UTC");
    const row = (id: string) => page.locator(`[data-testid="device-row"][data-device-id="${id}"]`);
    await expect(page.getByTestId("device-row")).toHaveCount(3);
    await expect(row("urp-a").getByTestId("uptime")).toHaveAttribute("data-value", "75");
    await expect(row("urp-a").getByTestId("uptime")).toHaveText("75.00 %");
    await expect(row("urp-a").getByTestId("disconnects")).toHaveText("2");
    await expect(row("urp-a").getByTestId("longest-outage")).toHaveAttribute("data-value", "1200");
    await expect(row("urp-b").getByTestId("uptime")).toHaveAttribute("data-value", "37.5");
    await expect(row("urp-c").getByTestId("uptime")).toHaveAttribute("data-value", "0");
    await expect(row("urp-c").getByTestId("longest-outage")).toHaveAttribute("data-value", "7200");
    await expect(row("urp-a").getByRole("link", { name: "urp-a" })).toHaveAttribute("href", "/devices/urp-a");
    // 24 points of 5 minutes: down 00:30–00:40 and 01:30–01:50.
    const spark = (await row("urp-a").getByTestId("sparkline").getAttribute("data-values"))!.split(",").map(Number);
    expect(spark).toEqual([100, 100, 100, 100, 100, 100, 0, 0, ...Array(10).fill(100), 0, 0, 0, 0, 100, 100]);
    const tagRow = (tag: string) => page.locator(`[data-testid="tag-row"][data-tag="${tag}"]`);
    await expect(tagRow("e2e-north").getByTestId("uptime")).toHaveAttribute("data-value", "56.25");
    await expect(tagRow("e2e-north").getByTestId("disconnects")).toHaveText("3");

    // CSV: the rows on screen.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("report-csv").click()]);
    expect(download.suggestedFilename()).toBe("keepwatch-uptime_2026-11-01T00-00Z_2026-11-01T02-00Z.csv");
    const records = csvRecords(await readFile((await download.path())!, "utf8"));
    expect(records.map((r) => [r.device_id, r.uptime_percent, r.disconnects, r.longest_outage_s, r.tags])).toEqual([
      ["urp-a", "75", "2", "1200", "e2e-north"],
      ["urp-b", "37.5", "1", "900", "e2e-north e2e-pumps"],
      ["urp-c", "0", "0", "7200", "e2e-south"],
    ]);

    // Filter by tag with the labelled control: URL, tables and CSV follow.
    await page.getByRole("combobox", { name: "tag", exact: true }).selectOption("e2e-south");
    await expect(page).toHaveURL(/tag=e2e-south/);
    await expect(page.getByTestId("device-row")).toHaveCount(1);
    await expect(row("urp-c")).toBeVisible();
    await expect(page.getByTestId("tag-row")).toHaveCount(1);
    const [second] = await Promise.all([page.waitForEvent("download"), page.getByTestId("report-csv").click()]);
    const filtered = csvRecords(await readFile((await second.path())!, "utf8"));
    expect(filtered.map((r) => r.device_id)).toEqual(["urp-c"]);
  });

  test("prints without navigation, filters or buttons, black on white", async ({ page }) => {
    await page.goto(`/reports?${VIEW}`);
    await expect(page.getByTestId("device-row")).toHaveCount(3);
    await expect(page.getByTestId("top-nav")).toBeVisible();
    await expect(page.getByTestId("report-filters")).toBeVisible();
    await page.emulateMedia({ media: "print" });
    await expect(page.getByTestId("top-nav")).toBeHidden();
    await expect(page.getByTestId("report-filters")).toBeHidden();
    await expect(page.getByTestId("report-print")).toBeHidden();
    await expect(page.getByTestId("report-csv")).toBeHidden();
    await expect(page.getByTestId("device-table")).toBeVisible();
    await expect(page.getByTestId("tag-table")).toBeVisible();
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe("rgba(0, 0, 0, 0)");
    await expect(page.locator('[data-testid="device-row"] th').first()).toHaveCSS("color", "rgb(0, 0, 0)");
    await expect(page.locator(".report-section").nth(1)).toHaveCSS("break-before", "page");
    await page.emulateMedia({ media: "screen" });
    await expect(page.getByTestId("top-nav")).toBeVisible();
  });

  test("at 390 px the tables scroll inside themselves, and the controls work from the keyboard", async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`/reports?${VIEW}`);
    await expect(page.getByTestId("device-row")).toHaveCount(3);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    const box = page.locator(".report-table").last();
    expect(await box.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
    // The 7 d preset by keyboard: focus it, press Enter; the URL and the period follow.
    await page.getByRole("button", { name: "7 d" }).focus();
    await page.keyboard.press("Enter");
    await expect(page).toHaveURL(/period=7d/);
    await expect(page.getByRole("button", { name: "7 d" })).toHaveAttribute("aria-pressed", "true");
  });

  test("the API answers 400 in the one error shape for bad input, and the JSON of the page", async ({ page }) => {
    const bad = [
      "from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z",
      "from=2026-11-01T00:00:00Z&to=2026-11-01T00:00:00Z",
      "from=2020-01-01&to=2026-01-01",
      "from=tomorrow",
      "format=xml",
      "limit=0",
      "sort=id",
    ];
    for (const qs of bad) {
      const res = await page.request.get(`/api/reports/uptime?${qs}`);
      expect(res.status(), qs).toBe(400);
      const body = await res.json();
      expect(body.error.code, qs).toBe("BAD_REQUEST");
      expect(typeof body.error.message, qs).toBe("string");
    }
    const ok = await page.request.get(
      "/api/reports/uptime?from=2026-11-01T00:00:00Z&to=2026-11-01T02:00:00Z&device=urp-*&tag=e2e-north",
    );
    expect(ok.status()).toBe(200);
    const report = await ok.json();
    expect(
      report.devices.map((d: { deviceId: string; uptimePercent: number }) => [d.deviceId, d.uptimePercent]),
    ).toEqual([
      ["urp-a", 75],
      ["urp-b", 37.5],
    ]);
    // The history summary gives the same uptime for the same device and period.
    const summary = await (
      await page.request.get("/api/disconnects/summary?from=2026-11-01T00:00:00Z&to=2026-11-01T02:00:00Z&device=urp-a")
    ).json();
    expect(summary.topDevices[0]).toMatchObject({ deviceId: "urp-a", uptimePercent: 75, disconnects: 2 });
  });

  test("says what is wrong with a bad period", async ({ page }) => {
    await page.goto("/reports?period=custom&from=2026-11-02T00:00:00.000Z&to=2026-11-01T00:00:00.000Z");
    await expect(page.getByTestId("report-error")).toContainText("must be before to");
  });
});
