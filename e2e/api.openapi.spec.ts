/**
 * The API describes itself: the OpenAPI document at /api/openapi.json and its
 * page at /docs/api. That every answer fits it is checked after the suites
 * (scripts/contract-check.ts); here, that both are served and agree.
 */
import { test, expect } from "./fixtures/stack";

test.describe("API description", () => {
  test("/api/openapi.json is an OpenAPI 3.1 document, public like /api/health", async ({ playwright, stack }) => {
    const anonymous = await playwright.request.newContext({ baseURL: stack.app.baseURL });
    const res = await anonymous.get("/api/openapi.json");
    expect(res.status()).toBe(200);
    expect(res.headers()["content-type"]).toMatch(/^application\/json/);
    const doc = await res.json();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.paths["/api/devices/{id}"].get.responses["404"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/Error",
    });
    expect(doc.paths["/api/users"].post["x-keepwatch-access"]).toBe("admin");
    await anonymous.dispose();
  });

  test("/docs/api shows every operation of the document", async ({ request }) => {
    const doc = await (await request.get("/api/openapi.json")).json();
    const page = await request.get("/docs/api");
    expect(page.status()).toBe(200);
    const html = await page.text();
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, { operationId: string }>>))
      for (const op of Object.values(methods)) expect(html, path).toContain(`id="${op.operationId}"`);
  });

  test("/metrics answers in the Prometheus text format", async ({ request }) => {
    const res = await request.get("/metrics");
    expect(res.status()).toBe(200);
    expect(res.headers()["content-type"]).toMatch(/^text\/plain/);
  });
});
