/**
 * Every page, in real Chromium, with a device, a rule, an alert and a silence
 * behind it: no console error, no hydration warning, no failed request, no
 * serious or critical accessibility violation (axe), and usable at 390 px
 * (no sideways scrolling of the page itself; a screenshot of each is kept
 * with the test's results).
 */
import AxeBuilder from "@axe-core/playwright";
import mqtt from "mqtt";
import type { Page } from "@playwright/test";
import { test, expect } from "./fixtures/stack";

const ROUTES = [
  "/",
  "/fleet/insights",
  "/history",
  "/reports",
  "/alerts",
  "/alerts/silences",
  "/settings/alerts",
  "/settings/channels",
  "/settings/access",
  "/docs/api",
  "/devices/pages-dev-1",
  "/devices/never-seen-id",
  "/no-such-page",
];

/** What went wrong on a page while it loaded and settled. */
function watch(page: Page, route: string): string[] {
  const problems: string[] = [];
  // The unknown route answers 404 by design (and the browser says so); nothing else may fail.
  const expected = (url: string) => route === "/no-such-page" && url.endsWith(route);
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (expected(m.location().url) && m.text().startsWith("Failed to load resource")) return;
    if (m.type() === "error" || (m.type() === "warning" && /hydrat/i.test(m.text())))
      problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400 && !expected(r.url())) problems.push(`${r.status()} ${r.url()}`);
  });
  return problems;
}

test.describe("every page", () => {
  test.beforeAll(async ({ stack }) => {
    const device = await mqtt.connectAsync(stack.broker.url, {
      clientId: "pages-dev-1",
      keepalive: 30,
      reconnectPeriod: 0,
    });
    await device.endAsync();
  });

  for (const route of ROUTES) {
    test(`${route}: no console error, no serious accessibility violation`, async ({ page }) => {
      const problems = watch(page, route);
      await page.goto(route);
      // A page's stream never lets the network go idle: let it settle a moment instead.
      await page.waitForTimeout(1_000);
      const axe = await new AxeBuilder({ page }).analyze();
      const serious = axe.violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
      expect(serious).toEqual([]);
      expect(problems).toEqual([]);
    });

    test(`${route}: usable at 390 px`, async ({ page }, info) => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(route);
      await page.waitForTimeout(1_000);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      await info.attach(`${route} at 390 px`, {
        body: await page.screenshot({ fullPage: true }),
        contentType: "image/png",
      });
      expect(overflow).toBeLessThanOrEqual(0);
    });
  }
});
