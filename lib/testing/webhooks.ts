/**
 * HTTP receivers on 127.0.0.1 for tests, standing in for webhooks, chat
 * services and ntfy: every request with its path, headers, raw body and when
 * it arrived. `answer` decides the reply per request (default 200 "ok");
 * `null` holds the request unanswered (a sender that dies waiting).
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import type { NotificationEvent } from "../notify/events";

export interface ReceivedRequest {
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
}

export type Answer = (r: ReceivedRequest) => { status: number; body?: string } | null;

export interface HttpReceiver {
  /** http://127.0.0.1:<port> */
  base: string;
  requests: ReceivedRequest[];
  /** The requests to paths starting with `prefix`. */
  at(prefix: string): ReceivedRequest[];
  close(): Promise<void>;
}

export async function startHttpReceiver(answer: Answer = () => ({ status: 200 })): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      const r: ReceivedRequest = { at: Date.now(), path: req.url ?? "/", headers: req.headers, raw };
      requests.push(r);
      const reply = answer(r);
      if (reply) res.writeHead(reply.status, { "content-type": "application/json" }).end(reply.body ?? "ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    at: (prefix) => requests.filter((r) => r.path.startsWith(prefix)),
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A webhook channel's body: the event, when it was sent; or a digest of several. */
export type WebhookBody = NotificationEvent & { sentAt: string; summary?: string; events?: NotificationEvent[] };

export interface WebhookReceiver {
  url: string;
  hooks: Array<{ at: number; body: WebhookBody; headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

/** A webhook receiver answering 200, with every body parsed as it arrives. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const hooks: WebhookReceiver["hooks"] = [];
  const receiver = await startHttpReceiver((r) => {
    hooks.push({ at: r.at, body: JSON.parse(r.raw) as WebhookBody, headers: r.headers });
    return { status: 200 };
  });
  return { url: `${receiver.base}/hook`, hooks, close: receiver.close };
}
