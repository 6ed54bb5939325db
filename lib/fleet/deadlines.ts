/**
 * Per-device deadlines in a binary min-heap keyed by device id.
 *
 * Each device has at most one entry (its next silence deadline). Entries
 * carry their own heap position and a map from id finds the entry, so `set`
 * on an existing id is an in-place O(log n) update with one hash lookup (not
 * one per level), so the heap never holds stale duplicates and its size is bounded by
 * the fleet size. `popDue` costs O(k log n) for k due entries, independent of
 * how many devices are not due.
 */
export interface DeadlineEntry {
  id: string;
  at: number;
}

/** A heap slot: the entry knows where it sits, so moving it costs no lookup. */
interface Slot {
  readonly id: string;
  at: number;
  i: number;
}

export class DeadlineHeap {
  private readonly heap: Slot[] = [];
  private readonly byId = new Map<string, Slot>();

  get size(): number {
    return this.heap.length;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** The deadline stored for `id`, if any. */
  get(id: string): number | undefined {
    return this.byId.get(id)?.at;
  }

  /** Inserts or moves the deadline of `id`. */
  set(id: string, at: number): void {
    // NaN compares false both ways and would silently break the heap order.
    if (!Number.isFinite(at)) throw new RangeError(`deadline for ${id} must be a finite number, got ${at}`);
    const s = this.byId.get(id);
    if (s === undefined) {
      const added: Slot = { id, at, i: this.heap.length };
      this.heap.push(added);
      this.byId.set(id, added);
      this.siftUp(added);
      return;
    }
    const before = s.at;
    s.at = at;
    if (at < before) this.siftUp(s);
    else if (at > before) this.siftDown(s);
  }

  /** Removes the deadline of `id`; returns whether there was one. */
  delete(id: string): boolean {
    const s = this.byId.get(id);
    if (s === undefined) return false;
    this.removeAt(s.i);
    return true;
  }

  /** The earliest deadline, without removing it. */
  peek(): DeadlineEntry | undefined {
    const top = this.heap[0];
    return top === undefined ? undefined : { id: top.id, at: top.at };
  }

  /** Removes and returns every id whose deadline is at or before `now`, earliest first. */
  popDue(now: number, limit = Number.POSITIVE_INFINITY): string[] {
    const due: string[] = [];
    while (this.heap.length > 0 && this.heap[0].at <= now && due.length < limit) {
      due.push(this.heap[0].id);
      this.removeAt(0);
    }
    return due;
  }

  clear(): void {
    this.heap.length = 0;
    this.byId.clear();
  }

  private removeAt(i: number): void {
    const removed = this.heap[i];
    this.byId.delete(removed.id);
    const moved = this.heap.pop() as Slot;
    if (moved === removed) return;
    // Fill the hole with the former last entry, then restore order in whichever direction it is off.
    this.place(i, moved);
    this.siftDown(moved);
    this.siftUp(moved);
  }

  private place(i: number, s: Slot): void {
    this.heap[i] = s;
    s.i = i;
  }

  private siftUp(s: Slot): void {
    const heap = this.heap;
    let i = s.i;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent];
      if (p.at <= s.at) break;
      this.place(i, p);
      i = parent;
    }
    this.place(i, s);
  }

  private siftDown(s: Slot): void {
    const heap = this.heap;
    const n = heap.length;
    let i = s.i;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const c = left + 1 < n && heap[left + 1].at < heap[left].at ? left + 1 : left;
      const child = heap[c];
      if (child.at >= s.at) break;
      this.place(i, child);
      i = c;
    }
    this.place(i, s);
  }
}
