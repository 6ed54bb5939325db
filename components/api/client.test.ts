import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorResponse } from "@/lib/api/errors";
import { ApiError, apiJson, apiQueryOptions, newQueryClient } from "./client";

/** What the server saw of each request, by path. */
const seen: Array<{ method: string; path: string; type: string | undefined; body: string }> = [];
const counts = new Map<string, number>();

async function send(res: ServerResponse, answer: Response) {
  res.writeHead(answer.status, Object.fromEntries(answer.headers));
  res.end(Buffer.from(await answer.arrayBuffer()));
}

async function route(req: IncomingMessage, res: ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const path = req.url ?? "";
  seen.push({
    method: req.method ?? "",
    path,
    type: req.headers["content-type"],
    body: Buffer.concat(chunks).toString(),
  });
  counts.set(path, (counts.get(path) ?? 0) + 1);
  switch (path.split("?")[0]) {
    case "/ok":
      return send(res, Response.json({ hello: "world", n: counts.get(path) }));
    case "/echo":
      return send(res, Response.json({ got: JSON.parse(Buffer.concat(chunks).toString() || "null") }));
    case "/none":
      return send(res, new Response(null, { status: 204 }));
    case "/empty":
      return send(res, new Response("", { status: 200 }));
    case "/fields":
      return send(res, errorResponse("BAD_REQUEST", "match: too long", { match: "too long", "tags.0": "bad tag" }));
    case "/forbidden":
      return send(res, errorResponse("FORBIDDEN", "operator role required"));
    case "/gone":
      return send(res, errorResponse("DEVICE_NOT_FOUND", "no device pump-9"));
    case "/html":
      return send(
        res,
        new Response("<html>Bad Gateway</html>", { status: 502, headers: { "content-type": "text/html" } }),
      );
    case "/other-json":
      return send(res, Response.json({ message: "not the API's shape" }, { status: 500 }));
    case "/not-json":
      return send(res, new Response("hello", { status: 200, headers: { "content-type": "text/plain" } }));
    case "/slow":
      return setTimeout(() => void send(res, Response.json({ late: true })), 2_000);
    default:
      return send(res, errorResponse("NOT_FOUND", "no such route"));
  }
}

