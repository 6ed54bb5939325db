import { describe, expect, it } from "vitest";
import {
  diagnose,
  keepaliveDisabled,
  nearMiss,
  notSendingPingreq,
  reconnectStorm,
  sharedClientId,
  type DiagnosisInput,
  type DiagnosisSession,
} from "./diagnose";

const NOW = Date.parse("2026-11-22T12:00:00.000Z");
const base: DiagnosisInput = { now: NOW, keepaliveSeconds: 10, pingsVisible: true, sessions: [], gaps: [] };
const session = (p: Partial<DiagnosisSession> & { connectedAt: number }): DiagnosisSession => ({
  disconnectedAt: null,
  reason: null,
  keepaliveSeconds: 10,
  ...p,
});

describe("not_sending_pingreq", () => {
  const drop = (at: number, pings: number, publishes = 0) =>
    session({
      connectedAt: at,
      disconnectedAt: at + 15_000,
      reason: "keepalive_timeout",
      pings,
      publishes,
      packets: 0,
    });

  it("fires after the first keepalive drop with no PINGREQ between connect and drop", () => {
    const f = notSendingPingreq({ ...base, sessions: [drop(NOW - 60_000, 0)] });
    expect(f?.code).toBe("not_sending_pingreq");
    expect(f?.message).toMatch(/not sending PINGREQ/);
    expect(f?.message).toMatch(/umqtt\.simple/);
    expect(f?.message).toMatch(/every 10 s/);
    expect(f?.evidence[1]).toMatch(/dropped 15 s later \(keepalive 10 s, deadline 15 s\)/);
  });

  it("mentions publishes that were not frequent enough", () => {
    const f = notSendingPingreq({ ...base, sessions: [drop(NOW - 60_000, 0, 1)] });
    expect(f?.evidence.join(" ")).toMatch(/published 1 message/);
  });

  it("stays quiet when the device pinged before the drop, or the latest drop had pings", () => {
    expect(notSendingPingreq({ ...base, sessions: [drop(NOW - 60_000, 3)] })).toBeNull();
    expect(notSendingPingreq({ ...base, sessions: [drop(NOW - 120_000, 0), drop(NOW - 60_000, 2)] })).toBeNull();
    expect(notSendingPingreq({ ...base, sessions: [drop(NOW - 60_000, null as unknown as number)] })).toBeNull();
  });

  it("stays quiet for drops of other kinds", () => {
    const s = session({ connectedAt: NOW - 60_000, disconnectedAt: NOW - 45_000, reason: "connection_lost", pings: 0 });
    expect(notSendingPingreq({ ...base, sessions: [s] })).toBeNull();
  });

  it("without ping visibility needs two quick keepalive drops and says it as a likelihood", () => {
    const blind = { ...base, pingsVisible: false };
    expect(notSendingPingreq({ ...blind, sessions: [drop(NOW - 60_000, 0)] })).toBeNull();
    const f = notSendingPingreq({ ...blind, sessions: [drop(NOW - 120_000, 0), drop(NOW - 60_000, 0)] });
    expect(f?.message).toMatch(/most likely not sending PINGREQ/);
    expect(f?.evidence[1]).toMatch(/MOSQUITTO_LOG_FILE/);
  });
});

describe("near_miss", () => {
  it("fires on gaps past the keepalive but under 1.5 ×", () => {
    const f = nearMiss({
      ...base,
      gaps: [
        { at: NOW - 1000, gapMs: 13_000 },
        { at: NOW - 5000, gapMs: 9_000 },
      ],
    });
    expect(f?.code).toBe("near_miss");
    expect(f?.message).toMatch(/one delayed packet away from a drop/);
    expect(f?.evidence[0]).toMatch(/^1 gap/);
  });
  it("stays quiet for on-time pings (at the keepalive) and for drops past the deadline", () => {
    expect(
      nearMiss({
        ...base,
        gaps: [
          { at: NOW, gapMs: 10_000 },
          { at: NOW, gapMs: 10_900 },
        ],
      }),
    ).toBeNull();
    expect(nearMiss({ ...base, gaps: [{ at: NOW, gapMs: 16_000 }] })).toBeNull();
    expect(nearMiss({ ...base, keepaliveSeconds: 0, gaps: [{ at: NOW, gapMs: 13_000 }] })).toBeNull();
  });
});

