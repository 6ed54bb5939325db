import { test, expect } from "./fixtures/stack";

const PAGES = ["/", "/history", "/alerts", "/settings/alerts", "/fleet/insights", "/devices/x"];
const API = ["/api/health", "/api/devices", "/api/disconnects.csv"];

/** Headers only: the body of `/api/stream` never ends, so the request is aborted once they are in. */
async function head(url: string, init: RequestInit = {}): Promise<Response> {
  const abort = new AbortController();
  const res = await fetch(url, { ...init, redirect: "manual", signal: abort.signal });
  abort.abort();
  return res;
}

function nonceOf(csp: string): string {
  const script = csp.split(";").find((d) => d.trim().startsWith("script-src")) ?? "";
  const nonce = /'nonce-([A-Za-z0-9+/_-]+={0,2})'/.exec(script)?.[1];
  expect(nonce, `script-src has a nonce: ${csp}`).toBeTruthy();
  return nonce!;
}

function expectSecurityHeaders(path: string, res: Response, { https = false } = {}) {
  // A redirect here would be the sign-in layer, not these headers: say so plainly.
  expect(res.status, `${path} answers without a redirect (${res.headers.get("location")})`).toBeLessThan(300);
  const csp = res.headers.get("content-security-policy") ?? "";
  for (const directive of [
    "default-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "style-src 'self' 'unsafe-inline'",
  ]) {
    expect(
      csp.split(";").map((d) => d.trim()),
      `${path}: ${directive}`,
    ).toContain(directive);
  }
  const nonce = nonceOf(csp);
  expect(csp, path).toContain(`script-src 'self' 'nonce-${nonce}' 'strict-dynamic'`);
  expect(csp, path).not.toContain("unsafe-eval");
  expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
  expect(res.headers.get("referrer-policy"), path).toBe("same-origin");
  expect(res.headers.get("x-frame-options"), path).toBe("DENY");
  expect(res.headers.get("strict-transport-security"), path).toBe(https ? "max-age=31536000" : null);
  return nonce;
}

test.describe("security headers", () => {
  test("every page, API route, the event stream and the CSV export carry them", async ({ baseURL }) => {
    for (const path of [...PAGES, ...API, "/api/stream"]) {
      expectSecurityHeaders(path, await head(baseURL + path));
    }
    const stream = await head(`${baseURL}/api/stream`);
    expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const csv = await head(`${baseURL}/api/disconnects.csv`);
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
  });

  test("each page's scripts carry that response's own nonce", async ({ baseURL }) => {
    for (const path of PAGES) {
      const first = await fetch(baseURL + path, { redirect: "manual" });
      const nonce = expectSecurityHeaders(path, first);
      const html = await first.text();
      const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
      expect(scripts.length, `${path} has scripts`).toBeGreaterThan(0);
      for (const tag of scripts) expect(tag, `${path}: ${tag}`).toContain(`nonce="${nonce}"`);

      const second = await head(baseURL + path);
      expect(nonceOf(second.headers.get("content-security-policy") ?? ""), `${path}: fresh nonce`).not.toBe(nonce);
    }
  });

  test("static assets carry them too", async ({ baseURL }) => {
    const html = await (await fetch(`${baseURL}/devices/x`)).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/_next\/static\/[^"]+)"/g)].map((m) => m[1]);
    const script = assets.find((a) => a.endsWith(".js"));
    const style = assets.find((a) => a.endsWith(".css"));
    expect(script && style, `assets in ${assets.join(", ")}`).toBeTruthy();
    for (const asset of [script!, style!]) {
      const res = await head(baseURL + asset);
      expect(res.status, asset).toBe(200);
      expectSecurityHeaders(asset, res);
    }
  });

  test("Strict-Transport-Security only when the request came over https", async ({ baseURL }) => {
    for (const path of ["/", "/api/health", "/api/stream"]) {
      expectSecurityHeaders(path, await head(baseURL + path, { headers: { "x-forwarded-proto": "https" } }), {
        https: true,
      });
      expectSecurityHeaders(path, await head(baseURL + path, { headers: { "x-forwarded-proto": "http" } }));
    }
  });

  for (const [path, shown] of [
    ["/", "the fleet, live over the event stream"],
    ["/history", "the disconnect table, fetched"],
  ] as const) {
    test(`${path} runs under the policy: no violation, no console error, ${shown}`, async ({ page }) => {
      const errors: string[] = [];
      page.on("console", (m) => {
        // The app has no icon and Chromium asks for /favicon.ico by itself: a 404 that is not the policy's doing.
        if (m.type() === "error" && !m.location().url.endsWith("/favicon.ico"))
          errors.push(`${m.text()} (${m.location().url})`);
      });
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.addInitScript(() => {
        const seen: string[] = [];
        (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
        document.addEventListener("securitypolicyviolation", (e) =>
          seen.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`),
        );
      });

      const res = await page.goto(path);
      expect(res?.status()).toBe(200);
      expect(new URL(page.url()).pathname, "no redirect").toBe(path);
      if (path === "/") {
        await expect(page.getByTestId("broker-health")).toBeVisible();
        // Only hydrated scripts open the stream that sets this.
        await expect(page.getByTestId("broker-health")).toHaveAttribute("data-connected", "true");
      } else {
        await expect(page.getByTestId("disconnect-table")).toHaveAttribute("data-loading", "false");
      }

      const violations = await page.evaluate(
        () => (window as unknown as { __cspViolations: string[] }).__cspViolations,
      );
      expect({ violations, errors }).toEqual({ violations: [], errors: [] });
    });
  }
});
