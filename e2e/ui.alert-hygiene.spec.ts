/**
 * The grouped alerts page and "mute for 1 h", in real Chromium against the
 * real app on embedded defaults, with real MQTT.js devices: ten devices cut
 * at once become one incident group (long groups collapse), an alert is
 * acknowledged, a device is muted from its alert, and the silence shows on
 * the silences page and on the fleet and device pages.
 */
import mqtt, { type MqttClient } from "mqtt";
import { test, expect } from "./fixtures/embedded";

// Ten devices within 60 s make the incident below. Settings of its own also give this file an app of its
// own, so its rules, devices and alerts stay out of other specs (and theirs out of its counts).
test.use({ embeddedEnv: { INCIDENT_MIN_DEVICES: "10", INCIDENT_WINDOW_SECONDS: "60" } });

const clients: MqttClient[] = [];
test.afterAll(() => {
  for (const c of clients) c.end(true);
});

test("alerts grouped by incident with counts, acknowledged, and a device muted for 1 h in one step", async ({
  page,
  embedded,
}) => {
  test.setTimeout(90_000);
  const origin = { origin: embedded.app.baseURL };
  const rule = await page.request.post("/api/alert-rules", {
    headers: origin,
    // Longer than the clients' keepalive (5 s): a healthy client is never silent that long.
    data: { name: "ui", match: "ui-*", offlineSeconds: 8, offlineFactor: null, resolveAfterSeconds: 1 },
  });
  expect(rule.status(), await rule.text()).toBe(201);
  const ids = Array.from({ length: 10 }, (_, i) => `ui-${i}`);
  for (const id of ids) {
    const c = await mqtt.connectAsync(embedded.mqttUrl, { clientId: id, keepalive: 5, reconnectPeriod: 0 });
    c.on("error", () => undefined);
    clients.push(c);
  }
  await page.goto("/");
  await expect(page.locator('[data-testid="device-row"][data-status="online"]')).toHaveCount(10);
  // Their link is cut all at once.
  for (const c of clients) c.stream.destroy();

  await page.goto("/alerts");
  const incident = page.locator('[data-testid="alert-group"][data-group^="incident:"]');
  await expect(incident).toHaveAttribute("data-count", "10", { timeout: 30_000 });
  await expect(incident.getByTestId("incident")).toContainText("10 devices offline within 60 s (connection_lost)");
  // A long group shows five rows and collapses the rest.
  await expect(incident.getByTestId("firing-alert")).toHaveCount(5);
  await incident.getByTestId("show-more").click();
  await expect(incident.getByTestId("firing-alert")).toHaveCount(10);

  // Acknowledge one, with a comment.
  const acked = incident.locator('[data-testid="firing-alert"][data-device-id="ui-2"]');
  await acked.getByLabel("acknowledgement comment").fill("crew on site");
  await acked.getByTestId("ack").click();
  await expect(acked.getByTestId("acked")).toContainText("acknowledged by anonymous");
  await expect(acked.getByTestId("acked")).toContainText("crew on site");

  // Mute another for 1 h, in one click.
  const muted = incident.locator('[data-testid="firing-alert"][data-device-id="ui-7"]');
  await muted.getByTestId("mute-1h").click();
  await page.getByTestId("silences-link").click();
  const silence = page.locator('[data-testid="silence"][data-state="active"]');
  await expect(silence).toHaveCount(1);
  await expect(silence).toHaveAttribute("data-match", "ui-7");
  await expect(silence).toContainText("muting now");
  const listed = await (await page.request.get("/api/silences?state=active")).json();
  const endsIn = Date.parse(listed.silences[0].endsAt) - Date.now();
  expect(endsIn).toBeGreaterThan(55 * 60_000);
  expect(endsIn).toBeLessThanOrEqual(60 * 60_000);

  // The device shows muted on the fleet page and on its own page.
  await page.goto("/");
  await expect(
    page.locator('[data-testid="device-row"][data-device-id="ui-7"]').getByTestId("muted-badge"),
  ).toBeVisible();
  await expect(
    page.locator('[data-testid="device-row"][data-device-id="ui-6"]').getByTestId("muted-badge"),
  ).toHaveCount(0);
  await page.goto("/devices/ui-7");
  await expect(page.getByTestId("muted-badge")).toBeVisible();

  // Ending it early takes the badge away.
  await page.goto("/alerts/silences");
  await page.getByTestId("end-silence").click();
  await expect(page.locator('[data-testid="silence"][data-state="expired"]')).toHaveCount(1);
  await page.goto("/devices/ui-7");
  await expect(page.getByTestId("device-status")).toBeVisible();
  await expect(page.getByTestId("muted-badge")).toHaveCount(0);
});

test("names and tags: edited on the device page, shown and filtered on the fleet page", async ({ page, embedded }) => {
  const c = await mqtt.connectAsync(embedded.mqttUrl, { clientId: "ui-named", keepalive: 30, reconnectPeriod: 0 });
  clients.push(c);
  await page.goto("/devices/ui-named");
  await page.getByTestId("edit-labels").click();
  const form = page.getByTestId("labels-editor");
  await form.locator('input[name="tags"]').fill("Bad Tag");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByTestId("error-tags")).toContainText("Bad Tag");
  await form.locator('input[name="name"]').fill("Boiler room pump");
  await form.locator('input[name="tags"]').fill("site:north, pumps");
  await form.locator("textarea").fill("replaced in November");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("device-name")).toHaveText("Boiler room pump", { timeout: 10_000 });
  await expect(page.getByTestId("device-notes")).toHaveText("replaced in November");

  await page.goto("/");
  const row = page.locator('[data-testid="device-row"][data-device-id="ui-named"]');
  await expect(row.getByTestId("device-name")).toHaveText("Boiler room pump");
  await expect(row.locator('[data-tag="site:north"]')).toBeVisible();
  await page.getByTestId("device-search").fill("boiler");
  await expect(page.getByTestId("device-row")).toHaveCount(1);
  await page.getByTestId("device-search").fill("");
  await page.getByTestId("tag-filter").locator('[data-tag="pumps"]').click();
  await expect(page.getByTestId("device-row")).toHaveCount(1);
  expect(new URL(page.url()).searchParams.get("tag")).toBe("pumps");
});
