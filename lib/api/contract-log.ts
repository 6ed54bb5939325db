/**
 * The contract log: with KEEPWATCH_CONTRACT_LOG=<dir> (set for every server the
 * test harness starts, lib/testing/app.ts, and for the integration tests that
 * call route handlers in-process, vitest.config.ts), each API answer is
 * appended as one JSON line to `<dir>/<pid>.ndjson`: method, path, status,
 * content type and, for JSON, the body. scripts/contract-check.ts validates
 * every line against the OpenAPI document. Without the variable, routes are
 * returned unwrapped: nothing is recorded and nothing costs.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

export interface ContractRecord {
  method: string;
  /** The request path as received (percent-encoded), without the query. */
  path: string;
  status: number;
  contentType: string | null;
  /** The parsed JSON body; undefined for other content types and empty bodies. */
  body?: unknown;
}

export const CONTRACT_LOG_ENV = "KEEPWATCH_CONTRACT_LOG";

type Fn<A extends unknown[]> = (request: Request, ...rest: A) => Promise<Response>;

export function recorded<A extends unknown[]>(fn: Fn<A>): Fn<A> {
  const dir = process.env[CONTRACT_LOG_ENV];
  if (!dir) return fn;
  return async (request, ...rest) => {
    const response = await fn(request, ...rest);
    const contentType = response.headers.get("content-type");
    const entry: ContractRecord = {
      method: request.method,
      path: new URL(request.url).pathname,
      status: response.status,
      contentType,
    };
    if (contentType?.startsWith("application/json")) {
      const text = await response.clone().text();
      try {
        entry.body = JSON.parse(text);
      } catch {
        entry.body = { unreadable: text.slice(0, 200) };
      }
    }
    mkdirSync(dir, { recursive: true });
    appendFileSync(join(dir, `${process.pid}.ndjson`), JSON.stringify(entry) + "\n");
    return response;
  };
}
