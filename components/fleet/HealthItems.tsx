"use client";

import type { ReactNode } from "react";
import type { HealthDto } from "@/lib/api/dto";
import { Ago } from "./Ago";
import { useFleet } from "./FleetStoreProvider";
import { formatCount } from "./format";

type Tone = "ok" | "warn" | "bad" | "muted";

const TONE_DOT: Record<Tone, string> = {
  ok: "bg-emerald-400",
  warn: "bg-amber-400",
  bad: "bg-red-500",
  muted: "bg-zinc-500",
};
const TONE_BORDER: Record<Tone, string> = {
  ok: "border-zinc-800",
  warn: "border-amber-500/40 bg-amber-500/[0.07]",
  bad: "border-red-500/50 bg-red-500/10",
  muted: "border-zinc-800",
};

interface PillProps {
  testId: string;
  tone: Tone;
  label: string;
  title?: string;
  data?: Record<`data-${string}`, string>;
  children: ReactNode;
}

/** A labelled health fact; the word carries the meaning, the dot only repeats it. */
function Pill({ testId, tone, label, title, data, children }: PillProps) {
  return (
    <div
      data-testid={testId}
      title={title}
      {...data}
      className={`flex h-7 min-w-0 items-center gap-1.5 rounded-md border bg-zinc-900 px-2 text-xs text-zinc-300 ${TONE_BORDER[tone]}`}
    >
      <span aria-hidden="true" className={`size-1.5 shrink-0 rounded-full ${TONE_DOT[tone]}`} />
      <span className="text-zinc-500">{label}</span> <span className="min-w-0 truncate">{children}</span>
    </div>
  );
}

const useHealth = (): HealthDto | null => useFleet((s) => s.health);

function brokerTitle(b: HealthDto["broker"]): string {
  const lines = [`${b.connected ? "connected" : "disconnected"} since ${b.since ?? "unknown"}`, b.url];
  if (b.lastError) lines.push(`last error: ${b.lastError}`);
  const clients = b.stats["clients/connected"];
  if (clients !== undefined) lines.push(`broker reports ${formatCount(clients)} clients connected`);
  return lines.join("\n");
}

export function BrokerHealth() {
  const health = useHealth();
  if (health === null) {
    return (
      <Pill testId="broker-health" tone="muted" label="broker">
        —
      </Pill>
    );
  }
  const b = health.broker;
  const name = [b.kind, b.version].filter(Boolean).join(" ");
  return (
    <Pill
      testId="broker-health"
      tone={b.connected ? "ok" : "bad"}
      label="broker"
      title={brokerTitle(b)}
      data={{ "data-connected": String(b.connected) }}
    >
      {b.connected ? (
        <>
          <span className="text-zinc-100">connected</span> · {name} ·{" "}
          <span className="font-mono text-zinc-400">{b.url}</span>
        </>
      ) : (
        <>
          <span className="font-medium text-red-300">disconnected</span>
          {b.since && (
            <>
              {" "}
              · <Ago iso={b.since} />
            </>
          )}{" "}
          · <span className="font-mono text-zinc-400">{b.url}</span>
          {b.lastError && <span className="text-zinc-400"> · {b.lastError}</span>}
        </>
      )}
    </Pill>
  );
}

export function DbHealth() {
  const health = useHealth();
  if (health === null) {
    return (
      <Pill testId="db-health" tone="muted" label="database">
        —
      </Pill>
    );
  }
  const db = health.db;
  const title = [
    `${formatCount(db.pendingWrites)} writes pending, ${formatCount(db.droppedWrites)} dropped`,
    db.lastError ? `last error: ${db.lastError}` : null,
  ]
    .filter(Boolean)
    .join("\n");
  return (
    <Pill
      testId="db-health"
      tone={db.ok ? "ok" : "warn"}
      label="database"
      title={title}
      data={{ "data-ok": String(db.ok) }}
    >
      {db.ok ? (
        "ok"
      ) : (
        <span className="text-amber-200">
          unavailable — {formatCount(db.pendingWrites)} writes pending
          {db.droppedWrites > 0 && `, ${formatCount(db.droppedWrites)} dropped`}
        </span>
      )}
    </Pill>
  );
}

export function PingsVisibility() {
  const health = useHealth();
  if (health === null) return null;
  const visible = health.monitor.pingsVisible;
  return (
    <Pill
      testId="pings-visible"
      tone={visible ? "ok" : "muted"}
      label="pings"
      data={{ "data-visible": String(visible) }}
      title={
        visible
          ? "a source that sees every PINGREQ is active: silence means the device is silent"
          : "no source sees PINGREQs (use the embedded broker or tail Mosquitto's debug log): a device that only pings looks silent, so late/offline verdicts come from broker connect/disconnect events and device publishes"
      }
    >
      {visible ? (
        "visible"
      ) : (
        <span className="text-zinc-400">not visible — silence verdicts need a ping-visible source</span>
      )}
    </Pill>
  );
}

/** With several instances on one database: this instance's role, the leader and the peers. Nothing for a single one. */
export function ClusterRole() {
  const health = useHealth();
  const c = health?.cluster;
  if (!c || c.role === "single") return null;
  const leads = c.role === "leader";
  const title = [
    `this instance: ${c.instanceId} (${c.role}${leads && c.epoch !== null ? `, epoch ${c.epoch}` : ""})`,
    `leader: ${c.leaderId ?? "none at the moment"}${c.leaderSince ? ` since ${c.leaderSince}` : ""}`,
    ...c.peers.map((p) => `peer ${p.instanceId}: ${p.role}, last seen ${p.lastSeenAt}`),
  ].join("\n");
  return (
    <Pill
      testId="cluster-role"
      tone={c.leaderId === null ? "warn" : "ok"}
      label="instance"
      title={title}
      data={{ "data-role": c.role }}
    >
      <span className="text-zinc-100">{c.role}</span>
      {leads ? "" : ` · leader ${c.leaderId ?? "none"}`} · {c.peers.length} {c.peers.length === 1 ? "peer" : "peers"}
    </Pill>
  );
}
