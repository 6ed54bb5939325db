/**
 * The grouped alerts page and "mute for 1 h", in real Chromium against the
 * real app on embedded defaults, with real MQTT.js devices: ten devices cut
 * at once become one incident group (long groups collapse), an alert is
 * acknowledged, a device whose id is itself a glob is muted from its alert
 * (that device only), and the silence shows on the silences page and on the
 * fleet and device pages; the silences form names its bad fields; names and
 * tags are edited on the device page and filtered on the fleet page.
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
  // One id is itself a glob that matches every other one: muting it must mute it alone.
  const GLOB_ID = "ui-*";
  const ids = [...Array.from({ length: 9 }, (_, i) => `ui-${i}`), GLOB_ID];
  for (const id of ids) {
    const c = await mqtt.connectAsync(embedded.mqttUrl, { clientId: id, keepalive: 5, reconnectPeriod: 0 });
    c.on("error", () => undefined);
    clients.push(c);
  }
  await page.goto("/");
  await expect(page.locator('[data-testid="device-row"][data-status="online"]')).toHaveCount(10);
  const named = await page.request.patch("/api/devices/ui-3", { headers: origin, data: { name: "Gatehouse 3" } });
  expect(named.status(), await named.text()).toBe(200);
  // Their link is cut all at once.
  for (const c of clients) c.stream.destroy();

  await page.goto("/alerts");
  const incident = page.locator('[data-testid="alert-group"][data-group^="incident:"]');
  await expect(incident).toHaveAttribute("data-count", "10", { timeout: 30_000 });
  await expect(incident.getByTestId("group-count")).toHaveText("10");
  await expect(incident.getByTestId("incident")).toContainText("10 devices offline within 60 s (connection_lost)");
  await expect(incident.getByTestId("incident-cause")).toHaveText("mass disconnect: connection lost");
  // A long group shows five rows and collapses the rest.
  await expect(incident.getByTestId("firing-alert")).toHaveCount(5);
  await incident.getByTestId("show-more").click();
  await expect(incident.getByTestId("firing-alert")).toHaveCount(10);
  // The name in front of the id, wherever a device appears.
  await expect(
    incident.locator('[data-testid="firing-alert"][data-device-id="ui-3"]').getByTestId("device-name"),
  ).toHaveText("Gatehouse 3");

  // Acknowledge one, with a comment.
  const acked = incident.locator('[data-testid="firing-alert"][data-device-id="ui-2"]');
  await acked.getByLabel("acknowledgement comment").fill("crew on site");
  await acked.getByTestId("ack").click();
  await expect(acked.getByTestId("acked")).toContainText("acknowledged by anonymous");
  await expect(acked.getByTestId("acked")).toContainText("crew on site");
  // And undo it.
  await expect(acked.getByTestId("ack")).toHaveText("Unack");
  await acked.getByTestId("ack").click();
  await expect(acked.getByTestId("acked")).toHaveCount(0);
  await expect(acked.getByTestId("ack")).toHaveText("Ack");

  // Mute the one whose id is a glob for 1 h, in one click.
  const muted = incident.locator(`[data-testid="firing-alert"][data-device-id="${GLOB_ID}"]`);
  await muted.getByTestId("mute-1h").click();
  await expect(muted.getByTestId("muted-until")).toBeVisible();
  await page.getByTestId("silences-link").click();
  const silence = page.locator('[data-testid="silence"][data-state="active"]');
  await expect(silence).toHaveCount(1);
  // Escaped: the glob names that one id and no other.
  await expect(silence).toHaveAttribute("data-match", "ui-\\*");
  await expect(silence).toContainText("muting now");
  await expect(silence).toContainText("muted from the alerts page by anonymous");
  const listed = await (await page.request.get("/api/silences?state=active")).json();
  const endsIn = Date.parse(listed.silences[0].endsAt) - Date.now();
  expect(endsIn).toBeGreaterThan(55 * 60_000);
  expect(endsIn).toBeLessThanOrEqual(60 * 60_000);

  // The device shows muted on the fleet page and on its own page; the other nine do not.
  await page.goto("/");
  await expect(
    page.locator(`[data-testid="device-row"][data-device-id="${GLOB_ID}"]`).getByTestId("muted-badge"),
  ).toBeVisible();
  await expect(page.getByTestId("device-row")).toHaveCount(10);
  await expect(page.getByTestId("muted-badge")).toHaveCount(1);
  await page.goto(`/devices/${encodeURIComponent(GLOB_ID)}`);
  await expect(page.getByTestId("muted-badge")).toBeVisible();

  // Ending it early takes the badge away.
  await page.goto("/alerts/silences");
  await page.getByTestId("end-silence").click();
  await expect(page.locator('[data-testid="silence"][data-state="expired"]')).toHaveCount(1);
  await page.goto(`/devices/${encodeURIComponent(GLOB_ID)}`);
  await expect(page.getByTestId("device-status")).toBeVisible();
  await expect(page.getByTestId("muted-badge")).toHaveCount(0);

  // The device page mutes its device in one click too.
  await page.goto("/devices/ui-6");
  await expect(page.getByTestId("device-status")).toBeVisible();
  await expect(page.getByTestId("muted-badge")).toHaveCount(0);
  await page.getByTestId("mute-1h").click();
  await expect(page.getByTestId("muted-badge")).toBeVisible();
  const mine = await (await page.request.get("/api/silences?state=active")).json();
  expect(mine.silences).toEqual([
    expect.objectContaining({ match: "ui-6", comment: "muted from the device page by anonymous" }),
  ]);
});

test("the silences form names its bad fields beside them, then creates a weekly window", async ({ page }) => {
  await page.goto("/alerts/silences");
  const form = page.getByTestId("silence-form");
  // Neither devices nor tags, no end, no comment.
  await form.getByRole("button", { name: "Create silence" }).click();
  await expect(form.getByTestId("error-match")).toContainText("match or tags is required");
  await expect(form.getByTestId("error-comment")).toBeVisible();
  await expect(form.getByTestId("form-message")).toHaveText("Not saved: fix the fields marked in red.");
  await expect(form.locator('input[name="match"]')).toHaveAttribute("aria-invalid", "true");

  await form.locator('input[name="tags"]').fill("maint:weekly");
  await form.locator('input[name="comment"]').fill("Saturday night patching");
  await form.getByTestId("add-window").click();
  // The time zone starts as the browser's own.
  const zone = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
  await expect(form.locator('input[name="timeZone"]')).toHaveValue(zone);
  await form.locator('input[name="timeZone"]').fill("Mars/Olympus_Mons");
  await form.getByLabel("window 1 minutes").fill("0");
  await form.getByRole("button", { name: "Create silence" }).click();
  await expect(form.getByTestId("error-timeZone")).toBeVisible();
  await expect(form.getByTestId("error-window-0")).toContainText("minutes");
  await expect(form.getByTestId("error-match")).toHaveCount(0);

  await form.locator('input[name="timeZone"]').fill("Europe/Berlin");
  await form.getByLabel("window 1 minutes").fill("240");
  await form.getByRole("button", { name: "Create silence" }).click();
  await expect(form.getByTestId("form-message")).toHaveCount(0);
  const created = page.locator('[data-testid="silence"]', { hasText: "Saturday night patching" });
  await expect(created).toContainText("tagged maint:weekly");
  await expect(created).toContainText("sat 22:00 for 240 min");
  await expect(created).toContainText("Europe/Berlin");
  await expect(created).toHaveAttribute("data-state", "active");
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
  // The filter is in the address: loading it again starts filtered.
  await page.reload();
  await expect(page.getByTestId("tag-filter").locator('[data-tag="pumps"]')).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByTestId("device-row")).toHaveCount(1);
  await expect(page.getByTestId("row-count")).toContainText("1 of");
});
