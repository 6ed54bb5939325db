/**
 * The egress guard against a real HTTP receiver on 127.0.0.1 and the
 * system's own resolver:
 * - `localhost` really resolves to loopback, so it is refused at save time;
 * - DNS rebinding: a name that answers a public address when the rule is
 *   saved and 127.0.0.1 when the delivery connects is refused at connect
 *   time, and the receiver sees not even a connection;
 * - a literal-IP host (which never goes through lookup) is refused before
 *   the request;
 * - a 302 to another local URL is handed back, not followed.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkWebhookUrl, createEgress, EgressRefusedError, EMPTY_ALLOW_LIST, parseAllowList } from "./egress";
import type { Resolver } from "./egress";
import { Dispatcher } from "../notify/dispatcher";
import { testEvent } from "../notify/events";
import type { ChannelRecord } from "../store/notifications";

let server: Server;
let port: number;
const paths: string[] = [];
let connections = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    paths.push(req.url ?? "/");
    req.resume();
    req.on("end", () => {
      if (req.url === "/moved") res.writeHead(302, { location: `http://127.0.0.1:${port}/inside` }).end();
      else res.writeHead(204).end();
    });
  });
  server.on("connection", () => connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** Answers a public address the first time it is asked, 127.0.0.1 afterwards. */
function rebinding(): Resolver & { asked: number } {
  const resolve = async () => {
    resolve.asked++;
    return [{ address: resolve.asked === 1 ? "93.184.215.14" : "127.0.0.1", family: 4 }];
  };
  resolve.asked = 0;
  return resolve;
}

const post = { method: "POST", headers: { "content-type": "application/json" }, body: "{}" };

describe("the webhook egress guard", () => {
  it("refuses localhost at save time: the system resolver answers a loopback address", async () => {
    const verdict = await checkWebhookUrl("http://localhost:9/x", EMPTY_ALLOW_LIST);
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.reason).toMatch(
      /^points at localhost, which resolves to (127\.0\.0\.1|::1), a loopback address; list it in KEEPWATCH_WEBHOOK_ALLOW/,
    );
    expect(await checkWebhookUrl("http://localhost:9/x", parseAllowList("localhost"))).toEqual({ ok: true });
  });

  it("refuses a rebinding name at connect time; the receiver gets nothing", async () => {
    const resolve = rebinding();
    const url = `http://hooks.rebind.test:${port}/rebind`;
    expect(await checkWebhookUrl(url, EMPTY_ALLOW_LIST, resolve)).toEqual({ ok: true });

    const egress = createEgress({ allow: EMPTY_ALLOW_LIST, lookup: resolve });
    const before = connections;
    const attempt = egress.fetch(url, post);
    await expect(attempt).rejects.toBeInstanceOf(EgressRefusedError);
    await expect(attempt).rejects.toThrow(
      "refused: webhook URL points at hooks.rebind.test, which resolves to 127.0.0.1, a loopback address",
    );
    expect(resolve.asked).toBe(2);
    expect(connections).toBe(before);
    expect(paths).not.toContain("/rebind");

    // Through a webhook channel the refusal is one failed attempt, not worth another try, with the reason.
    const dispatcher = new Dispatcher({ db: () => null, log: () => undefined, fetch: egress.fetch });
    const channel: ChannelRecord = {
      id: 1,
      name: "hook",
      type: "webhook",
      config: { url },
      enabled: true,
      defaultForSystem: false,
      ratePerMinute: null,
      createdAt: 0,
      updatedAt: 0,
    };
    const result = await dispatcher.attempt(channel, { kind: "event", event: testEvent(null) });
    expect(result).toMatchObject({
      ok: false,
      retryable: false,
      error: expect.stringMatching(/^refused: .*127\.0\.0\.1/),
    });
    expect(connections).toBe(before);
    await egress.close();
  });

  it("connects to the address its lookup answered when the allow list names it (the same path, allowed)", async () => {
    const loopback: Resolver = async () => [{ address: "127.0.0.1", family: 4 }];
    const egress = createEgress({ allow: parseAllowList("127.0.0.1"), lookup: loopback });
    const res = await egress.fetch(`http://hooks.rebind.test:${port}/allowed`, post);
    expect(res.status).toBe(204);
    expect(paths).toContain("/allowed");
    await egress.close();
  });

  it("refuses a literal-IP host before the request, without a connection", async () => {
    const egress = createEgress({ allow: EMPTY_ALLOW_LIST });
    const before = connections;
    for (const host of ["127.0.0.1", "[::ffff:127.0.0.1]", "0x7f.0.0.1"])
      await expect(egress.fetch(`http://${host}:${port}/literal`, post)).rejects.toThrow(
        "refused: webhook URL points at",
      );
    await expect(egress.fetch(`ftp://example.com/`, post)).rejects.toThrow("must be an http:// or https:// URL");
    expect(connections).toBe(before);
    expect(paths).not.toContain("/literal");
    await egress.close();
  });

  it("hands a redirect back instead of following it", async () => {
    const egress = createEgress({ allow: parseAllowList("127.0.0.1") });
    const res = await egress.fetch(`http://127.0.0.1:${port}/moved`, { ...post, redirect: "follow" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`http://127.0.0.1:${port}/inside`);
    await new Promise((r) => setTimeout(r, 100));
    expect(paths).toContain("/moved");
    expect(paths).not.toContain("/inside");
    await egress.close();
  });
});
