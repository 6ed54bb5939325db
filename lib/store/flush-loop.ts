/**
 * The write loop both batching writers share (the device/session writer and
 * the activity recorder): what they buffer is written every `intervalMs`, at
 * once when a full batch waits, and after a failed write again with backoff
 * (capped at `maxRetryDelayMs`) while the data stays buffered. Every write
 * runs in one chain, so two never interleave, and anything else that must
 * not interleave with them (the recorder's packing and retention) joins it.
 */
import { backoffCeiling } from "../backoff";

export interface FlushLoopOptions {
  intervalMs: number;
  maxRetryDelayMs: number;
  /** Writes what is buffered; rejects with the database's error (what failed stays buffered). */
  drain(): Promise<void>;
  /** Whether a full batch waits, to be written at once. */
  full(): boolean;
}

export class FlushLoop {
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** When the scheduled write fires (epoch ms). */
  private due = 0;
  private active = false;
  private chain: Promise<void> = Promise.resolve();
  /** Failed writes in a row: the retry's backoff. */
  private failed = 0;

  constructor(private readonly o: FlushLoopOptions) {}

  /** Whether writes are scheduled (started and not paused). */
  get running(): boolean {
    return this.active;
  }

  get failures(): number {
    return this.failed;
  }

  /** Starts writing every interval. */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.schedule(this.o.intervalMs);
  }

  /** Stops scheduling writes; what is buffered stays, and flush() still writes it. */
  pause(): void {
    this.active = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Writes what is buffered now (`drain`, or the owner's usual drain), in the
   * chain; rejects when the database fails, which counts toward the backoff.
   */
  flush(drain: () => Promise<void> = () => this.o.drain()): Promise<void> {
    return this.chained(() =>
      drain().then(
        () => {
          this.failed = 0;
        },
        (e: unknown) => {
          this.failed++;
          throw e;
        },
      ),
    );
  }

  /** Runs `step` in the write chain, after what is queued there, so it never interleaves with a write. */
  chained(step: () => Promise<void>): Promise<void> {
    const run = this.chain.catch(() => {}).then(step);
    this.chain = run;
    return run;
  }

  /** A batch filled up: write it now instead of at the interval (not while retrying, nor during a write). */
  nudge(): void {
    if (this.active && this.failed === 0 && this.timer !== null && this.due > Date.now() && this.o.full())
      this.schedule(0);
  }

  /** How long to wait before retry number `attempt` (1 for the first). */
  retryDelay(attempt: number): number {
    return backoffCeiling(attempt - 1, { initialMs: this.o.intervalMs, maxMs: this.o.maxRetryDelayMs });
  }

  private schedule(delay: number): void {
    if (!this.active) return;
    if (this.timer) clearTimeout(this.timer);
    this.due = Date.now() + delay;
    this.timer = setTimeout(() => void this.tick(), delay);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    this.timer = null;
    await this.flush().catch(() => {}); // the owner records the error; the next tick retries
    if (!this.active || this.timer) return;
    if (this.failed > 0) this.schedule(this.retryDelay(this.failed));
    else this.schedule(this.o.full() ? 0 : this.o.intervalMs);
  }
}
