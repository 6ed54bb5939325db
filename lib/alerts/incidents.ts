/**
 * Incidents: many devices offline for one cause become ONE notification
 * instead of one per device. Pure: no timers, no I/O; every method takes
 * `now` and returns what the caller must do (write, notify).
 *
 * A cause is one broker restart (every device that restart dropped), or one
 * disconnect reason (devices that went offline for it within the window of
 * each other: a mass disconnect).
 *
 * Grouping (the alert service feeds every offline alert that fires, with the
 * device's cause and when it dropped):
 *
 * - An offline alert joins an open incident of its cause (for a mass
 *   disconnect: dropped within `windowMs` of the incident's first drop):
 *   it carries the incident's id and never notifies on its own.
 * - Otherwise it joins its cause's forming group, and its notification is
 *   HELD while the group forms:
 *     · the group reaches `minDevices` → the incident opens: one
 *       notification, every held member joins it;
 *     · a group that still has one member `groupWaitMs` after it formed
 *       releases it: it notifies on its own, the group is gone;
 *     · a group of several that has not reached `minDevices` `windowMs` after
 *       it formed releases them all, each on its own.
 *   A held alert that resolves meanwhile (the device came back) leaves the
 *   group and never notifies at all.
 *
 * An open incident:
 * - counts a member back as soon as its device is connected again (not
 *   when its alert resolves, which waits for the rule's hysteresis);
 * - sends at most one update per `updateMs` while devices come back
 *   ("41 still offline"), and none while acknowledged;
 * - resolves when every member is back, or when nothing has changed for
 *   `windowMs` (no member joined or came back since): the ones still offline
 *   then become ordinary offline alerts and notify on their own.
 */

export interface IncidentOptions {
  /** INCIDENT_MIN_DEVICES (default 10). */
  minDevices: number;
  /** INCIDENT_WINDOW_SECONDS × 1000 (default 60 s). */
  windowMs: number;
  /** INCIDENT_UPDATE_SECONDS × 1000 (default 300 s). */
  updateMs: number;
  /** INCIDENT_GROUP_WAIT_SECONDS × 1000 (default 10 s): how long a lone offline alert waits for others. */
  groupWaitMs: number;
  newId(): string;
}

export type IncidentCause =
  | { kind: "broker_restart"; reason: string /* the restart's detection time, ISO */ }
  | { kind: "mass_disconnect"; reason: string /* the disconnect reason */ };

export interface IncidentView {
  id: string;
  state: "open" | "resolved";
  openedAt: number;
  resolvedAt: number | null;
  cause: IncidentCause;
  deviceCount: number;
  stillOffline: number;
  message: string;
  resolveMessage: string | null;
  acknowledged: boolean;
}

/** What the caller does: `key` is the alert's key (device and kind). */
export type IncidentAction =
  /** The alert waits: no notification now (it was held). */
  | { type: "hold"; key: string }
  /** These held alerts notify on their own now. */
  | { type: "release"; keys: string[]; why: string }
  /** A new incident: write it, notify once; these alerts are its members (they do not notify). */
  | { type: "open"; incident: IncidentView; keys: string[] }
  /** The alert joins an open incident silently; its counts changed (write them). */
  | { type: "join"; incident: IncidentView; key: string }
  /** Counts changed (a member came back): write them, no notification. */
  | { type: "changed"; incident: IncidentView }
  /** Notify "N still offline". */
  | { type: "update"; incident: IncidentView }
  /** The incident is over: write, notify; `keys` (members still offline) notify on their own now. */
  | { type: "resolve"; incident: IncidentView; keys: string[] };

interface Member {
  key: string;
  droppedAt: number;
}

interface Group {
  causeKey: string;
  cause: IncidentCause;
  firstDrop: number;
  formedAt: number;
  members: Map<string, Member>;
  /** What `where` holds for each member: one entry shared by all, not an object per alert. */
  entry: Where;
}

interface Open {
  view: IncidentView;
  causeKey: string;
  firstDrop: number;
  /** Members still offline (their offline alert has not resolved). */
  offline: Set<string>;
  /** Every member, back or not. */
  all: Set<string>;
  lastProgressAt: number;
  lastNotifiedAt: number;
  notifiedStillOffline: number;
  /** What `where` holds for each member (a mass outage's incident has hundreds of thousands). */
  entry: Where;
}

