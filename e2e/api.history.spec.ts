import mqtt from "mqtt";
import { test, expect } from "./fixtures/stack";
import { eventually, exited, mosquittoSub, rawConnect } from "../lib/testing/clients";
import { csvRecords } from "../lib/testing/csv";
import type { DisconnectDto, DisconnectListDto, DisconnectSummaryDto } from "../lib/api/dto";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (iso: string) => Date.parse(iso);

test.describe("disconnect history API", () => {
  test("real clients' disconnects come back with their reasons and durations, in JSON, CSV and summary", async ({
    request,
    stack,
  }) => {
    test.setTimeout(60_000);
    const from = new Date(Date.now() - 60_000).toISOString();
    const url = stack.broker.url;

    // clean, then back a moment later (so the first disconnect has a reconnect), then clean again
    const clean = await mqtt.connectAsync(url, { clientId: "hist-clean", keepalive: 7, reconnectPeriod: 0 });
    await sleep(1_100);
    await clean.endAsync();
    await sleep(1_500);
    const again = await mqtt.connectAsync(url, { clientId: "hist-clean", keepalive: 7, reconnectPeriod: 0 });

    // connection lost: the process dies without DISCONNECT
    const sub = mosquittoSub(stack.broker.port, "hist-lost", 5);
    await eventually(
      async () => (await (await request.get("/api/devices/hist-lost")).json()).status === "online",
      5_000,
      "hist-lost online",
    );
    sub.kill("SIGKILL");
    await exited(sub);

    // taken over: a second connection with the same id
    const first = await mqtt.connectAsync(url, { clientId: "hist-take", keepalive: 9, reconnectPeriod: 0 });
    first.on("error", () => undefined);
    await sleep(500);
    const second = await mqtt.connectAsync(url, { clientId: "hist-take", keepalive: 9, reconnectPeriod: 0 });

    // keepalive timeout: CONNECT with keepalive 2, then silence (the broker drops it after 1.5 × 2 s, checked every 6 s)
    const silent = await rawConnect(stack.broker.port, "hist-silent", 2);

    const query = `from=${encodeURIComponent(from)}&device=hist-*`;
    await eventually(
      async () => {
        const body: DisconnectListDto = await (await request.get(`/api/disconnects?${query}`)).json();
        const reasons = body.disconnects.map((d) => `${d.deviceId}:${d.reason}`).sort();
        return (
          JSON.stringify(reasons) ===
          JSON.stringify([
            "hist-clean:clean",
            "hist-lost:connection_lost",
            "hist-silent:keepalive_timeout",
            "hist-take:taken_over",
          ])
        );
      },
      20_000,
      "the four disconnects",
    );
    // End the second sessions too: two more clean disconnects.
    silent.destroy();
    await again.endAsync();
    await second.endAsync();
    first.end(true);
    await eventually(
      async () => {
        const body: DisconnectListDto = await (await request.get(`/api/disconnects?${query}`)).json();
        return body.disconnects.length === 6;
      },
      5_000,
      "the later clean disconnects",
    );

    // Pin the range's end, so every request below reads the same rows.
    const pinned = `${query}&to=${encodeURIComponent(new Date(Date.now() + 1_000).toISOString())}`;
    const rows: DisconnectDto[] = (await (await request.get(`/api/disconnects?${pinned}`)).json()).disconnects;
    expect(rows).toHaveLength(6);

    const byDevice = (id: string) => rows.filter((r) => r.deviceId === id);
    const details = async (id: string) => (await request.get(`/api/devices/${id}`)).json();

    // clean: the first session ended by DISCONNECT; the device came back in its next session
    const cleanRows = byDevice("hist-clean");
    expect(cleanRows.map((r) => r.reason)).toEqual(["clean", "clean"]);
    const [latest, earliest] = cleanRows;
    expect(earliest.keepaliveSeconds).toBe(7);
    expect(earliest.sessionSeconds).toBeGreaterThanOrEqual(0);
    expect(earliest.sessionSeconds).toBeLessThanOrEqual(3);
    expect(earliest.reconnectedAt).toBe(latest.connectedAt);
    const sessions = (await details("hist-clean")).sessions as Array<{ connectedAt: string }>;
    expect(sessions.map((s) => s.connectedAt)).toContain(earliest.reconnectedAt);
    expect(earliest.offlineSeconds).toBe((ms(earliest.reconnectedAt!) - ms(earliest.disconnectedAt)) / 1000);
    expect(earliest.offlineSeconds).toBeGreaterThanOrEqual(0.5);
    expect(earliest.offlineSeconds).toBeLessThanOrEqual(4);
    expect(earliest.sessionSeconds).toBe((ms(earliest.disconnectedAt) - ms(earliest.connectedAt)) / 1000);
    expect(latest.reconnectedAt).toBeNull();
    expect(latest.offlineSeconds).toBeNull();

    const [lost] = byDevice("hist-lost");
    expect(lost).toMatchObject({ reason: "connection_lost", keepaliveSeconds: 5, reconnectedAt: null });

    // keepalive timeout: silent since its CONNECT, dropped after 1.5 × 2 s (+ up to 6 s to the broker's next check, + 1 s rounding)
    const [timeout] = byDevice("hist-silent");
    expect(timeout.keepaliveSeconds).toBe(2);
    expect(timeout.sessionSeconds).toBeGreaterThanOrEqual(2);
    expect(timeout.sessionSeconds).toBeLessThanOrEqual(11);
    expect(timeout.silenceSeconds).not.toBeNull();
    expect(Math.abs(timeout.silenceSeconds! - timeout.sessionSeconds)).toBeLessThanOrEqual(0.01);

    // taken over: the new connection follows at once
    const takes = byDevice("hist-take");
    const taken = takes.find((r) => r.reason === "taken_over")!;
    expect(taken.keepaliveSeconds).toBe(9);
    expect(taken.reconnectedAt).not.toBeNull();
    expect(taken.offlineSeconds).toBeLessThanOrEqual(1);

    // The CSV has exactly these rows, in the same order, with the same values.
    const csvRes = await request.get(`/api/disconnects.csv?${pinned}`);
    expect(csvRes.status()).toBe(200);
    expect(csvRes.headers()["content-type"]).toBe("text/csv; charset=utf-8; header=present");
    expect(csvRes.headers()["content-disposition"]).toMatch(
      /^attachment; filename="keepwatch-disconnects_\d{4}-\d\d-\d\dT\d\d-\d\d(-\d\d(\.\d{3})?)?Z_\d{4}-\d\d-\d\dT\d\d-\d\d(-\d\d(\.\d{3})?)?Z\.csv"$/,
    );
    const text = await csvRes.text();
    expect(
      text.startsWith(
        "device_id,disconnected_at,reason,keepalive_s,last_activity_at,silence_s,connected_at,session_s,reconnected_at,offline_s,inferred,device_name\r\n",
      ),
    ).toBe(true);
    const csv = csvRecords(text);
    const cell = (v: number | string | null) => (v === null ? "" : String(v));
    expect(csv).toEqual(
      rows.map((r) => ({
        device_id: r.deviceId,
        disconnected_at: r.disconnectedAt,
        reason: r.reason,
        keepalive_s: cell(r.keepaliveSeconds),
        last_activity_at: cell(r.lastActivityAt),
        silence_s: cell(r.silenceSeconds),
        connected_at: r.connectedAt,
        session_s: cell(r.sessionSeconds),
        reconnected_at: cell(r.reconnectedAt),
        offline_s: cell(r.offlineSeconds),
        inferred: String(r.inferred),
        device_name: cell(r.deviceName),
      })),
    );

    // The summary for the same filter agrees with the rows.
    const summary: DisconnectSummaryDto = await (await request.get(`/api/disconnects/summary?${pinned}`)).json();
    expect(summary.total).toBe(csv.length);
    expect(summary.devices).toBe(4);
    const counts: Record<string, number> = {};
    for (const r of csv) counts[r.reason] = (counts[r.reason] ?? 0) + 1;
    expect(Object.fromEntries(summary.byReason.map((b) => [b.reason, b.count]))).toEqual(counts);
    expect(summary.topDevices[0]).toMatchObject({ deviceId: "hist-clean", disconnects: cleanRows.length });
    for (const d of summary.topDevices) {
      expect(d.uptimePercent).toBeGreaterThanOrEqual(0);
      expect(d.uptimePercent).toBeLessThanOrEqual(100);
    }

    // Reason filter and cursor paging over the same rows.
    const only: DisconnectListDto = await (
      await request.get(`/api/disconnects?${pinned}&reason=keepalive_timeout,taken_over`)
    ).json();
    expect(only.disconnects.map((d) => d.reason).sort()).toEqual(["keepalive_timeout", "taken_over"]);
    const paged: DisconnectDto[] = [];
    let cursor: string | null = null;
    do {
      const page: DisconnectListDto = await (
        await request.get(`/api/disconnects?${pinned}&limit=4${cursor ? `&cursor=${cursor}` : ""}`)
      ).json();
      paged.push(...page.disconnects);
      cursor = page.nextCursor;
    } while (cursor);
    expect(paged).toEqual(rows);
  });

  test("answers bad input with 400 and a clear message", async ({ request }) => {
    const cases: Array<[string, RegExp]> = [
      ["/api/disconnects?from=yesterday", /^from: "yesterday" is not an ISO-8601 time/],
      ["/api/disconnects.csv?to=2026-13-01", /^to: "2026-13-01" is not a valid date and time$/],
      ["/api/disconnects?from=2026-11-01T10:00", /has no time zone/],
      ["/api/disconnects/summary?from=2026-11-02&to=2026-11-01", /^from \(2026-11-02T00:00:00.000Z\) is after to/],
      ["/api/disconnects.csv?reason=clean,sleepy", /^reason: unknown reason "sleepy"; one of clean, keepalive_timeout/],
      [`/api/disconnects?device=${"x".repeat(300)}`, /device \(a glob\) must be at most 256 characters/],
      ["/api/disconnects?device=dev-%5Bab", /^device: unclosed "\[" at position 5/],
      ["/api/disconnects?cursor=bm90LWEtY3Vyc29y", /^cursor: not a cursor this API returned$/],
      ["/api/disconnects?limit=5000", /limit must be a whole number from 1 to 1000/],
      ["/api/disconnects.csv?format=xlsx", /^unknown parameter "format"$/],
    ];
    for (const [path, message] of cases) {
      const res = await request.get(path);
      expect(res.status(), path).toBe(400);
      const body = await res.json();
      expect(body.error.code, path).toBe("BAD_REQUEST");
      expect(body.error.message, path).toMatch(message);
    }
  });

  test("exports a hostile device id as inert text", async ({ request, stack }) => {
    const hostile = '=HYPERLINK("http://x","y")';
    const from = new Date(Date.now() - 60_000).toISOString();
    const client = await mqtt.connectAsync(stack.broker.url, { clientId: hostile, keepalive: 10, reconnectPeriod: 0 });
    await client.endAsync();
    const query = `from=${encodeURIComponent(from)}&device=${encodeURIComponent("=HYPERLINK(*")}`;
    const text = await eventually(
      async () => {
        const t = await (await request.get(`/api/disconnects.csv?${query}`)).text();
        return t.split("\r\n").length === 3 && t;
      },
      5_000,
      "the hostile disconnect exported",
    );
    const line = text.split("\r\n")[1];
    expect(line.startsWith(`"'=HYPERLINK(""http://x"",""y"")",`)).toBe(true);
    expect(csvRecords(text)[0]).toMatchObject({ device_id: `'${hostile}`, reason: "clean", keepalive_s: "10" });
    // JSON keeps the id as it is: neutralizing is the CSV's business.
    const json: DisconnectListDto = await (await request.get(`/api/disconnects?${query}`)).json();
    expect(json.disconnects[0].deviceId).toBe(hostile);
  });
});
