/**
 * The API reference page (`/docs/api`), rendered on the server from the
 * OpenAPI document (lib/api/openapi/document.ts): operations grouped by tag,
 * each with its method, path, role, parameters, body and responses, and the
 * named schemas at the end. Nothing is fetched in the browser.
 */
import Link from "next/link";
import type { ReactNode } from "react";
import type { JsonSchema, OpenApiDocument } from "@/lib/api/openapi/document";

const METHOD_COLOURS: Record<string, string> = {
  get: "bg-sky-950 text-sky-300 ring-sky-800",
  post: "bg-emerald-950 text-emerald-300 ring-emerald-800",
  put: "bg-amber-950 text-amber-300 ring-amber-800",
  patch: "bg-amber-950 text-amber-300 ring-amber-800",
  delete: "bg-rose-950 text-rose-300 ring-rose-800",
};

const anchor = (name: string) => `schema-${name}`;

/** A schema as a short type: `string | null`, `Device[]`, `"a" | "b"`, or `object` (its fields are listed). */
function typeOf(s: JsonSchema): ReactNode {
  if (typeof s.$ref === "string") {
    const name = s.$ref.split("/").pop()!;
    return (
      <a href={`#${anchor(name)}`} className="text-sky-400 underline decoration-sky-400/50 underline-offset-2">
        {name}
      </a>
    );
  }
  const union = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (union) return join(union.map(typeOf), " | ");
  if (Array.isArray(s.enum)) return (s.enum as unknown[]).map((v) => JSON.stringify(v)).join(" | ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  const types = Array.isArray(s.type) ? (s.type as string[]) : s.type ? [s.type as string] : [];
  const parts = types.map((t): ReactNode => {
    if (t === "array") return <>{typeOf((s.items as JsonSchema) ?? {})}[]</>;
    if (t === "object" && !s.properties && s.additionalProperties && typeof s.additionalProperties === "object")
      return (
        <>
          {"{ [key]: "}
          {typeOf(s.additionalProperties as JsonSchema)}
          {" }"}
        </>
      );
    if (t === "string" && s.format) return `string (${s.format as string})`;
    return t;
  });
  return parts.length ? join(parts, " | ") : "any";
}

function join(nodes: ReactNode[], sep: string): ReactNode {
  return nodes.map((n, i) => (
    <span key={i}>
      {i > 0 && sep}
      {n}
    </span>
  ));
}

/** Limits worth knowing: bounds, lengths, patterns. */
function limits(s: JsonSchema): string {
  const out: string[] = [];
  if (s.minimum !== undefined) out.push(`≥ ${String(s.minimum)}`);
  if (s.maximum !== undefined && Number(s.maximum) < Number.MAX_SAFE_INTEGER) out.push(`≤ ${String(s.maximum)}`);
  if (s.minLength !== undefined) out.push(`at least ${String(s.minLength)} characters`);
  if (s.maxLength !== undefined) out.push(`at most ${String(s.maxLength)} characters`);
  if (s.pattern !== undefined) out.push(`matches ${String(s.pattern)}`);
  return out.join(", ");
}

/** The object the schema describes (through a nullable union), or null. */
function objectOf(s: JsonSchema): JsonSchema | null {
  if (s.properties) return s;
  const union = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  const objects = union?.filter((u) => u.properties) ?? [];
  return objects.length === 1 ? objects[0] : null;
}

function Fields({ schema, depth = 0 }: { schema: JsonSchema; depth?: number }) {
  const object = objectOf(schema);
  const itemObject = !object && schema.type === "array" && schema.items ? objectOf(schema.items as JsonSchema) : null;
  const target = object ?? itemObject;
  if (!target || depth > 3) return null;
  const required = new Set((target.required as string[] | undefined) ?? []);
  return (
    <ul className="mt-1 space-y-1 border-l border-zinc-800 pl-3">
      {Object.entries(target.properties as Record<string, JsonSchema>).map(([name, prop]) => {
        const extra = limits(prop);
        return (
          <li key={name} className="text-sm">
            <code className="text-zinc-100">{name}</code>
            {!required.has(name) && <span className="text-zinc-500"> (optional)</span>}
            <span className="text-zinc-500">: </span>
            <code className="text-zinc-300">{typeOf(prop)}</code>
            {extra && <span className="text-zinc-500"> — {extra}</span>}
            {typeof prop.description === "string" && <p className="text-zinc-400">{prop.description}</p>}
            <Fields schema={prop} depth={depth + 1} />
          </li>
        );
      })}
    </ul>
  );
}

function Operation({ method, path, op }: { method: string; path: string; op: JsonSchema }) {
  const parameters = (op.parameters as JsonSchema[] | undefined) ?? [];
  const body = op.requestBody as { content: Record<string, { schema: JsonSchema }>; required?: boolean } | undefined;
  const responses = op.responses as Record<
    string,
    { description: string; content?: Record<string, { schema: JsonSchema }> }
  >;
  const access = op["x-keepwatch-access"] as string;
  return (
    <section id={op.operationId as string} className="rounded border border-zinc-800 bg-zinc-900 p-3">
      <h3 className="flex flex-wrap items-baseline gap-2 font-mono text-sm">
        <span className={`rounded px-1.5 py-0.5 text-xs font-semibold uppercase ring-1 ${METHOD_COLOURS[method]}`}>
          {method}
        </span>
        <span className="break-all text-zinc-100">{path}</span>
      </h3>
      <p className="mt-1 text-sm text-zinc-200">{op.summary as string}</p>
      <p className="mt-1 text-xs text-zinc-400">
        Role: <strong className="text-zinc-200">{access === "public" ? "none (public)" : `${access} or above`}</strong>
      </p>
      {typeof op.description === "string" &&
        op.description
          .split("\n\n")
          .filter((p) => !p.startsWith("Access:"))
          .map((p) => (
            <p key={p} className="mt-1 text-sm text-zinc-400">
              {p}
            </p>
          ))}
      {parameters.length > 0 && (
        <>
          <h4 className="mt-3 text-xs font-semibold uppercase tracking-wide text-zinc-400">Parameters</h4>
          <ul className="mt-1 space-y-1">
            {parameters.map((p) => {
              const schema = p.schema as JsonSchema;
              const extra = limits(schema);
              return (
                <li key={`${p.in as string}-${p.name as string}`} className="text-sm">
                  <code className="text-zinc-100">{p.name as string}</code>
                  <span className="text-zinc-500">
                    {" "}
                    ({p.in as string}
                    {p.required ? ", required" : ""}):{" "}
                  </span>
                  <code className="break-words text-zinc-300">{typeOf(schema)}</code>
                  {extra && <span className="text-zinc-500"> — {extra}</span>}
                  {typeof p.description === "string" && <span className="text-zinc-400"> — {p.description}</span>}
                </li>
              );
            })}
          </ul>
        </>
      )}
      {body && (
        <>
          <h4 className="mt-3 text-xs font-semibold uppercase tracking-wide text-zinc-400">
            Body{body.required === false ? " (optional)" : ""}
          </h4>
          {Object.entries(body.content).map(([type, { schema }]) => (
            <div key={type}>
              <p className="text-sm text-zinc-400">
                <code>{type}</code>
              </p>
              <Fields schema={schema} />
            </div>
          ))}
        </>
      )}
      <h4 className="mt-3 text-xs font-semibold uppercase tracking-wide text-zinc-400">Responses</h4>
      <ul className="mt-1 space-y-1">
        {Object.entries(responses).map(([status, r]) => (
          <li key={status} className="text-sm">
            <code className="text-zinc-100">{status}</code> <span className="text-zinc-400">{r.description}</span>
            {Object.entries(r.content ?? {}).map(([type, { schema }]) => (
              <span key={type} className="text-zinc-400">
                {" "}
                — <code>{type}</code>: <code className="text-zinc-300">{typeOf(schema)}</code>
              </span>
            ))}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ApiReference({ doc }: { doc: OpenApiDocument }) {
  const byTag = new Map<string, { method: string; path: string; op: JsonSchema }[]>();
  for (const [path, methods] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(methods)) {
      const tag = (op.tags as string[])[0];
      byTag.set(tag, [...(byTag.get(tag) ?? []), { method, path, op }]);
    }
  return (
    <main className="mx-auto max-w-4xl space-y-8 p-4 text-zinc-200">
      <header className="space-y-2">
        <p className="text-sm">
          <Link href="/" className="text-sky-400 underline decoration-sky-400/50 underline-offset-2">
            keepwatch
          </Link>
        </p>
        <h1 className="text-xl font-semibold">API reference</h1>
        <p className="text-sm text-zinc-400">{doc.info.description}</p>
        <p className="text-sm text-zinc-400">
          The same as{" "}
          <a href="/api/openapi.json" className="text-sky-400 underline decoration-sky-400/50 underline-offset-2">
            /api/openapi.json
          </a>{" "}
          (OpenAPI {doc.openapi}). Sign in with a session cookie (<code>POST /api/auth/login</code>) or send{" "}
          <code>Authorization: Bearer kw_…</code>.
        </p>
        <nav aria-label="Sections">
          <ul className="flex flex-wrap gap-x-4 gap-y-1 text-sm">
            {doc.tags.map((t) => (
              <li key={t.name}>
                <a href={`#tag-${t.name}`} className="text-sky-400 underline decoration-sky-400/50 underline-offset-2">
                  {t.name}
                </a>
              </li>
            ))}
            <li>
              <a href="#schemas" className="text-sky-400 underline decoration-sky-400/50 underline-offset-2">
                Schemas
              </a>
            </li>
          </ul>
        </nav>
      </header>
      {doc.tags.map((t) => (
        <section key={t.name} id={`tag-${t.name}`} className="space-y-3" aria-labelledby={`tag-${t.name}-title`}>
          <h2 id={`tag-${t.name}-title`} className="text-lg font-semibold">
            {t.name}
          </h2>
          <p className="text-sm text-zinc-400">{t.description}</p>
          {(byTag.get(t.name) ?? []).map(({ method, path, op }) => (
            <Operation key={`${method} ${path}`} method={method} path={path} op={op} />
          ))}
        </section>
      ))}
      <section id="schemas" className="space-y-3" aria-labelledby="schemas-title">
        <h2 id="schemas-title" className="text-lg font-semibold">
          Schemas
        </h2>
        {Object.entries(doc.components.schemas).map(([name, schema]) => (
          <div key={name} id={anchor(name)} className="rounded border border-zinc-800 bg-zinc-900 p-3">
            <h3 className="font-mono text-sm text-zinc-100">{name}</h3>
            {typeof schema.description === "string" && <p className="text-sm text-zinc-400">{schema.description}</p>}
            {objectOf(schema) ? (
              <Fields schema={schema} />
            ) : (
              <p className="text-sm">
                <code className="break-words text-zinc-300">{typeOf(schema)}</code>
              </p>
            )}
          </div>
        ))}
      </section>
    </main>
  );
}
