/**
 * The fleet page over 1,000,000 devices in real Chromium: 30 px rows would
 * need a 30M px body, past what browsers draw, so the body stops at 15M px and
 * the scroll position maps onto the rows (components/fleet/useRowWindow.ts).
 * The last row is reachable by scrolling and by the End key, and the middle
 * of the scroll is the middle of the fleet.
 */
import { test, expect } from "@playwright/test";
import type { TestApp } from "../lib/testing/app";
import { startSeededFleet, type SeededFleet } from "./fixtures/seeded-fleet";

const FLEET = 1_000_000;
let fleet: SeededFleet;
let app: TestApp;

test.describe.configure({ timeout: 300_000 });

test.beforeAll(async () => {
  test.setTimeout(400_000);
  fleet = await startSeededFleet(FLEET, 7);
  app = fleet.app;
});

test.afterAll(async () => {
  await fleet?.stop();
});

test("a million rows: the body stays under the height cap and every row is reachable", async ({ page }) => {
  const rows = page.getByTestId("device-row");
  const row = (id: string) => page.locator(`[data-device-id="${id}"]`);
  await page.goto(app.baseURL);
  await expect(rows.first()).toBeVisible({ timeout: 60_000 });
  await page.getByRole("button", { name: "Device id", exact: true }).click();
  await expect(rows.first()).toHaveAttribute("data-device-id", "fleet-0000001", { timeout: 20_000 });
  const table = page.getByTestId("device-table");
  const [scrollHeight, clientHeight] = await table.evaluate((el) => [el.scrollHeight, el.clientHeight]);
  expect(scrollHeight).toBeLessThanOrEqual(15_000_100);
  expect(scrollHeight).toBeGreaterThan(14_000_000);

  // Scrolled to the end: the last device, drawn flush with the bottom of the table.
  await table.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
  await expect(row("fleet-1000000")).toBeVisible({ timeout: 20_000 });
  const last = (await row("fleet-1000000").boundingBox())!;
  const box = (await table.boundingBox())!;
  const bottom = box.y + 1 + clientHeight; // the inner bottom edge: below a 1 px border, no horizontal scrollbar
  expect(Math.abs(last.y + last.height - bottom)).toBeLessThanOrEqual(5);

  // Halfway down the scroll is halfway through the fleet.
  // The rows drawn at the end stay until the page has handled the scroll: wait for the first row to move.
  await table.evaluate((el) => el.scrollTo({ top: el.scrollHeight / 2 }));
  const firstRow = async () => Number((await rows.first().getAttribute("data-device-id"))!.slice("fleet-".length));
  await expect
    .poll(
      async () => {
        const middle = await firstRow();
        return middle > 495_000 && middle < 505_000 ? "in the middle" : middle;
      },
      { timeout: 20_000 },
    )
    .toBe("in the middle");
  await expect(page.getByTestId("device-row-pending")).toHaveCount(0, { timeout: 20_000 });

  // By keyboard: End from the first row reaches the last one, and the arrows still move one row.
  await table.evaluate((el) => el.scrollTo({ top: 0 }));
  await expect(rows.first()).toHaveAttribute("data-device-id", "fleet-0000001", { timeout: 20_000 });
  await rows.first().locator("a[href]").first().focus();
  await page.keyboard.press("End");
  await expect(row("fleet-1000000").locator("a[href]").first()).toBeFocused({ timeout: 20_000 });
  await page.keyboard.press("ArrowUp");
  await expect(row("fleet-0999999").locator("a[href]").first()).toBeFocused({ timeout: 20_000 });
  const above = (await row("fleet-0999999").boundingBox())!;
  expect(above.y).toBeGreaterThanOrEqual(box.y);
  expect(above.y + above.height).toBeLessThanOrEqual(box.y + box.height);
});