let server: Server;
let base = "";
beforeAll(async () => {
  server = createServer((req, res) => void route(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const failure = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail("resolved"),
    (e: unknown) => e,
  );

describe("apiJson", () => {
  it("reads a JSON answer; a GET carries no body and no content type", async () => {
    expect(await apiJson<{ hello: string }>("GET", `${base}/ok?a=1`)).toEqual({ hello: "world", n: 1 });
    expect(seen.at(-1)).toEqual({ method: "GET", path: "/ok?a=1", type: undefined, body: "" });
  });

  it("sends a change as JSON, with the content type the CSRF check asks for even without a body", async () => {
    expect(await apiJson("PUT", `${base}/echo`, { role: "viewer" })).toEqual({ got: { role: "viewer" } });
    expect(seen.at(-1)).toMatchObject({ method: "PUT", type: "application/json", body: '{"role":"viewer"}' });
    await apiJson("post", `${base}/echo`);
    expect(seen.at(-1)).toMatchObject({ method: "POST", type: "application/json", body: "" });
  });

  it("answers undefined for a 204 and for an empty body", async () => {
    expect(await apiJson("DELETE", `${base}/none`)).toBeUndefined();
    expect(await apiJson("GET", `${base}/empty`)).toBeUndefined();
  });

  it("turns the API's error shape into an ApiError with message, status, code and fields", async () => {
    const err = await failure(apiJson("POST", `${base}/fields`, { match: "x".repeat(300) }));
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      message: "match: too long",
      status: 400,
      code: "BAD_REQUEST",
      fields: { match: "too long", "tags.0": "bad tag" },
    });
    expect(await failure(apiJson("GET", `${base}/forbidden`))).toMatchObject({
      message: "operator role required",
      status: 403,
      code: "FORBIDDEN",
      fields: {},
    });
  });

  it("falls back to the status for a body that is not the API's shape", async () => {
    expect(await failure(apiJson("GET", `${base}/html`))).toMatchObject({
      message: "HTTP 502",
      status: 502,
      code: null,
    });
    expect(await failure(apiJson("GET", `${base}/other-json`))).toMatchObject({ message: "HTTP 500", status: 500 });
  });

  it("fails on a 2xx that is not JSON", async () => {
    expect(await failure(apiJson("GET", `${base}/not-json`))).toMatchObject({
      message: "HTTP 200: the answer is not JSON",
      status: 200,
    });
  });

  it("gives up when its signal aborts", async () => {
    const ctl = new AbortController();
    const pending = failure(apiJson("GET", `${base}/slow`, undefined, ctl.signal));
    ctl.abort();
    expect(await pending).toMatchObject({ name: "AbortError" });
  });

  it("lets a network failure through as it is", async () => {
    const err = await failure(apiJson("GET", "http://127.0.0.1:1/nothing"));
    expect(err).not.toBeInstanceOf(ApiError);
    expect(err).toBeInstanceOf(TypeError);
  });
});

describe("ApiError.from", () => {
  it("reads a Response built by the API's own error helper", async () => {
    const err = await ApiError.from(errorResponse("CONFLICT", "name taken", { name: "taken" }));
    expect(err).toMatchObject({ message: "name taken", status: 409, code: "CONFLICT", fields: { name: "taken" } });
  });

  it("keeps only string field messages and survives an empty body", async () => {
    const odd = Response.json({ error: { code: 7, message: "", fields: { a: "x", b: 3 } } }, { status: 422 });
    expect(await ApiError.from(odd)).toMatchObject({ message: "HTTP 422", code: null, fields: { a: "x" } });
    expect(await ApiError.from(new Response(null, { status: 503 }))).toMatchObject({ message: "HTTP 503" });
  });
});

describe("apiQueryOptions", () => {
  it("keys by the url and fetches nothing without one", () => {
    expect(apiQueryOptions("/api/tags")).toMatchObject({
      queryKey: ["/api/tags"],
      enabled: true,
      refetchInterval: false,
    });
    expect(apiQueryOptions(null)).toMatchObject({ enabled: false });
    expect(apiQueryOptions("/api/insights", { pollMs: 30_000 })).toMatchObject({ refetchInterval: 30_000 });
  });

  it("seeds the server's data only for its own url, and does not fetch it again on mount", () => {
    const seeded = apiQueryOptions("/a", { initial: { url: "/a", data: 1 } });
    expect(seeded).toMatchObject({ initialData: 1, refetchOnMount: false });
    const other = apiQueryOptions("/b", { initial: { url: "/a", data: 1 } });
    expect(other).not.toHaveProperty("initialData");
    expect(other).not.toHaveProperty("refetchOnMount");
    // null is data too: a device the server found missing.
    expect(apiQueryOptions<null>("/a", { initial: { url: "/a", data: null } })).toMatchObject({ initialData: null });
  });

  it("keeps the last answer only within its group", () => {
    const opts = apiQueryOptions<number>("/t?from=2", { keepPrevious: "dev|1h" });
    const keep = opts.placeholderData as (prev: number | undefined, q?: { meta?: Record<string, unknown> }) => unknown;
    expect(keep(5, { meta: { group: "dev|1h" } })).toBe(5);
    expect(keep(5, { meta: { group: "dev|24h" } })).toBeUndefined();
    expect(keep(5, undefined)).toBeUndefined();
    expect(apiQueryOptions("/x")).not.toHaveProperty("placeholderData");
  });
});

describe("through a QueryClient", () => {
  it("fails as ApiError, or answers null for a 404 when asked", async () => {
    const client = newQueryClient();
    const err = await failure(client.fetchQuery(apiQueryOptions(`${base}/gone`)));
    expect(err).toMatchObject({ status: 404, message: "no device pump-9" });
    expect(await client.fetchQuery(apiQueryOptions(`${base}/gone`, { nullOn404: true }))).toBeNull();
    // Only a 404 becomes null.
    expect(await failure(client.fetchQuery(apiQueryOptions(`${base}/forbidden`, { nullOn404: true })))).toMatchObject({
      status: 403,
    });
  });

  it("tries once: no retry", async () => {
    const client = newQueryClient();
    const before = counts.get("/html") ?? 0;
    await failure(client.fetchQuery(apiQueryOptions(`${base}/html`)));
    expect(counts.get("/html")).toBe(before + 1);
    expect(client.getDefaultOptions().queries).toMatchObject({
      retry: false,
      staleTime: 0,
      refetchOnWindowFocus: false,
      refetchOnReconnect: false,
      refetchIntervalInBackground: false,
    });
  });
});
