/** Which incident count writes a batch keeps: the last per incident, and none before a later write of it. */
import { describe, expect, it } from "vitest";
import { withoutStaleCounts, type AlertWrite } from "./alerts";
import type { IncidentView } from "../alerts/incidents";

const view = (id: string, deviceCount: number, state: "open" | "resolved" = "open"): IncidentView => ({
  id,
  state,
  openedAt: 0,
  resolvedAt: state === "resolved" ? 1 : null,
  cause: { kind: "mass_disconnect", reason: "keepalive_timeout" },
  deviceCount,
  stillOffline: deviceCount,
  message: `${deviceCount} devices`,
  resolveMessage: null,
  acknowledged: false,
});
const counts = (id: string, n: number): AlertWrite => ({
  type: "incident",
  incident: view(id, n),
  notifiedAt: null,
  event: null,
});
const fire = (deviceId: string): AlertWrite => ({
  type: "fire",
  deviceId,
  kind: "offline",
  ruleId: 1,
  at: 0,
  message: "gone",
});

describe("withoutStaleCounts", () => {
  it("keeps the fires in order and each incident's last count write", () => {
    const opened: AlertWrite = { type: "incident", incident: view("i1", 10), notifiedAt: 0, event: "opened" };
    const writes = [
      opened,
      fire("a"),
      counts("i1", 11),
      fire("b"),
      counts("i1", 12),
      fire("c"),
      counts("i2", 3),
      fire("d"),
      counts("i1", 13),
    ];
    expect(withoutStaleCounts(writes)).toEqual([
      opened,
      fire("a"),
      fire("b"),
      fire("c"),
      counts("i2", 3),
      fire("d"),
      counts("i1", 13),
    ]);
  });

  it("never keeps counts after a later event of the same incident (a resolve is not overwritten)", () => {
    const resolved: AlertWrite = {
      type: "incident",
      incident: view("i1", 12, "resolved"),
      notifiedAt: 5,
      event: "resolved",
    };
    expect(withoutStaleCounts([counts("i1", 11), fire("a"), resolved])).toEqual([fire("a"), resolved]);
    // An event itself is never dropped.
    const update: AlertWrite = { type: "incident", incident: view("i1", 11), notifiedAt: 4, event: "update" };
    expect(withoutStaleCounts([update, resolved])).toEqual([update, resolved]);
  });

  it("returns the same array when there is nothing to drop", () => {
    const writes = [fire("a"), counts("i1", 1), fire("b")];
    expect(withoutStaleCounts(writes)).toBe(writes);
  });
});