/** Which group or incident holds an alert. */
interface Where {
  group?: Group;
  incident?: Open;
}

export const causeKey = (c: IncidentCause) => `${c.kind}\u0000${c.reason}`;

export function describeCause(c: IncidentCause): string {
  return c.kind === "broker_restart"
    ? `broker restart at ${c.reason.slice(11, 19)} UTC`
    : `disconnect reason ${c.reason}`;
}

export class IncidentTracker {
  private readonly groups = new Map<string, Group>();
  private readonly open = new Map<string, Open>();
  /** Which group or incident holds an alert. */
  private readonly where = new Map<string, Where>();

  constructor(private readonly opts: IncidentOptions) {}

  /** Open incidents (newest first). */
  incidents(): IncidentView[] {
    return [...this.open.values()].map((o) => ({ ...o.view })).sort((a, b) => b.openedAt - a.openedAt);
  }

  incidentOf(key: string): string | null {
    return this.where.get(key)?.incident?.view.id ?? null;
  }

  /** Whether a group or an open incident holds the alert. */
  tracks(key: string): boolean {
    return this.where.has(key);
  }

  /** Whether the alert's notification is held while its group forms. */
  held(key: string): boolean {
    return this.where.get(key)?.group !== undefined;
  }

  /** Restores an incident that was open before a restart of the monitor, with its members still offline. */
  restore(view: IncidentView, offlineKeys: readonly string[], firstDrop: number, lastNotifiedAt: number): void {
    const o: Open = {
      view: { ...view },
      causeKey: causeKey(view.cause),
      firstDrop,
      offline: new Set(offlineKeys),
      all: new Set(offlineKeys),
      lastProgressAt: Math.max(view.openedAt, lastNotifiedAt),
      lastNotifiedAt,
      notifiedStillOffline: view.stillOffline,
      entry: {},
    };
    o.entry.incident = o;
    o.view.stillOffline = o.offline.size;
    this.open.set(view.id, o);
    for (const k of offlineKeys) this.where.set(k, o.entry);
  }

  setAcknowledged(id: string, acknowledged: boolean): IncidentView | null {
    const o = this.open.get(id);
    if (!o) return null;
    o.view.acknowledged = acknowledged;
    return { ...o.view };
  }

  /** An offline alert fired for a device dropped at `droppedAt` for `cause`. */
  fired(key: string, cause: IncidentCause, droppedAt: number, now: number): IncidentAction[] {
    if (this.where.has(key)) return [];
    const ck = causeKey(cause);
    for (const o of this.open.values()) {
      if (o.causeKey !== ck || o.view.state !== "open") continue;
      if (cause.kind === "mass_disconnect" && Math.abs(droppedAt - o.firstDrop) > this.opts.windowMs) continue;
      o.offline.add(key);
      o.all.add(key);
      o.view.deviceCount = o.all.size;
      o.view.stillOffline = o.offline.size;
      o.view.message = this.messageFor(cause, o.view.deviceCount);
      o.lastProgressAt = now;
      this.where.set(key, o.entry);
      return [{ type: "join", incident: { ...o.view }, key }];
    }
    let g = this.groups.get(ck);
    if (g && cause.kind === "mass_disconnect" && Math.abs(droppedAt - g.firstDrop) > this.opts.windowMs) {
      // Too far apart to be one event: the old group lets its members go, a new one forms.
      const out = this.releaseGroup(g, "no incident formed");
      g = undefined;
      return [...out, ...this.fired(key, cause, droppedAt, now)];
    }
    if (!g) {
      g = { causeKey: ck, cause, firstDrop: droppedAt, formedAt: now, members: new Map(), entry: {} };
      g.entry.group = g;
      this.groups.set(ck, g);
    }
    g.members.set(key, { key, droppedAt });
    this.where.set(key, g.entry);
    if (g.members.size >= this.opts.minDevices) return [this.openFrom(g, now)];
    return [{ type: "hold", key }];
  }

