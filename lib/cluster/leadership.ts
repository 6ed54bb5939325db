/**
 * Leader and hot standbys among keepwatch processes sharing one Postgres.
 *
 * Election is a lease row (`cluster_leader`, lib/store/cluster.ts), renewed
 * by the leader every `renewMs` on a connection of its own and taken by a
 * standby once it has lapsed by the database's clock. Each term gets the
 * next epoch, and every write of the leader carries it (the fence), so a
 * leader that was paused past its lease and wakes up cannot write: its first
 * write or renewal is refused, and it becomes a standby.
 *
 * A lease rather than an advisory lock: a session lock is held for as long as
 * its connection lives, and a paused process (SIGSTOP, a long GC, a frozen VM)
 * keeps its connection, so the standbys would wait for it for ever; a lease
 * lapses on its own. A process that dies closes nothing sooner either way.
 *
 * A leader steps down only on proof that another term began (a renewal or a
 * fenced write refused). While it cannot reach the database it carries on as
 * leader, buffering: the fence keeps it from writing over a newer term.
 *
 * The same connection LISTENs on the `keepwatch` channel: a hand-over
 * (SIGTERM) wakes the standbys at once, and changes made through any
 * instance's API (rules, silences, channels, labels, acknowledgements) reach
 * the others (`onMessage`).
 */
import type pg from "pg";
import {
  CLUSTER_CHANNEL,
  leaveCluster,
  listMembers,
  readLeader,
  endLapsedTerm,
  releaseLease,
  renewLease,
  reportMember,
  notifyCluster,
  tryLead,
  type MemberView,
} from "../store/cluster";

export type Role = "leader" | "standby" | "single";

export interface ClusterMessage {
  kind: string;
  from: string;
  [key: string]: unknown;
}

export interface LeadershipOptions {
  instanceId: string;
  /** KEEPWATCH_SHARD: the devices this instance watches, and whose leader it may be ("1/1": all). */
  shard: string;
  /** This instance's MQTT client id (peers ignore it as a device). */
  clientId: string;
  startedAt: number;
  /** KEEPWATCH_FAILOVER_SECONDS in ms: a standby leads within this after the leader dies. */
  failoverMs: number;
  /** A new connection of its own (LISTEN and the lease need one session). */
  connect(): Promise<pg.Client>;
  /** Role changes, in order; a term's epoch with "leader". */
  onRole(role: "leader" | "standby", epoch: number | null): Promise<void> | void;
  /** A peer's message on the channel. */
  onMessage(message: ClusterMessage): void;
  /** Every round: the members heard from lately. */
  onMembers?(members: MemberView[]): void;
  log(message: string): void;
}

/** How recent a member's report must be to be listed as a peer. */
const PEER_WINDOW_MS = 60_000;

export class Leadership {
  role: "leader" | "standby" = "standby";
  epoch: number | null = null;
  leaderId: string | null = null;
  leaderSince: number | null = null;
  /** Whether another instance holds a valid lease (as last read). */
  otherLeads = false;
  members: MemberView[] = [];
  readonly leaseMs: number;
  private readonly roundMs: number;
  private client: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private transitions: Promise<void> = Promise.resolve();
  private stopped = false;
  private lastError: string | null = null;

  constructor(private readonly o: LeadershipOptions) {
    // Detection = lease + one standby round + the takeover itself, within failoverMs.
    this.leaseMs = Math.max(1_000, o.failoverMs - 1_500);
    this.roundMs = Math.min(500, Math.floor(this.leaseMs / 3));
  }

  /** Joins, takes the lease if free, then keeps renewing or watching. */
  async start(): Promise<void> {
    await this.runRound();
    // Before this instance's MQTT client connects: peers learn it is no device.
    await this.publish("joined", { clientId: this.o.clientId }).catch(() => {});
    this.schedule();
  }

  /** The leader's write was fenced: another term began. */
  lost(reason: string): void {
    if (this.role !== "leader") return;
    this.o.log(`cluster: leadership epoch ${this.epoch} ended (${reason}); standing by`);
    this.become("standby", null);
    // Who leads now is read afresh, not left as this instance.
    this.leaderId = null;
    this.leaderSince = null;
    if (!this.stopped) void this.runRound();
  }

  /** Tells the other instances (they get it through onMessage; this one does not). */
  async publish(kind: string, data: Record<string, unknown> = {}): Promise<void> {
    const c = await this.session();
    await notifyCluster(c, { ...data, kind, from: this.o.instanceId });
  }

