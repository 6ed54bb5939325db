import mqtt from "mqtt";
import { test, expect } from "./fixtures/stack";
import { exited, mosquittoSub, rawConnect } from "../lib/testing/clients";

const row = (page: import("@playwright/test").Page, id: string) =>
  page.locator(`[data-testid="device-row"][data-device-id="${id.replace(/["\\]/g, "\\$&")}"]`);

test.describe("fleet page", () => {
  test("shows connects and drops live, without reload", async ({ page, stack }) => {
    await page.goto("/");
    await expect(page.getByTestId("broker-health")).toHaveAttribute("data-connected", "true");
    await page.getByTestId("device-search").fill("ui-");

    const sub = mosquittoSub(stack.broker.port, "ui-sub-1", 5);
    await expect(row(page, "ui-sub-1").getByTestId("device-status")).toHaveText(/online/i, { timeout: 6_000 });
    await expect(row(page, "ui-sub-1")).toContainText("5 s");

    sub.kill("SIGKILL");
    await exited(sub);
    await expect(row(page, "ui-sub-1").getByTestId("device-status")).toHaveText(/offline/i, { timeout: 6_000 });
    await expect(row(page, "ui-sub-1")).toContainText(/connection lost/i);

    const silent = await rawConnect(stack.broker.port, "ui-silent-1", 2);
    await expect(row(page, "ui-silent-1").getByTestId("device-status")).toHaveText(/online/i, { timeout: 6_000 });
    // Mosquitto 2.0 checks keepalives once every 6 s: a keepalive-2 client that never pings is
    // dropped 3–10 s after its CONNECT (1.5 × 2 s, + up to 6 s to the next check, + 1 s rounding).
    await expect(row(page, "ui-silent-1").getByTestId("device-status")).toHaveText(/offline/i, { timeout: 12_000 });
    await expect(row(page, "ui-silent-1")).toContainText(/keepalive timeout/i);
    silent.destroy();
  });

  test("renders hostile ids as plain text", async ({ page, stack }) => {
    let dialog = false;
    page.on("dialog", async (d) => {
      dialog = true;
      await d.dismiss();
    });
    const hostile = `<img src=x onerror=alert(1)>`;
    const long = `ui-long-${"W".repeat(240)}`; // near MAX_DEVICE_ID_BYTES (256): longer ids are refused at ingest
    const clients = await Promise.all(
      [hostile, long, "ui-\u202Eevil-rtl", "ui-😀-emoji"].map((clientId) =>
        mqtt.connectAsync(stack.broker.url, { clientId, keepalive: 30, reconnectPeriod: 0 }),
      ),
    );
    await page.goto("/");
    await expect(row(page, hostile)).toBeVisible({ timeout: 6_000 });
    await expect(row(page, hostile)).toContainText(hostile);
    expect(await page.locator("img[src=x]").count()).toBe(0);
    expect(dialog).toBe(false);
    // A 248-character id must not widen the page.
    await expect(row(page, long)).toBeVisible();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await Promise.all(clients.map((c) => c.endAsync()));
  });

  test("shows a monitoring gap as unknown, then the broker's restart: who has not come back, and the drops in the history", async ({
    page,
    stack,
  }) => {
    const client = await mqtt.connectAsync(stack.broker.url, {
      clientId: "ui-gap-1",
      keepalive: 30,
      reconnectPeriod: 0,
    });
    client.on("error", () => undefined);
    await page.goto("/");
    await expect(row(page, "ui-gap-1").getByTestId("device-status")).toHaveText(/online/i, { timeout: 6_000 });

    await stack.broker.stop();
    await expect(page.getByTestId("broker-health")).toHaveAttribute("data-connected", "false", { timeout: 5_000 });
    await expect(page.getByTestId("monitor-gap")).toBeVisible();
    await expect(row(page, "ui-gap-1").getByTestId("device-status")).toHaveText(/unknown/i);
    await expect(page.getByTestId("count-offline")).toHaveAttribute("data-count", "0");

    await stack.broker.start();
    await expect(page.getByTestId("broker-health")).toHaveAttribute("data-connected", "true", { timeout: 40_000 });
    await expect(page.getByTestId("monitor-gap")).toHaveCount(0);
    // The broker restarted (its uptime went back): its clients were dropped. ui-gap-1 does not reconnect by itself.
    await expect(row(page, "ui-gap-1").getByTestId("device-status")).toHaveText(/offline/i, { timeout: 5_000 });
    await expect(row(page, "ui-gap-1")).toContainText(/broker restarted/i);
    const banner = page.getByTestId("broker-restart");
    await expect(banner).toContainText(/Broker restarted at \d\d:\d\d:\d\d/);
    await expect(banner.getByTestId("restart-not-back")).toHaveText("1");

    const back = await mqtt.connectAsync(stack.broker.url, { clientId: "ui-gap-1", keepalive: 30, reconnectPeriod: 0 });
    await expect(row(page, "ui-gap-1").getByTestId("device-status")).toHaveText(/online/i, { timeout: 6_000 });
    await expect(banner).toContainText("the device it dropped is back");

    // The banner leads to the drops at the restart.
    await banner.getByRole("link", { name: /disconnects at the restart/i }).click();
    await expect(page).toHaveURL(/\/history\?.*reason=broker_restart/);
    const rows = page.getByTestId("disconnect-row");
    await expect(rows).toHaveCount(1, { timeout: 6_000 });
    await expect(rows.first()).toContainText("ui-gap-1");
    await expect(rows.first()).toContainText(/broker restarted/i);
    await back.endAsync();
  });
});
