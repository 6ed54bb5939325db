/**
 * The health report (`GET /api/health`, the live streams' `health`) composed
 * from what the runtime's parts say of themselves, and the database's
 * condition as its writes show it. Pure: lib/runtime.ts gathers the parts and
 * acts on what comes back.
 */
import { iso, type BrokerRestartDto, type ClusterDto, type HealthDto } from "./api/dto";
import type { RestartDecision } from "./broker/restarts";
import type { DeviceStatus } from "./fleet/types";
import { toJobDto, type JobStatus } from "./jobs/registry";
import type { StoreWriterHealth } from "./store/writer";

/**
 * Whether the database takes writes: the writer says so, and an error seen
 * elsewhere (a migration, a restore, the activity recorder) is over once a
 * batch was written after it.
 */
export class DatabaseCondition {
  /** The last error seen outside the writer (null: none, or cleared by a successful start). */
  error: string | null = null;
  /** When it happened: a batch written since means the database is fine again. */
  errorAt = 0;
  /** Since when writes have been failing (null: they succeed). */
  private failingSince: number | null = null;

  noteError(err: unknown, now: number): void {
    this.error = err instanceof Error ? err.message : String(err);
    this.errorAt = now;
  }

  clear(): void {
    this.error = null;
  }

  /** ok, and the error to show (the writer's own first). */
  status(w: StoreWriterHealth | undefined): { ok: boolean; lastError: string | null } {
    const recovered = w?.lastFlushAt != null && w.lastFlushAt >= this.errorAt;
    return {
      ok: Boolean(w?.ok) && (this.error === null || recovered),
      lastError: w?.lastError ?? (recovered ? null : this.error),
    };
  }

  /**
   * Every second, for the `database` system alert: the condition to report
   * (since when writes fail and why; `since: null` once, when they succeed
   * again), or null when there is nothing to say.
   */
  check(w: StoreWriterHealth | undefined, now: number): { since: number | null; message: string } | null {
    if (!w) return null;
    const recovered = w.lastFlushAt != null && w.lastFlushAt >= this.errorAt;
    const failing = !w.ok || (this.error !== null && !recovered);
    if (!failing) {
      if (this.failingSince === null) return null;
      this.failingSince = null;
      return { since: null, message: "database writes succeed again" };
    }
    this.failingSince ??= Math.min(now, this.errorAt || now);
    const detail = (w.lastError ?? this.error ?? "writes failing").split("\n").at(-1)!.slice(0, 200);
    return {
      since: this.failingSince,
      message: `database writes failing since ${new Date(this.failingSince).toISOString()}: ${detail}; ${w.pendingWrites} writes waiting`,
    };
  }
}

/** The last broker restart for health: how many of the devices it dropped are not back (online or late). */
export function restartDto(
  r: (RestartDecision & { devices: string[] }) | null,
  statusOf: (id: string) => DeviceStatus | undefined,
): BrokerRestartDto | null {
  if (!r) return null;
  let notBack = 0;
  for (const id of r.devices) {
    const status = statusOf(id);
    if (status !== "online" && status !== "late") notBack += 1;
  }
  return {
    detectedAt: new Date(r.detectedAt).toISOString(),
    downAt: new Date(r.downAt).toISOString(),
    upAt: new Date(r.upAt).toISOString(),
    evidence: r.evidence,
    devices: r.devices.length,
    notBack,
  };
}

export interface ClusterParts {
  instanceId: string;
  clustered: boolean;
  role: ClusterDto["role"];
  startedAt: number;
  /** The leadership's view (null: single, or not started yet). */
  leadership: {
    role: "leader" | "standby";
    epoch: number | null;
    leaderId: string | null;
    leaderSince: number | null;
    members: readonly { instanceId: string; role: string; lastSeenAt: number }[];
  } | null;
}

export function clusterDto(p: ClusterParts): ClusterDto {
  const c = p.leadership;
  return {
    instanceId: p.instanceId,
    role: p.role,
    epoch: c?.role === "leader" ? c.epoch : null,
    leaderId: p.clustered ? (c?.leaderId ?? null) : p.instanceId,
    leaderSince: p.clustered ? iso(c?.leaderSince ?? null) : new Date(p.startedAt).toISOString(),
    peers: (c?.members ?? [])
      .filter((m) => m.instanceId !== p.instanceId)
      .map((m) => ({ instanceId: m.instanceId, role: m.role, lastSeenAt: new Date(m.lastSeenAt).toISOString() })),
  };
}

export interface HealthParts {
  /** The alert service's writes: waiting, and dropped since start. */
  alertWrites?: { pending: number; dropped: number };
  broker: {
    connected: boolean;
    kind: string;
    version: string | null;
    url: string;
    since: number | null;
    lastError: string | null;
    stats: Record<string, number>;
  };
  lastRestart: BrokerRestartDto | null;
  writer: StoreWriterHealth | undefined;
  database: DatabaseCondition;
  dbKind: "postgres" | "pglite" | null;
  ingest: HealthDto["ingest"];
  cluster: ClusterDto;
  notifications: HealthDto["notifications"] | null;
  monitor: {
    startedAt: number;
    gapSince: number | null;
    pingsVisible: boolean;
    deviceTopics: string[];
    relearnSince: number | null;
    /** Devices `unknown` now: being re-learned once the broker is heard again. */
    unknownDevices: number;
    debugLog: {
      file: string;
      seen: boolean;
      stalled: boolean;
      lastLineAt: number;
      /** At start: reading on from where the last run's written changes end (lib/ingest/log-tail.ts ResumeOutcome). */
      readOn: { reading: boolean; offset: number | null; bytes: number | null; reason: string | null } | null;
    } | null;
  };
  /** The background jobs (lib/jobs/registry.ts); left out of the live streams, whose health changes only with the monitor. */
  jobs?: readonly JobStatus[];
}

export function composeHealth(p: HealthParts): HealthDto {
  const w = p.writer;
  const db = p.database.status(w);
  const m = p.monitor;
  return {
    ok: p.broker.connected && db.ok,
    broker: { ...p.broker, since: iso(p.broker.since), lastRestart: p.lastRestart },
    db: {
      ok: db.ok,
      pendingWrites: w?.pendingWrites ?? 0,
      droppedWrites: w?.droppedWrites ?? 0,
      rejectedRows: w?.rejectedRows ?? 0,
      alertWrites: p.alertWrites ?? { pending: 0, dropped: 0 },
      lastError: db.lastError,
      ...(p.dbKind ? { kind: p.dbKind } : {}),
    },
    ingest: p.ingest,
    cluster: p.cluster,
    notifications: p.notifications ?? { pending: 0, dead: 0, oldestPendingSeconds: null, lastError: null },
    monitor: {
      startedAt: new Date(m.startedAt).toISOString(),
      gapSince: iso(m.gapSince),
      pingsVisible: m.pingsVisible,
      deviceTopics: m.deviceTopics,
      relearning:
        m.relearnSince === null || m.unknownDevices === 0
          ? null
          : { since: new Date(m.relearnSince).toISOString(), devices: m.unknownDevices },
      ...(m.debugLog && {
        debugLog: { ...m.debugLog, lastLineAt: iso(m.debugLog.lastLineAt || null) },
      }),
    },
    ...(p.jobs && { jobs: p.jobs.map(toJobDto) }),
  };
}
