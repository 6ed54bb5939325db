/**
 * The fleet page at scale, in real Chromium: a Postgres seeded with N
 * devices (restore.ts's seed), the real server (`next start`, which needs a
 * production build), then per round a fresh tab that
 * - navigates to the fleet page: ms until the first device row is visible
 *   (the first round is cold: the server builds its sorted index then);
 * - searches for an id: ms until the rows are the matches;
 * - filters by status: ms from the click until the (empty) answer shows;
 * - sorts by drops: ms from the click until the first row is the right one
 *   (the first round builds that sort's index);
 * and the bytes of one tab's stream snapshot, read over HTTP. The three answers
 * are timed in the page, from the input event to the first frame showing the
 * answer (answerMs); first rows from Node, from `goto`.
 */
import { spawnSync } from "node:child_process";
import { chromium, type Browser, type Page } from "@playwright/test";
import { createTestDatabase } from "../../lib/store/testing";
import { startApp } from "../../lib/testing/app";
import { startMosquitto } from "../../lib/testing/mosquitto";
import { median, PROJECT_ROOT, sleep, using } from "./common";
import { seed } from "./restore";

export interface PageOptions {
  rounds: number;
  sizes: number[];
  log(msg: string): void;
}

export const DEFAULT_PAGE = { sizes: [100_000, 1_000_000] };

export interface PageMeasurement {
  devices: number;
  round: number;
  firstRowsMs: number;
  searchMs: number;
  statusMs: number;
  sortMs: number;
}

export interface PageSummary {
  options: Omit<PageOptions, "log">;
  runs: PageMeasurement[];
  /** Per fleet size: the cold first navigation, then medians of the warm rounds. */
  stages: {
    devices: number;
    coldFirstRowsMs: number;
    firstRowsMs: number;
    searchMs: number;
    statusMs: number;
    coldSortMs: number;
    sortMs: number;
    snapshotBytes: number;
  }[];
}

const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"];

/** Bytes of the stream up to the end of its first snapshot event. */
async function snapshotBytes(baseURL: string): Promise<number> {
  const ac = new AbortController();
  const res = await fetch(`${baseURL}/api/stream`, { signal: ac.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error("stream ended before its snapshot");
      bytes += value.byteLength;
      text += decoder.decode(value, { stream: true });
      const at = text.indexOf("event: snapshot\n");
      if (at >= 0 && text.indexOf("\n\n", at) >= 0) return bytes;
    }
  } finally {
    ac.abort();
  }
}

async function countsOf(baseURL: string): Promise<string> {
  const { counts } = (await (await fetch(`${baseURL}/api/devices?limit=1`)).json()) as {
    counts: Record<string, number>;
  };
  return `online ${counts.online}, late ${counts.late}, offline ${counts.offline}, unknown ${counts.unknown}`;
}

async function waitForFleet(baseURL: string, devices: number): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const res = await fetch(`${baseURL}/api/devices?limit=1`);
    if (res.ok && ((await res.json()) as { counts: { total: number } }).counts.total >= devices) return;
    if (Date.now() > deadline) throw new Error(`the fleet never reached ${devices} devices`);
    await sleep(500);
  }
}

/**
 * Ms from the operator's input (the next `type` event, as the page saw it) to the first frame in which
 * `answered(arg)` holds, timed in the page on its own clock: Playwright's round trips (the action, the
 * polling) are not part of what an operator waits for.
 */
async function answerMs(
  page: Page,
  type: "input" | "click",
  act: () => Promise<unknown>,
  /** Whether the answer shows, as `performance.now()` when it does (it runs in the page). */
  answered: (arg: string | null) => number | false,
  arg: string | null,
): Promise<number> {
  await page.evaluate((t) => {
    const w = window as unknown as { __kwInputAt?: number };
    delete w.__kwInputAt;
    document.addEventListener(t, (e) => (w.__kwInputAt = e.timeStamp), { capture: true, once: true });
  }, type);
  await act();
  const shown = await page.waitForFunction(answered, arg, { timeout: 60_000, polling: "raf" });
  const shownAt = (await shown.jsonValue()) as number;
  const inputAt = await page.evaluate(() => (window as unknown as { __kwInputAt?: number }).__kwInputAt);
  if (inputAt === undefined) throw new Error(`no ${type} event reached the page`);
  return shownAt - inputAt;
}

