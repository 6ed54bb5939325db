/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the operation list
 * (operations.ts) with zod's JSON Schema output: responses in output mode
 * (objects closed: a field the schema does not name is a contract violation),
 * parameters and bodies in input mode. Served at `GET /api/openapi.json`,
 * rendered at `/docs/api`, and used by scripts/contract-check.ts.
 */
import { z } from "../../zod";
import { ERROR_CODES, errorBodySchema, statusOf } from "../errors";
import { NAMED_SCHEMAS, OPERATIONS, type Operation } from "./operations";

export type JsonSchema = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  jsonSchemaDialect: string;
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, JsonSchema>>;
  components: {
    schemas: Record<string, JsonSchema>;
    securitySchemes: Record<string, JsonSchema>;
  };
}

const DIALECT = "https://json-schema.org/draft/2020-12/schema";

const TAGS: { name: string; description: string }[] = [
  { name: "Devices", description: "The fleet: devices, their timelines, inventory labels and insights." },
  { name: "History", description: "Disconnect history, its summary and the CSV export." },
  { name: "Alerts", description: "Alert rules, alerts, acknowledgements and the delivery log." },
  { name: "Incidents", description: "Many devices offline for one cause, notified once." },
  { name: "Silences", description: "Silences and maintenance windows." },
  { name: "Channels", description: "Where notifications go." },
  { name: "Access", description: "Signing in, users, API tokens and the audit log." },
  { name: "System", description: "Health, the live event stream, metrics and this document." },
];

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Bad input: an unknown or malformed parameter or field (`error.fields` names bad fields of a body)",
  401: "No credentials, or wrong ones",
  403: "The role is too weak, or a change failed the CSRF rules",
  404: "No such resource",
  409: "Conflicts with the current state",
  413: "Body over 64 KB",
  415: "A change with the wrong content type",
  429: "Too many at once; `Retry-After` says when to try again",
  500: "Unexpected error (no stack trace)",
  503: "The monitor is starting, or its database is not available",
};

/** Error codes by status, for the error responses' descriptions. */
function codesFor(status: number): string {
  return ERROR_CODES.filter((c) => statusOf(c) === status)
    .map((c) => `\`${c}\``)
    .join(", ");
}

