/**
 * Webhook delivery: a JSON POST per alert event (fired, resolved, repeat),
 * off the ingest path.
 *
 * - `enqueue` never blocks and never throws: the caller (the alert service,
 *   after the alert is durable) moves on at once;
 * - each attempt is cut off after `timeoutMs` (AbortController);
 * - a failed attempt (network error, timeout, non-2xx) is retried up to
 *   `maxAttempts` in all, after exponential backoff with jitter:
 *   50–100 % of min(maxDelayMs, baseDelayMs × 2^(attempt−1));
 * - at most `concurrency` requests are in flight; at most `maxQueue`
 *   deliveries wait (queued or backing off): past that the oldest waiting one
 *   is dropped and reported, so a dead endpoint cannot eat memory;
 * - every attempt is reported to `record` (the delivery log);
 * - requests go through the egress guard (lib/alerts/egress.ts) built from
 *   `allow` unless a `fetch` is given: a destination in the monitor's own
 *   network is refused (before connecting, or at connect time for a name),
 *   and a redirect is never followed (a 3xx is a failed attempt, retried
 *   like any other non-2xx answer). A refused destination is not retried:
 *   the attempt is final at once, so an internal address is not probed again
 *   on every backoff.
 */
import type { AlertDto, IncidentDto } from "./dto";
import { createEgress, EgressRefusedError, EMPTY_ALLOW_LIST, type AllowList, type Egress } from "./egress";

export type WebhookEvent =
  "fired" | "resolved" | "repeat" | "incident_opened" | "incident_update" | "incident_resolved";

/** One notification: about an alert (device or system), or about an incident (`alert` null). */
export interface WebhookPayload {
  event: WebhookEvent;
  alert: AlertDto | null;
  incident?: IncidentDto | null;
  /** Why it resolved, for `resolved`. */
  note?: string | null;
  rule: { id: number; name: string } | null;
  sentAt?: string;
}

export interface Delivery {
  url: string;
  payload: WebhookPayload;
}

export interface DeliveryAttempt {
  alertId: string | null;
  incidentId: string | null;
  event: WebhookEvent;
  url: string;
  attempt: number;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  at: number;
  /** No further attempt will be made (success, or attempts used up, or dropped). */
  final: boolean;
}

export interface NotifierOptions {
  record(attempt: DeliveryAttempt): void;
  /** Sends a request; default: the egress guard's fetch built from `allow`. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Destinations allowed although in the monitor's own network (KEEPWATCH_WEBHOOK_ALLOW, parsed). */
  allow?: AllowList;
  timeoutMs?: number;
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  maxQueue?: number;
  concurrency?: number;
  random?: () => number;
  userAgent?: string;
}

interface Job {
  delivery: Delivery;
  attempt: number;
  timer: ReturnType<typeof setTimeout> | null;
}

export function backoffDelay(attempt: number, base: number, max: number, random: () => number): number {
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (0.5 + random() / 2));
}

export class WebhookNotifier {
  private readonly ready: Job[] = [];
  private readonly waiting = new Set<Job>();
  private readonly inFlight = new Set<AbortController>();
  private active = 0;
  private stopped = false;
  private pumpScheduled = false;
  private idleResolvers: Array<() => void> = [];
  dropped = 0;
  /** The guard this notifier made for itself (none when `fetch` was given). */
  private readonly egress: Egress | null;
  private readonly send: (url: string, init: RequestInit) => Promise<Response>;

  constructor(private readonly opts: NotifierOptions) {
    this.egress = opts.fetch ? null : createEgress({ allow: opts.allow ?? EMPTY_ALLOW_LIST });
    this.send = opts.fetch ?? this.egress!.fetch;
  }

  get pending(): number {
    return this.ready.length + this.waiting.size + this.active;
  }

  enqueue(delivery: Delivery): void {
    if (this.stopped) return;
    this.makeRoom();
    this.ready.push({ delivery, attempt: 0, timer: null });
    // Requests start on a later turn: the caller (the fleet listener) never pays for setting one up.
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
  }

