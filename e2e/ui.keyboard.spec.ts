import mqtt, { type MqttClient } from "mqtt";
import type { Page } from "@playwright/test";
import { test, expect } from "./fixtures/stack";

/** Presses Tab until `done` holds for the focused element; fails after `most` presses. */
async function tabUntil(page: Page, done: (el: Element) => boolean, most = 60): Promise<void> {
  for (let i = 0; i < most; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(`(${done.toString()})(document.activeElement)`)) return;
  }
  throw new Error(`not reached by Tab in ${most} presses`);
}

const focusedRowId = (page: Page) =>
  page.evaluate(() => document.activeElement?.closest('[data-testid="device-row"]')?.getAttribute("data-device-id"));

test.describe("fleet page by keyboard", () => {
  test("search, status filter, sort, rows and the device page, without a mouse", async ({ page, stack }) => {
    test.setTimeout(60_000);
    const ids = Array.from({ length: 30 }, (_, i) => `kb-${String(i).padStart(2, "0")}`);
    const clients: MqttClient[] = await Promise.all(
      ids.map((clientId) => mqtt.connectAsync(stack.broker.url, { clientId, keepalive: 30, reconnectPeriod: 0 })),
    );
    try {
      await page.goto("/");
      await expect(page.getByTestId("device-table")).toBeVisible();
      // The rows come with the server's HTML; the shortcuts once the page is hydrated and its stream open.
      await expect(page.getByTestId("stream-state")).toHaveAttribute("data-state", "live");

      // "/" jumps to the search box; typing filters on the server; Escape clears it.
      await page.locator("body").press("/");
      const search = page.getByTestId("device-search");
      await expect(search).toBeFocused();
      await page.keyboard.type("kb-");
      const rows = page.getByTestId("device-row");
      await expect(rows.first()).toHaveAttribute("data-device-id", /^kb-/);
      await expect(page.getByTestId("device-table")).toHaveAttribute("aria-rowcount", String(ids.length + 1));
      await page.keyboard.press("Escape");
      await expect(search).toHaveValue("");
      await page.keyboard.type("kb-");
      await expect(page.getByTestId("device-table")).toHaveAttribute("aria-rowcount", String(ids.length + 1));

      // The status filter: Tab to "offline", Space picks it (none are offline), then back to "all" by Enter.
      const filter = page.getByTestId("status-filter");
      await tabUntil(
        page,
        (el) => el.textContent === "offline" && el.closest('[data-testid="status-filter"]') !== null,
      );
      await page.keyboard.press("Space");
      await expect(filter.getByRole("button", { name: "offline" })).toHaveAttribute("aria-pressed", "true");
      await expect(page.getByTestId("device-table")).toHaveAttribute("aria-rowcount", "1");
      await page.keyboard.press("Shift+Tab");
      while ((await page.evaluate(() => document.activeElement?.textContent)) !== "all")
        await page.keyboard.press("Shift+Tab");
      await page.keyboard.press("Enter");
      await expect(filter.getByRole("button", { name: "all" })).toHaveAttribute("aria-pressed", "true");
      await expect(page.getByTestId("device-table")).toHaveAttribute("aria-rowcount", String(ids.length + 1));

      // Sort by id from its column header, by Enter, both ways.
      const idHeader = page.getByRole("columnheader", { name: /Device id/ });
      await tabUntil(page, (el) => el.closest('[role="columnheader"]')?.textContent?.startsWith("Device id") === true);
      await page.keyboard.press("Enter");
      await expect(idHeader).toHaveAttribute("aria-sort", "ascending");
      await expect(rows.first()).toHaveAttribute("data-device-id", "kb-00");
      await page.keyboard.press("Enter");
      await expect(idHeader).toHaveAttribute("aria-sort", "descending");
      await expect(rows.first()).toHaveAttribute("data-device-id", "kb-29");
      await page.keyboard.press("Enter");
      await expect(idHeader).toHaveAttribute("aria-sort", "ascending");
      await expect(rows.first()).toHaveAttribute("data-device-id", "kb-00");

      // Into the rows: Tab reaches the first device link; arrows, End and Home move between rows.
      await tabUntil(page, (el) => el.closest('[data-testid="device-row"]') !== null);
      expect(await focusedRowId(page)).toBe("kb-00");
      await page.keyboard.press("ArrowDown");
      await expect.poll(() => focusedRowId(page)).toBe("kb-01");
      await page.keyboard.press("ArrowDown");
      await page.keyboard.press("ArrowDown");
      await expect.poll(() => focusedRowId(page)).toBe("kb-03");
      await page.keyboard.press("ArrowUp");
      await expect.poll(() => focusedRowId(page)).toBe("kb-02");
      await page.keyboard.press("End");
      await expect.poll(() => focusedRowId(page)).toBe("kb-29");
      await page.keyboard.press("ArrowDown"); // stays on the last row
      await expect.poll(() => focusedRowId(page)).toBe("kb-29");
      await page.keyboard.press("Home");
      await expect.poll(() => focusedRowId(page)).toBe("kb-00");
      await page.keyboard.press("PageDown");
      await expect.poll(async () => (await focusedRowId(page)) ?? "").not.toBe("kb-00");

      // Enter opens the focused device.
      const id = await focusedRowId(page);
      await page.keyboard.press("Enter");
      await expect(page).toHaveURL(new RegExp(`/devices/${id}$`));
      await expect(page.getByTestId("device-id")).toHaveText(id!);
    } finally {
      await Promise.all(clients.map((c) => c.endAsync()));
    }
  });
});
