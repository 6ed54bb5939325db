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