/** Strips what zod puts on a top-level schema that does not belong inside a document. */
function clean(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

function inputSchema(schema: z.ZodType): JsonSchema {
  return clean(z.toJSONSchema(schema, { target: "draft-2020-12", io: "input", unrepresentable: "any" }) as JsonSchema);
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function errorStatuses(op: Operation): number[] {
  const statuses = new Set<number>([400, 500, 503, ...(op.errors ?? [])]);
  if (op.access !== "public") [401, 403].forEach((s) => statuses.add(s));
  if (op.path === "/metrics") statuses.add(401);
  if (op.method !== "get") [403, 413, 415].forEach((s) => statuses.add(s));
  if (op.path === "/api/auth/login") statuses.add(401);
  return [...statuses].sort((a, b) => a - b);
}

function accessText(op: Operation): string {
  if (op.access === "public") return "Access: anyone (no credentials needed).";
  return `Access: the ${op.access} role or above, by session cookie or API token (or the anonymous role, where KEEPWATCH_ANONYMOUS_ROLE grants it).`;
}

function buildOperation(op: Operation, responseNames: Map<Operation, Record<number, string>>): JsonSchema {
  const parameters: JsonSchema[] = [];
  for (const [name, schema] of Object.entries(op.pathParams ?? {})) {
    const { description, ...s } = inputSchema(schema);
    parameters.push({ name, in: "path", required: true, description, schema: s });
  }
  for (const [name, schema] of Object.entries(op.query ?? {})) {
    const { description, ...s } = inputSchema(schema as z.ZodType);
    const required = !(schema as z.ZodType).safeParse(undefined).success;
    parameters.push({ name, in: "query", required, ...(description ? { description } : {}), schema: s });
  }

  let requestBody: JsonSchema | undefined;
  if (op.body && "schema" in op.body)
    requestBody = {
      required: op.body.required ?? true,
      content: { "application/json": { schema: inputSchema(op.body.schema) } },
    };
  else if (op.body)
    requestBody = {
      required: true,
      description: op.body.description,
      content: { [op.body.content]: { schema: { type: "string" } } },
    };

  const responses: Record<string, JsonSchema> = {};
  const names = responseNames.get(op) ?? {};
  for (const [status, spec] of Object.entries(op.responses)) {
    // JSON, another type, or both (a route that answers JSON or, on request, CSV)
    const json = spec.schema ? { "application/json": { schema: ref(names[Number(status)]) } } : {};
    const other = spec.content
      ? {
          [spec.content.type]: {
            schema: { type: "string", description: spec.content.description },
            ...(spec.events
              ? {
                  "x-keepwatch-events": Object.fromEntries(
                    Object.entries(spec.events).map(([event, name]) => [event, ref(name)]),
                  ),
                }
              : {}),
          },
        }
      : {};
    const content = spec.schema || spec.content ? { ...json, ...other } : undefined;
    responses[status] = { description: spec.description, ...(content ? { content } : {}) };
  }
  for (const status of errorStatuses(op)) {
    if (responses[status]) continue;
    responses[status] = {
      description: `${ERROR_DESCRIPTIONS[status]} (${codesFor(status)})`,
      content: { "application/json": { schema: ref("Error") } },
    };
  }

  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    description: [op.description, accessText(op)].filter(Boolean).join("\n\n"),
    "x-keepwatch-access": op.access,
    security: op.access === "public" ? [{}, { session: [] }, { bearer: [] }] : [{ session: [] }, { bearer: [] }],
    ...(parameters.length ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses,
  };
}

let cached: OpenApiDocument | null = null;

/** The document (built once per process: the schemas do not change while it runs). */
export function openApiDocument(): OpenApiDocument {
  if (cached) return cached;
  const registry = z.registry<{ id: string }>();
  const taken = new Map<string, z.ZodType>();
  const add = (name: string, schema: z.ZodType) => {
    const existing = registry.get(schema);
    if (existing) return existing.id;
    if (taken.has(name)) throw new Error(`two different schemas are named ${name}`);
    taken.set(name, schema);
    registry.add(schema, { id: name });
    return name;
  };
  add("Error", errorBodySchema);
  for (const [name, schema] of Object.entries(NAMED_SCHEMAS)) add(name, schema);
  const responseNames = new Map<Operation, Record<number, string>>();
  for (const op of OPERATIONS) {
    const names: Record<number, string> = {};
    for (const [status, spec] of Object.entries(op.responses))
      if (spec.schema) names[Number(status)] = add(spec.name ?? `${op.operationId}${status}`, spec.schema);
    responseNames.set(op, names);
  }
  const { schemas } = z.toJSONSchema(registry, {
    target: "draft-2020-12",
    unrepresentable: "any",
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, JsonSchema> };

  const paths: OpenApiDocument["paths"] = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = buildOperation(op, responseNames);

  cached = {
    openapi: "3.1.0",
    info: {
      title: "keepwatch",
      version: "1",
      description:
        'Live heartbeat monitor for fleets of MQTT devices. All JSON, times ISO-8601 UTC, `null` where unknown. Errors are always `{ "error": { "code", "message" } }` with a 4xx/5xx status; unknown query parameters are refused.',
    },
    jsonSchemaDialect: DIALECT,
    tags: TAGS,
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(schemas).map(([k, v]) => [k, clean(v)])),
      securitySchemes: {
        session: {
          type: "apiKey",
          in: "cookie",
          name: "kw_session",
          description: "The session cookie set by `POST /api/auth/login`.",
        },
        bearer: { type: "http", scheme: "bearer", description: "An API token (kw_…) from `POST /api/tokens`." },
      },
    },
  };
  return cached;
}
