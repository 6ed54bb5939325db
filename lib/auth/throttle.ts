/**
 * Sign-in throttling: after `maxFailures` failed attempts within `windowMs`
 * for one username or one client address, further attempts are refused
 * (HTTP 429) until the oldest of them leaves the window. Pure bookkeeping,
 * bounded: at most `maxKeys` keys are remembered (the oldest are forgotten).
 */
export interface ThrottleOptions {
  maxFailures?: number;
  windowMs?: number;
  maxKeys?: number;
}

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;

  constructor(opts: ThrottleOptions = {}) {
    this.maxFailures = opts.maxFailures ?? 5;
    this.windowMs = opts.windowMs ?? 60_000;
    this.maxKeys = opts.maxKeys ?? 10_000;
  }

  /** Milliseconds until another attempt is allowed for any of these keys, or 0. */
  blockedFor(keys: readonly string[], now: number): number {
    let wait = 0;
    for (const key of keys) {
      const recent = this.recent(key, now);
      if (recent.length >= this.maxFailures) wait = Math.max(wait, recent[0] + this.windowMs - now);
    }
    return wait;
  }

  fail(keys: readonly string[], now: number): void {
    for (const key of keys) {
      const list = this.recent(key, now);
      list.push(now);
      this.failures.delete(key); // re-inserted last: Map order is the eviction order
      this.failures.set(key, list);
    }
    while (this.failures.size > this.maxKeys) this.failures.delete(this.failures.keys().next().value as string);
  }

  /** A success clears the username's failures (not the address's: it may be guessing many names). */
  succeed(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string, now: number): number[] {
    const list = (this.failures.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (list.length === 0) this.failures.delete(key);
    return list;
  }
}
