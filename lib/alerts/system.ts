/**
 * System alerts: keepwatch watching its own sources, with the same lifecycle
 * as device alerts (kind `system`, no device, a `source`). Pure: the runtime
 * says what is wrong and since when, the clock is passed in.
 *
 * - `broker`: the link to the broker is down for longer than its threshold
 *   (ALERT_BROKER_DOWN_SECONDS). Device alerts are its children: while it is
 *   down every device is `unknown`, so none fires (lib/alerts/engine.ts).
 * - `database`: writes have been failing for longer than its threshold.
 * - `debug_log`: the followed Mosquitto debug log stalled (the runtime
 *   already waited DEBUG_LOG_STALL_MS before calling it stalled).
 * - `broker_restart`: an event, fired and resolved at once. Every instance
 *   that watches the broker sees it (shards each see their own devices'
 *   share): the store keeps one event per source within EVENT_SAME_MS.
 *
 * A condition fires once it has held for its threshold without a break, and
 * resolves as soon as it is over.
 */
import type { SystemSource } from "./dto";

export interface SystemDecision {
  type: "fire" | "resolve";
  source: SystemSource;
  at: number;
  message: string;
  /** Something that happened once (fired and resolved at once), not a condition. */
  event?: true;
}

/** Events of one source this close together are one (seen by several instances). */
export const EVENT_SAME_MS = 60_000;

interface Condition {
  since: number;
  detail: string;
}

export class SystemWatch {
  private readonly bad = new Map<SystemSource, Condition>();
  private readonly firing = new Set<SystemSource>();

  constructor(private readonly thresholdMs: Partial<Record<SystemSource, number>>) {}

  /** Alerts that were firing before a restart of the monitor: continued, not fired again. */
  restore(sources: readonly SystemSource[]): void {
    for (const s of sources) this.firing.add(s);
  }

  isFiring(source: SystemSource): boolean {
    return this.firing.has(source);
  }

  /**
   * The source is wrong since `since` (keeps the first time while it stays
   * wrong), or fine again (`since` null). Returns what changed now.
   */
  set(source: SystemSource, since: number | null, detail: string, now: number): SystemDecision[] {
    if (since === null) {
      this.bad.delete(source);
      if (!this.firing.delete(source)) return [];
      return [{ type: "resolve", source, at: now, message: detail }];
    }
    const c = this.bad.get(source);
    if (c) c.detail = detail;
    else this.bad.set(source, { since, detail });
    return this.tick(now).filter((d) => d.source === source);
  }

  /** Something that happened once (a broker restart): fired and resolved at once. */
  event(source: SystemSource, message: string, at: number): SystemDecision[] {
    return [
      { type: "fire", source, at, message, event: true },
      { type: "resolve", source, at, message: "an event: resolved when it fired", event: true },
    ];
  }

  tick(now: number): SystemDecision[] {
    const out: SystemDecision[] = [];
    for (const [source, c] of this.bad) {
      if (this.firing.has(source)) continue;
      const threshold = this.thresholdMs[source] ?? 0;
      if (now - c.since < threshold) continue;
      this.firing.add(source);
      out.push({ type: "fire", source, at: now, message: c.detail });
    }
    return out;
  }

  /** When the next pending condition reaches its threshold, or null. */
  nextDeadline(): number | null {
    let next = Number.POSITIVE_INFINITY;
    for (const [source, c] of this.bad)
      if (!this.firing.has(source)) next = Math.min(next, c.since + (this.thresholdMs[source] ?? 0));
    return Number.isFinite(next) ? next : null;
  }
}
