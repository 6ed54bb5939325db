import { readFile } from "node:fs/promises";
import mqtt from "mqtt";
import pg from "pg";
import { test, expect } from "./fixtures/stack";
import { eventually, exited, mosquittoSub, rawConnect } from "../lib/testing/clients";
import { csvRecords, parseCsv } from "../lib/testing/csv";
import type { DisconnectListDto } from "../lib/api/dto";

const HOSTILE = '=HYPERLINK("http://x","y")';
/** Matches the hostile id and this file's devices (uh-…), nothing another spec creates. */
const GLOB = "[=u][Hh]*";

test.describe("history page", () => {
  test("shows real disconnects, and exports exactly the view with hostile ids neutralized", async ({ page, stack }) => {
    test.setTimeout(60_000);
    // Broker log times are whole seconds: start the view a little before this test's first disconnect.
    const since = new Date(Date.now() - 2_000).toISOString();
    const url = stack.broker.url;
    const hostile = await mqtt.connectAsync(url, { clientId: HOSTILE, keepalive: 10, reconnectPeriod: 0 });
    await hostile.endAsync();
    const clean = await mqtt.connectAsync(url, { clientId: "uh-clean", keepalive: 6, reconnectPeriod: 0 });
    await clean.endAsync();
    const sub = mosquittoSub(stack.broker.port, "uh-lost", 5);
    await eventually(
      async () => (await (await page.request.get("/api/devices/uh-lost")).json()).status === "online",
      5_000,
      "uh-lost online",
    );
    sub.kill("SIGKILL");
    await exited(sub);
    const silent = await rawConnect(stack.broker.port, "uh-silent", 2);
    await eventually(
      async () => {
        const body: DisconnectListDto = await (
          await page.request.get(`/api/disconnects?from=${since}&device=${encodeURIComponent(GLOB)}`)
        ).json();
        return body.disconnects.length === 4;
      },
      20_000,
      "four disconnects stored",
    );
    silent.destroy();

    await page.goto(`/history?from=${since}&device=${encodeURIComponent(GLOB)}`);
    await expect(page.getByRole("heading", { name: "Disconnect history" })).toBeVisible();
    await expect(page.getByTestId("summary-total")).toHaveAttribute("data-count", "4");
    await expect(page.getByTestId("summary-devices")).toHaveAttribute("data-count", "4");
    const rows = page.getByTestId("disconnect-row");
    await expect(rows).toHaveCount(4);
    await expect(page.getByTestId("device-glob")).toHaveValue(GLOB);

    // Reasons in words, the hostile id as plain text.
    const row = (id: string) =>
      page.locator(`[data-testid="disconnect-row"][data-device-id="${id.replace(/["\\]/g, "\\$&")}"]`);
    await expect(row("uh-silent").getByTestId("disconnect-reason")).toHaveText("keepalive timeout");
    await expect(row("uh-silent")).toContainText("2 s");
    await expect(row("uh-lost").getByTestId("disconnect-reason")).toHaveText("connection lost");
    await expect(row("uh-clean").getByTestId("disconnect-reason")).toHaveText("clean disconnect");
    await expect(row(HOSTILE)).toContainText(HOSTILE);
    await expect(row("uh-silent").getByTestId("offline")).toHaveText("not back");
    const byReason = page.getByTestId("summary-by-reason");
    await expect(byReason.locator('[data-reason="clean"]')).toHaveAttribute("data-count", "2");
    await expect(byReason.locator('[data-reason="keepalive_timeout"]')).toHaveAttribute("data-count", "1");
    await expect(byReason.locator('[data-reason="connection_lost"]')).toHaveAttribute("data-count", "1");

    // Export: the downloaded file is the view, with the formula-like id inert.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-csv").click()]);
    expect(download.suggestedFilename()).toMatch(
      /^keepwatch-disconnects_\d{4}-\d\d-\d\dT[\d.-]+Z_\d{4}-\d\d-\d\dT[\d.-]+Z\.csv$/,
    );
    const text = await readFile((await download.path())!, "utf8");
    expect(text.startsWith("device_id,disconnected_at,")).toBe(true);
    expect(text).toContain(`\r\n"'=HYPERLINK(""http://x"",""y"")",`);
    const records = csvRecords(text);
    const total = Number(await page.getByTestId("summary-total").getAttribute("data-count"));
    expect(records).toHaveLength(total);
    expect(records.map((r) => r.device_id).sort()).toEqual([`'${HOSTILE}`, "uh-clean", "uh-lost", "uh-silent"]);
    const silentRecord = records.find((r) => r.device_id === "uh-silent")!;
    expect(silentRecord).toMatchObject({
      reason: "keepalive_timeout",
      keepalive_s: "2",
      reconnected_at: "",
      offline_s: "",
    });
    expect(Number(silentRecord.session_s)).toBeGreaterThanOrEqual(2);
    expect(Number(silentRecord.session_s)).toBeLessThanOrEqual(10);
    await expect(page.getByTestId("export-done")).toHaveAttribute("data-rows", String(total));

    // Every row of the file agrees with the summary's reasons.
    const fileCounts: Record<string, number> = {};
    for (const r of records) fileCounts[r.reason] = (fileCounts[r.reason] ?? 0) + 1;
    expect(fileCounts).toEqual({ clean: 2, keepalive_timeout: 1, connection_lost: 1 });

    // Filter by a reason from the summary: the URL, the table, the summary and the export follow.
    await byReason.locator('[data-reason="keepalive_timeout"] button').click();
    await expect(page).toHaveURL(/reason=keepalive_timeout/);
    await expect(page.getByTestId("summary-total")).toHaveAttribute("data-count", "1");
    await expect(rows).toHaveCount(1);
    await expect(page.locator('[data-testid="reason-filter"] [data-reason="keepalive_timeout"]')).toHaveAttribute(
      "aria-pressed",
      "true",
    );
    const [second] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-csv").click()]);
    const secondRows = parseCsv(await readFile((await second.path())!, "utf8"));
    expect(secondRows.slice(1).map((r) => [r[0], r[2]])).toEqual([["uh-silent", "keepalive_timeout"]]);

    // The view is in the URL: opening it again shows the same thing.
    await page.reload();
    await expect(page.getByTestId("summary-total")).toHaveAttribute("data-count", "1");
    await expect(page.getByTestId("device-glob")).toHaveValue(GLOB);
  });

  test("pages through many disconnects by cursor", async ({ page, stack }) => {
    // 150 synthetic disconnects, written the way the monitor writes them.
    const client = new pg.Client({ connectionString: stack.database.url });
    await client.connect();
    try {
      await client.query(`
        INSERT INTO devices (id, status, status_since, first_seen_at)
        SELECT 'uhpage-' || lpad(i::text, 3, '0'), 'offline', now(), '2026-01-01T00:00:00Z' FROM generate_series(0, 14) i
        ON CONFLICT DO NOTHING`);
      await client.query(`
        INSERT INTO sessions (device_id, connected_at, disconnected_at, reason, keepalive_seconds, last_activity_at)
        SELECT 'uhpage-' || lpad((g % 15)::text, 3, '0'),
               timestamptz '2026-01-01T00:00:00Z' + g * interval '1 minute',
               timestamptz '2026-01-01T00:00:30Z' + g * interval '1 minute',
               'connection_lost', 30, NULL
        FROM generate_series(0, 149) g
        ON CONFLICT DO NOTHING`);
    } finally {
      await client.end();
    }
    await page.goto(
      `/history?from=2026-01-01T00:00:00.000Z&to=2026-01-02T00:00:00.000Z&device=${encodeURIComponent("uhpage-*")}`,
    );
    await expect(page.getByTestId("summary-total")).toHaveAttribute("data-count", "150");
    const rows = page.getByTestId("disconnect-row");
    await expect(rows).toHaveCount(100);
    await expect(page.getByTestId("page-range")).toHaveText("rows 1–100 of 150");
    const firstPage = await rows.evaluateAll((els) => els.map((e) => e.textContent));
    await expect(page.getByTestId("page-newer")).toBeDisabled();
    await page.getByTestId("page-older").click();
    await expect(page.getByTestId("page-range")).toHaveText("rows 101–150 of 150");
    await expect(rows).toHaveCount(50);
    await expect(page.getByTestId("page-older")).toBeDisabled();
    const secondPage = await rows.evaluateAll((els) => els.map((e) => e.textContent));
    expect(new Set([...firstPage, ...secondPage]).size).toBe(150);
    // Newest first: the last row shown is the oldest disconnect (00:00:30 on the first day).
    await expect(rows.last()).toContainText("2026-01-01 00:00:30");
    await page.getByTestId("page-newer").click();
    await expect(page.getByTestId("page-range")).toHaveText("rows 1–100 of 150");
    await expect(rows.first()).toContainText("2026-01-01 02:29:30");
  });

  test("links the fleet and history pages", async ({ page }) => {
    await page.goto("/");
    // Hydrated: the live stream is up (a click before that is a plain page load, slower on a loaded machine).
    await expect(page.getByTestId("broker-health")).toHaveAttribute("data-connected", "true", { timeout: 10_000 });
    const nav = page.getByTestId("top-nav");
    await expect(nav.getByRole("link", { name: "Fleet" })).toHaveAttribute("aria-current", "page");
    await nav.getByRole("link", { name: "History" }).click();
    await expect(page).toHaveURL(/\/history$/);
    await expect(page.getByTestId("top-nav").getByRole("link", { name: "History" })).toHaveAttribute(
      "aria-current",
      "page",
    );
    await page.getByTestId("top-nav").getByRole("link", { name: "Fleet" }).click();
    await expect(page).toHaveURL(/\/$/);
  });

  test("says what is wrong with a bad filter", async ({ page }) => {
    await page.goto(`/history?device=${encodeURIComponent("dev-[ab")}`);
    await expect(page.getByTestId("summary-error")).toContainText('device: unclosed "[" at position 5');
    await expect(page.getByTestId("table-error")).toContainText('device: unclosed "["');
  });
});
