/**
 * A simulated fleet: how many devices of each profile, their ids, traits and
 * start times, all decided by the seed. Pure.
 */
import { MIX_WEIGHTS, PROFILES, planDevice, type DevicePlan, type ProfileName } from "./profiles";
import { rngFor, shuffle, uniform } from "./prng";

export type ProfileChoice = ProfileName | "mix";

export interface FleetOptions {
  devices: number;
  profile: ProfileChoice;
  seed: number;
  /** Device ids are `${prefix}-${profile}-${n}`. */
  prefix: string;
  /** The fleet connects over this long at start-up (default: 20 ms per device, at most 5 s). */
  rampMs?: number;
}

/**
 * Devices per profile for `total` devices: proportional to MIX_WEIGHTS,
 * rounded by largest remainder (ties in PROFILES order), so the counts add up
 * to `total` exactly.
 */
export function mixCounts(total: number): Record<ProfileName, number> {
  const weightSum = PROFILES.reduce((s, p) => s + MIX_WEIGHTS[p], 0);
  const exact = PROFILES.map((p) => ({ p, share: (total * MIX_WEIGHTS[p]) / weightSum }));
  const counts = Object.fromEntries(exact.map(({ p, share }) => [p, Math.floor(share)])) as Record<ProfileName, number>;
  let left = total - PROFILES.reduce((s, p) => s + counts[p], 0);
  const byRemainder = [...exact].sort((a, b) => b.share - Math.floor(b.share) - (a.share - Math.floor(a.share)));
  for (const { p } of byRemainder) {
    if (left-- <= 0) break;
    counts[p] += 1;
  }
  return counts;
}

export function planFleet(opts: FleetOptions): DevicePlan[] {
  const counts: Partial<Record<ProfileName, number>> =
    opts.profile === "mix" ? mixCounts(opts.devices) : { [opts.profile]: opts.devices };
  const width = String(Math.max(opts.devices - 1, 1)).length;
  const ids: Array<{ id: string; profile: ProfileName }> = [];
  for (const profile of PROFILES) {
    const n = counts[profile] ?? 0;
    for (let i = 0; i < n; i++)
      ids.push({ id: `${opts.prefix}-${profile}-${String(i).padStart(width, "0")}`, profile });
  }
  const rampMs = opts.rampMs ?? Math.min(5_000, opts.devices * 20);
  // Start order is shuffled so that each profile is spread over the ramp.
  const order = shuffle(
    rngFor(opts.seed, "order"),
    ids.map((_, i) => i),
  );
  const slot = new Map(order.map((deviceIndex, position) => [deviceIndex, position]));
  return ids.map(({ id, profile }, i) => {
    const rng = rngFor(opts.seed, id);
    const position = slot.get(i)!;
    const startDelayMs = Math.round((rampMs * position) / Math.max(ids.length, 1) + uniform(rng, 0, 10));
    return planDevice(id, profile, rng, opts.seed, startDelayMs);
  });
}
