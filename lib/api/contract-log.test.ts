import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CONTRACT_LOG_ENV, recorded, type ContractRecord } from "./contract-log";

const dirs: string[] = [];
afterEach(() => {
  delete process.env[CONTRACT_LOG_ENV];
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function logTo(): string {
  const dir = mkdtempSync(join(tmpdir(), "kw-contract-"));
  dirs.push(dir);
  process.env[CONTRACT_LOG_ENV] = dir;
  return dir;
}

const lines = (dir: string): ContractRecord[] =>
  readdirSync(dir).flatMap((f) =>
    readFileSync(join(dir, f), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as ContractRecord),
  );

describe("the contract log", () => {
  it("is off without KEEPWATCH_CONTRACT_LOG: the handler is returned as it is", () => {
    const fn = async () => Response.json({});
    expect(recorded(fn)).toBe(fn);
  });

  it("records a JSON answer's method, path, status and body, and leaves the answer readable", async () => {
    const dir = logTo();
    const fn = recorded(async () => Response.json({ ok: true }, { status: 201 }));
    const res = await fn(new Request("http://kw/api/devices/a%2Fb?limit=1", { method: "POST" }));
    expect(await res.json()).toEqual({ ok: true });
    expect(lines(dir)).toEqual([
      { method: "POST", path: "/api/devices/a%2Fb", status: 201, contentType: "application/json", body: { ok: true } },
    ]);
  });

  it("passes an event stream through unchanged and records each event's data", async () => {
    const dir = logTo();
    const text = 'event: snapshot\ndata: {"n":1}\n\nevent: heartbeat\ndata: {"n":2}\n\n';
    const fn = recorded(async () => {
      const bytes = new TextEncoder().encode(text);
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          // Split mid-event: the recorder joins chunks.
          c.enqueue(bytes.slice(0, 20));
          c.enqueue(bytes.slice(20));
          c.close();
        },
      });
      return new Response(body, { headers: { "Content-Type": "text/event-stream; charset=utf-8" } });
    });
    const res = await fn(new Request("http://kw/api/stream"));
    expect(await res.text()).toBe(text);
    const contentType = "text/event-stream; charset=utf-8";
    expect(lines(dir)).toEqual([
      { method: "GET", path: "/api/stream", status: 200, contentType },
      { method: "GET", path: "/api/stream", status: 200, contentType, event: "snapshot", body: { n: 1 } },
      { method: "GET", path: "/api/stream", status: 200, contentType, event: "heartbeat", body: { n: 2 } },
    ]);
  });
});
