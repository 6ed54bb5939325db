/**
 * The clock that drives deadline ticks (the fleet's silence verdicts, the
 * alert engine's thresholds) in the running process.
 *
 * A tick runs behind the I/O already waiting. After an event-loop stall (a
 * GC pause, a large query result being parsed) Node runs the timers phase
 * first; only then are sockets read, and ingest applies their packets from
 * an immediate. Two turns of setImmediate put the tick behind those, so a
 * PINGREQ that arrived in time during the stall is applied before silence is
 * judged, instead of the device flapping to late and back.
 */
export function startTicker(tick: () => void, everyMs: number): () => void {
  let stopped = false;
  const run = () => {
    if (!stopped) tick();
  };
  const timer = setInterval(() => setImmediate(() => setImmediate(run)), everyMs);
  timer.unref?.();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
