import { test, expect } from "./fixtures/stack";

/**
 * What a first visit downloads before the page can take input. The fleet
 * page is the one kept open all day and opened first: it loads neither the
 * rules' schemas (zod, only the rule editor and the API docs need them) nor
 * the charts (recharts, the device page's). Sizes as served, uncompressed.
 * The markers survive minification: zod 4 keeps its internals under `._zod`,
 * recharts names its SVG groups `recharts-layer`.
 */
const ZOD = "._zod";
const RECHARTS = "recharts-layer";
const LIGHT_PAGES = ["/", "/history", "/alerts"];
const SCRIPT_BUDGET_KIB = 750;

async function scriptsOf(baseURL: string, path: string): Promise<{ src: string; text: string }[]> {
  const html = await (await fetch(baseURL + path)).text();
  const srcs = [...html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]);
  expect(srcs.length, `${path} has scripts`).toBeGreaterThan(0);
  return Promise.all(srcs.map(async (src) => ({ src, text: await (await fetch(baseURL + src)).text() })));
}

test("the fleet page, history and alerts load no schemas or charts, and stay within the script budget", async ({
  baseURL,
}) => {
  for (const path of LIGHT_PAGES) {
    const scripts = await scriptsOf(baseURL, path);
    for (const { src, text } of scripts) {
      expect(text.includes(ZOD), `${path}: ${src} carries zod`).toBe(false);
      expect(text.includes(RECHARTS), `${path}: ${src} carries recharts`).toBe(false);
    }
    const kib = scripts.reduce((n, s) => n + Buffer.byteLength(s.text), 0) / 1024;
    expect(kib, `${path}: ${Math.round(kib)} KiB of scripts`).toBeLessThanOrEqual(SCRIPT_BUDGET_KIB);
  }
});

test("the pages that need them still load them (the check above can fail)", async ({ baseURL }) => {
  const editor = await scriptsOf(baseURL, "/settings/alerts");
  expect(editor.some((s) => s.text.includes(ZOD))).toBe(true);
  const device = await scriptsOf(baseURL, "/devices/x");
  expect(device.some((s) => s.text.includes(RECHARTS))).toBe(true);
});
