/**
 * Exponential backoff: the one definition every retry loop uses (the ingest
 * reconnect, the writers, the notification dispatcher, the browser's event
 * stream, the simulator's devices).
 *
 * Retry `attempt` (0 for the first retry) waits at most
 * `min(maxMs, initialMs × 2^attempt)`. With jitter it waits a uniformly
 * random 50–100 % of that ("equal jitter": half fixed, half random), so
 * clients that failed together spread out but none retries at once.
 * Without jitter (`backoffCeiling`) it waits the whole of it: for loops
 * that retry alone, such as a writer waiting for its database.
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export function backoffCeiling(attempt: number, p: BackoffPolicy): number {
  return Math.min(p.maxMs, p.initialMs * 2 ** Math.min(Math.max(0, attempt), 30));
}

export function backoffDelay(attempt: number, p: BackoffPolicy, random: () => number = Math.random): number {
  return Math.round(backoffCeiling(attempt, p) * (0.5 + random() / 2));
}

export interface RetryOptions {
  policy: BackoffPolicy;
  /** Gives up once the next wait would end past this long from the start (Infinity: never). */
  budgetMs: number;
  /** Told about every failure, before the wait. */
  onError?(err: unknown): void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `attempt` until it succeeds, waiting `backoffCeiling` between tries
 * (no jitter: a loop that retries alone). False when the budget ran out first.
 */
export async function retryWithin(attempt: () => Promise<void>, o: RetryOptions): Promise<boolean> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + o.budgetMs;
  for (let failures = 0; ;) {
    try {
      await attempt();
      return true;
    } catch (err) {
      o.onError?.(err);
      const delay = backoffCeiling(failures++, o.policy);
      if (now() + delay > deadline) return false;
      await sleep(delay);
    }
  }
}
