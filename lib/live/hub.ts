/**
 * Server-sent events for the browser: a full snapshot when a client subscribes,
 * then at most one delta per interval holding only the devices that changed
 * (coalesced: a device that changed 50 times in 250 ms is sent once), and a
 * heartbeat comment so proxies and the browser keep the connection open.
 *
 * A stream whose reader stops reading is shed, never buffered without end:
 * once its queue is past the stream's high-water mark it must drain within
 * SLOW_READER_MS (30 s; the heartbeat guarantees a check at least every
 * 15 s), and it may never hold more than MAX_BACKLOG_BYTES. A browser that
 * was shed reconnects by itself and gets a fresh snapshot.
 */
import type { DeltaMessage, DeviceDto, HealthDto, SnapshotMessage, StatusCounts } from "../api/dto";
import type { AlertFeedMessage } from "../alerts/dto";

export interface HubSource {
  snapshotDevices(): DeviceDto[];
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
}

interface Subscriber {
  controller: ReadableStreamDefaultController<Uint8Array>;
  closed: boolean;
  /** Since when its queue has been past the high-water mark (the reader is not keeping up), or null. */
  behindSince: number | null;
  alertsOnly?: boolean;
  owner?: string;
}

const encoder = new TextEncoder();
/** A browser this far behind is dropped; it reconnects and gets a fresh snapshot. */
const MAX_BACKLOG_BYTES = 16 * 1024 * 1024;
/** A stream that has not caught up with its queue for this long is dropped. */
export const SLOW_READER_MS = 30_000;

export function sseEvent(event: string, data: unknown): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

export class LiveHub {
  private subscribers = new Set<Subscriber>();
  /** Open streams per owner. */
  private readonly owners = new Map<string, number>();
  /** Subscribers that want device deltas (not alertsOnly). */
  private fleetSubscribers = 0;
  private dirty = new Set<string>();
  /** Devices the fleet forgot since the last delta: sent as `removed`. */
  private removed = new Set<string>();
  private lastHealth = "";
  private alertsDirty = false;
  private batchTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly source: HubSource,
    private readonly opts: { batchMs?: number; heartbeatMs?: number; now?: () => number } = {},
  ) {}

  start(): void {
    this.batchTimer ??= setInterval(() => this.publish(), this.opts.batchMs ?? 250);
    // A named event (not just a comment) so the browser can tell a stalled stream from a quiet one.
    this.heartbeatTimer ??= setInterval(
      () => this.broadcast(sseEvent("heartbeat", { serverTime: new Date().toISOString() })),
      this.opts.heartbeatMs ?? 15_000,
    );
    this.batchTimer.unref?.();
    this.heartbeatTimer.unref?.();
  }

  stop(): void {
    if (this.batchTimer) clearInterval(this.batchTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.batchTimer = this.heartbeatTimer = null;
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

  markChanged(ids: Iterable<string>): void {
    // With nobody watching the fleet there is nothing to remember: a subscriber starts from a snapshot.
    if (this.fleetSubscribers === 0) return;
    for (const id of ids) this.dirty.add(id);
  }

  /** Devices the fleet forgot: the next delta tells open tabs to drop them. */
  markRemoved(ids: Iterable<string>): void {
    if (this.fleetSubscribers === 0) return;
    for (const id of ids) {
      this.removed.add(id);
      this.dirty.delete(id);
    }
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
          sub = {
            controller,
            closed: false,
            behindSince: null,
            alertsOnly: opts.only === "alerts",
            owner: opts.owner,
          };
          this.subscribers.add(sub);
          if (opts.owner !== undefined) this.owners.set(opts.owner, (this.owners.get(opts.owner) ?? 0) + 1);
          if (!sub.alertsOnly) this.fleetSubscribers++;
          const alerts = this.source.alerts?.() ?? null;
          if (sub.alertsOnly) {
            controller.enqueue(encoder.encode("retry: 2000\n\n"));
            if (alerts) controller.enqueue(sseEvent("alerts", alerts));
            signal?.addEventListener("abort", () => this.close(sub), { once: true });
            return;
          }
          const snapshot: SnapshotMessage = {
            serverTime: new Date().toISOString(),
            devices: this.source.snapshotDevices(),
            counts: this.source.counts(),
            health: this.source.health(),
          };
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

  /** Sends the pending delta now (also what the interval calls). */
  publish(): void {
    this.publishAlerts();
    if (this.fleetSubscribers === 0) {
      // No DTOs for nobody: at fleet scale that was a DTO per changed device every interval.
      this.dirty.clear();
      return;
    }
    const health = this.source.health();
    const healthJson = JSON.stringify(health);
    if (!this.dirty.size && !this.removed.size && healthJson === this.lastHealth) return;
    this.lastHealth = healthJson;
    const devices: DeviceDto[] = [];
    for (const id of this.dirty) {
      const d = this.source.device(id);
      if (d) devices.push(d);
    }
    this.dirty.clear();
    const removed = [...this.removed];
    this.removed.clear();
    const delta: DeltaMessage = {
      serverTime: new Date().toISOString(),
      devices,
      ...(removed.length > 0 && { removed }),
      counts: this.source.counts(),
      health,
    };
    this.broadcast(sseEvent("delta", delta), (s) => !s.alertsOnly);
  }

  private publishAlerts(): void {
    if (!this.alertsDirty) return;
    this.alertsDirty = false;
    const feed = this.source.alerts?.() ?? null;
    if (feed && this.subscribers.size) this.broadcast(sseEvent("alerts", feed));
  }

  private broadcast(chunk: Uint8Array, to: (s: Subscriber) => boolean = () => true): void {
    const now = (this.opts.now ?? Date.now)();
    for (const s of this.subscribers) {
      if (s.closed || !to(s)) continue;
      try {
        const desired = s.controller.desiredSize ?? 0;
        if (desired >= 0) s.behindSince = null;
        else s.behindSince ??= now;
        if (desired < -MAX_BACKLOG_BYTES || (s.behindSince !== null && now - s.behindSince >= SLOW_READER_MS)) {
          this.close(s);
          continue;
        }
        s.controller.enqueue(chunk);
      } catch {
        this.close(s);
      }
    }
  }

  private close(s: Subscriber | undefined): void {
    if (!s || s.closed) return;
    s.closed = true;
    if (this.subscribers.delete(s)) {
      if (!s.alertsOnly) this.fleetSubscribers--;
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
