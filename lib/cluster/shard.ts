/**
 * KEEPWATCH_SHARD=k/n: this instance watches only the devices whose id hashes
 * to shard k of n (and leads, among the instances of that shard, only them).
 * The hash is FNV-1a over the id's UTF-8 bytes: stable across processes,
 * versions and machines, so every instance agrees on every device's shard.
 */
export interface Shard {
  /** "k/n", the key of the shard's leadership lease; "1/1" is every device. */
  key: string;
  index: number;
  count: number;
  /** Whether a device id belongs to this shard. */
  has(deviceId: string): boolean;
}

const encoder = new TextEncoder();

/** FNV-1a, 32 bits. */
export function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (const byte of encoder.encode(id)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The shard (1-based) a device id belongs to among `count`. */
export function shardOf(deviceId: string, count: number): number {
  return (hashId(deviceId) % count) + 1;
}

export function parseShard(text: string | undefined): Shard {
  const m = /^(\d{1,4})\/(\d{1,4})$/.exec(text ?? "1/1");
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || index < 1 || count < 1 || index > count)
    throw new Error(`KEEPWATCH_SHARD must be k/n with 1 ≤ k ≤ n (e.g. 2/4), not ${JSON.stringify(text)}`);
  return {
    key: `${index}/${count}`,
    index,
    count,
    has: count === 1 ? () => true : (id) => shardOf(id, count) === index,
  };
}
