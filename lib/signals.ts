/**
 * Ctrl-C / SIGTERM: the monitor stops first (pending writes flushed, the
 * embedded broker's sessions closed, the database closed), then the
 * listeners registered before it (Next's own shutdown) run as usual; with
 * none, the process exits with 130 (SIGINT) or 143 (SIGTERM). A stop that
 * hangs is given up after STOP_TIMEOUT_MS. A second signal waits for the
 * same stop.
 */
export const STOP_TIMEOUT_MS = 10_000;

type Signal = "SIGINT" | "SIGTERM";
type Listener = (signal: Signal) => void;

/** The part of `process` this needs (tests pass their own). */
export interface SignalTarget {
  listeners(signal: Signal): ((...args: never[]) => unknown)[];
  removeListener(signal: Signal, listener: Listener): unknown;
  on(signal: Signal, listener: Listener): unknown;
  exit(code: number): void;
}

export function stopOnSignals(
  runtime: { stop(): Promise<void> },
  target: SignalTarget = process as unknown as SignalTarget,
  timeoutMs: number = STOP_TIMEOUT_MS,
): void {
  let stopped: Promise<void> | null = null;
  const stopOnce = () =>
    (stopped ??= Promise.race([
      runtime.stop().catch((err) => console.error("[keepwatch] stop failed", err)),
      new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]));
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const earlier = target.listeners(signal) as Listener[];
    for (const listener of earlier) target.removeListener(signal, listener);
    target.on(signal, () => {
      void stopOnce().then(() => {
        if (earlier.length === 0) target.exit(signal === "SIGINT" ? 130 : 143);
        for (const listener of earlier) listener(signal);
      });
    });
  }
}