  /** The device is back (connected again), or its alert resolved, whichever comes first. */
  back(key: string, now: number): IncidentAction[] {
    const w = this.where.get(key);
    if (!w) return [];
    this.where.delete(key);
    if (w.group) {
      w.group.members.delete(key);
      if (w.group.members.size === 0) this.groups.delete(w.group.causeKey);
      return [];
    }
    const o = w.incident!;
    if (!o.offline.delete(key)) return [];
    o.view.stillOffline = o.offline.size;
    o.lastProgressAt = now;
    if (o.offline.size === 0) return [this.resolve(o, now, `all ${o.view.deviceCount} devices back`)];
    return [{ type: "changed", incident: { ...o.view } }];
  }

  /** The alert stopped being the incident's concern without the device coming back (rule changed, forgotten). */
  remove(key: string, now: number): IncidentAction[] {
    return this.back(key, now);
  }

  tick(now: number): IncidentAction[] {
    const out: IncidentAction[] = [];
    for (const g of [...this.groups.values()]) {
      if (g.members.size === 1 && now >= g.formedAt + this.opts.groupWaitMs) out.push(...this.releaseGroup(g, "alone"));
      else if (now >= g.formedAt + this.opts.windowMs) out.push(...this.releaseGroup(g, "no incident formed"));
    }
    for (const o of [...this.open.values()]) {
      if (now >= o.lastProgressAt + this.opts.windowMs) {
        out.push(
          this.resolve(
            o,
            now,
            `${o.offline.size} of ${o.view.deviceCount} still offline, none back for ${Math.round(this.opts.windowMs / 1000)} s: they alert on their own`,
          ),
        );
        continue;
      }
      if (
        now >= o.lastNotifiedAt + this.opts.updateMs &&
        o.offline.size !== o.notifiedStillOffline &&
        !o.view.acknowledged
      ) {
        o.lastNotifiedAt = now;
        o.notifiedStillOffline = o.offline.size;
        out.push({ type: "update", incident: { ...o.view } });
      }
    }
    return out;
  }

  /** The next time tick() has something to do, or null. */
  nextDeadline(): number | null {
    let next = Number.POSITIVE_INFINITY;
    for (const g of this.groups.values())
      next = Math.min(next, g.formedAt + (g.members.size === 1 ? this.opts.groupWaitMs : this.opts.windowMs));
    for (const o of this.open.values()) {
      next = Math.min(next, o.lastProgressAt + this.opts.windowMs);
      if (o.offline.size !== o.notifiedStillOffline) next = Math.min(next, o.lastNotifiedAt + this.opts.updateMs);
    }
    return Number.isFinite(next) ? next : null;
  }

  private messageFor(cause: IncidentCause, n: number): string {
    return cause.kind === "broker_restart"
      ? `${n} devices offline after ${describeCause(cause)}`
      : `${n} devices offline within ${Math.round(this.opts.windowMs / 1000)} s (${cause.reason})`;
  }

  private releaseGroup(g: Group, why: string): IncidentAction[] {
    this.groups.delete(g.causeKey);
    const keys = [...g.members.keys()];
    for (const k of keys) this.where.delete(k);
    return keys.length > 0 ? [{ type: "release", keys, why }] : [];
  }

  private openFrom(g: Group, now: number): IncidentAction {
    this.groups.delete(g.causeKey);
    const keys = [...g.members.keys()];
    const n = keys.length;
    const view: IncidentView = {
      id: this.opts.newId(),
      state: "open",
      openedAt: now,
      resolvedAt: null,
      cause: g.cause,
      deviceCount: n,
      stillOffline: n,
      message: this.messageFor(g.cause, n),
      resolveMessage: null,
      acknowledged: false,
    };
    const o: Open = {
      view,
      causeKey: g.causeKey,
      firstDrop: g.firstDrop,
      offline: new Set(keys),
      all: new Set(keys),
      lastProgressAt: now,
      lastNotifiedAt: now,
      notifiedStillOffline: n,
      entry: {},
    };
    o.entry.incident = o;
    this.open.set(view.id, o);
    for (const k of keys) this.where.set(k, o.entry);
    return { type: "open", incident: { ...view }, keys };
  }

  private resolve(o: Open, now: number, message: string): IncidentAction {
    this.open.delete(o.view.id);
    const keys = [...o.offline];
    for (const k of o.all) if (this.where.get(k)?.incident === o) this.where.delete(k);
    o.view.state = "resolved";
    o.view.resolvedAt = now;
    o.view.resolveMessage = message;
    return { type: "resolve", incident: { ...o.view }, keys };
  }
}