describe("shared_client_id", () => {
  const taken = (at: number) => session({ connectedAt: at - 5_000, disconnectedAt: at, reason: "taken_over" });
  it("fires on repeated takeovers", () => {
    const f = sharedClientId({
      ...base,
      sessions: [taken(NOW - 30_000), taken(NOW - 20_000), session({ connectedAt: NOW - 20_000 })],
    });
    expect(f?.code).toBe("shared_client_id");
    expect(f?.message).toMatch(/Two clients share this client id/);
    expect(f?.evidence[0]).toMatch(/2 sessions ended as taken over within 10 s/);
  });
  it("stays quiet for a single takeover", () => {
    expect(sharedClientId({ ...base, sessions: [taken(NOW - 30_000)] })).toBeNull();
  });
});

describe("reconnect_storm", () => {
  /** Sessions of 3 s, each reconnecting `delays[i]` ms after the drop. */
  function storm(delays: number[], reason: DiagnosisSession["reason"] = "connection_lost"): DiagnosisSession[] {
    const out: DiagnosisSession[] = [];
    let t = NOW - 5 * 60_000;
    for (const d of delays) {
      out.push(session({ connectedAt: t, disconnectedAt: t + 3_000, reason }));
      t += 3_000 + d;
    }
    out.push(session({ connectedAt: t }));
    return out;
  }
  it("fires on quick reconnects that do not back off", () => {
    const f = reconnectStorm({ ...base, sessions: storm([500, 400, 600, 500, 450, 500]) });
    expect(f?.code).toBe("reconnect_storm");
    expect(f?.message).toMatch(/without backoff/);
    expect(f?.evidence[0]).toMatch(/^6 reconnects/);
  });
  it("stays quiet with exponential backoff, with few reconnects, with old reconnects, and for takeovers", () => {
    expect(reconnectStorm({ ...base, sessions: storm([500, 1000, 2000, 4000, 8000, 16000]) })).toBeNull();
    expect(reconnectStorm({ ...base, sessions: storm([500, 500, 500]) })).toBeNull();
    expect(
      reconnectStorm({ ...base, now: NOW + 3_600_000, sessions: storm([500, 400, 600, 500, 450, 500]) }),
    ).toBeNull();
    expect(reconnectStorm({ ...base, sessions: storm([0, 0, 0, 0, 0, 0], "taken_over") })).toBeNull();
  });
  it("does not count coming back after the broker closed everything (admin) as a retry: the storm stands", () => {
    const sessions = storm([500, 400, 600, 500, 450, 500]);
    // The broker restarted: the open session ended as admin, the client was back 15 s later.
    const open = sessions[sessions.length - 1];
    open.disconnectedAt = open.connectedAt + 3_000;
    open.reason = "admin";
    sessions.push(session({ connectedAt: open.disconnectedAt + 15_000 }));
    const f = reconnectStorm({ ...base, now: open.disconnectedAt + 20_000, sessions });
    expect(f?.evidence[0]).toMatch(/^6 reconnects/);
    expect(reconnectStorm({ ...base, sessions: storm([0, 0, 0, 0, 0, 0], "admin") })).toBeNull();
  });

  it("does not count coming back after a broker restart as a retry, however fast", () => {
    expect(reconnectStorm({ ...base, sessions: storm([300, 300, 300, 300, 300, 300], "broker_restart") })).toBeNull();
    expect(reconnectStorm({ ...base, sessions: storm([300, 300, 300, 300, 300, 300]) })).not.toBeNull();
  });
});

describe("keepalive_disabled", () => {
  it("fires for keepalive 0 only", () => {
    expect(keepaliveDisabled({ ...base, keepaliveSeconds: 0 })?.message).toMatch(/not checking this device's liveness/);
    expect(keepaliveDisabled({ ...base, keepaliveSeconds: null })).toBeNull();
    expect(keepaliveDisabled(base)).toBeNull();
  });
});

describe("diagnose", () => {
  it("lists problems before warnings and info, and nothing for a healthy device", () => {
    expect(diagnose({ ...base, gaps: [{ at: NOW, gapMs: 10_000 }] })).toEqual([]);
    const codes = diagnose({
      ...base,
      keepaliveSeconds: 0,
      sessions: [
        session({ connectedAt: NOW - 50_000, disconnectedAt: NOW - 40_000, reason: "taken_over" }),
        session({ connectedAt: NOW - 40_000, disconnectedAt: NOW - 30_000, reason: "taken_over" }),
      ],
    }).map((f) => f.code);
    expect(codes).toEqual(["shared_client_id", "keepalive_disabled"]);
  });
});
