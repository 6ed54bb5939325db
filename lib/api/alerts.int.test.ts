/**
 * Webhook destinations through the real rule routes (app/api/alert-rules),
 * on a running monitor (embedded broker, PGlite) whose KEEPWATCH_WEBHOOK_ALLOW
 * is 10.0.0.0/8: a URL into the monitor's own network is a 400 BAD_REQUEST in
 * the one error shape with `error.fields.webhookUrl`, and nothing is saved;
 * an address the allow list names is saved.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PUT } from "../../app/api/alert-rules/[id]/route";
import { POST } from "../../app/api/alert-rules/route";
import { startRuntime, type Runtime } from "../runtime";
import { listAlertRules } from "../store/alerts";
import { getChannel } from "../store/notifications";
import { freePort } from "../testing/mosquitto";

const ORIGIN = "http://127.0.0.1:3996";
let dataDir: string;
let runtime: Runtime;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "kw-api-alerts-"));
  runtime = await startRuntime({
    KEEPWATCH_DATA_DIR: dataDir,
    MQTT_PORT: String(await freePort()),
    PORT: "3996",
    KEEPWATCH_ANONYMOUS_ROLE: "operator",
    KEEPWATCH_WEBHOOK_ALLOW: "10.0.0.0/8",
  });
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function send(method: "POST" | "PUT", pathname: string, body: unknown): Request {
  return new Request(`${ORIGIN}${pathname}`, {
    method,
    headers: { "content-type": "application/json", origin: ORIGIN },
    body: JSON.stringify(body),
  });
}

const rules = () => listAlertRules(runtime.db!.prisma);

describe("webhook destinations on the rule routes", () => {
  it("POST: a link-local metadata URL is a 400 naming webhookUrl, and nothing is saved", async () => {
    const before = await rules();
    const res = await POST(
      send("POST", "/api/alert-rules", { name: "meta", match: "m-*", webhookUrl: "http://169.254.169.254/" }),
    );
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body).toEqual({
      error: {
        code: "BAD_REQUEST",
        message: expect.stringContaining("169.254.169.254"),
        fields: {
          webhookUrl:
            "webhookUrl points at 169.254.169.254, a link-local address; " +
            "list it in KEEPWATCH_WEBHOOK_ALLOW to allow it",
        },
      },
    });
    expect(await rules()).toEqual(before);
  });

  it("POST: names the refused destination alongside the rule's other bad fields", async () => {
    const res = await POST(
      send("POST", "/api/alert-rules", { name: "both", match: "p-[", webhookUrl: "http://localhost:9/x" }),
    );
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(Object.keys(error.fields).sort()).toEqual(["match", "webhookUrl"]);
    expect(error.fields.webhookUrl).toMatch(
      /^webhookUrl points at localhost, which resolves to (127\.0\.0\.1|::1), a loopback/,
    );
  });

  it("POST: an address KEEPWATCH_WEBHOOK_ALLOW names is saved", async () => {
    const res = await POST(
      send("POST", "/api/alert-rules", { name: "lan", match: "lan-*", webhookUrl: "http://10.1.2.3:8080/hook" }),
    );
    expect(res.status).toBe(201);
    // The URL becomes a webhook channel the rule points at; the rule itself no longer shows it.
    const rule = (await res.json()).rule;
    expect(rule).toMatchObject({ name: "lan", channelIds: [expect.any(Number)] });
    expect(rule).not.toHaveProperty("webhookUrl");
    const channel = await getChannel(runtime.db!.prisma, rule.channelIds[0]);
    expect(channel).toMatchObject({ type: "webhook", config: { url: "http://10.1.2.3:8080/hook" } });
  });

  it("PUT: an IPv4-mapped loopback URL is a 400 naming webhookUrl, and the rule is unchanged", async () => {
    const rule = (await rules()).find((r) => r.name === "lan")!;
    const res = await PUT(
      send("PUT", `/api/alert-rules/${rule.id}`, {
        name: "lan",
        match: "lan-*",
        webhookUrl: "http://[::ffff:127.0.0.1]/x",
      }),
      { params: Promise.resolve({ id: String(rule.id) }) },
    );
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.fields.webhookUrl).toContain("an IPv4-mapped address of 127.0.0.1, a loopback address");
    expect((await rules()).find((r) => r.id === rule.id)).toEqual(rule);
  });
});
