/**
 * Did the broker restart? A pure detector: the runtime feeds it what the
 * broker shows of itself, it answers with at most one decision per restart.
 * Every client is dropped when a broker restarts, so a restart ends every
 * session open at it (lib/fleet/machine.ts onBrokerRestart); a monitor that
 * only lost its link must not close anything. The evidence, per source:
 *
 * - Mosquitto `$SYS/broker/uptime` ("<n> seconds", retained, refreshed every
 *   sys_interval): it went backwards, or the broker's start it implies
 *   (received − uptime) moved later by more than the refresh slack. The
 *   retained value can be up to one sys_interval stale, so one reading's
 *   start estimate is late by up to that much; the slack allows for it.
 * - Mosquitto's followed debug log (MOSQUITTO_LOG_FILE):
 *   `mosquitto version 2.0.11 terminating` (the stop, to the second) and
 *   `mosquitto version 2.0.11 starting` (the new run; after a kill -9 the
 *   only line). Read in file order, so connects logged after the start line
 *   already belong to the new run.
 * - EMQX and NanoMQ uptime, when they publish it, like Mosquitto's.
 * - The embedded broker: keepwatch's own start (lib/runtime.ts).
 *
 * The same restart seen twice (the log's start line, then the uptime after
 * the link is back) is one restart: after a decision the detector takes the
 * new run's start as its reference.
 *
 * Where the broker went down, best estimate first: the log's terminating
 * line; the last moment the broker was known up (a message from it, a log
 * line, the link dropping, or the saved `seenUpAt` when keepwatch itself was
 * away), never after the new run's start.
 */

export interface RestartDecision {
  /** Best estimate of when the broker went down (open sessions end here). */
  downAt: number;
  /** When its new run started, as far as known. */
  upAt: number;
  /**
   * Connects and signs of life reported from here on belong to the new run
   * (lib/fleet/machine.ts BrokerRestartFacts): Infinity when the decision
   * comes in the broker's own order (the log's start line before any line of
   * the new run; keepwatch's own start before its broker takes clients);
   * after an uptime reading, the moment the link dropped (connects the
   * followed log showed meanwhile are the new run's).
   */
  keepFrom: number;
  detectedAt: number;
  /** What showed it, in words for the operator. */
  evidence: string[];
}

/** What the detector keeps across keepwatch's own restarts (lib/store/broker.ts). */
export interface SavedBrokerState {
  /** Last uptime reading (seconds) and when it was received. */
  uptimeSeconds: number | null;
  uptimeAt: number | null;
  /** Last moment the broker was known up. */
  seenUpAt: number | null;
}

export interface RestartDetectorOptions {
  /** State saved by an earlier run of keepwatch watching the same broker. */
  saved?: SavedBrokerState | null;
  /** Least slack between two start estimates of one run (ms). Default 30 s. */
  minSlackMs?: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const DEFAULT_MIN_SLACK_MS = 30_000;

export class RestartDetector {
  private uptime: { seconds: number; at: number } | null;
  private seenUpAt: number | null;
  /** Longest time seen between two changed uptime readings (the broker's refresh interval). */
  private refreshMs = 0;
  private stopLine: number | null = null;
  /** When the link last dropped (see RestartDecision.keepFrom). */
  private linkDownAt: number | null = null;
  /** The link came back and no uptime has said yet which run it talks to. */
  private unsure = true;
  private readonly minSlackMs: number;

  constructor(opts: RestartDetectorOptions = {}) {
    const saved = opts.saved ?? null;
    this.uptime =
      saved?.uptimeSeconds != null && saved.uptimeAt != null
        ? { seconds: saved.uptimeSeconds, at: saved.uptimeAt }
        : null;
    this.seenUpAt = saved?.seenUpAt ?? null;
    this.minSlackMs = opts.minSlackMs ?? DEFAULT_MIN_SLACK_MS;
  }

  /**
   * The broker was heard from over the link. After the link comes back this
   * waits for the first uptime reading: until then it is not known which run
   * is talking, and the old run's last moment must not move past its end.
   */
  seenUp(at: number): void {
    if (!this.unsure) this.note(at);
  }

  /** A line of the followed log: in file order, so always the run it belongs to. */
  logSeen(at: number): void {
    this.note(at);
  }

