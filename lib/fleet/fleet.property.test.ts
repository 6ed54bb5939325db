/**
 * Property test (fast-check, 10,000 random histories) of the fleet driver:
 * several devices, events in batches, timer ticks at random times, monitor
 * gaps, broker restarts, ping visibility switching, refreshes, restores from
 * what the store would hold, forgetting and expecting devices, and a device
 * limit. After every operation:
 * - the status counts equal the sum over the devices, and every status is one
 *   of online/late/offline/unknown;
 * - per device, the listeners' effects describe at most one open session, and
 *   it is the one the device holds; every session ends at or after its start;
 * - listeners get each changed device once, in its final state;
 * - events of new ids beyond maxDevices are refused and counted exactly, the
 *   monitor's own client id is never a device;
 * - after a tick, no device has a silence verdict left due (the deadline heap
 *   holds every device's next deadline), and the next deadline is in the future.
 */
import fc from "fast-check";
import { describe, it } from "vitest";
import { type ActivityEvent, DISCONNECT_REASONS, type DisconnectReason } from "../ingest/events";
import { Fleet, forgettable } from "./fleet";
import { type MachineContext, onDeadline, type SavedDeviceState } from "./machine";
import { connect, disconnect, ping, publish, sec, status, takeover } from "./testing";
import { DEVICE_STATUSES, type DeviceState, type FleetEffect, type SessionRecord } from "./types";

/** Generous: a property runs in about a second, but a loaded CI machine must not make it flaky. */
const PROPERTY_TEST = { timeout: 60_000 };

class PropertyFailure extends Error {}

function check(ok: boolean, what: string, detail?: unknown): asserts ok {
  if (!ok) throw new PropertyFailure(detail === undefined ? what : `${what}: ${JSON.stringify(detail)}`);
}

const IDS = ["a", "b", "c", "d", "e", "keepwatch-own"] as const;
const OWN = "keepwatch-own";
const STATUSES: ReadonlySet<string> = new Set(DEVICE_STATUSES);

type EventKind = "connect" | "disconnect" | "takeover" | "ping" | "publish" | "will" | "retained";

interface EventSpec {
  id: number;
  kind: EventKind;
  back: number;
  keepalive: number | null;
  reason: DisconnectReason;
}

type Op =
  | { op: "batch"; dt: number; events: EventSpec[] }
  | { op: "tick"; dt: number }
  | { op: "gap"; dt: number }
  | { op: "link"; dt: number }
  | { op: "restart"; dt: number; back: number; infinite: boolean }
  | { op: "visibility"; dt: number; visible: boolean }
  | { op: "restore"; dt: number }
  | { op: "forget"; dt: number; olderThan: number }
  | { op: "expect"; dt: number; ids: number[] };

const dt = fc.oneof(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 3_000, max: 30_000 }));
const eventSpec: fc.Arbitrary<EventSpec> = fc.record({
  id: fc.nat({ max: IDS.length - 1 }),
  kind: fc.constantFrom<EventKind>(
    "connect",
    "connect",
    "disconnect",
    "takeover",
    "ping",
    "ping",
    "publish",
    "will",
    "retained",
  ),
  back: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 4_000 })),
  keepalive: fc.constantFrom(0, 1, 2, 5, null),
  reason: fc.constantFrom(...DISCONNECT_REASONS),
});
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant("batch" as const),
      dt,
      events: fc.array(eventSpec, { minLength: 1, maxLength: 6 }),
    }),
  },
  { weight: 5, arbitrary: fc.record({ op: fc.constant("tick" as const), dt }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("gap" as const), dt }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("link" as const), dt }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("restart" as const),
      dt,
      back: fc.integer({ min: 0, max: 5_000 }),
      infinite: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("visibility" as const), dt, visible: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("restore" as const), dt }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("forget" as const), dt, olderThan: fc.integer({ min: 0, max: 60_000 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("expect" as const),
      dt,
      ids: fc.array(fc.nat({ max: IDS.length - 1 }), { maxLength: 3 }),
    }),
  },
);

