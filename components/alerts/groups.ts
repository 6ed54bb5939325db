/**
 * How the alerts page groups firing alerts, pure: system alerts first (the
 * parent before the children), then one group per open incident with its
 * member alerts, then the rest by kind. Each group has its count; long groups
 * show their first rows and collapse the rest.
 */
import type { AlertDto, IncidentDto } from "@/lib/alerts/dto";
import { DISCONNECT_REASON_LABELS } from "@/components/fleet/format";

export type AlertGroup =
  | { key: string; type: "system"; alerts: AlertDto[] }
  | { key: string; type: "incident"; incident: IncidentDto; alerts: AlertDto[] }
  | { key: string; type: "kind"; kind: AlertDto["kind"]; alerts: AlertDto[] };

/** Rows a group shows before "show N more". */
export const COLLAPSED_ROWS = 5;

const KIND_ORDER: readonly AlertDto["kind"][] = ["offline", "never_seen", "late", "flapping", "near-miss"];

export function groupAlerts(firing: readonly AlertDto[], incidents: readonly IncidentDto[]): AlertGroup[] {
  const groups: AlertGroup[] = [];
  const system = firing.filter((a) => a.kind === "system");
  if (system.length > 0) groups.push({ key: "system", type: "system", alerts: system });
  const open = new Map(incidents.map((i) => [i.id, i]));
  const members = new Map<string, AlertDto[]>();
  const rest: AlertDto[] = [];
  for (const a of firing) {
    if (a.kind === "system") continue;
    if (a.incidentId !== null && open.has(a.incidentId)) {
      const list = members.get(a.incidentId) ?? [];
      list.push(a);
      members.set(a.incidentId, list);
    } else rest.push(a);
  }
  for (const i of incidents)
    groups.push({ key: `incident:${i.id}`, type: "incident", incident: i, alerts: members.get(i.id) ?? [] });
  const byKind = new Map<AlertDto["kind"], AlertDto[]>();
  for (const a of rest) {
    const list = byKind.get(a.kind) ?? [];
    list.push(a);
    byKind.set(a.kind, list);
  }
  for (const kind of KIND_ORDER) {
    const alerts = byKind.get(kind);
    if (alerts) groups.push({ key: `kind:${kind}`, type: "kind", kind, alerts });
  }
  return groups;
}

/** The rows to show and how many are hidden. */
export function visibleRows<T>(rows: readonly T[], expanded: boolean): { shown: readonly T[]; hidden: number } {
  if (expanded || rows.length <= COLLAPSED_ROWS) return { shown: rows, hidden: 0 };
  return { shown: rows.slice(0, COLLAPSED_ROWS), hidden: rows.length - COLLAPSED_ROWS };
}

/** What an incident is about, in words: the broker's restart, or the disconnect reason its devices share. */
export function causeLabel(cause: IncidentDto["cause"]): string {
  if (cause.kind === "broker_restart") {
    const at = /^\d{4}-\d\d-\d\dT(\d\d:\d\d:\d\d)/.exec(cause.reason)?.[1];
    return at ? `broker restart at ${at} UTC` : "broker restart";
  }
  const labels: Record<string, string> = DISCONNECT_REASON_LABELS;
  return `mass disconnect: ${Object.hasOwn(labels, cause.reason) ? labels[cause.reason] : cause.reason}`;
}
