/**
 * The fleet page over 100,000 devices restored from Postgres, in real
 * Chromium: the server filters, sorts and pages, the tab holds one window.
 * It shows rows, answers a search and a sort, scrolls deep into the fleet,
 * and follows a live change in its window. Times are printed, not asserted
 * (the bench measures them).
 */
import { test, expect } from "@playwright/test";
import mqtt from "mqtt";
import type { TestApp } from "../lib/testing/app";
import { startSeededFleet, type SeededFleet } from "./fixtures/seeded-fleet";

const FLEET = 100_000;
let fleet: SeededFleet;
let app: TestApp;

test.describe.configure({ timeout: 120_000 });

test.beforeAll(async () => {
  test.setTimeout(180_000);
  fleet = await startSeededFleet(FLEET, 6);
  app = fleet.app;
});

test.afterAll(async () => {
  await fleet?.stop();
});

test("the fleet page over 100,000 devices shows, filters, sorts, scrolls and follows its window", async ({ page }) => {
  const rows = page.getByTestId("device-row");
  const ids = async () => rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-device-id")));

  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("response", (r) => r.status() >= 400 && errors.push(`${r.status()} ${r.url()}`));
  const started = Date.now();
  await page.goto(app.baseURL);
  await expect(rows.first()).toBeVisible({ timeout: 30_000 });
  console.log(`first rows of ${FLEET} devices after ${Date.now() - started} ms`);
  await expect(page.getByTestId("count-total")).toHaveAttribute("data-count", String(FLEET));
  await expect(page.getByTestId("row-count")).toHaveText("100,000 devices");
  // A restart leaves every device unknown until it is seen again; only a window of rows is in the DOM.
  await expect(rows.first()).toContainText("unknown");
  expect(await rows.count()).toBeLessThan(120);

  // A search is answered by the server.
  const search = page.getByTestId("device-search");
  let t = Date.now();
  await search.fill("fleet-04242");
  await expect(page.getByTestId("row-count")).toHaveText("10 of 100,000 devices");
  console.log(`search answered after ${Date.now() - t} ms`);
  expect(await ids()).toEqual([
    "fleet-042420",
    "fleet-042421",
    "fleet-042422",
    "fleet-042423",
    "fleet-042424",
    "fleet-042425",
    "fleet-042426",
    "fleet-042427",
    "fleet-042428",
    "fleet-042429",
  ]);
  await search.fill("");
  await expect(page.getByTestId("row-count")).toHaveText("100,000 devices");

  // A sort by id, then descending: the last id on top.
  t = Date.now();
  await page.getByRole("button", { name: "Device id", exact: true }).click();
  await expect(rows.first()).toHaveAttribute("data-device-id", "fleet-000001");
  console.log(`sort answered after ${Date.now() - t} ms`);
  await page.getByRole("button", { name: "Device id", exact: true }).click();
  await expect(rows.first()).toHaveAttribute("data-device-id", "fleet-100000");

  // Deep into the fleet: the window follows the scroll, rows replace the placeholders.
  const table = page.getByTestId("device-table");
  await table.evaluate((el) => el.scrollTo({ top: 50_000 * 30 }));
  await expect(rows.first()).toHaveAttribute("data-device-id", /^fleet-0500\d\d$/, { timeout: 10_000 });
  await expect(page.getByTestId("device-row-pending")).toHaveCount(0);
  await table.evaluate((el) => el.scrollTo({ top: 0 }));
  await expect(rows.first()).toHaveAttribute("data-device-id", "fleet-100000", { timeout: 10_000 });

  // Back to problems first: a device that drops now goes to the top of the window, live.
  await page.getByRole("button", { name: "Status", exact: true }).click();
  await expect(rows.first()).toContainText("unknown");
  const device = await mqtt.connectAsync(fleet.broker.url, {
    clientId: "fleet-live",
    keepalive: 30,
    reconnectPeriod: 0,
  });
  await expect(page.getByTestId("count-total")).toHaveAttribute("data-count", String(FLEET + 1));
  await device.endAsync();
  await expect(rows.first()).toHaveAttribute("data-device-id", "fleet-live", { timeout: 10_000 });
  await expect(rows.first()).toContainText("offline");
  expect(errors).toEqual([]);
});
