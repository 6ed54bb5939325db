/**
 * The one place background jobs run: each registers a name, an interval and
 * a run function, and the registry owns its timer (unref'd: a job never keeps
 * the process alive). A job never runs twice at once: an interval that comes
 * while it still runs is skipped and counted as an overlap. A run that throws
 * or rejects is recorded (the message only) and the next interval runs as
 * usual. `GET /api/health` lists every job's figures (`jobs`).
 *
 * What runs on it: the runtime's own upkeep (lib/runtime.ts), activity
 * packing and retention (lib/store/activity.ts), the notification outbox
 * (lib/notify/dispatcher.ts) and the live hub's batches and heartbeats
 * (lib/live/hub.ts).
 */

export interface JobSpec {
  /** Unique among the registry's jobs while registered. */
  name: string;
  intervalMs: number;
  run: () => void | Promise<void>;
  /** Run once at registration too, not only after the first interval. */
  immediate?: boolean;
}

export interface JobStatus {
  name: string;
  intervalMs: number;
  running: boolean;
  lastStartedAt: number | null;
  lastDurationMs: number | null;
  lastSuccessAt: number | null;
  lastError: string | null;
  runs: number;
  overlaps: number;
}

interface Job {
  spec: JobSpec;
  status: JobStatus;
  timer: ReturnType<typeof setInterval>;
  /** Settles when the run under way ends (null: none). */
  current: Promise<void> | null;
  /** trigger() while running: run again as soon as this run ends. */
  again: boolean;
  stopped: boolean;
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class JobRegistry {
  private readonly jobs = new Map<string, Job>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  /** Starts a job; its name must not be taken by a registered job. */
  register(spec: JobSpec): void {
    if (this.jobs.has(spec.name)) throw new Error(`job ${spec.name} is already registered`);
    if (!(spec.intervalMs > 0)) throw new Error(`job ${spec.name}: interval must be positive`);
    const job: Job = {
      spec,
      status: {
        name: spec.name,
        intervalMs: spec.intervalMs,
        running: false,
        lastStartedAt: null,
        lastDurationMs: null,
        lastSuccessAt: null,
        lastError: null,
        runs: 0,
        overlaps: 0,
      },
      timer: setInterval(() => this.tick(job), spec.intervalMs),
      current: null,
      again: false,
      stopped: false,
    };
    job.timer.unref?.();
    this.jobs.set(spec.name, job);
    if (spec.immediate) this.begin(job);
  }

  has(name: string): boolean {
    return this.jobs.has(name);
  }

  /** Runs a job now rather than at its next interval; while it runs, once more right after. */
  trigger(name: string): void {
    const job = this.jobs.get(name);
    if (!job || job.stopped) return;
    if (job.status.running) job.again = true;
    else this.begin(job);
  }

  /** Stops one job (its timer at once); resolves when a run under way has ended. */
  async stop(name: string): Promise<void> {
    const job = this.jobs.get(name);
    if (!job) return;
    this.jobs.delete(name);
    job.stopped = true;
    clearInterval(job.timer);
    await job.current;
  }

  /** Stops every job; resolves when the runs under way have ended. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.jobs.keys()].map((name) => this.stop(name)));
  }

  /** Every registered job's figures, in registration order. */
  list(): JobStatus[] {
    return [...this.jobs.values()].map((j) => ({ ...j.status }));
  }

  private tick(job: Job): void {
    if (job.status.running) {
      job.status.overlaps += 1;
      return;
    }
    this.begin(job);
  }

  private begin(job: Job): void {
    const { status } = job;
    const started = this.now();
    status.running = true;
    status.lastStartedAt = started;
    status.runs += 1;
    const end = (error: unknown, failed: boolean) => {
      const at = this.now();
      status.running = false;
      status.lastDurationMs = at - started;
      if (failed) status.lastError = messageOf(error);
      else status.lastSuccessAt = at;
      job.current = null;
      if (job.again && !job.stopped) {
        job.again = false;
        this.begin(job);
      }
    };
    let out: void | Promise<void>;
    try {
      out = job.spec.run();
    } catch (e) {
      end(e, true);
      return;
    }
    if (out instanceof Promise)
      job.current = out.then(
        () => end(null, false),
        (e: unknown) => end(e, true),
      );
    else end(null, false);
  }
}

/** A job's figures on the wire (`GET /api/health`, `jobs`): times as ISO strings. */
export interface JobDto {
  name: string;
  intervalMs: number;
  running: boolean;
  lastStartedAt: string | null;
  lastDurationMs: number | null;
  lastSuccessAt: string | null;
  lastError: string | null;
  runs: number;
  overlaps: number;
}

const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toJobDto(s: JobStatus): JobDto {
  return {
    ...s,
    lastStartedAt: isoOrNull(s.lastStartedAt),
    lastSuccessAt: isoOrNull(s.lastSuccessAt),
  };
}
