/**
 * Alert hygiene over real HTTP on embedded defaults (keepwatch's own broker
 * and PGlite), with real MQTT.js clients: names and tags, the CSV import
 * with expected devices, silences, acknowledgements, and a mass disconnect
 * of 10 devices that becomes one incident.
 */
import mqtt, { type MqttClient } from "mqtt";
import type { APIRequestContext, APIResponse } from "@playwright/test";
import { test as base, expect } from "./fixtures/embedded";
import { eventually } from "../lib/testing/clients";

/** Requests as keepwatch's own pages send them: changes carry its Origin (the CSRF rule). */
const test = base.extend<{ request: APIRequestContext }>({
  request: async ({ playwright, baseURL }, use) => {
    const ctx = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { origin: baseURL! } });
    await use(ctx);
    await ctx.dispose();
  },
});

// The incident below needs 10 devices. Settings of its own also give this file an app of its own, so
// its rules, devices and alerts stay out of other specs (and theirs out of its counts).
test.use({ embeddedEnv: { INCIDENT_MIN_DEVICES: "10" } });

test.describe.configure({ mode: "serial" });

const clients: MqttClient[] = [];
test.afterAll(() => {
  for (const c of clients) c.end(true);
});

async function connect(url: string, clientId: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { clientId, keepalive: 5, reconnectPeriod: 0 });
  c.on("error", () => undefined);
  clients.push(c);
  return c;
}