  /** Resolves when nothing is queued, backing off or in flight (for tests and shutdown). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleResolvers.push(resolve));
  }

  /** Stops: waits up to `graceMs` for requests in flight, then aborts them; backing-off retries are abandoned. */
  async stop(graceMs = 2_000): Promise<void> {
    this.stopped = true;
    for (const job of this.waiting) if (job.timer) clearTimeout(job.timer);
    this.waiting.clear();
    this.ready.length = 0;
    if (this.active > 0) {
      await Promise.race([this.idle(), new Promise((r) => setTimeout(r, graceMs).unref?.())]);
      for (const c of this.inFlight) c.abort();
    }
    this.settleIdle();
    await this.egress?.close().catch(() => undefined);
  }

  private makeRoom(): void {
    const max = this.opts.maxQueue ?? 1000;
    while (this.ready.length + this.waiting.size >= max) {
      const victim = this.ready.shift() ?? this.waiting.values().next().value;
      if (!victim) return;
      if (victim.timer) clearTimeout(victim.timer);
      this.waiting.delete(victim);
      this.dropped++;
      this.report(victim, {
        ok: false,
        statusCode: null,
        error: `dropped: more than ${max} deliveries waiting`,
        durationMs: 0,
        final: true,
      });
    }
  }

  private pump(): void {
    const limit = this.opts.concurrency ?? 4;
    while (!this.stopped && this.active < limit && this.ready.length > 0) {
      const job = this.ready.shift()!;
      this.active++;
      void this.attempt(job).finally(() => {
        this.active--;
        this.pump();
        this.settleIdle();
      });
    }
  }

  private async attempt(job: Job): Promise<void> {
    job.attempt++;
    const { url, payload } = job.delivery;
    const maxAttempts = this.opts.maxAttempts ?? 5;
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timeoutMs = this.opts.timeoutMs ?? 5_000;
    const timer = setTimeout(() => controller.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    const started = performance.now();
    let ok = false;
    let statusCode: number | null = null;
    let error: string | null = null;
    let refused = false;
    try {
      const res = await this.send(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": this.opts.userAgent ?? "keepwatch-alerts",
        },
        body: JSON.stringify({ ...payload, sentAt: new Date().toISOString() }),
        signal: controller.signal,
        redirect: "manual",
      });
      statusCode = res.status;
      ok = res.status >= 200 && res.status < 300;
      if (res.status >= 300 && res.status < 400)
        error = `redirect to ${(res.headers.get("location") ?? "(no Location header)").slice(0, 200)} not followed`;
      else if (!ok) error = `HTTP ${res.status}`;
      // Drain the body so the connection can be reused; its content is not needed.
      await res.arrayBuffer().catch(() => undefined);
    } catch (e) {
      refused = e instanceof EgressRefusedError;
      error = controller.signal.aborted
        ? String((controller.signal.reason as Error | undefined)?.message ?? "aborted")
        : describe(e);
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
    const durationMs = performance.now() - started;
    const final = ok || refused || job.attempt >= maxAttempts || this.stopped;
    this.report(job, { ok, statusCode, error, durationMs, final });
    if (final) return;
    const delay = backoffDelay(
      job.attempt,
      this.opts.baseDelayMs ?? 1_000,
      this.opts.maxDelayMs ?? 60_000,
      this.opts.random ?? Math.random,
    );
    this.waiting.add(job);
    job.timer = setTimeout(() => {
      job.timer = null;
      if (!this.waiting.delete(job)) return;
      this.ready.push(job);
      this.pump();
    }, delay);
    job.timer.unref?.();
  }

  private report(
    job: Job,
    r: Omit<DeliveryAttempt, "alertId" | "incidentId" | "event" | "url" | "attempt" | "at">,
  ): void {
    try {
      this.opts.record({
        alertId: job.delivery.payload.alert?.id ?? null,
        incidentId: job.delivery.payload.incident?.id ?? null,
        event: job.delivery.payload.event,
        url: job.delivery.url,
        attempt: job.attempt,
        at: Date.now(),
        ...r,
      });
    } catch {
      // the log is best effort
    }
  }

  private settleIdle(): void {
    if (this.pending > 0 && !this.stopped) return;
    const resolvers = this.idleResolvers;
    this.idleResolvers = [];
    for (const r of resolvers) r();
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `: ${cause.message}` : "";
    return `${e.message}${detail}`.slice(0, 300);
  }
  return String(e).slice(0, 300);
}