  /** SIGTERM: a leader hands over (the lease ends now, the standbys are woken); the member report goes. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.round?.catch(() => {});
    try {
      const c = await this.session();
      if (this.role === "leader" && this.epoch !== null) {
        await releaseLease(c, { shard: this.o.shard, epoch: this.epoch }, this.o.instanceId);
        this.o.log(`cluster: handed over leadership (epoch ${this.epoch})`);
      }
      await leaveCluster(c, this.o.instanceId);
    } catch (e) {
      this.o.log(`cluster: could not hand over (${errorText(e)}); a standby leads once the lease lapses`);
    }
    this.role = "standby";
    this.epoch = null;
    await this.client?.end().catch(() => {});
    this.client = null;
  }

  /** Rounds start every roundMs (at once when one ran longer): a slow database does not stretch the lease renewals apart. */
  private schedule(lastStart = Date.now()): void {
    if (this.stopped) return;
    this.timer = setTimeout(
      () => {
        const start = Date.now();
        void this.runRound().finally(() => this.schedule(start));
      },
      Math.max(0, lastStart + this.roundMs - Date.now()),
    );
    this.timer.unref?.();
  }

  private runRound(): Promise<void> {
    this.round ??= this.once().finally(() => (this.round = null));
    return this.round;
  }

  private async once(): Promise<void> {
    try {
      const c = await this.session();
      if (this.role === "leader" && this.epoch !== null) {
        if (!(await renewLease(c, { shard: this.o.shard, epoch: this.epoch }, this.o.instanceId, this.leaseMs))) {
          this.lost("the lease was taken");
        }
      } else if (!this.stopped) {
        if (!this.otherLeads) await this.endLapsedTerm(c);
        const term = await tryLead(c, this.o.shard, this.o.instanceId, this.leaseMs);
        if (term) {
          this.leaderSince = term.since;
          this.o.log(`cluster: leading (epoch ${term.epoch})`);
          this.become("leader", term.epoch);
        }
      }
      const view = await readLeader(c, this.o.shard);
      this.leaderId = view.leaseValid ? view.leaderId : null;
      this.leaderSince = view.leaseValid ? view.leaderSince : null;
      this.otherLeads = view.leaseValid && view.leaderId !== this.o.instanceId;
      await reportMember(c, {
        instanceId: this.o.instanceId,
        shard: this.o.shard,
        role: this.role,
        clientId: this.o.clientId,
        startedAt: this.o.startedAt,
      });
      this.members = await listMembers(c, PEER_WINDOW_MS);
      this.o.onMembers?.(this.members);
      if (this.lastError !== null) this.o.log("cluster: database reachable again");
      this.lastError = null;
    } catch (e) {
      const text = errorText(e);
      if (this.lastError === null) this.o.log(`cluster: ${text}`);
      this.lastError = text;
      // A broken connection is replaced next round.
      const broken = this.client;
      this.client = null;
      await broken?.end().catch(() => {});
    }
  }

  /** Ends a lapsed leader's open transactions before taking over; a refusal (privileges) leaves the server's timeout to do it. */
  private async endLapsedTerm(c: pg.Client): Promise<void> {
    try {
      const ended = await endLapsedTerm(c, this.o.shard, this.o.instanceId);
      if (ended > 0) this.o.log(`cluster: ended ${ended} open transaction(s) of the lapsed leader`);
    } catch (e) {
      this.o.log(`cluster: could not end the lapsed leader's transactions (${errorText(e)})`);
    }
  }

  private become(role: "leader" | "standby", epoch: number | null): void {
    this.role = role;
    this.epoch = epoch;
    this.transitions = this.transitions
      .then(() => this.o.onRole(role, epoch))
      .catch((e) => this.o.log(`cluster: becoming ${role} failed: ${errorText(e)}`));
  }

  /** Resolves once every role change so far has been carried out. */
  settled(): Promise<void> {
    return this.transitions;
  }

  private async session(): Promise<pg.Client> {
    if (this.client) return this.client;
    const c = await this.o.connect();
    c.on("error", () => {});
    c.on("notification", (n) => {
      if (n.channel !== CLUSTER_CHANNEL || !n.payload) return;
      let message: ClusterMessage;
      try {
        message = JSON.parse(n.payload) as ClusterMessage;
      } catch {
        return;
      }
      if (message.from === this.o.instanceId) return;
      // A hand-over: take the lease now rather than at the next round.
      if (message.kind === "released" && message.shard === this.o.shard && this.role === "standby")
        void this.runRound().then(() => this.runRound());
      this.o.onMessage(message);
    });
    // A takeover waits for the old term's transactions; never longer than a round or two.
    await c.query(`SET lock_timeout = ${Math.max(1_000, this.leaseMs)}`);
    await c.query(`LISTEN ${CLUSTER_CHANNEL}`);
    this.client = c;
    return c;
  }
}

function errorText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n").at(-1)!.slice(0, 300);
}
