/**
 * A FIFO with cheap removal from the front (an array and a head index,
 * compacted now and then), for queues that grow to hundreds of thousands:
 * the store writer's session changes, the alert engine's waiting fleet changes
 * and the alert service's writes waiting for the database.
 */
/** FIFO with cheap removal from the front. */
export class Queue<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }
  push(item: T): void {
    this.items.push(item);
  }
  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }
  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    // Cleared, not left for the next compaction: a taken item must not live on behind the head.
    this.items[this.head] = undefined as T;
    this.head++;
    this.compact();
    return item;
  }
  /** Up to n items from the front, left in place. */
  front(n: number): T[] {
    return this.items.slice(this.head, this.head + n);
  }
  /** Removes and returns up to n items from the front. */
  take(n: number): T[] {
    const out = this.items.slice(this.head, this.head + n);
    this.items.fill(undefined as T, this.head, this.head + out.length);
    this.head += out.length;
    this.compact();
    return out;
  }
  /** Puts items back in front (a failed batch), keeping their order. */
  restore(front: T[]): void {
    if (front.length === 0) return;
    this.items = front.concat(this.items.slice(this.head));
    this.head = 0;
  }
  /** Drops the n oldest items. */
  drop(n: number): void {
    const k = Math.min(n, this.length);
    this.items.fill(undefined as T, this.head, this.head + k);
    this.head += k;
    this.compact();
  }
  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
