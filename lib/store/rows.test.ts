/** Row ↔ fleet data conversions. */
import { describe, expect, it } from "vitest";
import { toDeviceState, toGapRecord, toSessionRecord } from "./rows";

const at = (iso: string) => new Date(iso);

describe("row conversions", () => {
  it("turns a device row into a DeviceState in epoch ms, sources sorted and unique", () => {
    const state = toDeviceState({
      id: "d1",
      status: "offline",
      statusSince: at("2026-01-01T00:00:01.500Z"),
      keepaliveSeconds: 10,
      lastSeenAt: null,
      lastPingAt: at("2026-01-01T00:00:00.250Z"),
      lastMessageAt: null,
      connectedAt: at("2026-01-01T00:00:00.000Z"),
      sessionOpen: false,
      lastDisconnectAt: at("2026-01-01T00:00:01.500Z"),
      lastDisconnectReason: "will",
      disconnectCount: 2,
      takeoverCount: 1,
      address: null,
      protocol: "5",
      cleanStart: true,
      sources: ["mosquitto-log", "device-topic", "mosquitto-log"],
      firstSeenAt: at("2025-12-31T00:00:00.000Z"),
      updatedAt: at("2026-01-01T00:00:02.000Z"),
      connectReportedAt: at("2025-12-31T23:59:59.000Z"),
      lastConfirmedAt: null,
    });
    expect(state).toEqual({
      id: "d1",
      status: "offline",
      statusSince: Date.UTC(2026, 0, 1, 0, 0, 1, 500),
      keepaliveSeconds: 10,
      lastSeenAt: null,
      lastPingAt: Date.UTC(2026, 0, 1, 0, 0, 0, 250),
      lastMessageAt: null,
      connectedAt: Date.UTC(2026, 0, 1),
      sessionOpen: false,
      lastDisconnectAt: Date.UTC(2026, 0, 1, 0, 0, 1, 500),
      lastDisconnectReason: "will",
      disconnectCount: 2,
      address: null,
      protocol: "5",
      cleanStart: true,
      sources: ["device-topic", "mosquitto-log"],
      firstSeenAt: Date.UTC(2025, 11, 31),
      connectReportedAt: Date.UTC(2025, 11, 31, 23, 59, 59),
      lastConfirmedAt: null,
      lastClosed: null,
      takeoverCount: 1,
      takeoverWillPending: false,
    });
  });

  it("reads an unknown status or reason as unknown", () => {
    const s = toSessionRecord({
      deviceId: "d1",
      connectedAt: at("2026-01-01T00:00:00Z"),
      disconnectedAt: at("2026-01-01T00:01:00Z"),
      reason: "solar_flare",
      keepaliveSeconds: null,
      lastActivityAt: null,
    });
    expect(s.reason).toBe("unknown");
    expect(s.disconnectedAt).toBe(Date.UTC(2026, 0, 1, 0, 1));
  });

  it("gives gap ids as strings (bigint in the database)", () => {
    expect(
      toGapRecord({ id: 9007199254740993n, startedAt: at("2026-01-01T00:00:00Z"), endedAt: null, reason: "x" }),
    ).toEqual({
      id: "9007199254740993",
      startedAt: Date.UTC(2026, 0, 1),
      endedAt: null,
      reason: "x",
    });
  });
});
