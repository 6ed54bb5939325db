/**
 * The tailer on real files in a temp directory: appends, partial lines,
 * rotation by rename, truncation, a file that appears late, a large backlog,
 * resuming where an earlier run stopped.
 * Polling is driven by hand (poll()) so every step is deterministic; one test
 * relies on fs.watch alone.
 */
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LogTail, openToResume, type LogPosition, type LogTailOptions } from "./log-tail";

let dir: string;
let file: string;
let tails: LogTail[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "kw-tail-"));
  file = path.join(dir, "debug.log");
});

afterEach(async () => {
  for (const t of tails) await t.stop();
  tails = [];
  rmSync(dir, { recursive: true, force: true });
});

function follow(opts: Partial<LogTailOptions> = {}) {
  const lines: string[] = [];
  const tail = new LogTail({
    path: file,
    onLines: (l) => lines.push(...l),
    pollMs: 60_000,
    useWatch: false,
    ...opts,
  });
  tails.push(tail);
  tail.start();
  return { tail, lines };
}

describe("LogTail", () => {
  it("starts at the end of an existing file and hands on complete lines as they are appended", async () => {
    writeFileSync(file, "old 1\nold 2\n");
    const { tail, lines } = follow();
    await tail.poll();
    expect(lines).toEqual([]);
    appendFileSync(file, "a\nb\n");
    await tail.poll();
    expect(lines).toEqual(["a", "b"]);
  });

  it("can start at the beginning", async () => {
    writeFileSync(file, "old 1\nold 2\n");
    const { tail, lines } = follow({ from: "start" });
    await tail.poll();
    expect(lines).toEqual(["old 1", "old 2"]);
  });

  it("buffers a partial line until its end arrives", async () => {
    writeFileSync(file, "");
    const { tail, lines } = follow();
    await tail.poll();
    appendFileSync(file, "Received PING");
    await tail.poll();
    expect(lines).toEqual([]);
    appendFileSync(file, "REQ from dev-1\nnext");
    await tail.poll();
    expect(lines).toEqual(["Received PINGREQ from dev-1"]);
    appendFileSync(file, "\n");
    await tail.poll();
    expect(lines).toEqual(["Received PINGREQ from dev-1", "next"]);
  });

  it("does not split a multi-byte character across reads", async () => {
    writeFileSync(file, "");
    const { tail, lines } = follow({ chunkBytes: 3 });
    await tail.poll();
    appendFileSync(file, "dev-ü€😀\n");
    await tail.poll();
    expect(lines).toEqual(["dev-ü€😀"]);
  });

  it("follows a rotation by rename: the old file to its end, then the new one from its start", async () => {
    writeFileSync(file, "");
    const { tail, lines } = follow();
    await tail.poll();
    appendFileSync(file, "1\n2");
    await tail.poll();
    renameSync(file, `${file}.1`);
    appendFileSync(`${file}.1`, "\n3\nlast-without-break");
    writeFileSync(file, "new 1\n");
    await tail.poll();
    expect(lines).toEqual(["1", "2", "3", "last-without-break", "new 1"]);
    expect(tail.stats.rotations).toBe(1);
    appendFileSync(file, "new 2\n");
    await tail.poll();
    expect(lines.at(-1)).toBe("new 2");
  });

  it("restarts at 0 after a truncation and drops the half-read line", async () => {
    writeFileSync(file, "");
    const { tail, lines } = follow();
    await tail.poll();
    appendFileSync(file, "before 1\nbefore 2\nhalf");
    await tail.poll();
    truncateSync(file, 0);
    appendFileSync(file, "after\n");
    await tail.poll();
    expect(lines).toEqual(["before 1", "before 2", "after"]);
    expect(tail.stats.truncations).toBe(1);
  });

  it("waits for a missing file and reads it from its start once it appears", async () => {
    const { tail, lines } = follow();
    await tail.poll();
    expect(tail.following).toBe(false);
    writeFileSync(file, "first\n");
    await tail.poll();
    expect(tail.following).toBe(true);
    expect(lines).toEqual(["first"]);
  });

  it("drops an over-long line and carries on", async () => {
    writeFileSync(file, "");
    const { tail, lines } = follow({ maxLineBytes: 10, chunkBytes: 4 });
    await tail.poll();
    appendFileSync(file, `${"x".repeat(25)}\nok\n`);
    await tail.poll();
    expect(lines).toEqual(["ok"]);
    expect(tail.stats.droppedLongLines).toBe(1);
  });

  it("reads a large backlog in chunks without holding the event loop", async () => {
    writeFileSync(file, "");
    const { tail, lines } = follow({ chunkBytes: 4096, chunksPerTurn: 2 });
    await tail.poll();
    const n = 50_000;
    appendFileSync(file, Array.from({ length: n }, (_, i) => `1795309837: Received PINGREQ from d-${i}\n`).join(""));
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    await tail.poll();
    clearInterval(ticker);
    expect(lines).toHaveLength(n);
    expect(lines[n - 1]).toBe(`1795309837: Received PINGREQ from d-${n - 1}`);
    expect(turns).toBeGreaterThan(1); // timers ran while the backlog was read
  });

  it("wakes on fs.watch without waiting for the polling interval", async () => {
    writeFileSync(file, "");
    const { tail, lines } = follow({ useWatch: true });
    await tail.poll();
    appendFileSync(file, "watched\n");
    const deadline = Date.now() + 3000;
    while (lines.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(lines).toEqual(["watched"]);
  });

  describe("resuming where an earlier run stopped", () => {
    /** An earlier run reads the file to where it stops, mid-line, and tells its position. */
    async function earlierRun(content: string) {
      writeFileSync(file, content);
      const { tail, lines } = follow({ from: "start" });
      await tail.poll();
      const position = tail.position();
      await tail.stop();
      tails = tails.filter((t) => t !== tail);
      return { position: position!, lines };
    }

    /** A tail that reads on from `position` when openToResume finds it can, and what it found. */
    async function followFrom(position: LogPosition, maxBytes = Number.POSITIVE_INFINITY) {
      const { outcome, file: opened } = await openToResume(file, position, maxBytes);
      return { ...follow({ resumeFile: opened }), resumed: outcome };
    }

    it("hands on the lines written since, from the end of the last line read, once", async () => {
      const before = await earlierRun("1\n2\nhalf");
      expect(before.lines).toEqual(["1", "2"]);
      expect(before.position.offset).toBe(4); // the half line is read again
      appendFileSync(file, "-line\n3\n");
      const { tail, lines, resumed } = await followFrom(before.position);
      await tail.poll();
      expect(lines).toEqual(["half-line", "3"]);
      expect(resumed).toEqual({ resumed: true, offset: 4, bytes: 12 });
      appendFileSync(file, "4\n");
      await tail.poll();
      expect(lines).toEqual(["half-line", "3", "4"]);
      expect(tail.position()?.offset).toBe(18);
    });

    it("knows the end of a line split over reads, and of an over-long line it dropped", async () => {
      writeFileSync(file, "");
      const { tail } = follow({ chunkBytes: 4, maxLineBytes: 8 });
      await tail.poll();
      appendFileSync(file, "a-long-line-over-8\nshort\n");
      await tail.poll();
      const position = tail.position()!;
      expect(position.offset).toBe(25);
      await tail.stop();
      appendFileSync(file, "next\n");
      const again = await followFrom(position);
      await again.tail.poll();
      expect(again.lines).toEqual(["next"]);
      expect(again.resumed).toMatchObject({ resumed: true });
    });

    /** The check made beforehand (openToResume), its file closed again. */
    async function judged(position: LogPosition) {
      const { outcome, file: opened } = await openToResume(file, position, 1_000);
      await opened?.handle.close();
      return outcome;
    }

    it("reads on in the file it judged, even when the path is rotated before the tail starts", async () => {
      const before = await earlierRun("1\n2\n");
      appendFileSync(file, "3\n");
      const { outcome, file: opened } = await openToResume(file, before.position, 1_000);
      expect(outcome).toEqual({ resumed: true, offset: 4, bytes: 2 });
      renameSync(file, `${file}.1`);
      writeFileSync(file, "new 1\n");
      const { tail, lines } = follow({ resumeFile: opened });
      await tail.poll();
      // The rest of the old file, then the new one from its start: nothing lost to the rotation, nothing twice.
      expect(lines).toEqual(["3", "new 1"]);
      expect(tail.stats.rotations).toBe(1);
    });

    it("closes a judged file no tail read", async () => {
      const before = await earlierRun("1\n");
      const { file: opened } = await openToResume(file, before.position, 1_000);
      const { tail } = follow({ resumeFile: opened, pollMs: 60_000 });
      await tail.stop();
      await expect(opened!.handle.stat()).rejects.toThrow();
    });

    it("begins at the end when another file is at the path (rotated)", async () => {
      const before = await earlierRun("1\n2\n");
      // The same check, made beforehand without following.
      expect(await judged(before.position)).toEqual({ resumed: true, offset: 4, bytes: 0 });
      renameSync(file, `${file}.1`);
      expect(await judged(before.position)).toEqual({
        resumed: false,
        reason: "the file cannot be read (ENOENT)",
      });
      writeFileSync(file, "new 1\nnew 2\n");
      expect(await judged(before.position)).toEqual({
        resumed: false,
        reason: "another file is at the path now (rotated or replaced)",
      });
      const { tail, lines, resumed } = await followFrom(before.position);
      await tail.poll();
      expect(lines).toEqual([]);
      expect(resumed).toEqual({ resumed: false, reason: "another file is at the path now (rotated or replaced)" });
      appendFileSync(file, "new 3\n");
      await tail.poll();
      expect(lines).toEqual(["new 3"]);
    });

    it("begins at the end when the file was truncated, or truncated and written past the old offset", async () => {
      const before = await earlierRun("first run 1\nfirst run 2\n");
      truncateSync(file, 0);
      appendFileSync(file, "x\n");
      const shorter = await followFrom(before.position);
      await shorter.tail.poll();
      expect(shorter.resumed).toMatchObject({ resumed: false, reason: expect.stringContaining("shorter") });
      await shorter.tail.stop();

      appendFileSync(file, "other text, longer than before\n");
      const rewritten = await followFrom(before.position);
      await rewritten.tail.poll();
      expect(rewritten.lines).toEqual([]);
      expect(rewritten.resumed).toMatchObject({
        resumed: false,
        reason: expect.stringContaining("no longer holds"),
      });
    });

    it("begins at the end when more than the limit was written since", async () => {
      const before = await earlierRun("1\n");
      appendFileSync(file, "0123456789\n".repeat(10));
      const { tail, lines, resumed } = await followFrom(before.position, 100);
      await tail.poll();
      expect(lines).toEqual([]);
      expect(resumed).toEqual({
        resumed: false,
        reason: "110 bytes were written since, more than 100 (the replay limit)",
      });
      const ok = await followFrom(before.position, 110);
      await ok.tail.poll();
      expect(ok.lines).toHaveLength(10);
    });
  });
});
