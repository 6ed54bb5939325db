import { describe, expect, it } from "vitest";
import type { AlertDto, IncidentDto } from "@/lib/alerts/dto";
import { causeLabel, COLLAPSED_ROWS, groupAlerts, visibleRows } from "./groups";

const alert = (id: string, kind: AlertDto["kind"], extra: Partial<AlertDto> = {}): AlertDto => ({
  id,
  deviceId: kind === "system" ? null : `dev-${id}`,
  deviceName: null,
  source: kind === "system" ? "broker" : null,
  ruleId: 1,
  kind,
  state: "firing",
  firedAt: "2026-12-03T10:00:00.000Z",
  resolvedAt: null,
  message: "m",
  incidentId: null,
  acknowledgedAt: null,
  acknowledgedBy: null,
  ackComment: null,
  silenced: false,
  silenceId: null,
  ...extra,
});

const incident = (id: string): IncidentDto => ({
  id,
  state: "open",
  openedAt: "2026-12-03T10:00:00.000Z",
  resolvedAt: null,
  cause: { kind: "broker_restart", reason: "2026-12-03T10:00:00.000Z" },
  deviceCount: 2,
  stillOffline: 2,
  message: "2 devices offline after broker restart at 10:00:00 UTC",
  acknowledgedAt: null,
  acknowledgedBy: null,
  ackComment: null,
});

describe("groupAlerts", () => {
  it("system alerts first, then incidents with their members, then the rest by kind", () => {
    const groups = groupAlerts(
      [
        alert("1", "late"),
        alert("2", "offline", { incidentId: "inc_a" }),
        alert("3", "system"),
        alert("4", "offline"),
        alert("5", "offline", { incidentId: "inc_a" }),
        alert("6", "flapping"),
        // Its incident is over: an ordinary offline alert now.
        alert("7", "offline", { incidentId: "inc_gone" }),
      ],
      [incident("inc_a")],
    );
    expect(groups.map((g) => [g.key, g.alerts.map((a) => a.id)])).toEqual([
      ["system", ["3"]],
      ["incident:inc_a", ["2", "5"]],
      ["kind:offline", ["4", "7"]],
      ["kind:late", ["1"]],
      ["kind:flapping", ["6"]],
    ]);
  });

  it("shows an open incident even before its members are on the page", () => {
    expect(groupAlerts([], [incident("inc_b")]).map((g) => g.key)).toEqual(["incident:inc_b"]);
  });
});

describe("visibleRows", () => {
  it(`collapses groups longer than ${COLLAPSED_ROWS} rows`, () => {
    const rows = Array.from({ length: 8 }, (_, i) => i);
    expect(visibleRows(rows, false)).toEqual({ shown: [0, 1, 2, 3, 4], hidden: 3 });
    expect(visibleRows(rows, true)).toEqual({ shown: rows, hidden: 0 });
    expect(visibleRows([1, 2], false)).toEqual({ shown: [1, 2], hidden: 0 });
  });
});

describe("causeLabel", () => {
  it("names the broker restart by its time and a mass disconnect by its reason", () => {
    expect(causeLabel({ kind: "broker_restart", reason: "2026-12-03T10:04:05.123Z" })).toBe(
      "broker restart at 10:04:05 UTC",
    );
    expect(causeLabel({ kind: "broker_restart", reason: "" })).toBe("broker restart");
    expect(causeLabel({ kind: "mass_disconnect", reason: "connection_lost" })).toBe("mass disconnect: connection lost");
    // A reason this page does not know yet is shown as it came.
    expect(causeLabel({ kind: "mass_disconnect", reason: "constructor" })).toBe("mass disconnect: constructor");
  });
});
