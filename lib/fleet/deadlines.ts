/**
 * Per-device deadlines in a binary min-heap keyed by device id.
 *
 * Each device has at most one entry (its next silence deadline), so the heap
 * never holds stale duplicates and its size is bounded by the fleet size.
 * `set` on an existing id is an in-place O(log n) update, `popDue` costs
 * O(k log n) for k due entries, independent of how many devices are not due.
 *
 * Layout: an id gets a slot number once, kept until `forget`; the slot's
 * deadline and heap position live in typed arrays and the heap is an array
 * of slot numbers. A deadline that is popped or deleted frees no slot, so the
 * common cycle (a device's deadline fires, the next one is set) never touches
 * the id map: at a million devices, deleting and re-adding ids made the map
 * rehash all its entries every few hundred thousand verdicts, stalling the
 * tick for hundreds of milliseconds. No object per entry, either.
 */
export interface DeadlineEntry {
  id: string;
  at: number;
}

const NONE = -1;

export class DeadlineHeap {
  private readonly slots = new Map<string, number>();
  /** Slot → id ("" for a free slot). */
  private ids: string[] = [];
  private readonly free: number[] = [];
  /** Slot → deadline (valid while pos ≥ 0). */
  private at = new Float64Array(64);
  /** Slot → heap position, NONE without a deadline. */
  private pos = new Int32Array(64).fill(NONE);
  /** Heap order: slot numbers. */
  private heap = new Int32Array(64);
  private n = 0;

  get size(): number {
    return this.n;
  }

  has(id: string): boolean {
    const s = this.slots.get(id);
    return s !== undefined && this.pos[s] !== NONE;
  }

  /** The deadline stored for `id`, if any. */
  get(id: string): number | undefined {
    const s = this.slots.get(id);
    return s !== undefined && this.pos[s] !== NONE ? this.at[s] : undefined;
  }

  /** Inserts or moves the deadline of `id`. */
  set(id: string, at: number): void {
    // NaN compares false both ways and would silently break the heap order.
    if (!Number.isFinite(at)) throw new RangeError(`deadline for ${id} must be a finite number, got ${at}`);
    const s = this.slots.get(id) ?? this.newSlot(id);
    const p = this.pos[s];
    if (p === NONE) {
      if (this.n === this.heap.length) this.heap = grown(this.heap, this.n * 2);
      this.at[s] = at;
      this.heap[this.n] = s;
      this.pos[s] = this.n;
      this.n++;
      this.siftUp(this.n - 1);
      return;
    }
    const before = this.at[s];
    this.at[s] = at;
    if (at < before) this.siftUp(p);
    else if (at > before) this.siftDown(p);
  }

  /** Removes the deadline of `id` (its slot stays for the next one); returns whether there was one. */
  delete(id: string): boolean {
    const s = this.slots.get(id);
    if (s === undefined || this.pos[s] === NONE) return false;
    this.removeAt(this.pos[s]);
    return true;
  }

  /** Removes `id` altogether: its deadline and its slot (a device forgotten). */
  forget(id: string): void {
    const s = this.slots.get(id);
    if (s === undefined) return;
    if (this.pos[s] !== NONE) this.removeAt(this.pos[s]);
    this.slots.delete(id);
    this.ids[s] = "";
    this.free.push(s);
  }

  /** The earliest deadline, without removing it. */
  peek(): DeadlineEntry | undefined {
    if (this.n === 0) return undefined;
    const s = this.heap[0];
    return { id: this.ids[s], at: this.at[s] };
  }

  /** Removes and returns every id whose deadline is at or before `now`, earliest first. */
  popDue(now: number, limit = Number.POSITIVE_INFINITY): string[] {
    const due: string[] = [];
    while (this.n > 0 && this.at[this.heap[0]] <= now && due.length < limit) {
      due.push(this.ids[this.heap[0]]);
      this.removeAt(0);
    }
    return due;
  }

  clear(): void {
    this.slots.clear();
    this.ids = [];
    this.free.length = 0;
    this.pos.fill(NONE);
    this.n = 0;
  }

  private newSlot(id: string): number {
    let s = this.free.pop();
    if (s === undefined) {
      s = this.ids.length;
      this.ids.push(id);
      if (s === this.at.length) {
        this.at = grown(this.at, s * 2);
        const pos = new Int32Array(s * 2).fill(NONE);
        pos.set(this.pos);
        this.pos = pos;
      }
    } else this.ids[s] = id;
    this.slots.set(id, s);
    return s;
  }

  private removeAt(i: number): void {
    const heap = this.heap;
    const removed = heap[i];
    this.pos[removed] = NONE;
    this.n--;
    if (i === this.n) return;
    // Fill the hole with the former last entry, then restore order in whichever direction it is off.
    const moved = heap[this.n];
    heap[i] = moved;
    this.pos[moved] = i;
    this.siftDown(i);
    this.siftUp(this.pos[moved]);
  }

  private siftUp(i: number): void {
    const { heap, at, pos } = this;
    const s = heap[i];
    const t = at[s];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent];
      if (at[p] <= t) break;
      heap[i] = p;
      pos[p] = i;
      i = parent;
    }
    heap[i] = s;
    pos[s] = i;
  }

  private siftDown(i: number): void {
    const { heap, at, pos } = this;
    const n = this.n;
    const s = heap[i];
    const t = at[s];
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const c = left + 1 < n && at[heap[left + 1]] < at[heap[left]] ? left + 1 : left;
      const child = heap[c];
      if (at[child] >= t) break;
      heap[i] = child;
      pos[child] = i;
      i = c;
    }
    heap[i] = s;
    pos[s] = i;
  }
}

function grown<T extends Float64Array | Int32Array>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}
