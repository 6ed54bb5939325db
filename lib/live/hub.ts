/**
 * Server-sent events for the browser. A fleet stream watches a window of one
 * view (filter, search, tag, sort; lib/live/views.ts): it gets that window as
 * a snapshot when it subscribes, then at most one delta per interval holding
 * the window's devices that changed or entered it (coalesced: a device that
 * changed 50 times in 250 ms is sent once), the window's ids when they moved,
 * and the fleet's counts. Nothing about devices outside the window is sent, so
 * a tab costs the same at 1,000 devices and at a million. A device stream
 * (the device page) follows one device instead: its state when it changes
 * and its activity points (`activity` events) as they happen. A named
 * heartbeat keeps proxies and the browser's stall detection content.
 *
 * A stream whose reader stops reading is shed, never buffered without end:
 * once its queue is past the stream's high-water mark it must drain within
 * SLOW_READER_MS (30 s; the heartbeat guarantees a check at least every
 * 15 s), and it may never hold more than MAX_BACKLOG_BYTES. A browser that
 * was shed reconnects by itself and gets a fresh snapshot.
 */
import type {
  ActivityEventMessage,
  DeltaMessage,
  DeviceDto,
  DeviceEventMessage,
  HealthDto,
  SnapshotMessage,
  StatusCounts,
  WindowDto,
} from "../api/dto";
import type { ActivityPoint } from "../activity/points";
import type { AlertFeedMessage } from "../alerts/dto";
import { DEFAULT_VIEW, type FleetViews, type ViewQuery } from "./views";
import { JobRegistry } from "../jobs/registry";

export interface HubSource {
  /** The server-side views the windows are read from. */
  views: FleetViews;
  device(id: string): DeviceDto | null;
  counts(): StatusCounts;
  health(): HealthDto;
  /** The alert feed (SSE `alerts` event), when alerting runs. */
  alerts?(): AlertFeedMessage | null;
}

/** What a subscriber asked for: everything (the fleet page), or only the alert feed (the nav badge). */
export interface SubscribeOptions {
  only?: "alerts";
  /** Who holds the stream (a user or token name): counted for the per-user limit, closed on revocation. */
  owner?: string;
  /** The window of the fleet the stream shows (default: the first rows of the default view). */
  window?: WindowRequest;
  /** One device instead of the fleet (the device page): its state and its activity points as they happen. */
  device?: string;
}

export interface WindowRequest {
  query: ViewQuery;
  offset: number;
  limit: number;
}

export const DEFAULT_WINDOW: WindowRequest = { query: DEFAULT_VIEW, offset: 0, limit: 200 };

interface Subscriber {
  controller: ReadableStreamDefaultController<Uint8Array>;
  closed: boolean;
  /** Since when its queue has been past the high-water mark (the reader is not keeping up), or null. */
  behindSince: number | null;
  alertsOnly?: boolean;
  owner?: string;
  window: WindowRequest;
  /** The device a device stream follows. */
  device?: string;
  /** Its activity points not sent yet. */
  points: ActivityPoint[];
  /** The window as last sent. */
  sent: WindowDto;
  sentIds: Set<string>;
}

const encoder = new TextEncoder();
/** The hub's names among the background jobs. */
export const PUBLISH_JOB = "live-publish";
export const HEARTBEAT_JOB = "live-heartbeat";
/** A browser this far behind is dropped; it reconnects and gets a fresh snapshot. */
const MAX_BACKLOG_BYTES = 16 * 1024 * 1024;
/** Activity points one device stream gets per batch at most (a device publishing thousands a second). */
export const MAX_POINTS_PER_BATCH = 1_000;
/** A stream that has not caught up with its queue for this long is dropped. */
export const SLOW_READER_MS = 30_000;

export function sseEvent(event: string, data: unknown): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

export class LiveHub {
  private subscribers = new Set<Subscriber>();
  /** Open streams per owner. */
  private readonly owners = new Map<string, number>();
  /** Subscribers that want fleet deltas (neither alertsOnly nor a device stream). */
  private fleetSubscribers = 0;
  /** Device streams by the device they follow. */
  private readonly watched = new Map<string, Set<Subscriber>>();
  private dirty = new Set<string>();
  private lastHealth = "";
  private lastCounts = "";
  private alertsDirty = false;
  /** When the alert feed may be built again (see publishAlerts). */
  private alertsNextAt = -Infinity;
  private readonly jobs: JobRegistry;

  constructor(
    private readonly source: HubSource,
    private readonly opts: {
      batchMs?: number;
      heartbeatMs?: number;
      now?: () => number;
      /** Where the batches and heartbeats run (lib/jobs/registry.ts); its own when not given. */
      jobs?: JobRegistry;
    } = {},
  ) {
    this.jobs = opts.jobs ?? new JobRegistry();
  }

