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

  test("plots each PINGREQ within a second over the page's stream, with no periodic fetch", async ({
    page,
    embedded,
  }) => {
    test.setTimeout(60_000);
    const client = await mqtt.connectAsync(embedded.mqttUrl, { clientId: "ud-k2", keepalive: 2, reconnectPeriod: 0 });
    try {
      await page.goto(`/devices/ud-k2?range=15m`);
      const timeline = page.getByTestId("timeline");
      await expect(timeline).toHaveAttribute("data-ready", "true");
      const samples = async () => Number(await timeline.getAttribute("data-samples"));
      // From here on the page may only listen: its stream is already open.
      const fetched: string[] = [];
      page.on("request", (r) => {
        if (new URL(r.url()).pathname.startsWith("/api/")) fetched.push(r.url());
      });
      const latencies: number[] = [];
      for (let i = 0; i < 3; i++) {
        const before = await samples();
        const sentAt = await new Promise<number>((resolve) => {
          const onSend = (packet: { cmd: string }) => {
            if (packet.cmd !== "pingreq") return;
            client.off("packetsend", onSend);
            resolve(Date.now());
          };
          client.on("packetsend", onSend);
        });
        await expect.poll(samples, { timeout: 1_000, intervals: [25] }).toBeGreaterThan(before);
        latencies.push(Date.now() - sentAt);
      }
      console.log(`PINGREQ plotted after ${latencies.join(", ")} ms`);
      expect(fetched).toEqual([]);
      await expect(page.getByTestId("last-ping")).not.toHaveText("—");
      await expect(page.getByTestId("diagnosis-none")).toBeVisible();
    } finally {
      await client.endAsync();
    }
  });

  test("follows a drop live: the status, the band and the marker, then the sessions refetched once", async ({
    page,
    embedded,
  }) => {
    test.setTimeout(60_000);
    const client = await mqtt.connectAsync(embedded.mqttUrl, {
      clientId: "ud-drop",
      keepalive: 30,
      reconnectPeriod: 0,
    });
    await page.goto(`/devices/ud-drop?range=15m`);
    await expect(page.getByTestId("device-status")).toHaveAttribute("data-status", "online");
    await expect(page.getByTestId("timeline")).toHaveAttribute("data-markers", "0");
    const fetched: string[] = [];
    page.on("request", (r) => {
      if (new URL(r.url()).pathname.startsWith("/api/devices")) fetched.push(new URL(r.url()).pathname);
    });
    await client.endAsync();
    await expect(page.getByTestId("device-status")).toHaveAttribute("data-status", "offline", { timeout: 5_000 });
    await expect(page.getByTestId("timeline")).toHaveAttribute("data-markers", "1", { timeout: 5_000 });
    // The detail (sessions, diagnosis) is fetched again for the new verdict: once, not on a clock.
    await expect.poll(() => fetched.length, { timeout: 5_000 }).toBe(1);
    await page.waitForTimeout(3_000);
    expect(fetched).toEqual(["/api/devices/ud-drop"]);
  });
});
