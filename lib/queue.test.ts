import { describe, expect, it } from "vitest";
import { Queue } from "./queue";

describe("Queue", () => {
  it("reads, takes and drops from the front in order, across compactions", () => {
    const q = new Queue<number>();
    for (let i = 0; i < 20_000; i++) q.push(i);
    expect(q.front(3)).toEqual([0, 1, 2]);
    expect(q.length).toBe(20_000); // front() leaves them
    expect(q.take(5_000)).toHaveLength(5_000);
    q.drop(6_000); // compacts: the head passed half of the array
    expect(q.peek()).toBe(11_000);
    expect(q.front(2)).toEqual([11_000, 11_001]);
    q.push(20_000);
    expect(q.shift()).toBe(11_000);
    q.restore([-2, -1]);
    expect(q.front(3)).toEqual([-2, -1, 11_001]);
    q.drop(Number.MAX_SAFE_INTEGER);
    expect(q.length).toBe(0);
    expect(q.peek()).toBeUndefined();
    expect(q.front(10)).toEqual([]);
  });
});