async function round(browser: Browser, baseURL: string, devices: number, n: number): Promise<PageMeasurement> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  try {
    const rows = page.getByTestId("device-row");
    const t = performance.now();
    // Not waiting for the load event: the rows are in the server's HTML, visible before the scripts run.
    await page.goto(baseURL, { waitUntil: "commit" });
    await rows.first().waitFor({ state: "visible", timeout: 60_000 });
    const firstRowsMs = performance.now() - t;
    // The controls answer once the page is hydrated and its stream is open.
    await page.waitForFunction(
      () => document.querySelector('[data-testid="stream-state"]')?.getAttribute("data-state") === "live",
      undefined,
      {
        timeout: 60_000,
      },
    );

    // Seeded ids are dev-0000001…: this one matches exactly ten devices (…01230–…01239).
    const needle = "dev-000123";
    const searchMs = await answerMs(
      page,
      "input",
      () => page.getByTestId("device-search").fill(needle),
      (n) => {
        const ids = [...document.querySelectorAll('[data-testid="device-row"]')].map((e) =>
          e.getAttribute("data-device-id"),
        );
        return ids.length === 10 && ids.every((id) => id?.includes(n ?? "")) && performance.now();
      },
      needle,
    );
    await page.getByTestId("device-search").fill("");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="device-row"]').length > 10, undefined, {
      timeout: 60_000,
    });

    // Restored devices are all unknown until seen: "offline" walks the whole fleet and finds none.
    const statusMs = await answerMs(
      page,
      "click",
      () => page.getByTestId("status-filter").getByRole("button", { name: "offline", exact: true }).click(),
      () => document.querySelector('[data-testid="table-empty"]') !== null && performance.now(),
      null,
    );
    await page.getByTestId("status-filter").getByRole("button", { name: "all", exact: true }).click();
    await rows.first().waitFor({ state: "visible", timeout: 60_000 });

    // Most drops first (i % 5 = 4): a sort of its own, built on first use.
    const sortMs = await answerMs(
      page,
      "click",
      () => page.getByRole("button", { name: "Drops", exact: true }).click(),
      () =>
        document.querySelector('[data-testid="device-row"]')?.getAttribute("data-device-id") === "dev-0000004" &&
        performance.now(),
      null,
    );
    return { devices, round: n, firstRowsMs, searchMs, statusMs, sortMs };
  } finally {
    await page.close();
  }
}

export async function runPage(o: PageOptions): Promise<PageSummary> {
  const build = spawnSync("node", ["scripts/build-if-stale.mjs"], { cwd: PROJECT_ROOT, stdio: "inherit" });
  if (build.status !== 0) throw new Error("the production build failed");
  const runs: PageMeasurement[] = [];
  const bytes = new Map<number, number>();
  for (const devices of o.sizes) {
    await using(async (res) => {
      const db = await createTestDatabase();
      res.defer("database", () => db.drop());
      const broker = await startMosquitto();
      res.defer("broker", () => broker.stop());
      await seed(db.url, devices);
      const app = await startApp({
        MQTT_URL: broker.url,
        DATABASE_URL: db.url,
        KEEPWATCH_ANONYMOUS_ROLE: "viewer",
        MAX_DEVICES: String(Math.max(devices, 1_000_000)),
        // Measured as in production: no contract log (lib/api/contract-log.ts).
        KEEPWATCH_CONTRACT_LOG: "",
      });
      res.defer("app", () => app.stop("SIGKILL"));
      await waitForFleet(app.baseURL, devices);
      // Devices restored online are unknown until seen; let their first write-back pass.
      await sleep(devices >= 1_000_000 ? 30_000 : 5_000);
      const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
      res.defer("browser", () => browser.close());
      for (let n = 0; n <= o.rounds; n++) {
        const r = await round(browser, app.baseURL, devices, n);
        runs.push(r);
        o.log(
          `page ${devices.toLocaleString("en")} ${n === 0 ? "cold" : `round ${n}`} (${await countsOf(app.baseURL)}): first rows ${Math.round(r.firstRowsMs)} ms, search ${Math.round(r.searchMs)} ms, status filter ${Math.round(r.statusMs)} ms, sort ${Math.round(r.sortMs)} ms`,
        );
      }
      bytes.set(devices, await snapshotBytes(app.baseURL));
      o.log(
        `page ${devices.toLocaleString("en")}: one tab's snapshot is ${bytes.get(devices)!.toLocaleString("en")} bytes`,
      );
    });
  }
  const stages = o.sizes.map((devices) => {
    const cold = runs.find((r) => r.devices === devices && r.round === 0)!;
    const warm = runs.filter((r) => r.devices === devices && r.round > 0);
    return {
      devices,
      coldFirstRowsMs: cold.firstRowsMs,
      firstRowsMs: median(warm.map((r) => r.firstRowsMs)),
      searchMs: median(warm.map((r) => r.searchMs)),
      statusMs: median(warm.map((r) => r.statusMs)),
      coldSortMs: cold.sortMs,
      sortMs: median(warm.map((r) => r.sortMs)),
      snapshotBytes: bytes.get(devices)!,
    };
  });
  return { options: { rounds: o.rounds, sizes: o.sizes }, runs, stages };
}