function eventOf(e: EventSpec, now: number): ActivityEvent {
  const at = now - e.back;
  const deviceId = IDS[e.id];
  switch (e.kind) {
    case "connect":
      return connect(at, { deviceId, keepaliveSeconds: e.keepalive });
    case "disconnect":
      return disconnect(at, e.reason, { deviceId });
    case "takeover":
      return takeover(at, { deviceId });
    case "ping":
      return ping(at, { deviceId });
    case "publish":
      return publish(at, { deviceId });
    case "will":
      return status(at, false, { deviceId });
    case "retained":
      return status(at, e.back % 2 === 0, { deviceId, retained: true });
  }
}

/** Per device: the sessions the listeners were told about. */
class SessionLedger {
  readonly open = new Map<string, SessionRecord>();
  private readonly lastKey = new Map<string, number>();

  apply(effects: readonly FleetEffect[], what: string): void {
    for (const e of effects) {
      if (e.type === "session-open") {
        const id = e.session.deviceId;
        check(!this.open.has(id), `${what}: a second open session for ${id}`, e);
        check(e.session.connectedAt > (this.lastKey.get(id) ?? -Infinity), `${what}: session keys increase`, e);
        this.open.set(id, e.session);
        this.lastKey.set(id, e.session.connectedAt);
      } else if (e.type === "session-close") {
        check(this.open.get(e.deviceId)?.connectedAt === e.connectedAt, `${what}: closes the open session`, e);
        check(e.disconnectedAt >= e.connectedAt, `${what}: a session ends at or after its start`, e);
        check(e.lastActivityAt === null || e.lastActivityAt <= e.disconnectedAt, `${what}: activity after end`, e);
        this.open.delete(e.deviceId);
      } else if (e.type === "status-change") {
        check(STATUSES.has(e.to), `${what}: status`, e);
      }
    }
  }
}

