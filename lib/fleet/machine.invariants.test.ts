/**
 * Random event streams (reordered, duplicated, interleaved with timer firings
 * and monitor gaps) must never break the machine's structural guarantees.
 */
import { describe, expect, it } from "vitest";
import type { ActivityEvent, DisconnectReason } from "../ingest/events";
import { DISCONNECT_REASONS } from "../ingest/events";
import { applyEvent, onBrokerRestart, onDeadline, onMonitorGap, type MachineContext, type Transition } from "./machine";
import { connect, disconnect, emqx, ping, publish, sec, status, takeover } from "./testing";
import type { DeviceState, DeviceStatus } from "./types";

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cheap check for the hot loop; `expect` per field would dominate the run time. */
function check(ok: boolean, what: string, detail: unknown = ""): void {
  if (!ok) throw new Error(`${what} ${JSON.stringify(detail)}`);
}

/** What the effects so far say about sessions, checked against the state after every step. */
class Ledger {
  openKey: number | null = null;
  lastKey = Number.NEGATIVE_INFINITY;
  readonly closedKeys = new Set<number>();
  status: DeviceStatus | null = null;
  statusSince = Number.NEGATIVE_INFINITY;

  check(prev: DeviceState | undefined, t: Transition, ctx: MachineContext, what: string): void {
    const s = t.state;
    for (const e of t.effects) {
      if (e.type === "session-open") {
        check(this.openKey === null, `${what}: opened while one is open`, e);
        check(e.session.connectedAt > this.lastKey, `${what}: session keys strictly increase`, e);
        this.openKey = this.lastKey = e.session.connectedAt;
      } else if (e.type === "session-close") {
        check(e.connectedAt === this.openKey, `${what}: closes the open session`, e);
        check(e.disconnectedAt >= e.connectedAt, `${what}: ends before it starts`, e);
        this.closedKeys.add(e.connectedAt);
        this.openKey = null;
      } else if (e.type === "session-refine") {
        check(this.closedKeys.has(e.connectedAt), `${what}: refines a closed session`, e);
      } else {
        check(e.from === this.status, `${what}: status-change from the current status`, e);
        check(e.at >= this.statusSince, `${what}: statusSince moves backwards`, e);
        this.status = e.to;
        this.statusSince = e.at;
      }
    }
    check(s.status === this.status && s.statusSince === this.statusSince, `${what}: status disagrees with effects`, s);
    check(s.sessionOpen === (this.openKey !== null), `${what}: sessionOpen disagrees with effects`, s);
    check(this.openKey === null || s.connectedAt === this.openKey, `${what}: connectedAt is not the open key`, s);
    check(!(s.status === "offline" && s.sessionOpen), `${what}: offline with a session open`, s);
    if (prev) {
      check(s.disconnectCount >= prev.disconnectCount, `${what}: disconnectCount decreased`);
      check(s.takeoverCount >= prev.takeoverCount, `${what}: takeoverCount decreased`);
      check((s.lastSeenAt ?? -1) >= (prev.lastSeenAt ?? -1), `${what}: lastSeenAt moved backwards`);
      // Nothing changed ⇒ the very same object (the driver relies on it).
      const unchanged = t.effects.length === 0 && JSON.stringify(s) === JSON.stringify(prev);
      check(!unchanged || s === prev, `${what}: unchanged state is a new object`);
    }
    check(JSON.stringify(s.sources) === JSON.stringify([...new Set(s.sources)].sort()), `${what}: sources`, s.sources);
    if (t.deadline !== null) {
      // Silence deadlines while connected; a re-learning deadline while unknown after a gap (pings visible).
      const relearning = s.status === "unknown" && ctx.pingsVisible && ctx.relearnSince != null;
      check(s.status === "online" || s.status === "late" || relearning, `${what}: deadline for ${s.status}`);
      check(t.deadline > ctx.now, `${what}: deadline already due`, { deadline: t.deadline, now: ctx.now });
      const early = onDeadline(s, { ...ctx, now: t.deadline - 1 });
      check(early.state === s && early.deadline === t.deadline, `${what}: early timer not a no-op`);
    }
  }
}

