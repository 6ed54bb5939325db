/**
 * Sends the outbox (lib/store/notifications.ts): claims due notifications,
 * sends each channel's share, records the outcome.
 *
 *   alert write ─(same transaction)─► notifications (pending)
 *        ▲ wake()                          │ claimDue: FOR UPDATE SKIP LOCKED, leased
 *        └──────── Dispatcher loop ◄───────┘
 *                    │ one message per notification, or one digest per rate-limited channel
 *                    ▼
 *              channel type (lib/notify/channels/*) ─► settle: sent | retry later | dead + delivery log
 *
 * - Delivery is at least once: every attempt carries the event's id as its
 *   Idempotency-Key (a digest: an id derived from its events'), so a
 *   receiver can drop the duplicate that a crash between sending and
 *   recording causes.
 * - Rate limits: a channel with a limit sends at most one message per
 *   interval (60 / rate s); whatever fell due meanwhile goes out as one
 *   digest ("12 fired, 3 resolved: …"), never dropped.
 * - Retries: exponential backoff with jitter (50–100 % of
 *   min(max, base × 2^(attempt−1))), up to `maxAttempts`; then the
 *   notification is dead-lettered (visible in the delivery log, "retry now").
 *   A refused destination or an answer that cannot change (4xx) is dead at
 *   once.
 * - Several processes may run dispatchers on one database: the claim is
 *   exclusive, and a process that dies mid-send lets its rows fall due again
 *   after the lease.
 * - Stop: waits for requests in flight (bounded), then hands back what it
 *   claimed but did not send, so the next start sends it at once.
 */
import { JobRegistry } from "../jobs/registry";
import { createHash } from "node:crypto";
import { backoffDelay } from "../backoff";
import type { Db } from "../store/db";
import type { Fence } from "../store/cluster";
import {
  claimDue,
  logDirectAttempt,
  outboxStats,
  pruneSent,
  releaseClaims,
  settle,
  type ChannelRecord,
  type ClaimedChannel,
  type ClaimedNotification,
  type OutboxStats,
  type Settlement,
} from "../store/notifications";
import { allowedAddress, createEgress, EMPTY_ALLOW_LIST, type AllowList, type Egress } from "../alerts/egress";
import { channelType } from "./channels";
import { describeError } from "./channels/http";
import type { SendContext, SendOutcome } from "./channels/types";
import type { Digest, Message, NotificationEvent } from "./events";

export interface DispatcherOptions {
  db(): Db | null;
  log(message: string): void;
  /** Destinations allowed although in the monitor's own network (KEEPWATCH_WEBHOOK_ALLOW, parsed). */
  allow?: AllowList;
  /** Replaces the egress guard (tests). */
  fetch?: SendContext["fetch"];
  /** With several instances, only the leader claims (lib/store/cluster.ts). */
  fence?: Fence;
  /** NOTIFY_MAX_ATTEMPTS. */
  maxAttempts?: number;
  /** First retry delay and its ceiling (ms): NOTIFY_RETRY_BASE_SECONDS, NOTIFY_RETRY_MAX_SECONDS. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** One attempt's time limit (ms). */
  timeoutMs?: number;
  /** How long a claim keeps rows from others (ms); must exceed timeoutMs. NOTIFY_LEASE_SECONDS. */
  leaseMs?: number;
  /** How often the outbox is looked at when nothing wakes the dispatcher (ms). */
  pollMs?: number;
  /** Where its polling runs (lib/jobs/registry.ts, job `notification-outbox`); its own when not given. */
  jobs?: JobRegistry;
  /** Messages in flight at once. */
  concurrency?: number;
  /** Sent notifications are kept this long (ms), then forgotten (the delivery log stays). */
  keepSentMs?: number;
  random?: () => number;
  userAgent?: string;
}

export interface AttemptResult extends SendOutcome {
  durationMs: number;
}

/** The dispatcher's name among the background jobs. */
export const OUTBOX_JOB = "notification-outbox";

const DEFAULTS = {
  maxAttempts: 8,
  baseDelayMs: 30_000,
  maxDelayMs: 1_920_000,
  timeoutMs: 10_000,
  leaseMs: 60_000,
  pollMs: 1_000,
  concurrency: 8,
  keepSentMs: 7 * 86_400_000,
};

/** The messages per minute a channel may send: its own limit, or its type's default (null: none). */
export function rateOf(channel: Pick<ChannelRecord, "type" | "ratePerMinute">): number | null {
  if (channel.ratePerMinute !== null) return channel.ratePerMinute;
  return channelType(channel.type)?.defaultRatePerMinute ?? null;
}

