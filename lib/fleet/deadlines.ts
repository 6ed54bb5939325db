/**
 * Per-device deadlines in a binary min-heap keyed by device id.
 *
 * Each device has at most one entry (its next silence deadline). An index map
 * from id to heap slot makes `set` on an existing id an in-place O(log n)
 * update, so the heap never holds stale duplicates and its size is bounded by
 * the fleet size. `popDue` costs O(k log n) for k due entries, independent of
 * how many devices are not due.
 */
export interface DeadlineEntry {
  id: string;
  at: number;
}

export class DeadlineHeap {
  // Parallel arrays: slot i holds (ids[i], ats[i]); the heap order is on ats.
  private readonly ids: string[] = [];
  private readonly ats: number[] = [];
  private readonly slot = new Map<string, number>();

  get size(): number {
    return this.ids.length;
  }

  has(id: string): boolean {
    return this.slot.has(id);
  }

  /** The deadline stored for `id`, if any. */
  get(id: string): number | undefined {
    const i = this.slot.get(id);
    return i === undefined ? undefined : this.ats[i];
  }

  /** Inserts or moves the deadline of `id`. */
  set(id: string, at: number): void {
    // NaN compares false both ways and would silently break the heap order.
    if (!Number.isFinite(at)) throw new RangeError(`deadline for ${id} must be a finite number, got ${at}`);
    const i = this.slot.get(id);
    if (i === undefined) {
      this.ids.push(id);
      this.ats.push(at);
      this.slot.set(id, this.ids.length - 1);
      this.siftUp(this.ids.length - 1);
      return;
    }
    const before = this.ats[i];
    this.ats[i] = at;
    if (at < before) this.siftUp(i);
    else if (at > before) this.siftDown(i);
  }

  /** Removes the deadline of `id`; returns whether there was one. */
  delete(id: string): boolean {
    const i = this.slot.get(id);
    if (i === undefined) return false;
    this.removeAt(i);
    return true;
  }

  /** The earliest deadline, without removing it. */
  peek(): DeadlineEntry | undefined {
    return this.ids.length === 0 ? undefined : { id: this.ids[0], at: this.ats[0] };
  }

  /** Removes and returns every id whose deadline is at or before `now`, earliest first. */
  popDue(now: number, limit = Number.POSITIVE_INFINITY): string[] {
    const due: string[] = [];
    while (this.ids.length > 0 && this.ats[0] <= now && due.length < limit) {
      due.push(this.ids[0]);
      this.removeAt(0);
    }
    return due;
  }

  clear(): void {
    this.ids.length = 0;
    this.ats.length = 0;
    this.slot.clear();
  }

  private removeAt(i: number): void {
    const last = this.ids.length - 1;
    this.slot.delete(this.ids[i]);
    const movedId = this.ids.pop() as string;
    const movedAt = this.ats.pop() as number;
    if (i === last) return;
    // Fill the hole with the former last entry, then restore order in whichever direction it is off.
    this.place(i, movedId, movedAt);
    this.siftDown(i);
    this.siftUp(i);
  }

  private place(i: number, id: string, at: number): void {
    this.ids[i] = id;
    this.ats[i] = at;
    this.slot.set(id, i);
  }

  private siftUp(start: number): void {
    const id = this.ids[start];
    const at = this.ats[start];
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.ats[parent] <= at) break;
      this.place(i, this.ids[parent], this.ats[parent]);
      i = parent;
    }
    if (i !== start) this.place(i, id, at);
  }

  private siftDown(start: number): void {
    const n = this.ids.length;
    const id = this.ids[start];
    const at = this.ats[start];
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.ats[right] < this.ats[left] ? right : left;
      if (this.ats[child] >= at) break;
      this.place(i, this.ids[child], this.ats[child]);
      i = child;
    }
    if (i !== start) this.place(i, id, at);
  }
}
