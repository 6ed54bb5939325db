/**
 * The simulator over real connections: its umqtt.simple device against a real
 * Mosquitto (dropped for "exceeded timeout" after ~15 s, as the real one is),
 * and a mixed fleet against keepwatch on embedded defaults, which must show
 * online, late and offline devices with their reasons.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import mqtt from "mqtt";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config";
import { Runtime } from "../runtime";
import { getDeviceSessions } from "../store/devices";
import { eventually } from "../testing/clients";
import { freePort, startMosquitto } from "../testing/mosquitto";
import { planFleet } from "./fleet";
import { Simulation } from "./runner";

const cleanup: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

describe("umqtt.simple-style device against Mosquitto", () => {
  it("is dropped by the broker for exceeding its keepalive ~15 s after connecting, and reconnects", async () => {
    const broker = await startMosquitto();
    cleanup.push(() => broker.stop());
    const lines: Array<{ at: number; line: string }> = [];
    const watcher = await mqtt.connectAsync(broker.url, { clientId: "log-watcher", reconnectPeriod: 0 });
    cleanup.push(() => watcher.endAsync());
    watcher.on("message", (_topic, payload) => lines.push({ at: Date.now(), line: payload.toString() }));
    await watcher.subscribeAsync("$SYS/broker/log/#");

    const plans = planFleet({ devices: 1, profile: "umqtt", seed: 1, prefix: "mq" });
    plans[0].connections[0].startDelayMs = 0; // boot now, not somewhere in its first 20 s
    const sim = new Simulation({ url: broker.url, plans });
    sim.start();
    cleanup.push(() => sim.stop());
    const find = (re: RegExp) => lines.find((l) => re.test(l.line));
    const connected = await eventually(
      () => find(/New client connected .* as mq-umqtt-0 \(p2, c1, k10\)/),
      2_000,
      "connect",
    );
    const dropped = await eventually(
      () => find(/Client mq-umqtt-0 has exceeded timeout, disconnecting\./),
      45_000,
      "drop",
    );
    // 1.5 × 10 s after its last packet, on Mosquitto's check (every ~6 s, whole seconds): 15–22 s. The last
    // packet is usually the CONNECT's publish; when no check falls between 15 s and its next publish at 20 s,
    // that publish restarts the clock (as it would for a real umqtt.simple device on this broker).
    const since = dropped.at - connected.at;
    const afterLastPacket = since < 23_000 ? since : since - 20_000;
    expect(afterLastPacket).toBeGreaterThanOrEqual(14_000);
    expect(afterLastPacket).toBeLessThan(23_000);
    // Its next publish comes ~5 s later: it notices and connects again.
    await eventually(() => sim.stats().umqtt.connects === 2, 8_000, "reconnect");
    expect(sim.stats().umqtt).toMatchObject({ devices: 1, closedByBroker: 1, pings: 0, failedConnects: 0 });
    expect(lines.some((l) => /Received PINGREQ from mq-umqtt-0/.test(l.line))).toBe(false);
  }, 70_000);
});

describe("a mixed fleet against keepwatch on embedded defaults", () => {
  it("shows online, late and offline devices with reasons, takeovers and reconnects", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "kw-sim-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const runtime = new Runtime(loadConfig({ KEEPWATCH_DATA_DIR: dir, MQTT_PORT: String(port), PORT: "3994" }));
    await runtime.start();
    cleanup.push(() => runtime.stop());

    const plans = planFleet({ devices: 80, profile: "mix", seed: 1, prefix: "mix" });
    const sim = new Simulation({ url: `mqtt://127.0.0.1:${port}`, plans });
    const started = Date.now();
    sim.start();
    cleanup.push(() => sim.stop());

    // umqtt devices go late ~10.5 s after connecting and are dropped at 15 s; all three at once:
    const counts = await eventually(
      () => {
        const c = runtime.counts();
        return c.online > 0 && c.late > 0 && c.offline > 0 && c;
      },
      25_000,
      "online, late and offline at the same time",
    );
    expect(Date.now() - started).toBeLessThan(25_000);
    expect(counts.online).toBeGreaterThan(counts.late);

    // Let every kind of drop happen at least once.
    const CHECK_AT = 24_000;
    await new Promise((r) => setTimeout(r, Math.max(0, CHECK_AT - (Date.now() - started))));
    const devices = Array.from(runtime.fleet.all());
    const byProfile = (p: string) => devices.filter((d) => d.id.startsWith(`mix-${p}-`));
    expect(devices.filter((d) => d.id.startsWith("mix-"))).toHaveLength(80);

    // umqtt: dropped by the broker for its silence (1.5 × 10 s after it booted), after being late.
    const umqtt = byProfile("umqtt");
    const early = plans
      .filter((p) => p.profile === "umqtt" && p.connections[0].startDelayMs + 16_500 <= CHECK_AT)
      .map((p) => p.id);
    expect(early.length).toBeGreaterThanOrEqual(2);
    expect(umqtt.every((d) => d.keepaliveSeconds === 10)).toBe(true);
    for (const id of early) expect(runtime.fleet.get(id)!.lastDisconnectReason, id).toBe("keepalive_timeout");
    // healthy and late pingers: online, never dropped.
    for (const d of [...byProfile("healthy"), ...byProfile("late")]) {
      expect(d.status, d.id).toBe("online");
      expect(d.disconnectCount, d.id).toBe(0);
    }
    // flapping devices dropped their connections: connection_lost.
    expect(byProfile("flapping").some((d) => d.lastDisconnectReason === "connection_lost")).toBe(true);
    // sleepy devices went to sleep cleanly (or crashed).
    expect(byProfile("sleepy").every((d) => d.keepaliveSeconds === 0)).toBe(true);
    expect(byProfile("sleepy").some((d) => ["clean", "connection_lost"].includes(d.lastDisconnectReason ?? ""))).toBe(
      true,
    );
    // duplicates: takeovers, while the id stays online.
    const dup = byProfile("duplicate");
    expect(dup.every((d) => d.takeoverCount >= 1)).toBe(true);
    expect(dup.filter((d) => d.status === "online").length).toBeGreaterThanOrEqual(dup.length - 1);
    await runtime.writer!.flush();
    const sessions = await getDeviceSessions(runtime.db!.prisma, dup[0].id, 20);
    expect(sessions.some((s) => s.reason === "taken_over")).toBe(true);
    // telemetry: publishes seen from the client and from its device topic.
    for (const d of byProfile("telemetry")) expect(d.sources).toEqual(["aedes", "device-topic"]);

    const stats = sim.stats();
    expect(stats.umqtt.closedByBroker).toBeGreaterThanOrEqual(early.length);
    expect(stats.duplicate.closedByBroker).toBeGreaterThanOrEqual(dup.length);
    expect(stats.healthy.closedByBroker).toBe(0);
    expect(sim.total().failedConnects).toBe(0);
  }, 60_000);
});