const body = async (res: APIResponse) => (await res.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

test.describe("alert hygiene on embedded defaults", () => {
  test("names, tags and notes: PATCH, filters, /api/tags; bad fields are named", async ({ request, embedded }) => {
    await connect(embedded.mqttUrl, "hy-pump-1");
    await eventually(async () => (await request.get("/api/devices/hy-pump-1")).status() === 200, 5_000, "seen");
    const res = await request.patch("/api/devices/hy-pump-1", {
      data: { name: "Pump 1, north hall", tags: ["site:north", "pumps"], notes: "replaced 2026-11" },
    });
    expect(res.status(), await res.text()).toBe(200);
    expect((await body(res)).device).toMatchObject({
      id: "hy-pump-1",
      name: "Pump 1, north hall",
      tags: ["pumps", "site:north"],
      muted: false,
    });
    expect(await body(await request.get("/api/devices/hy-pump-1"))).toMatchObject({ notes: "replaced 2026-11" });
    const tagged = await body(await request.get("/api/devices?tag=site:north"));
    expect(tagged.devices.map((d: { id: string }) => d.id)).toEqual(["hy-pump-1"]);
    const byName = await body(await request.get("/api/devices?q=north%20hall"));
    expect(byName.devices.map((d: { id: string }) => d.id)).toEqual(["hy-pump-1"]);
    expect((await body(await request.get("/api/tags"))).tags).toEqual(
      expect.arrayContaining([{ tag: "site:north", counts: { online: 1, late: 0, offline: 0, unknown: 0, total: 1 } }]),
    );

    const bad = await request.patch("/api/devices/hy-pump-1", {
      data: { name: "x".repeat(201), tags: ["Bad Tag"], notes: "n" },
    });
    expect(bad.status()).toBe(400);
    expect(Object.keys((await body(bad)).error.fields).sort()).toEqual(["name", "tags"]);
    expect((await request.patch("/api/devices/never-heard-of", { data: { name: "n" } })).status()).toBe(404);
  });

  test("CSV import: a dry run changes nothing, a file with an error changes nothing, a good one creates expected devices", async ({
    request,
  }) => {
    const csv = "device_id,name,tags,notes\nhy-new-1,New one,site:south;pumps,\nhy-pump-1,Pump 1,site:north,\n";
    const headers = { "content-type": "text/csv" };
    const dry = await request.post("/api/devices/import?dryRun=1", { data: csv, headers });
    expect(dry.status(), await dry.text()).toBe(200);
    expect(await body(dry)).toEqual({ dryRun: true, created: 1, updated: 1, errors: [] });
    expect((await request.get("/api/devices/hy-new-1")).status()).toBe(404);

    const broken = await request.post("/api/devices/import", {
      data: `${csv}hy-new-2,Two,Bad Tag,\n`,
      headers,
    });
    expect(broken.status()).toBe(400);
    const refused = await body(broken);
    expect(refused.errors).toEqual([{ line: 4, message: expect.stringMatching(/Bad Tag/) }]);
    expect(refused.error).toMatchObject({ code: "BAD_REQUEST", fields: { "line 4": expect.any(String) } });
    expect((await request.get("/api/devices/hy-new-1")).status()).toBe(404);

    // Not CSV (a form could send text/plain): refused before anything is read.
    expect(
      (await request.post("/api/devices/import", { data: csv, headers: { "content-type": "text/plain" } })).status(),
    ).toBe(415);

    const done = await request.post("/api/devices/import", { data: csv, headers });
    expect(await body(done)).toEqual({ dryRun: false, created: 1, updated: 1, errors: [] });
    const expected = await body(await request.get("/api/devices/hy-new-1"));
    expect(expected).toMatchObject({
      status: "unknown",
      expected: true,
      name: "New one",
      tags: ["pumps", "site:south"],
    });
    expect(await body(await request.get("/api/devices/hy-pump-1"))).toMatchObject({ name: "Pump 1" });
  });

  test("silences: created, listed by state, refused with named fields, ended early", async ({ request }) => {
    const endsAt = new Date(Date.now() + 3_600_000).toISOString();
    const created = await request.post("/api/silences", {
      data: { match: "hy-pump-*", endsAt, comment: "pump maintenance" },
    });
    expect(created.status(), await created.text()).toBe(201);
    const { silence } = await body(created);
    expect(silence).toMatchObject({ match: "hy-pump-*", state: "active", mutingNow: true, createdBy: "anonymous" });
    expect((await body(await request.get("/api/devices/hy-pump-1"))).muted).toBe(true);
    const active = await body(await request.get("/api/silences?state=active"));
    expect(active.silences.map((s: { id: string }) => s.id)).toContain(silence.id);

    const bad = await request.post("/api/silences", {
      data: {
        tags: ["Nope"],
        comment: "",
        recurrence: { weekly: [{ day: "mon", start: "25:00", minutes: 60 }], timeZone: "Mars/Olympus" },
      },
    });
    expect(bad.status()).toBe(400);
    const fields = (await body(bad)).error.fields;
    expect(Object.keys(fields)).toEqual(expect.arrayContaining(["tags", "comment"]));
    expect(Object.keys(fields).some((k) => k.startsWith("recurrence"))).toBe(true);

    const ended = await request.delete(`/api/silences/${silence.id}`);
    expect((await body(ended)).silence).toMatchObject({ state: "expired" });
    expect((await body(await request.get("/api/devices/hy-pump-1"))).muted).toBe(false);
  });

  test("10 devices cut at once: one incident; an alert is acknowledged and un-acknowledged", async ({
    request,
    embedded,
  }) => {
    const rule = await request.post("/api/alert-rules", {
      // Longer than the clients' keepalive (5 s), so a healthy client that only pings is never silent that long.
      data: { name: "hy", match: "hy-mass-*", offlineSeconds: 8, offlineFactor: null, resolveAfterSeconds: 1 },
    });
    expect(rule.status(), await rule.text()).toBe(201);
    const ids = Array.from({ length: 10 }, (_, i) => `hy-mass-${i}`);
    const mass = await Promise.all(ids.map((id) => connect(embedded.mqttUrl, id)));
    await eventually(
      async () => (await body(await request.get("/api/devices?q=hy-mass-&status=online"))).devices.length === 10,
      5_000,
      "10 online",
    );
    // The link is cut under all of them at once: connection_lost for each.
    for (const c of mass) c.stream.destroy();
    const incident = await eventually(
      async () => (await body(await request.get("/api/incidents?state=open"))).incidents[0],
      25_000,
      "incident open",
    );
    expect(incident).toMatchObject({
      state: "open",
      deviceCount: 10,
      stillOffline: 10,
      cause: { kind: "mass_disconnect", reason: "connection_lost" },
    });
    const detail = await body(await request.get(`/api/incidents/${incident.id}`));
    expect(detail.devices.map((d: { deviceId: string }) => d.deviceId).sort()).toEqual([...ids].sort());

    const [alert] = (await body(await request.get("/api/alerts?state=firing&device=hy-mass-3"))).alerts;
    expect(alert).toMatchObject({ kind: "offline", incidentId: incident.id });
    const acked = await request.post(`/api/alerts/${alert.id}/ack`, { data: { comment: "crew on site" } });
    expect((await body(acked)).alert).toMatchObject({ acknowledgedBy: "anonymous", ackComment: "crew on site" });
    const undone = await request.delete(`/api/alerts/${alert.id}/ack`);
    expect((await body(undone)).alert).toMatchObject({ acknowledgedAt: null, acknowledgedBy: null });
    const incAck = await request.post(`/api/incidents/${incident.id}/ack`, { data: {} });
    expect((await body(incAck)).incident).toMatchObject({ acknowledgedBy: "anonymous" });
    expect((await request.post("/api/alerts/999999/ack", { data: {} })).status()).toBe(404);
    expect((await request.get("/api/incidents/not-an-id")).status()).toBe(400);

    // All back: the incident resolves.
    for (const id of ids) await connect(embedded.mqttUrl, id);
    await eventually(
      async () => (await body(await request.get(`/api/incidents/${incident.id}`))).incident.state === "resolved",
      15_000,
      "incident resolved",
    );
  });
});