describe("Fleet: random histories over several devices (fast-check)", () => {
  it("counts, sessions, deadlines and refusals stay consistent (10,000 histories)", PROPERTY_TEST, () => {
    fc.assert(
      fc.property(
        fc.array(op, { minLength: 1, maxLength: 25 }),
        fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
        fc.boolean(),
        (ops, maxDevices, visible0) => {
          let now = sec(0);
          let visible = visible0;
          let visibleSince = now;
          let relearnSince: number | null = null;
          const fleet = new Fleet({
            now: () => now,
            pingsVisible: () => visible,
            pingsVisibleSince: () => visibleSince,
            relearnSince: () => relearnSince,
            relearnSlackMs: 6_000,
            lateGraceMs: 1_000,
            maxDevices,
            ignoreClientIds: new Set([OWN]),
          });
          const ctx = (): MachineContext => ({
            now,
            pingsVisible: visible,
            lateGraceMs: 1_000,
            pingsVisibleSince: visibleSince,
            relearnSince,
            relearnSlackMs: 6_000,
          });
          const ledger = new SessionLedger();
          let calls: Array<{ effects: FleetEffect[]; changed: DeviceState[] }> = [];
          fleet.onEffects((effects, changed) => calls.push({ effects: [...effects], changed: [...changed] }));
          let refused = 0;

          ops.forEach((o, i) => {
            now += o.dt;
            const what = `op ${i} ${o.op}`;
            calls = [];
            switch (o.op) {
              case "batch": {
                // The contract: events of new ids beyond maxDevices are refused and counted; own id ignored.
                const held = new Set([...fleet.all()].map((d) => d.id));
                for (const e of o.events) {
                  const id = IDS[e.id];
                  if (id === OWN || held.has(id)) continue;
                  if (held.size >= (maxDevices ?? Infinity)) refused++;
                  else held.add(id);
                }
                fleet.applyBatch(o.events.map((e) => eventOf(e, now)));
                check(fleet.refusedNew === refused, `${what}: refusals counted exactly`, {
                  got: fleet.refusedNew,
                  refused,
                });
                check(fleet.size <= (maxDevices ?? Infinity), `${what}: more devices than maxDevices`, fleet.size);
                check(fleet.get(OWN) === undefined, `${what}: the monitor's own client became a device`);
                break;
              }
              case "tick":
                fleet.tick();
                // Every due verdict was applied: the heap held every device's next deadline.
                for (const d of fleet.all())
                  check(onDeadline(d, ctx()).state === d, `${what}: ${d.id} still has a verdict due`, d);
                check((fleet.nextDeadline() ?? Infinity) > now, `${what}: next deadline not in the future`);
                break;
              case "gap":
                relearnSince = null;
                fleet.monitorGap();
                for (const d of fleet.all()) check(d.status === "unknown", `${what}: gap → unknown`, d);
                break;
              case "link":
                relearnSince = now;
                fleet.refreshDeadlines();
                break;
              case "restart": {
                const downAt = now - o.back;
                fleet.brokerRestart({ downAt, keepFrom: o.infinite ? Infinity : downAt });
                if (o.infinite) for (const d of fleet.all()) check(!d.sessionOpen, `${what}: session survived`, d);
                break;
              }
              case "visibility":
                if (o.visible && !visible) visibleSince = now;
                visible = o.visible;
                fleet.refreshDeadlines();
                break;
              case "restore": {
                // What the store holds: the device rows and the open session rows.
                const rows: SavedDeviceState[] = [...fleet.all()].map((d) => ({ ...d }));
                const sessions = [...ledger.open.values()];
                fleet.restore(rows, sessions);
                // Unknown; offline at once only by a re-learning verdict already due (pings visible, broker heard).
                for (const d of fleet.all())
                  check(
                    d.status === "unknown" ||
                      (d.status === "offline" && visible && relearnSince !== null && !d.sessionOpen),
                    `${what}: restored devices are unknown`,
                    d,
                  );
                // Re-learning deadlines hold for restored devices too: none is left due.
                for (const d of fleet.all())
                  check(
                    (fleet.nextDeadline() ?? Infinity) > now || onDeadline(d, ctx()).state !== d,
                    `${what}: a due verdict with no deadline`,
                  );
                break;
              }
              case "forget": {
                const gone = [...fleet.all()].filter((d) => forgettable(d, now - o.olderThan)).map((d) => d.id);
                const dropped = fleet.forget(gone);
                check(dropped.length === gone.length, `${what}: forget drops what it is given`);
                for (const id of dropped) ledger.open.delete(id); // its rows stay in the store; none was open
                break;
              }
              case "expect": {
                const before = fleet.size;
                const added = fleet.expect(
                  o.ids.map((n) => IDS[n]),
                  now,
                );
                check(fleet.size === before + added.length, `${what}: expect adds what it says`);
                for (const id of added) check(fleet.get(id)?.status === "unknown", `${what}: expected → unknown`);
                break;
              }
            }
            for (const call of calls) ledger.apply(call.effects, what);
            // Listeners: each changed device once, in its final state.
            for (const call of calls) {
              const ids = call.changed.map((d) => d.id);
              check(new Set(ids).size === ids.length, `${what}: a device reported twice in one call`, ids);
            }
            const last = new Map<string, DeviceState>();
            for (const call of calls) for (const d of call.changed) last.set(d.id, d);
            for (const [id, d] of last)
              check(fleet.get(id) === d, `${what}: changed device not in its final state`, id);
            // Counts equal the sum over devices.
            const recount = { online: 0, late: 0, offline: 0, unknown: 0, total: 0 };
            for (const d of fleet.all()) {
              check(STATUSES.has(d.status), `${what}: status`, d);
              recount[d.status]++;
              recount.total++;
              check(d.sessionOpen === ledger.open.has(d.id), `${what}: ${d.id} session disagrees with effects`, d);
              if (d.sessionOpen) check(ledger.open.get(d.id)?.connectedAt === d.connectedAt, `${what}: open key`, d);
              check(!(d.status === "offline" && d.sessionOpen), `${what}: offline with a session open`, d);
            }
            const counts = fleet.counts();
            check(
              counts.online === recount.online &&
                counts.late === recount.late &&
                counts.offline === recount.offline &&
                counts.unknown === recount.unknown &&
                counts.total === recount.total &&
                counts.total === fleet.size,
              `${what}: counts are the sum over devices`,
              { counts, recount },
            );
          });
        },
      ),
      { numRuns: 10_000 },
    );
  });
});
