/**
 * A webhook receiver on 127.0.0.1 for tests: every POST body it gets, parsed,
 * with its headers and when it arrived; it answers 200.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { NotificationEvent } from "../notify/events";

/** A webhook channel's body: the event, when it was sent; or a digest of several. */
export type WebhookBody = NotificationEvent & { sentAt: string; summary?: string; events?: NotificationEvent[] };

export interface WebhookReceiver {
  url: string;
  hooks: Array<{ at: number; body: WebhookBody; headers: Record<string, string | string[] | undefined> }>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const hooks: WebhookReceiver["hooks"] = [];
  const server = createServer((req, res) => {
    let data = "";
    req.on("data", (c) => (data += c));
    req.on("end", () => {
      hooks.push({ at: Date.now(), body: JSON.parse(data) as WebhookBody, headers: req.headers });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    hooks,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
