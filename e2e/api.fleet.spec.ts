import mqtt from "mqtt";
import { test, expect } from "./fixtures/stack";
import { eventually } from "../lib/testing/clients";

test.describe("fleet API", () => {
  test("health follows the contract", async ({ request }) => {
    // The broker kind is detected from $SYS/broker/version, which arrives right after subscribing.
    const body = await eventually(
      async () => {
        const res = await request.get("/api/health");
        expect(res.status()).toBe(200);
        const json = await res.json();
        return json.broker.kind !== "unknown" && json;
      },
      5_000,
      "broker kind detected",
    );
    expect(body).toMatchObject({ ok: true, broker: { connected: true, kind: "mosquitto" }, db: { ok: true } });
    expect(body.broker.version).toMatch(/mosquitto version 2\./);
    expect(body.monitor.gapSince).toBeNull();
  });

  test("lists devices with counts, filters by status and id, and details sessions", async ({ request, stack }) => {
    const client = await mqtt.connectAsync(stack.broker.url, {
      clientId: "api-dev-1",
      keepalive: 7,
      reconnectPeriod: 0,
    });
    const listed = await eventually(
      async () => {
        const body = await (await request.get("/api/devices?status=online&q=API-DEV")).json();
        return body.devices.find((d: { id: string }) => d.id === "api-dev-1") && body;
      },
      3_000,
      "device listed",
    );
    expect(listed.devices).toHaveLength(1);
    expect(listed.devices[0]).toMatchObject({
      id: "api-dev-1",
      status: "online",
      keepaliveSeconds: 7,
      disconnectCount: 0,
    });
    expect(listed.devices[0].connectedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(listed.counts.total).toBeGreaterThanOrEqual(1);
    expect(listed.counts.online + listed.counts.late + listed.counts.offline + listed.counts.unknown).toBe(
      listed.counts.total,
    );

    await client.endAsync();
    const detail = await eventually(
      async () => {
        const body = await (await request.get("/api/devices/api-dev-1")).json();
        return body.status === "offline" && body.sessions?.[0]?.disconnectedAt && body;
      },
      5_000,
      "session closed",
    );
    expect(detail.lastDisconnectReason).toBe("clean");
    expect(detail.sessions[0]).toMatchObject({ reason: "clean", keepaliveSeconds: 7 });

    const none = await (await request.get("/api/devices?status=offline&q=api-dev-1")).json();
    expect(none.devices.map((d: { id: string }) => d.id)).toEqual(["api-dev-1"]);
  });

  test("answers bad input in the one error shape", async ({ request }) => {
    for (const [path, status, code] of [
      ["/api/devices?status=sleeping", 400, "BAD_REQUEST"],
      ["/api/devices?stauts=online", 400, "BAD_REQUEST"],
      ["/api/devices?limit=-3", 400, "BAD_REQUEST"],
      [`/api/devices?q=${"x".repeat(2000)}`, 400, "BAD_REQUEST"],
      ["/api/devices/never-seen-device", 404, "DEVICE_NOT_FOUND"],
    ] as const) {
      const res = await request.get(path);
      expect(res.status(), path).toBe(status);
      const body = await res.json();
      expect(body.error.code, path).toBe(code);
      expect(typeof body.error.message).toBe("string");
    }
  });

  test("finds devices whose ids need URL encoding", async ({ request, stack }) => {
    const id = "plant/line 1/<b>é😀?#%";
    const client = await mqtt.connectAsync(stack.broker.url, { clientId: id, keepalive: 9, reconnectPeriod: 0 });
    const body = await eventually(
      async () => {
        const res = await request.get(`/api/devices/${encodeURIComponent(id)}`);
        return res.status() === 200 && (await res.json());
      },
      3_000,
      "device by encoded id",
    );
    expect(body.id).toBe(id);
    expect(body.keepaliveSeconds).toBe(9);
    await client.endAsync();
  });

  test("streams a snapshot and then deltas", async ({ stack, baseURL }) => {
    const controller = new AbortController();
    const res = await fetch(`${baseURL}/api/stream`, { signal: controller.signal });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const readUntil = async (needle: string) => {
      const deadline = Date.now() + 5_000;
      while (!text.includes(needle)) {
        if (Date.now() > deadline) throw new Error(`stream never contained ${needle}`);
        const { value, done } = await reader.read();
        if (done) throw new Error("stream ended");
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil("event: snapshot");
    const client = await mqtt.connectAsync(stack.broker.url, {
      clientId: "api-stream-1",
      keepalive: 11,
      reconnectPeriod: 0,
    });
    await readUntil('"id":"api-stream-1"');
    expect(text).toContain("event: delta");
    controller.abort();
    await client.endAsync();
  });
});

test.describe("restart", () => {
  test("devices and their sessions survive the app being killed and started again", async ({ request, stack }) => {
    const client = await mqtt.connectAsync(stack.broker.url, {
      clientId: "api-restart-1",
      keepalive: 12,
      reconnectPeriod: 0,
    });
    await client.endAsync();
    const before = await eventually(
      async () => {
        const body = await (await request.get("/api/devices/api-restart-1")).json();
        return body.sessions?.[0]?.reason === "clean" && body;
      },
      5_000,
      "session stored",
    );
    await stack.app.stop("SIGKILL");
    await stack.app.start();
    const after = await (await request.get("/api/devices/api-restart-1")).json();
    expect(after.keepaliveSeconds).toBe(12);
    expect(after.disconnectCount).toBe(before.disconnectCount);
    expect(after.lastDisconnectReason).toBe("clean");
    expect(after.sessions).toEqual(before.sessions);
    const list = await (await request.get("/api/devices?q=api-")).json();
    expect(list.devices.length).toBeGreaterThanOrEqual(3);
  });
});
