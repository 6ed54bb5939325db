/**
 * The contract log: with KEEPWATCH_CONTRACT_LOG=<dir> (set for every server the
 * test harness starts, lib/testing/app.ts, and for the integration tests that
 * call route handlers in-process, vitest.config.ts), each API answer is
 * appended as one JSON line to `<dir>/<pid>.ndjson`: method, path, status,
 * content type and, for JSON, the body; for an event stream, each event's
 * name and data as well. scripts/contract-check.ts validates
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
  /** The parsed JSON body (of an event, for `event`); undefined for other content types and empty bodies. */
  body?: unknown;
  /** A server-sent event of the response (one record per event, after the response's own). */
  event?: string;
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
    const write = (e: ContractRecord) => {
      mkdirSync(dir, { recursive: true });
      appendFileSync(join(dir, `${process.pid}.ndjson`), JSON.stringify(e) + "\n");
    };
    write(entry);
    if (contentType?.startsWith("text/event-stream") && response.body) {
      // Passed through unchanged (backpressure included); each event's data is recorded too.
      const body = response.body.pipeThrough(eventRecorder((event, data) => write({ ...entry, event, body: data })));
      return new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    }
    return response;
  };
}

/** Events recorded per stream at most: enough for the snapshot and a run of deltas, bounded for long tests. */
const EVENTS_PER_STREAM = 200;

/** A pass-through that hands each server-sent event's name and JSON data to `onEvent`. */
function eventRecorder(onEvent: (event: string, data: unknown) => void): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  let buffer = "";
  let seen = 0;
  return new TransformStream({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      if (seen >= EVENTS_PER_STREAM) return;
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0 && seen < EVENTS_PER_STREAM) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length === 0) continue;
        seen++;
        let parsed: unknown;
        try {
          parsed = JSON.parse(data.join("\n"));
        } catch {
          parsed = { unreadable: data.join("\n").slice(0, 200) };
        }
        onEvent(event, parsed);
      }
      if (seen >= EVENTS_PER_STREAM) buffer = "";
    },
  });
}