  /** The link to the broker dropped at `at` (it was up until then, as far as the monitor knows). */
  linkDown(at: number): void {
    this.seenUp(at);
    this.linkDownAt = at;
    this.unsure = true;
  }

  /** The link is back: which run it talks to is known at the next uptime reading. */
  linkUp(): void {
    this.unsure = true;
  }

  private note(at: number): void {
    if (this.seenUpAt === null || at > this.seenUpAt) this.seenUpAt = at;
  }

  /** An uptime reading (seconds since the broker started) received at `at`. */
  uptimeReading(seconds: number, at: number): RestartDecision | null {
    const prev = this.uptime;
    const start = at - seconds * 1000;
    let decision: RestartDecision | null = null;
    if (prev !== null) {
      const prevStart = prev.at - prev.seconds * 1000;
      const slack = Math.max(this.minSlackMs, 2 * this.refreshMs + 2_000);
      if (seconds < prev.seconds) {
        decision = this.decide(
          start,
          at,
          `uptime went back from ${prev.seconds} s (${iso(prev.at)}) to ${seconds} s (${iso(at)})`,
          this.linkDownAt ?? Number.POSITIVE_INFINITY,
        );
      } else if (start - prevStart > slack) {
        decision = this.decide(
          start,
          at,
          `uptime ${seconds} s at ${iso(at)}: the broker started at ${iso(start)}, after the run seen at ${iso(prev.at)}`,
          this.linkDownAt ?? Number.POSITIVE_INFINITY,
        );
      } else if (seconds > prev.seconds) {
        // The same run: how far apart its readings come bounds how stale a retained one can be.
        this.refreshMs = Math.max(this.refreshMs, Math.min(at - prev.at, 10 * 60_000));
      }
    }
    this.uptime = { seconds, at };
    this.unsure = false;
    this.note(at);
    return decision;
  }

  /** A followed log's `terminating` (stop) or `starting` (new run) line, stamped `at`. */
  logLine(phase: "terminating" | "starting", at: number): RestartDecision | null {
    if (phase === "terminating") {
      this.stopLine = at;
      return null;
    }
    const stop = this.stopLine;
    this.stopLine = null;
    const evidence =
      stop !== null
        ? `log: broker terminating at ${iso(stop)}, starting at ${iso(at)}`
        : `log: broker starting at ${iso(at)} with no terminating line before it (killed?)`;
    const decision = this.decide(at, at, evidence, Number.POSITIVE_INFINITY, stop);
    // The new run's uptime counts from its start line.
    this.uptime = { seconds: 0, at };
    return decision;
  }

  /** The embedded broker: keepwatch itself started it again at `at`. */
  embeddedStart(at: number): RestartDecision | null {
    this.unsure = false; // in-process: it is up exactly while keepwatch runs
    if (this.seenUpAt === null) {
      this.note(at);
      return null; // never ran before: nothing was open
    }
    const decision = this.decide(
      at,
      at,
      `embedded broker: keepwatch started at ${iso(at)}; its broker was last up at ${iso(this.seenUpAt)}`,
      Number.POSITIVE_INFINITY,
    );
    return decision;
  }

  /** What to save so that a restart while keepwatch is away is still told apart. */
  state(): SavedBrokerState {
    return {
      uptimeSeconds: this.uptime?.seconds ?? null,
      uptimeAt: this.uptime?.at ?? null,
      seenUpAt: this.seenUpAt,
    };
  }

  private decide(
    start: number,
    at: number,
    evidence: string,
    keepFrom: number,
    stopLine: number | null = null,
  ): RestartDecision {
    const lastUp = this.seenUpAt !== null && this.seenUpAt < start ? this.seenUpAt : null;
    const downAt = stopLine ?? lastUp ?? start;
    const facts = [evidence];
    if (stopLine === null)
      facts.push(
        lastUp !== null
          ? `went down after ${iso(lastUp)}, the last moment it was known up`
          : "no moment it was known up before its new start",
      );
    this.seenUpAt = Math.max(at, this.seenUpAt ?? at);
    this.refreshMs = 0;
    return { downAt: Math.min(downAt, start), upAt: start, keepFrom, detectedAt: at, evidence: facts };
  }
}
