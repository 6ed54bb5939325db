import { test, expect } from "./fixtures/embedded";
import mqtt from "mqtt";
import { eventually, exited, mosquittoSub, rawConnect } from "../lib/testing/clients";
import { planFleet } from "../lib/sim/fleet";
import { Simulation } from "../lib/sim/runner";

// One app for the whole file, in order: the restart test reads what the earlier ones wrote.
test.describe.configure({ mode: "serial" });

test.describe("embedded defaults (no DATABASE_URL, no MQTT_URL)", () => {
  test("health names the embedded broker and database, and pings are visible", async ({ request, embedded }) => {
    const res = await request.get("/api/health");
    expect(res.status()).toBe(200);
    expect(await res.json()).toMatchObject({
      ok: true,
      broker: { connected: true, kind: "aedes", url: `mqtt://localhost:${embedded.mqttPort}` },
      db: { ok: true, kind: "pglite" },
      monitor: { pingsVisible: true, gapSince: null },
    });
    expect(embedded.app.output()).toContain(`database: embedded PGlite in ${embedded.dataDir}/pglite`);
    expect(embedded.app.output()).toContain(`broker: embedded (Aedes 1.2.0) on port ${embedded.mqttPort}`);
    expect(embedded.app.output()).toContain(`open http://localhost:${embedded.app.port}`);
  });

  test("mosquitto_sub -k 5 shows up online with keepalive 5; SIGKILL makes it offline with connection_lost", async ({
    request,
    embedded,
  }) => {
    const proc = mosquittoSub(embedded.mqttPort, "probe-1", 5, "x");
    const online = await eventually(
      async () => {
        const res = await request.get("/api/devices/probe-1");
        const body = res.status() === 200 ? await res.json() : null;
        return body?.status === "online" && body;
      },
      3_000,
      "probe-1 online",
    );
    expect(online).toMatchObject({ keepaliveSeconds: 5, sources: ["aedes"] });
    proc.kill("SIGKILL");
    await exited(proc);
    const offline = await eventually(
      async () => {
        const body = await (await request.get("/api/devices/probe-1")).json();
        // The session row is written by the next batched flush (every 250 ms).
        return body.status === "offline" && Boolean(body.sessions[0]?.reason) && body;
      },
      3_000,
      "probe-1 offline, its session closed",
    );
    expect(offline).toMatchObject({ lastDisconnectReason: "connection_lost", disconnectCount: 1 });
    expect(offline.sessions[0]).toMatchObject({ reason: "connection_lost", keepaliveSeconds: 5 });
  });

  test("a simulated fleet shows online, late and offline devices with reasons", async ({ request, embedded }) => {
    const plans = planFleet({ devices: 60, profile: "mix", seed: 4, prefix: "e2e" });
    const sim = new Simulation({ url: embedded.mqttUrl, plans });
    sim.start();
    try {
      const body = await eventually(
        async () => {
          const b = await (await request.get("/api/devices?limit=1000")).json();
          return b.counts.online > 0 && b.counts.late > 0 && b.counts.offline > 0 && b;
        },
        45_000,
        "online, late and offline devices",
      );
      const late = body.devices.filter((d: { status: string }) => d.status === "late");
      expect(late.every((d: { id: string }) => d.id.startsWith("e2e-umqtt-"))).toBe(true);
      const reasons = new Set<string>(
        body.devices
          .filter((d: { status: string }) => d.status === "offline")
          .map((d: { lastDisconnectReason: string }) => d.lastDisconnectReason),
      );
      expect([...reasons].every((r) => ["keepalive_timeout", "connection_lost", "clean"].includes(r))).toBe(true);
      expect(reasons.size).toBeGreaterThan(0);
    } finally {
      await sim.stop();
    }
  });

  test("stop and start again: the history is still there, and every device the broker held is offline", async ({
    request,
    embedded,
  }) => {
    const before = await (await request.get("/api/devices?limit=1000")).json();
    expect(before.counts.total).toBeGreaterThan(40);
    await embedded.app.stop("SIGTERM");
    await embedded.app.start();
    const body = await (await request.get("/api/devices/probe-1")).json();
    expect(body).toMatchObject({ status: "offline", keepaliveSeconds: 5, lastDisconnectReason: "connection_lost" });
    expect(body.sessions[0]).toMatchObject({ reason: "connection_lost", keepaliveSeconds: 5 });
    const after = await (await request.get("/api/devices?limit=1000")).json();
    // keepwatch was the broker: nobody is connected until they come back, and nobody is left "unknown".
    expect(after.counts).toEqual({
      online: 0,
      late: 0,
      offline: before.counts.total,
      unknown: 0,
      total: before.counts.total,
    });
    expect(after.devices.map((d: { id: string }) => d.id)).toEqual(before.devices.map((d: { id: string }) => d.id));
  });

  test("kill -9 with a device connected: at the next start its session ends as broker_restart; it comes back in a new one", async ({
    request,
    embedded,
  }) => {
    // mosquitto_sub reconnects by itself (about once a second while the broker is away); crash-2 never does.
    const proc = mosquittoSub(embedded.mqttPort, "crash-1", 5, "x");
    const gone = await mqtt.connectAsync(embedded.mqttUrl, { clientId: "crash-2", keepalive: 5, reconnectPeriod: 0 });
    gone.on("error", () => undefined);
    try {
      for (const id of ["crash-1", "crash-2"])
        await eventually(
          async () => (await (await request.get(`/api/devices/${id}`)).json()).status === "online",
          5_000,
          `${id} online`,
        );
      await new Promise((r) => setTimeout(r, 3_000)); // the broker's "last known up" is saved every second
      const killedAt = Date.now();
      await embedded.app.stop("SIGKILL");
      await embedded.app.start();
      const body = await eventually(
        async () => {
          const b = await (await request.get("/api/devices/crash-1")).json();
          return b.status === "online" && b.sessions.length >= 2 && b.sessions[1].reason !== null && b;
        },
        15_000,
        "crash-1 back in a second session",
      );
      const old = body.sessions[1];
      expect(old.reason).toBe("broker_restart");
      // The last moment the broker was known up is saved every second and written by the next batch (250 ms).
      const endedBefore = killedAt - Date.parse(old.disconnectedAt);
      console.log(`[kill -9] session closed ${endedBefore} ms before the kill`);
      expect(endedBefore).toBeGreaterThanOrEqual(0);
      expect(endedBefore).toBeLessThanOrEqual(2_000);
      expect(body.sessions[0]).toMatchObject({ disconnectedAt: null });
      const left = await (await request.get("/api/devices/crash-2")).json();
      expect(left).toMatchObject({ status: "offline", lastDisconnectReason: "broker_restart" });
      expect(left.sessions[0]).toMatchObject({ reason: "broker_restart", disconnectedAt: old.disconnectedAt });
      const health = await (await request.get("/api/health")).json();
      expect(health.broker.lastRestart).toMatchObject({ devices: 2, notBack: 1 });
      expect(health.broker.lastRestart.evidence.join(" ")).toMatch(/embedded broker/);
      const history = await (
        await request.get(
          `/api/disconnects?reason=broker_restart&device=crash-1&from=${new Date(killedAt - 60_000).toISOString()}`,
        )
      ).json();
      expect(history.disconnects).toHaveLength(1);
      expect(history.disconnects[0]).toMatchObject({ deviceId: "crash-1", reason: "broker_restart", inferred: false });
    } finally {
      proc.kill("SIGKILL");
      gone.end(true);
    }
  });

  test("right after a start, a device first seen then is judged at once: a 3 s offline rule alerts within 5 s", async ({
    request,
    embedded,
  }) => {
    await embedded.app.stop("SIGTERM");
    await embedded.app.start();
    const rule = await request.post("/api/alert-rules", {
      headers: { origin: embedded.app.baseURL }, // a change not made with a bearer token must come from keepwatch's origin
      data: { name: "fresh", match: "fresh-*", offlineSeconds: 3, offlineFactor: null },
    });
    expect(rule.status()).toBe(201);
    const socket = await rawConnect(embedded.mqttPort, "fresh-e1", 60); // connects, never pings
    const connectedAt = Date.now();
    try {
      const alert = await eventually(
        async () => (await (await request.get("/api/alerts?state=firing&device=fresh-e1")).json()).alerts[0],
        5_000,
        "offline alert for fresh-e1",
      );
      expect(alert.kind).toBe("offline");
      expect(Date.parse(alert.firedAt) - connectedAt).toBeLessThan(5_000);
    } finally {
      socket.destroy();
    }
  });
});