/** A digest's id: the same events give the same id, so a resend after a crash is recognisable. */
export function digestId(events: readonly Pick<NotificationEvent, "id">[]): string {
  const h = createHash("sha256");
  for (const id of events.map((e) => e.id).sort()) h.update(id).update("\n");
  return `dig_${h.digest("hex").slice(0, 32)}`;
}

export class Dispatcher {
  private readonly o: typeof DEFAULTS & DispatcherOptions;
  private readonly egress: Egress | null;
  private readonly fetch: SendContext["fetch"];
  private readonly inFlight = new Set<AbortController>();
  private readonly jobs: JobRegistry;
  /** Whether this dispatcher registered its job (a registry may outlive several dispatchers, one at a time). */
  private started = false;
  private stopped = false;
  private lastStats = 0;
  private lastPrune = 0;
  /** Claimed and not yet settled (handed back on stop). */
  private readonly held = new Set<string>();
  stats: OutboxStats = { pending: 0, dead: 0, oldestPendingSeconds: null };
  /** Attempts since start by channel type and outcome (ok, failed, dead): `keepwatch_notifications_total`. */
  readonly outcomes = new Map<string, { type: string; outcome: "ok" | "failed" | "dead"; n: number }>();
  lastError: string | null = null;

  constructor(opts: DispatcherOptions) {
    this.o = { ...DEFAULTS, ...opts };
    this.egress = opts.fetch ? null : createEgress({ allow: opts.allow ?? EMPTY_ALLOW_LIST });
    this.fetch = opts.fetch ?? this.egress!.fetch;
    this.jobs = opts.jobs ?? new JobRegistry();
  }

  /** Looks at the outbox now, then every pollMs and whenever woken. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopped = false;
    this.jobs.register({ name: OUTBOX_JOB, intervalMs: this.o.pollMs, immediate: true, run: () => this.round() });
  }

  /** Something was just written to the outbox: look now rather than at the next poll (or again right after this one). */
  wake(): void {
    if (this.started && !this.stopped) this.jobs.trigger(OUTBOX_JOB);
  }

  async stop(graceMs = 5_000): Promise<void> {
    this.stopped = true;
    const timer = setTimeout(() => {
      for (const c of this.inFlight) c.abort(new Error("keepwatch is stopping"));
    }, graceMs);
    timer.unref?.();
    if (this.started) await this.jobs.stop(OUTBOX_JOB);
    this.started = false;
    clearTimeout(timer);
    const db = this.o.db();
    if (db && this.held.size > 0) await releaseClaims(db, [...this.held]).catch(() => undefined);
    this.held.clear();
    await this.egress?.close().catch(() => undefined);
  }

  /**
   * Rounds until the outbox has nothing due. An error is said once per outage
   * (and again if the reason changes), not at every poll, and rethrown for
   * the job's figures.
   */
  private async round(): Promise<void> {
    while (!this.stopped) {
      let busy: boolean;
      try {
        busy = await this.once();
        if (this.lastError !== null) this.o.log("notifications: outbox read again");
        this.lastError = null;
      } catch (e) {
        const error = describeError(e);
        if (error !== this.lastError) this.o.log(`notifications: outbox not read (${error.split("\n").at(-1)})`);
        this.lastError = error;
        throw e;
      }
      if (!busy) return;
    }
  }

  /** One round: claim, send, settle. True when there was something to send. */
  async once(): Promise<boolean> {
    const db = this.o.db();
    if (!db) return false;
    const claimed = await claimDue(db, {
      rateOf,
      leaseMs: this.o.leaseMs,
      perChannel: 50,
      perDigest: 500,
      channels: 50,
      fence: this.o.fence,
    });
    for (const c of claimed) for (const n of c.notifications) this.held.add(n.id);
    const jobs: Array<() => Promise<Settlement[]>> = [];
    for (const c of claimed) {
      if (rateOf(c.channel) !== null && c.notifications.length > 1) jobs.push(() => this.sendDigest(c));
      else for (const n of c.notifications) jobs.push(() => this.sendOne(c.channel, n));
    }
    const settlements = (await runLimited(jobs, this.o.concurrency)).flat();
    if (settlements.length > 0) {
      await settle(db, settlements);
      for (const s of settlements) this.held.delete(s.notificationId);
    }
    await this.housekeeping(db);
    return claimed.length > 0;
  }

  private async housekeeping(db: Db): Promise<void> {
    const now = Date.now();
    if (now - this.lastStats < 5_000) return;
    this.lastStats = now;
    this.stats = await outboxStats(db);
    if (now - this.lastPrune < Math.min(3_600_000, this.o.keepSentMs)) return;
    this.lastPrune = now;
    await pruneSent(db, this.o.keepSentMs);
  }

  private async sendOne(channel: ChannelRecord, n: ClaimedNotification): Promise<Settlement[]> {
    const event = n.payload as NotificationEvent;
    const result = await this.attempt(channel, { kind: "event", event });
    return [this.settlement(channel, n, result, false)];
  }

