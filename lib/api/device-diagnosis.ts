/**
 * Gathers what lib/diagnosis needs for one device — its recent sessions,
 * how many PINGREQs each keepalive drop had, the largest gaps of the last
 * 24 h — and runs the rules. A database that fails leaves the rules that
 * need it without input; the rest still answer.
 */
import { diagnose, type DiagnosisSession, type Finding } from "../diagnosis/diagnose";
import type { DeviceState, SessionRecord } from "../fleet/types";
import type { DbPort, FleetPort, ActivityPort } from "./ports";
import { getActivityRollups, getSessionActivity } from "../store/activity";
import { mergeRollups } from "./activity";

const DAY_MS = 86_400_000;
/** Keepalive drops whose PINGREQs are counted. */
const CHECKED_DROPS = 10;

export async function diagnoseDevice(
  runtime: DbPort & FleetPort & ActivityPort,
  device: DeviceState,
  sessions: SessionRecord[],
): Promise<Finding[]> {
  const now = Date.now();
  const db = runtime.db?.prisma;
  // The embedded broker and Mosquitto's debug log see every client's PINGREQs, a silent one's absence included.
  const pingsVisible = runtime.pingsVisible;
  const rawFrom = now - (runtime.activity?.rawRetentionMs ?? DAY_MS);
  const input: DiagnosisSession[] = sessions.map((s) => ({ ...s, pings: null, publishes: null, packets: null }));
  const gaps: { at: number; gapMs: number }[] = [];
  if (db) {
    const drops = input
      .filter((s) => s.reason === "keepalive_timeout" && s.disconnectedAt !== null && s.connectedAt >= rawFrom)
      .slice(0, CHECKED_DROPS);
    const [counts, rollups] = await Promise.all([
      getSessionActivity(
        db,
        device.id,
        drops.map((s) => ({ connectedAt: s.connectedAt, disconnectedAt: s.disconnectedAt! })),
      ).catch(() => []),
      getActivityRollups(db, device.id, now - DAY_MS, now + 60_000).catch(() => []),
    ]);
    for (const c of counts) {
      if (!c.recorded) continue;
      const s = input.find((x) => x.connectedAt === c.connectedAt && x.disconnectedAt === c.disconnectedAt);
      if (s) Object.assign(s, { pings: c.pings, publishes: c.publishes, packets: c.packets });
    }
    const merged = mergeRollups(rollups, runtime.activity?.pendingRollups(device.id) ?? [], now - DAY_MS, now + 60_000);
    // Gaps mean silence only where PINGREQs are seen; elsewhere a healthy device looks silent between publishes.
    if (pingsVisible) for (const r of merged) if (r.maxGapMs !== null) gaps.push({ at: r.minute, gapMs: r.maxGapMs });
  }
  return diagnose({ now, keepaliveSeconds: device.keepaliveSeconds, pingsVisible, sessions: input, gaps });
}
