/**
 * Downsampling for the keepalive timeline: at most one point per bucket (a
 * bucket is a few pixels of the chart), so a week of pings every 5 s
 * (120,960 gaps) becomes a few hundred SVG points. Each bucket keeps its
 * largest gap, since a spike is what an operator looks for, and how many
 * samples it stands for.
 */
export interface Sample {
  at: number;
  value: number;
}

export interface Bucketed {
  /** Time of the sample kept (the bucket's largest). */
  at: number;
  value: number;
  /** Samples the bucket held. */
  n: number;
}

export function downsampleMax(samples: readonly Sample[], from: number, to: number, buckets: number): Bucketed[] {
  const count = Math.max(1, Math.floor(buckets));
  const span = to - from;
  if (!(span > 0)) return [];
  const best: (Bucketed | undefined)[] = new Array(count);
  for (const s of samples) {
    if (s.at < from || s.at > to || !Number.isFinite(s.value)) continue;
    const i = Math.min(count - 1, Math.floor(((s.at - from) / span) * count));
    const b = best[i];
    if (!b) best[i] = { at: s.at, value: s.value, n: 1 };
    else {
      b.n++;
      if (s.value > b.value) {
        b.value = s.value;
        b.at = s.at;
      }
    }
  }
  return best.filter((b): b is Bucketed => b !== undefined);
}
