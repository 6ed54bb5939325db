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
/**
 * A tick that returns true did part of its work (a slice of a mass silence):
 * it runs again behind the I/O that arrived meanwhile, until it returns
 * false, so a million verdicts never hold ingest back for their whole
 * duration and a ping waiting in a socket is applied before its device is
 * judged. The interval does not start another run while one is going on.
 */
export function startTicker(tick: () => boolean | void, everyMs: number): () => void {
  let stopped = false;
  let running = false;
  const behindIo = (fn: () => void) => setImmediate(() => setImmediate(fn));
  const run = () => {
    if (!stopped && tick() === true) behindIo(run);
    else running = false;
  };
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    behindIo(run);
  }, everyMs);
  timer.unref?.();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