const REASONS: readonly DisconnectReason[] = DISCONNECT_REASONS;

function randomEvent(random: () => number, now: number, stamps: number[]): ActivityEvent {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  // Up to 3 s in the past: events arrive out of order.
  const at = now - Math.floor(random() * 3000);
  const stamp = stamps.length > 0 && random() < 0.6 ? pick(stamps) : undefined;
  const r = random();
  if (r < 0.2)
    return connect(at, {
      keepaliveSeconds: pick([0, 2, 5, 10]),
      address: `10.0.0.5:${pick([1, 2, 3])}`,
      ...(random() < 0.5 ? emqx : {}),
    });
  if (r < 0.4) return disconnect(at, pick(REASONS), random() < 0.5 ? { ...emqx, sessionConnectedAt: stamp } : {});
  if (r < 0.47) return takeover(at);
  if (r < 0.67) return ping(at);
  if (r < 0.77) return publish(at);
  return status(at, random() < 0.5, { retained: random() < 0.3 });
}

describe("machine invariants under random streams", () => {
  it("hold for 300 streams of 150 steps", () => {
    let steps = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const random = rng(seed);
      const ledger = new Ledger();
      const pingsVisible = random() < 0.7;
      const lateGraceMs = random() < 0.3 ? 1000 : undefined;
      const stamps: number[] = [];
      let state: DeviceState | undefined;
      let now = sec(0);
      for (let step = 0; step < 150; step++) {
        now += Math.floor(random() * 2500);
        // Re-learning after a gap: sometimes the monitor hears the broker again since a moment ago.
        const relearnSince = random() < 0.3 ? now - Math.floor(random() * 20_000) : null;
        const ctx: MachineContext = { now, pingsVisible, lateGraceMs, relearnSince, relearnSlackMs: 6_000 };
        const r = random();
        let t: Transition;
        let what: string;
        if (state && r < 0.1) {
          t = onDeadline(state, ctx);
          what = `deadline@${now}`;
        } else if (state && r < 0.13) {
          t = onMonitorGap(state, ctx);
          what = `gap@${now}`;
        } else if (state && r < 0.15) {
          const downAt = now - Math.floor(random() * 3_000);
          t = onBrokerRestart(state, { downAt, keepFrom: random() < 0.5 ? Number.POSITIVE_INFINITY : downAt }, ctx);
          what = `broker restart@${downAt}`;
        } else {
          const ev = randomEvent(random, now, stamps);
          if (ev.kind === "connect") stamps.push(ev.at);
          what = `${ev.kind}@${ev.at}`;
          const implicitlyReplaced = state?.lastClosed?.reason === "unknown" && !state.lastClosed.counted;
          const replacedWillExpected = Boolean(
            state?.takeoverWillPending || (state?.sessionOpen && implicitlyReplaced),
          );
          t = applyEvent(state, ev, ctx);
          ledger.check(state, t, ctx, `seed ${seed} step ${step} ${what}`);
          state = t.state;
          // The same event delivered again changes nothing. Exception: a will taken as the replaced
          // connection's (after a takeover, or after an implicit close); a second will then counts as
          // the new connection's. Device-topic wills carry their arrival time, so a real redelivery
          // is never identical.
          if (ev.kind === "status" && !ev.online && !ev.retained && replacedWillExpected) continue;
          const again = applyEvent(state, ev, ctx);
          check(again.effects.length === 0 && again.state === state, `seed ${seed} step ${step}: replay of`, {
            ev,
            effects: again.effects,
          });
          continue;
        }
        ledger.check(state, t, ctx, `seed ${seed} step ${step} ${what}`);
        state = t.state;
        steps++;
      }
    }
    expect(steps).toBeGreaterThan(3000); // the non-event branches ran too
  });
});
