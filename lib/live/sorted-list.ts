/**
 * A sorted list with positional reads: the fleet page's windows over a
 * million devices. Elements live in chunks of a few hundred (the layout of
 * Python's sortedcontainers), so
 * - `add` and `delete` cost O(log n) comparisons plus a splice inside one chunk;
 * - `slice(offset, limit)` walks the chunk lengths (n / 512 numbers) and then
 *   copies `limit` elements;
 * - memory is one array slot per element, where a balanced tree costs a node
 *   object (five or more fields) per element.
 * `cmp` must be a strict total order on the elements held (no two compare equal).
 */
export type Compare<T> = (a: T, b: T) => number;

const LOAD = 512;

export class SortedList<T> {
  private chunks: T[][] = [];
  private count = 0;

  constructor(private readonly cmp: Compare<T>) {}

  /** A list holding `sorted`, which must already be in `cmp` order (O(n), no sort). */
  static fromSorted<T>(sorted: readonly T[], cmp: Compare<T>): SortedList<T> {
    const list = new SortedList(cmp);
    for (let i = 0; i < sorted.length; i += LOAD) list.chunks.push(sorted.slice(i, i + LOAD));
    list.count = sorted.length;
    return list;
  }

  get size(): number {
    return this.count;
  }

  add(x: T): void {
    if (this.chunks.length === 0) {
      this.chunks.push([x]);
      this.count = 1;
      return;
    }
    const ci = this.chunkOf(x);
    const chunk = this.chunks[ci];
    chunk.splice(this.lowerBound(chunk, x), 0, x);
    this.count++;
    if (chunk.length > 2 * LOAD) this.chunks.splice(ci + 1, 0, chunk.splice(LOAD));
  }

  /** Removes the element equal to `x` under `cmp`; false when none is held. */
  delete(x: T): boolean {
    if (this.chunks.length === 0) return false;
    const ci = this.chunkOf(x);
    const chunk = this.chunks[ci];
    const i = this.lowerBound(chunk, x);
    if (i >= chunk.length || this.cmp(chunk[i], x) !== 0) return false;
    chunk.splice(i, 1);
    this.count--;
    if (chunk.length === 0) this.chunks.splice(ci, 1);
    else if (chunk.length < LOAD / 4 && ci + 1 < this.chunks.length) {
      // Keep chunks from thinning out: fold a small one into its right neighbour.
      const next = this.chunks[ci + 1];
      if (chunk.length + next.length <= 2 * LOAD) this.chunks.splice(ci, 2, chunk.concat(next));
    }
    return true;
  }

  /** Position of the first element not less than `x` (its rank when held). */
  rank(x: T): number {
    if (this.chunks.length === 0) return 0;
    const ci = this.chunkOf(x);
    let before = 0;
    for (let i = 0; i < ci; i++) before += this.chunks[i].length;
    return before + this.lowerBound(this.chunks[ci], x);
  }

  /** Up to `limit` elements from position `offset`, in order. */
  slice(offset: number, limit: number): T[] {
    const out: T[] = [];
    if (limit <= 0 || offset >= this.count) return out;
    let ci = 0;
    let skip = Math.max(0, offset);
    while (ci < this.chunks.length && skip >= this.chunks[ci].length) skip -= this.chunks[ci++].length;
    for (; ci < this.chunks.length && out.length < limit; ci++, skip = 0) {
      const chunk = this.chunks[ci];
      const end = Math.min(chunk.length, skip + limit - out.length);
      for (let i = skip; i < end; i++) out.push(chunk[i]);
    }
    return out;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (const chunk of this.chunks) yield* chunk;
  }

  /** The elements that pass `keep`, in order (a plain loop: a million calls through an iterator cost more). */
  filter(keep: (x: T) => boolean): T[] {
    const out: T[] = [];
    for (const chunk of this.chunks) for (let i = 0; i < chunk.length; i++) if (keep(chunk[i])) out.push(chunk[i]);
    return out;
  }

  /** The chunk `x` belongs in: the first whose last element is not less than it, else the last. */
  private chunkOf(x: T): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = this.chunks[mid];
      if (this.cmp(chunk[chunk.length - 1], x) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private lowerBound(chunk: readonly T[], x: T): number {
    let lo = 0;
    let hi = chunk.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cmp(chunk[mid], x) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
