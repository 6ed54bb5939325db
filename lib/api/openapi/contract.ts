/**
 * The contract check: recorded API answers (lib/api/contract-log.ts) against
 * the OpenAPI document. Each answer must belong to a documented operation,
 * with a documented status and content type, and a JSON body (or, for an
 * event stream, each recorded event's data) valid against its schema (ajv, JSON Schema 2020-12). Pure: the records and the
 * document in, a report out (scripts/contract-check.ts reads and prints).
 */
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import type { ContractRecord } from "../contract-log";
import type { JsonSchema, OpenApiDocument } from "./document";

const BASE = "https://keepwatch.invalid/openapi.json";

/** ISO-8601 date-time with a zone, as `Date.toISOString()` writes it and RFC 3339 allows. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export interface Violation {
  /** `GET /api/devices/{id}`, or the raw method and path when no operation matches. */
  operation: string;
  status: number;
  path: string;
  problem: string;
}

export interface ContractReport {
  responses: number;
  /** Server-sent events checked (their streams are counted in `responses`). */
  events: number;
  /** Answers per documented operation seen (`GET /api/devices`: 12). */
  seen: Map<string, number>;
  /** Documented operations no answer was recorded for. */
  unseen: string[];
  violations: Violation[];
}

interface Template {
  path: string;
  regex: RegExp;
  literals: number;
}

function templates(doc: OpenApiDocument): Template[] {
  return Object.keys(doc.paths)
    .map((path) => {
      const parts = path.split("/");
      const regex = new RegExp(
        "^" +
          parts.map((p) => (/^\{.+\}$/.test(p) ? "[^/]+" : p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))).join("/") +
          "$",
      );
      return { path, regex, literals: parts.filter((p) => !p.startsWith("{")).length };
    })
    .sort((a, b) => b.literals - a.literals);
}

/** The documented path template a request path belongs to (literal segments win), or null. */
export function matchTemplate(doc: OpenApiDocument, path: string): string | null {
  return templates(doc).find((t) => t.regex.test(path))?.path ?? null;
}

export function createContractChecker(doc: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat("date-time", { type: "string", validate: (s: string) => DATE_TIME.test(s) && !isNaN(Date.parse(s)) });
  ajv.addSchema({ $id: BASE, components: doc.components } as JsonSchema);
  const compiled = new Map<string, ValidateFunction>();
  const tpl = templates(doc);

  const validatorFor = (schema: JsonSchema): ValidateFunction => {
    const key = JSON.stringify(schema);
    let v = compiled.get(key);
    if (!v) {
      const rebased = JSON.parse(key.replaceAll('"#/components/', `"${BASE}#/components/`));
      v = ajv.compile(rebased);
      compiled.set(key, v);
    }
    return v;
  };

  const validateBody = (schema: JsonSchema, fail: (problem: string) => void, body: unknown, prefix = "") => {
    const validate = validatorFor(schema);
    if (validate(body)) return;
    const errors = (validate.errors ?? [])
      .slice(0, 5)
      .map((e) => `${e.instancePath || "(body)"} ${e.message}${e.params ? " " + JSON.stringify(e.params) : ""}`);
    fail(prefix + errors.join("; "));
  };

  return function check(records: Iterable<ContractRecord>): ContractReport {
    const seen = new Map<string, number>();
    const violations: Violation[] = [];
    let responses = 0;
    let events = 0;
    for (const r of records) {
      if (r.event !== undefined) events++;
      else responses++;
      const template = tpl.find((t) => t.regex.test(r.path))?.path ?? null;
      const method = r.method.toLowerCase();
      const op = template ? (doc.paths[template][method] as JsonSchema | undefined) : undefined;
      if (!template || !op) {
        violations.push({
          operation: `${r.method} ${r.path}`,
          status: r.status,
          path: r.path,
          problem: "no operation in the document answers this method and path",
        });
        continue;
      }
      const name = `${r.method.toUpperCase()} ${template}`;
      if (r.event === undefined) seen.set(name, (seen.get(name) ?? 0) + 1);
      const fail = (problem: string) => violations.push({ operation: name, status: r.status, path: r.path, problem });

      const responsesOf = op.responses as Record<
        string,
        { content?: Record<string, { schema: JsonSchema; "x-keepwatch-events"?: Record<string, JsonSchema> }> }
      >;
      const response = responsesOf[String(r.status)];
      if (!response) {
        fail(`status ${r.status} is not documented (documented: ${Object.keys(responsesOf).join(", ")})`);
        continue;
      }
      const types = Object.keys(response.content ?? {});
      if (types.length === 0) {
        if (r.contentType) fail(`documented without a body, answered ${r.contentType}`);
        continue;
      }
      const type = types.find((t) => r.contentType?.toLowerCase().startsWith(t));
      if (!type) {
        fail(`content type ${r.contentType ?? "(none)"} is not the documented ${types.join(" or ")}`);
        continue;
      }
      if (r.event !== undefined) {
        const schema = response.content![type]["x-keepwatch-events"]?.[r.event];
        if (!schema) fail(`event "${r.event}" is not documented`);
        else validateBody(schema, fail, r.body, `event ${r.event}: `);
        continue;
      }
      if (type !== "application/json") continue;
      validateBody(response.content![type].schema, fail, r.body);
    }
    const unseen: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths))
      for (const method of Object.keys(methods)) {
        const name = `${method.toUpperCase()} ${path}`;
        if (!seen.has(name)) unseen.push(name);
      }
    return { responses, events, seen, unseen, violations };
  };
}
