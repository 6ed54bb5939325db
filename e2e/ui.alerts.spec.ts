import { test, expect } from "./fixtures/embedded";
import { rawConnect } from "../lib/testing/clients";

test.describe("alert rules and the alert feed", () => {
  test("edits rules in the browser: an invalid rule is rejected field by field, a valid one applies at once", async ({
    page,
    embedded,
  }) => {
    test.setTimeout(60_000);
    // Event streams this tab holds open: the badge and the fleet page share one.
    const openStreams = new Set<import("@playwright/test").Request>();
    let mostOpen = 0;
    page.on("request", (r) => {
      if (!new URL(r.url()).pathname.startsWith("/api/stream")) return;
      openStreams.add(r);
      mostOpen = Math.max(mostOpen, openStreams.size);
    });
    const ended = (r: import("@playwright/test").Request) => openStreams.delete(r);
    page.on("requestfailed", ended);
    page.on("requestfinished", ended);
    await page.goto("/settings/alerts");
    await expect(page.getByRole("heading", { name: "Alert rules" })).toBeVisible();
    const rows = page.getByTestId("rule-row");
    await expect(rows).toHaveCount(1);
    const defaultRow = rows.filter({ hasText: "Default" });
    await expect(defaultRow.getByTestId("rule-match")).toHaveText("*");
    await expect(defaultRow.getByTestId("delete-rule")).toHaveCount(0); // the default rule cannot be deleted
    // Embedded broker: pings are visible, so no warning about silence thresholds.
    await expect(page.getByTestId("pings-warning")).toHaveCount(0);

    // An invalid rule: malformed glob, a negative deadline. Each message sits next to its field.
    await page.getByTestId("new-rule").click();
    const form = page.getByTestId("rule-form");
    await form.getByTestId("field-name").fill("pumps");
    await form.getByTestId("field-match").fill("pump-[a");
    await form.getByTestId("field-offlineFactor").fill("");
    await form.getByTestId("field-offlineSeconds").fill("-3");
    await form.getByTestId("save-rule").click();
    await expect(form.getByTestId("error-match")).toContainText('unclosed "["');
    await expect(form.getByTestId("error-offlineSeconds")).toContainText("at least 1");
    await expect(form.getByTestId("field-match")).toHaveAttribute("aria-invalid", "true");
    await expect(form.getByTestId("error-name")).toHaveCount(0);
    const afterReject = await (await page.request.get("/api/alert-rules")).json();
    expect(afterReject.rules).toHaveLength(1); // nothing was saved

    // Fixed: saved, listed first (more specific than *), and the preview says it applies.
    await form.getByTestId("field-match").fill("pump-*");
    await form.getByTestId("field-offlineSeconds").fill("3");
    await form.getByTestId("field-resolveAfterSeconds").fill("2");
    await form.getByTestId("save-rule").click();
    await expect(page.getByTestId("rule-form")).toHaveCount(0);
    await expect(rows).toHaveCount(2);
    await expect(rows.first()).toHaveAttribute("data-rule-name", "pumps");
    await expect(rows.first()).toContainText("#1");
    await expect(rows.first()).toContainText("offline after 3 s");
    await page.getByTestId("preview-device").fill("pump-7");
    await page.getByTestId("preview-go").click();
    await expect(page.getByTestId("preview-rule")).toHaveText("pumps");
    await page.getByTestId("preview-device").fill("valve-1");
    await page.getByTestId("preview-go").click();
    await expect(page.getByTestId("preview-rule")).toHaveText("Default");

    // The rule works at once: a keepalive-60 pump that says nothing after CONNECT alerts within seconds.
    const socket = await rawConnect(embedded.mqttPort, "pump-9", 60);
    try {
      const badge = page.getByTestId("alert-badge");
      await expect(badge).toHaveAttribute("data-count", "1", { timeout: 8_000 });
      await page
        .getByRole("link", { name: /Alerts/ })
        .first()
        .click();
      await expect(page).toHaveURL(/\/alerts$/);
      const alert = page.locator('[data-testid="firing-alert"][data-device-id="pump-9"]');
      await expect(alert).toHaveAttribute("data-kind", "offline");
      await expect(alert.getByRole("link", { name: "pump-9" })).toHaveAttribute("href", "/devices/pump-9");
      const api = await (await page.request.get("/api/alerts?state=firing&device=pump-9")).json();
      expect(api.alerts).toEqual([
        expect.objectContaining({ deviceId: "pump-9", kind: "offline", state: "firing", resolvedAt: null }),
      ]);

      // On the fleet page the badge lives on the fleet's stream: still one connection, still live.
      await page.getByRole("link", { name: "Fleet" }).first().click();
      await expect(page).toHaveURL(/\/$/);
      await expect(page.getByTestId("stream-state")).toHaveText(/live/i);
      await expect(badge).toHaveAttribute("data-count", "1");
      await expect.poll(() => [...openStreams].map((r) => new URL(r.url()).search)).toEqual([""]);
      await page
        .getByRole("link", { name: /Alerts/ })
        .first()
        .click();
      await expect.poll(() => [...openStreams].map((r) => new URL(r.url()).search)).toEqual(["?only=alerts"]);
      expect(mostOpen).toBe(1);
    } finally {
      socket.destroy();
    }

    // Edit: back to a keepalive factor; then delete the rule.
    await page.goto("/settings/alerts");
    const pumps = page.locator('[data-testid="rule-row"][data-rule-name="pumps"]');
    await pumps.getByTestId("edit-rule").click();
    await pumps.getByTestId("field-offlineSeconds").fill("");
    await pumps.getByTestId("field-offlineFactor").fill("1.2");
    await pumps.getByTestId("save-rule").click();
    await expect(pumps).toContainText("offline after 1.2 × keepalive");
    page.once("dialog", (d) => void d.accept());
    await pumps.getByTestId("delete-rule").click();
    await expect(rows).toHaveCount(1);
  });
});