  private async sendDigest(c: ClaimedChannel): Promise<Settlement[]> {
    const events = c.notifications.map((n) => n.payload as NotificationEvent);
    const digest: Digest = { id: digestId(events), events };
    const result = await this.attempt(c.channel, { kind: "digest", digest });
    return c.notifications.map((n) => this.settlement(c.channel, n, result, true));
  }

  private settlement(channel: ChannelRecord, n: ClaimedNotification, r: AttemptResult, digest: boolean): Settlement {
    const dead = !r.ok && (!r.retryable || n.attempts >= this.o.maxAttempts);
    this.count(channel.type, r.ok ? "ok" : dead ? "dead" : "failed");
    return {
      notificationId: n.id,
      outcome: r.ok ? "sent" : dead ? "dead" : "retry",
      retryInMs:
        r.ok || dead
          ? 0
          : backoffDelay(
              n.attempts - 1,
              { initialMs: this.o.baseDelayMs, maxMs: this.o.maxDelayMs },
              this.o.random ?? Math.random,
            ),
      error: r.error,
      log: {
        alertId: n.alertId,
        incidentId: n.incidentId,
        channelId: channel.id,
        event: n.event,
        url: target(channel),
        attempt: n.attempts,
        ok: r.ok,
        statusCode: r.statusCode,
        durationMs: r.durationMs,
        digest,
      },
    };
  }

  private count(type: string, outcome: "ok" | "failed" | "dead"): void {
    const key = `${type}\u0000${outcome}`;
    const c = this.outcomes.get(key);
    if (c) c.n++;
    else this.outcomes.set(key, { type, outcome, n: 1 });
  }

  /** One attempt on one channel, timed and bounded; never throws. */
  async attempt(channel: ChannelRecord, message: Message): Promise<AttemptResult> {
    const started = performance.now();
    const type = channelType(channel.type);
    if (!type)
      return {
        ok: false,
        statusCode: null,
        error: `unknown channel type ${channel.type}`,
        retryable: false,
        durationMs: 0,
      };
    const parsed = type.schema.safeParse(channel.config);
    if (!parsed.success)
      return {
        ok: false,
        statusCode: null,
        error: `channel settings are not valid: ${parsed.error.issues[0]?.message ?? "?"}`,
        retryable: false,
        durationMs: 0,
      };
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timer = setTimeout(
      () => controller.abort(new Error(`timed out after ${this.o.timeoutMs} ms`)),
      this.o.timeoutMs,
    );
    try {
      const outcome = await type.send(parsed.data, message, {
        fetch: this.fetch,
        checkHost: (host) => allowedAddress(host, this.o.allow ?? EMPTY_ALLOW_LIST),
        signal: controller.signal,
        timeoutMs: this.o.timeoutMs,
        userAgent: this.o.userAgent ?? "keepwatch-alerts",
      });
      return { ...outcome, durationMs: performance.now() - started };
    } catch (e) {
      return {
        ok: false,
        statusCode: null,
        error: describeError(e),
        retryable: true,
        durationMs: performance.now() - started,
      };
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
  }

  /**
   * Sends an event now, outside the outbox, and logs the attempt when the
   * database is there: a channel's test, or a notification that cannot wait
   * for the database (its own outage).
   */
  async sendDirect(channel: ChannelRecord, event: NotificationEvent): Promise<AttemptResult> {
    const r = await this.attempt(channel, { kind: "event", event });
    this.count(channel.type, r.ok ? "ok" : "failed");
    const db = this.o.db();
    if (db)
      await logDirectAttempt(db, {
        alertId: event.alert?.id || null,
        incidentId: event.incident?.id ?? null,
        channelId: channel.id,
        event: event.event,
        url: target(channel),
        attempt: 1,
        ok: r.ok,
        statusCode: r.statusCode,
        durationMs: r.durationMs,
        digest: false,
        error: r.error,
        final: true,
      }).catch((e: unknown) => this.o.log(`notifications: delivery log not written (${describeError(e)})`));
    return r;
  }
}

/** Where a channel sends, as the delivery log shows it (secrets masked). */
export function target(channel: ChannelRecord): string {
  const type = channelType(channel.type);
  if (!type) return channel.type;
  try {
    const masked = type.mask(channel.config as never);
    const where = masked.url ?? masked.server ?? masked.apiBase ?? masked.host ?? null;
    const extra = masked.topic ?? masked.chatId ?? masked.to ?? null;
    return [channel.type, where, extra]
      .filter((x) => x !== null && x !== undefined)
      .join(" ")
      .slice(0, 300);
  } catch {
    return channel.type;
  }
}

async function runLimited<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return out;
}