  start(): void {
    if (this.jobs.has(PUBLISH_JOB)) return;
    this.jobs.register({ name: PUBLISH_JOB, intervalMs: this.opts.batchMs ?? 250, run: () => this.publish() });
    // A named event (not just a comment) so the browser can tell a stalled stream from a quiet one.
    this.jobs.register({
      name: HEARTBEAT_JOB,
      intervalMs: this.opts.heartbeatMs ?? 15_000,
      run: () => this.broadcast(sseEvent("heartbeat", { serverTime: new Date().toISOString() })),
    });
  }

  stop(): void {
    void this.jobs.stop(PUBLISH_JOB);
    void this.jobs.stop(HEARTBEAT_JOB);
    for (const s of this.subscribers) this.close(s);
  }

  /** Streams open for this owner. */
  streamsOf(owner: string): number {
    return this.owners.get(owner) ?? 0;
  }

  /** Ends every stream of this owner (its token was revoked, its user deleted). */
  closeOwner(owner: string): void {
    for (const s of [...this.subscribers]) if (s.owner === owner) this.close(s);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Devices that changed or were forgotten: views follow, and windows and device streams showing them get them. */
  markChanged(ids: Iterable<string>): void {
    // With no view kept and nobody watching there is nothing to remember: a subscriber starts from a snapshot.
    if (this.fleetSubscribers === 0 && this.watched.size === 0 && !this.source.views.active) return;
    for (const id of ids) this.dirty.add(id);
  }

  /**
   * Activity points as they happen: the device streams of their devices get
   * them with the next batch (the newest MAX_POINTS_PER_BATCH of a device
   * that floods; a refetch of the timeline shows what was left out).
   */
  markActivity(points: readonly ActivityPoint[]): void {
    if (this.watched.size === 0) return;
    for (const p of points) {
      const subs = this.watched.get(p.deviceId);
      if (!subs) continue;
      for (const s of subs) {
        s.points.push(p);
        if (s.points.length > 2 * MAX_POINTS_PER_BATCH) s.points = s.points.slice(-MAX_POINTS_PER_BATCH);
      }
    }
  }

  /** Whether any device stream is open (activity is worth collecting). */
  get watching(): boolean {
    return this.watched.size > 0;
  }

  /** The alert feed changed: an `alerts` event goes out with the next batch. */
  markAlertsChanged(): void {
    this.alertsDirty = true;
  }

  /**
   * A new SSE stream; `signal` (the request's) ends it when the browser goes away.
   * Every stream gets `alerts` events (the current feed right after subscribing,
   * then on change); `only: "alerts"` leaves out the fleet snapshot and deltas.
   */
  subscribe(signal?: AbortSignal, opts: SubscribeOptions = {}): ReadableStream<Uint8Array> {
    let sub: Subscriber;
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          const window = opts.window ?? DEFAULT_WINDOW;
          sub = {
            controller,
            closed: false,
            behindSince: null,
            alertsOnly: opts.only === "alerts",
            owner: opts.owner,
            window,
            device: opts.device,
            points: [],
            sent: { offset: 0, total: 0, ids: [] },
            sentIds: new Set(),
          };
          this.subscribers.add(sub);
          if (opts.owner !== undefined) this.owners.set(opts.owner, (this.owners.get(opts.owner) ?? 0) + 1);
          const alerts = this.source.alerts?.() ?? null;
          if (sub.device !== undefined) {
            const subs = this.watched.get(sub.device) ?? new Set();
            subs.add(sub);
            this.watched.set(sub.device, subs);
            controller.enqueue(encoder.encode("retry: 2000\n\n"));
            controller.enqueue(sseEvent("device", this.deviceEvent(sub.device)));
            if (alerts) controller.enqueue(sseEvent("alerts", alerts));
            signal?.addEventListener("abort", () => this.close(sub), { once: true });
            return;
          }
          if (!sub.alertsOnly) this.fleetSubscribers++;
          if (sub.alertsOnly) {
            controller.enqueue(encoder.encode("retry: 2000\n\n"));
            if (alerts) controller.enqueue(sseEvent("alerts", alerts));
            signal?.addEventListener("abort", () => this.close(sub), { once: true });
            return;
          }
          const snapshot = this.snapshot(window);
          sub.sent = snapshot.window;
          sub.sentIds = new Set(snapshot.window.ids);
          controller.enqueue(encoder.encode("retry: 2000\n\n"));
          controller.enqueue(sseEvent("snapshot", snapshot));
          if (alerts) controller.enqueue(sseEvent("alerts", alerts));
          signal?.addEventListener("abort", () => this.close(sub), { once: true });
        },
        cancel: () => this.close(sub),
      },
      { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
    );
  }

  /** The views with the changes not yet published in them: what a read must see. */
  currentViews(): FleetViews {
    this.source.views.update(this.dirty);
    return this.source.views;
  }

  /** A window as a stream's first message has it (also what the fleet page is first rendered with). */
  snapshot(window: WindowRequest = DEFAULT_WINDOW): SnapshotMessage {
    const w = this.currentViews().window(window.query, window.offset, window.limit);
    return {
      serverTime: new Date().toISOString(),
      window: w,
      devices: this.dtos(w.ids),
      counts: this.source.counts(),
      health: this.source.health(),
    };
  }

  /** Sends the pending deltas now (also what the interval calls). */
  publish(): void {
    this.publishAlerts();
    const { views } = this.source;
    views.update(this.dirty);
    views.prune();
    this.publishDevices();
    if (this.fleetSubscribers === 0) {
      // No DTOs for nobody: at fleet scale that was a DTO per changed device every interval.
      this.dirty.clear();
      return;
    }
    const health = this.source.health();
    const healthJson = JSON.stringify(health);
    const counts = this.source.counts();
    const countsJson = JSON.stringify(counts);
    const fresh = healthJson !== this.lastHealth || countsJson !== this.lastCounts;
    this.lastHealth = healthJson;
    this.lastCounts = countsJson;
    const serverTime = new Date().toISOString();
    for (const s of this.subscribers) {
      if (s.closed || s.alertsOnly || s.device !== undefined) continue;
      const { query, offset, limit } = s.window;
      const w = views.window(query, offset, limit);
      const moved = w.offset !== s.sent.offset || w.total !== s.sent.total || !sameIds(w.ids, s.sent.ids);
      const changed = w.ids.filter((id) => this.dirty.has(id) || !s.sentIds.has(id));
      if (!moved && changed.length === 0 && !fresh) continue;
      if (moved) {
        s.sent = w;
        s.sentIds = new Set(w.ids);
      }
      const delta: DeltaMessage = {
        serverTime,
        ...(moved && { window: w }),
        devices: this.dtos(changed),
        counts,
        health,
      };
      this.send(s, sseEvent("delta", delta));
    }
    this.dirty.clear();
  }

  /** Device streams: the device when it changed, and the points it made since the last batch. */
  private publishDevices(): void {
    if (this.watched.size === 0) return;
    const serverTime = new Date().toISOString();
    for (const [id, subs] of this.watched) {
      const changed = this.dirty.has(id) ? sseEvent("device", this.deviceEvent(id)) : null;
      for (const s of subs) {
        if (changed) this.send(s, changed);
        if (s.points.length === 0) continue;
        const msg: ActivityEventMessage = {
          serverTime,
          points: s.points.slice(-MAX_POINTS_PER_BATCH).map((p) => ({
            at: new Date(p.at).toISOString(),
            kind: p.kind,
            ...(p.kind === "disconnect" && { reason: p.reason }),
          })),
        };
        s.points = [];
        this.send(s, sseEvent("activity", msg));
      }
    }
  }

  private deviceEvent(id: string): DeviceEventMessage {
    return { serverTime: new Date().toISOString(), device: this.source.device(id) };
  }

  private dtos(ids: readonly string[]): DeviceDto[] {
    const out: DeviceDto[] = [];
    for (const id of ids) {
      const d = this.source.device(id);
      if (d) out.push(d);
    }
    return out;
  }

  /**
   * The alert feed, once per batch while it changes. Building it walks every
   * firing alert (the newest FEED_LIMIT of them are sent): in a mass outage
   * of a large fleet that is hundreds of thousands, so the next build waits
   * 20 times as long as this one took, keeping it under 5 % of the time.
   */
  private publishAlerts(): void {
    if (!this.alertsDirty || this.subscribers.size === 0) return;
    const now = this.opts.now ?? Date.now;
    const started = now();
    if (started < this.alertsNextAt) return;
    this.alertsDirty = false;
    const feed = this.source.alerts?.() ?? null;
    this.alertsNextAt = started + (now() - started) * 20;
    if (feed) this.broadcast(sseEvent("alerts", feed));
  }

  private broadcast(chunk: Uint8Array): void {
    for (const s of this.subscribers) this.send(s, chunk);
  }

  /** Queues a message, or sheds a stream whose reader stopped reading. */
  private send(s: Subscriber, chunk: Uint8Array): void {
    if (s.closed) return;
    const now = (this.opts.now ?? Date.now)();
    try {
      const desired = s.controller.desiredSize ?? 0;
      if (desired >= 0) s.behindSince = null;
      else s.behindSince ??= now;
      if (desired < -MAX_BACKLOG_BYTES || (s.behindSince !== null && now - s.behindSince >= SLOW_READER_MS)) {
        this.close(s);
        return;
      }
      s.controller.enqueue(chunk);
    } catch {
      this.close(s);
    }
  }

  private close(s: Subscriber | undefined): void {
    if (!s || s.closed) return;
    s.closed = true;
    if (this.subscribers.delete(s)) {
      if (s.device !== undefined) {
        const subs = this.watched.get(s.device);
        subs?.delete(s);
        if (subs?.size === 0) this.watched.delete(s.device);
      } else if (!s.alertsOnly) this.fleetSubscribers--;
      if (s.owner !== undefined) {
        const n = (this.owners.get(s.owner) ?? 1) - 1;
        if (n > 0) this.owners.set(s.owner, n);
        else this.owners.delete(s.owner);
      }
    }
    try {
      s.controller.close();
    } catch {
      // already closed by the runtime
    }
  }
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
