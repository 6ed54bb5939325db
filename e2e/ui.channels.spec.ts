import { test, expect } from "./fixtures/embedded";
import { startHttpReceiver } from "../lib/testing/webhooks";

// An app of its own, allowed to reach receivers on this machine.
test.use({ embeddedEnv: { KEEPWATCH_WEBHOOK_ALLOW: "127.0.0.1", KEEPWATCH_PUBLIC_URL: "" } });

test.describe("notification channels", () => {
  test("a webhook channel: created with field errors first, secrets masked, tested inline, picked by a rule, its attempts in the log", async ({
    page,
  }) => {
    test.setTimeout(60_000);
    const receiver = await startHttpReceiver((r) => ({ status: r.path.includes("down") ? 503 : 200 }));
    const base = receiver.base;
    try {
      await page.goto("/settings/channels");
      await expect(page.getByRole("heading", { name: "Notification channels" })).toBeVisible();
      await page.getByTestId("new-channel").click();
      const form = page.getByTestId("channel-form");

      // Required fields are named before anything is sent; a bad URL by the server, next to its field.
      await form.getByTestId("save-channel").click();
      await expect(form.getByTestId("error-name")).toHaveText("name is required");
      await expect(form.getByTestId("error-config.url")).toHaveText("URL is required");
      await form.getByTestId("field-name").fill("ops hook");
      await form.getByTestId("field-config.url").fill("ftp://example.com/hook");
      await form.getByTestId("save-channel").click();
      await expect(form.getByTestId("error-config.url")).toContainText("http:// or https://");
      await expect(form.getByTestId("field-config.url")).toHaveAttribute("aria-invalid", "true");
      expect((await (await page.request.get("/api/channels")).json()).channels).toHaveLength(0);

      await form.getByTestId("field-config.url").fill(`${base}/hooks/T1/very-secret-path`);
      await form.getByTestId("field-config.secret").fill("sign-me-with-this-secret");
      await form.getByTestId("save-channel").click();
      await expect(page.getByTestId("channel-form")).toHaveCount(0);
      const row = page.getByTestId("channel-row").filter({ hasText: "ops hook" });
      await expect(row.getByTestId("channel-target")).toHaveText(`${base}/••••path`);
      await expect(page.locator("body")).not.toContainText("very-secret");

      // The test button: the receiver gets one request with an Idempotency-Key; the result is inline.
      await row.getByTestId("test-channel").click();
      await expect(row.getByTestId("test-result")).toContainText(/Delivered in \d+ ms \(HTTP 200\)/);
      const test1 = receiver.at("/hooks/T1/very-secret-path");
      expect(test1).toHaveLength(1);
      expect(test1[0].headers["idempotency-key"]).toBe(JSON.parse(test1[0].raw).id);
      expect(test1[0].headers["x-keepwatch-signature"]).toMatch(/^sha256=[0-9a-f]{64}$/);

      // Editing keeps the secret it does not show: only the name changes.
      await row.getByTestId("edit-channel").click();
      await expect(page.getByTestId("field-config.url")).toHaveValue(`${base}/••••path`);
      await page.getByTestId("field-name").fill("ops hook (renamed)");
      await page.getByTestId("save-channel").click();
      const renamed = page.getByTestId("channel-row").filter({ hasText: "ops hook (renamed)" });
      await renamed.getByTestId("test-channel").click();
      await expect(renamed.getByTestId("test-result")).toContainText("Delivered");
      expect(receiver.at("/hooks/T1/very-secret-path")).toHaveLength(2);

      // A failing channel says why, inline.
      await page.getByTestId("new-channel").click();
      await page.getByTestId("field-name").fill("down hook");
      await page.getByTestId("field-config.url").fill(`${base}/down`);
      await page.getByTestId("save-channel").click();
      const down = page.getByTestId("channel-row").filter({ hasText: "down hook" });
      await down.getByTestId("test-channel").click();
      await expect(down.getByTestId("test-result")).toContainText("Failed after");
      await expect(down.getByTestId("test-result")).toContainText("HTTP 503");

      // A rule picks the channel; the rules page names it.
      await page.goto("/settings/alerts");
      const defaultRow = page.getByTestId("rule-row").first();
      await defaultRow.getByTestId("edit-rule").click();
      await page.getByTestId("rule-form").getByText("ops hook (renamed)").click();
      await page.getByTestId("save-rule").click();
      await expect(page.getByTestId("rule-channels").first()).toHaveText("notifies ops hook (renamed)");

      // The delivery log shows both tests; filtered by outcome, only the failure.
      const log = page.getByTestId("delivery-row");
      await expect(log).toHaveCount(3);
      await page.getByTestId("delivery-outcome").selectOption("failed");
      await expect(log).toHaveCount(1);
      await expect(log.first()).toContainText("down hook");
      await expect(log.first()).toContainText("HTTP 503");
      await page.getByTestId("delivery-outcome").selectOption("");
      await page.getByTestId("delivery-channel").selectOption({ label: "ops hook (renamed)" });
      await expect(log).toHaveCount(2);
    } finally {
      await receiver.close();
    }
  });
});
