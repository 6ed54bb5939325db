/**
 * Whether Mosquitto's debug log (MOSQUITTO_LOG_FILE) can be trusted to show
 * every PINGREQ, as a pure state machine with the clock passed in:
 *
 *   not seen ──first debug line──► live ──quiet > stallMs with the link up──► stalled
 *                                   ▲                                           │
 *                                   └────────────────any line───────────────────┘
 *
 * The log counts once it has shown a debug line (`log_type all` is really
 * on). With the monitor's own connection touching the broker every
 * DEBUG_LOG_TOUCH_MS, a working log never goes DEBUG_LOG_STALL_MS without a
 * line; past it the log has stalled (logging moved, disk full, rotated without
 * reopening) and silence verdicts stop, since every device would look silent.
 * Pings sent during a stall were not seen, not missing: `visibleSince` moves to
 * when the log moves again, and silence is measured from there. The runtime
 * (lib/runtime.ts) feeds it and acts on its changes.
 */
import { DEBUG_LOG_STALL_MS } from "../keepalive";

export class DebugLogWatch {
  /** Whether the log has shown a debug line. */
  seen = false;
  stalled = false;
  /** When the latest line was read (or the link came back: the log was not expected to move while it was down). */
  lastLineAt = 0;
  /** When the log last became visible: its first debug line, or moving again after a stall. */
  visibleSince = 0;

  constructor(private readonly stallMs: number = DEBUG_LOG_STALL_MS) {}

  /** Following starts: quiet time counts from now. */
  started(now: number): void {
    this.lastLineAt = now;
  }

  /** Lines were read at `receivedAt`. True when this ends a stall. */
  read(receivedAt: number, now: number): boolean {
    this.lastLineAt = receivedAt;
    if (!this.stalled) return false;
    this.stalled = false;
    this.visibleSince = now;
    return true;
  }

  /** A debug line was read. True for the first one: pings are visible from then on. */
  debugLine(receivedAt: number): boolean {
    if (this.seen) return false;
    this.seen = true;
    this.visibleSince = receivedAt;
    return true;
  }

  /** The broker link came up: quiet time counts from now at the latest. */
  linkUp(now: number): void {
    this.lastLineAt = Math.max(this.lastLineAt, now);
  }

  /**
   * Once a second: how long the log has been quiet when it has just stalled
   * (null otherwise). Only with the link up, when the monitor's own touches
   * would have shown.
   */
  check(now: number, linkUp: boolean): number | null {
    const quiet = now - this.lastLineAt;
    if (!this.seen || this.stalled || !linkUp || quiet <= this.stallMs) return null;
    this.stalled = true;
    return quiet;
  }

  /** Seen and not stalled: every PINGREQ shows. */
  get visible(): boolean {
    return this.seen && !this.stalled;
  }

  /** Seen, then stopped: silence is not observable, and not "fine" either. */
  get stalledAfterSeen(): boolean {
    return this.seen && this.stalled;
  }
}
