/**
 * The device page on embedded defaults (the embedded broker sees every
 * PINGREQ): a client with keepalive 10 that never pings is dropped after
 * ~15 s and the page tells why, in words; a pinging MQTT.js client shows
 * its PINGREQs on the live timeline.
 */
import mqtt from "mqtt";
import { test, expect } from "./fixtures/embedded";
import { rawConnect } from "../lib/testing/clients";

test.describe("device page, embedded broker", () => {
  test("diagnoses a client that never sends PINGREQ after its first drop", async ({ page, embedded }) => {
    test.setTimeout(60_000);
    const socket = await rawConnect(embedded.mqttPort, "ud-umqtt", 10);
    try {
      await page.goto(`/devices/ud-umqtt?range=15m`);
      await expect(page.getByTestId("device-status")).toHaveAttribute("data-status", "online", { timeout: 10_000 });
      const finding = page.locator('[data-testid="finding"][data-code="not_sending_pingreq"]');
      await expect(finding).toBeVisible({ timeout: 30_000 });
      await expect(finding).toContainText("not sending PINGREQ");
      await expect(finding).toContainText("umqtt.simple");
      await expect(page.getByTestId("device-status")).toHaveAttribute("data-status", "offline");
      await expect(page.getByTestId("timeline")).toHaveAttribute("data-markers", "1", { timeout: 10_000 });

      // The fleet view: its keepalive bucket leads to the device.
      await page.goto("/fleet/insights");
      const bucket = page.locator('[data-testid="keepalive-bucket"][data-bucket="1-10"]');
      await expect(bucket).not.toHaveAttribute("data-count", "0");
      await bucket.click();
      await page.getByTestId("bucket-devices").getByRole("link", { name: "ud-umqtt" }).click();
      await expect(page).toHaveURL(/\/devices\/ud-umqtt$/);
      await expect(page.getByTestId("device-id")).toHaveText("ud-umqtt");
    } finally {
      socket.destroy();
    }
  });

  test("shows a pinging client's PINGREQs on the live timeline", async ({ page, embedded }) => {
    test.setTimeout(60_000);
    const client = await mqtt.connectAsync(embedded.mqttUrl, { clientId: "ud-k2", keepalive: 2, reconnectPeriod: 0 });
    try {
      await page.goto(`/devices/ud-k2?range=15m`);
      await expect(page.getByTestId("timeline")).toHaveAttribute("data-ready", "true");
      // Live: new gaps appear without a reload.
      await expect(page.getByTestId("timeline")).toHaveAttribute("data-samples", /^([3-9]|\d\d+)$/, {
        timeout: 20_000,
      });
      await expect(page.getByTestId("last-ping")).not.toHaveText("—");
      await expect(page.getByTestId("diagnosis-none")).toBeVisible();
    } finally {
      await client.endAsync();
    }
  });
});
