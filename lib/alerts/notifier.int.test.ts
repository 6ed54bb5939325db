/**
 * Webhook delivery against a real HTTP server on localhost: success, retries
 * with backoff after 5xx, a timeout cut off by AbortController, a refused
 * port, the bounded queue, and that enqueue never waits for the network.
 * The receiver is on 127.0.0.1, so the notifier is given the allow list
 * 127.0.0.1 (KEEPWATCH_WEBHOOK_ALLOW); without it the destination is refused
 * and nothing reaches the receiver; a redirect is never followed.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../testing/mosquitto";
import { parseAllowList } from "./egress";
import { backoffDelay, WebhookNotifier, type DeliveryAttempt, type WebhookPayload } from "./notifier";

interface Received {
  path: string;
  body: WebhookPayload & { sentAt: string };
  at: number;
  contentType: string | undefined;
}

let server: Server;
let base: string;
const received: Received[] = [];
/** TCP connections the receiver accepted. */
let connections = 0;
/** Per path: what to answer, attempt by attempt. */
const behaviour = new Map<string, Array<"ok" | "500" | "hang" | "302">>();

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let data = "";
    req.on("data", (c) => (data += c));
    req.on("end", () => {
      const path = req.url ?? "/";
      received.push({ path, body: JSON.parse(data), at: Date.now(), contentType: req.headers["content-type"] });
      const plan = behaviour.get(path) ?? [];
      const next = plan.shift() ?? "ok";
      if (next === "hang") return; // never answers
      if (next === "302") return void res.writeHead(302, { location: `${base}/redirected` }).end();
      res.writeHead(next === "ok" ? 204 : 500).end();
    });
  });
  server.on("connection", () => connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const payload = (id: string): WebhookPayload => ({
  event: "fired",
  alert: {
    id,
    deviceId: "thr-1",
    deviceName: null,
    source: null,
    incidentId: null,
    acknowledgedAt: null,
    acknowledgedBy: null,
    ackComment: null,
    silenced: false,
    silenceId: null,
    ruleId: 2,
    kind: "offline",
    state: "firing",
    firedAt: "2026-11-22T03:00:00.000Z",
    resolvedAt: null,
    message: "silent",
  },
  note: null,
  rule: { id: 2, name: "thr" },
});

function notifier(extra: Partial<ConstructorParameters<typeof WebhookNotifier>[0]> = {}) {
  const attempts: DeliveryAttempt[] = [];
  const n = new WebhookNotifier({
    record: (a) => attempts.push(a),
    allow: parseAllowList("127.0.0.1"),
    baseDelayMs: 100,
    maxDelayMs: 1_000,
    timeoutMs: 500,
    random: () => 1,
    ...extra,
  });
  return { n, attempts };
}

describe("webhook notifier", () => {
  it("POSTs the alert as JSON and logs one successful attempt", async () => {
    const { n, attempts } = notifier();
    n.enqueue({ url: `${base}/ok`, payload: payload("1") });
    // enqueue does not wait for the network: nothing has been sent when it returns.
    expect(received.filter((r) => r.path === "/ok")).toHaveLength(0);
    expect(n.pending).toBe(1);
    await n.idle();
    const got = received.filter((r) => r.path === "/ok");
    expect(got).toHaveLength(1);
    expect(got[0].contentType).toBe("application/json");
    expect(got[0].body).toMatchObject({ event: "fired", alert: { id: "1", deviceId: "thr-1", kind: "offline" } });
    expect(Date.parse(got[0].body.sentAt)).toBeGreaterThan(0);
    expect(attempts).toEqual([
      expect.objectContaining({ alertId: "1", attempt: 1, ok: true, statusCode: 204, error: null, final: true }),
    ]);
  });

  it("retries a failing endpoint with exponential backoff until it answers 2xx", async () => {
    behaviour.set("/flaky", ["500", "500", "ok"]);
    const { n, attempts } = notifier();
    n.enqueue({ url: `${base}/flaky`, payload: payload("2") });
    await n.idle();
    const got = received.filter((r) => r.path === "/flaky");
    expect(got).toHaveLength(3);
    expect(attempts.map((a) => [a.attempt, a.ok, a.statusCode, a.final])).toEqual([
      [1, false, 500, false],
      [2, false, 500, false],
      [3, true, 204, true],
    ]);
    // random() = 1: delays are exactly 100 ms then 200 ms.
    expect(got[1].at - got[0].at).toBeGreaterThanOrEqual(95);
    expect(got[2].at - got[1].at).toBeGreaterThanOrEqual(195);
    expect(got[2].at - got[1].at).toBeLessThan(600);
  });

  it("cuts off a hanging endpoint at the timeout and gives up after maxAttempts", async () => {
    behaviour.set("/hang", ["hang", "hang"]);
    const { n, attempts } = notifier({ timeoutMs: 300, maxAttempts: 2 });
    const t0 = Date.now();
    n.enqueue({ url: `${base}/hang`, payload: payload("3") });
    await n.idle();
    const took = Date.now() - t0;
    expect(attempts.map((a) => [a.attempt, a.ok, a.error, a.final])).toEqual([
      [1, false, "timed out after 300 ms", false],
      [2, false, "timed out after 300 ms", true],
    ]);
    for (const a of attempts) expect(a.durationMs).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(2_000);
  });

  it("logs a refused connection as a failed attempt", async () => {
    const port = await freePort();
    const { n, attempts } = notifier({ maxAttempts: 1 });
    n.enqueue({ url: `http://127.0.0.1:${port}/nobody`, payload: payload("4") });
    await n.idle();
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ ok: false, statusCode: null, final: true });
    expect(attempts[0].error).toMatch(/fetch failed|ECONNREFUSED/);
  });

  it("bounds what waits: past maxQueue the oldest waiting delivery is dropped and logged", async () => {
    behaviour.set("/slow", ["hang", "hang", "hang"]);
    const { n, attempts } = notifier({ concurrency: 1, maxQueue: 2, timeoutMs: 200, maxAttempts: 1 });
    for (const id of ["a", "b", "c", "d"]) n.enqueue({ url: `${base}/slow`, payload: payload(id) });
    await n.idle();
    // Four arrive at once, room for two: the two oldest make way; the newest are delivered.
    expect(n.dropped).toBe(2);
    const dropped = attempts.filter((a) => a.error?.startsWith("dropped"));
    expect(dropped.map((a) => a.alertId)).toEqual(["a", "b"]);
    expect(attempts.filter((a) => !a.error?.startsWith("dropped")).map((a) => a.alertId)).toEqual(["c", "d"]);
  });

  it("refuses the receiver on 127.0.0.1 without the allow list: nothing sent, one failed attempt with the reason", async () => {
    const connectionsBefore = connections;
    const { n, attempts } = notifier({ allow: undefined });
    n.enqueue({ url: `${base}/private`, payload: payload("5") });
    await n.idle();
    expect(received.filter((r) => r.path === "/private")).toEqual([]);
    expect(connections).toBe(connectionsBefore);
    // A refused destination is final at once (maxAttempts is 5 here).
    expect(attempts).toEqual([
      expect.objectContaining({
        alertId: "5",
        attempt: 1,
        ok: false,
        statusCode: null,
        final: true,
        error:
          "refused: webhook URL points at 127.0.0.1, a loopback address; " +
          "list it in KEEPWATCH_WEBHOOK_ALLOW to allow it",
      }),
    ]);
    // The same delivery with KEEPWATCH_WEBHOOK_ALLOW=127.0.0.1 arrives.
    const allowed = notifier({ allow: parseAllowList("127.0.0.1") });
    allowed.n.enqueue({ url: `${base}/private`, payload: payload("5") });
    await allowed.n.idle();
    expect(received.filter((r) => r.path === "/private")).toHaveLength(1);
    expect(allowed.attempts).toEqual([expect.objectContaining({ ok: true, statusCode: 204, error: null })]);
  });

  it("does not follow a redirect: the 3xx is a failed attempt naming where it pointed", async () => {
    behaviour.set("/moved", ["302"]);
    const { n, attempts } = notifier({ maxAttempts: 1 });
    n.enqueue({ url: `${base}/moved`, payload: payload("6") });
    await n.idle();
    expect(received.filter((r) => r.path === "/moved")).toHaveLength(1);
    expect(received.filter((r) => r.path === "/redirected")).toEqual([]);
    expect(attempts).toEqual([
      expect.objectContaining({
        ok: false,
        statusCode: 302,
        error: `redirect to ${base}/redirected not followed`,
        final: true,
      }),
    ]);
  });

  it("computes backoff as 50–100 % of min(max, base × 2^(n−1))", () => {
    expect(backoffDelay(1, 1000, 60_000, () => 0)).toBe(500);
    expect(backoffDelay(3, 1000, 60_000, () => 1)).toBe(4000);
    expect(backoffDelay(20, 1000, 60_000, () => 1)).toBe(60_000);
  });
});
