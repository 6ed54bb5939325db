/**
 * Follows a growing text file (Mosquitto's debug log) the way `tail -F` does,
 * handing complete lines on as they are written.
 *
 * - Wakes on fs.watch events of the file's directory and, as a fallback for
 *   file systems without notifications, on a polling interval (a stat each).
 * - Rotation by rename (a new file, i.e. another inode, under the path): the
 *   old file is read to its end first, then the new one from its start.
 * - Truncation (`copytruncate`, `: > file`): the size falls below the read
 *   position, so reading restarts at 0 and a half-read line is dropped.
 * - A missing file is waited for; once it appears it is read from its start.
 * - Partial lines: bytes after the last line break wait for the rest of their
 *   line; a "line" longer than maxLineBytes is dropped (and counted).
 * - Reads are asynchronous, in chunks of chunkBytes, yielding to the event
 *   loop every few chunks: a large backlog never holds up the process.
 * - Only one read runs at a time; wake-ups during a read cause one more pass.
 * - Resuming: `position()` says where the lines handed on so far end (the
 *   file's identity, the byte offset, the end of the last line). Given that
 *   position, openToResume opens the file and judges whether it is still the
 *   same one (same device and inode, at least that long, the same bytes
 *   before the offset) with no more than a limit written since, and says why
 *   not; when it is, the tail reads on in that open file (`resumeFile`), so
 *   what was judged is what is read. Otherwise the tail starts at the end.
 *
 * Note for a writer whose output is redirected (`2>>file`): it keeps writing
 * to the file it opened, so rotate such a file with copytruncate; a rename
 * would leave the writer appending to the renamed file.
 */
import { createHash } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import path from "node:path";

export interface LogTailOptions {
  path: string;
  /** Complete lines (without line breaks), with the time they were read. */
  onLines(lines: string[], receivedAt: number): void;
  /** Where to begin in a file that exists at start: its end (default; old lines are history) or its start. */
  from?: "end" | "start";
  /** Where an earlier run stopped, opened and judged by openToResume: read on in that file from there. */
  resumeFile?: ResumeFile | null;
  /** Fallback polling interval (ms). Default 500. */
  pollMs?: number;
  /** Bytes per read. Default 64 KiB. */
  chunkBytes?: number;
  /** Chunks read before yielding to the event loop. Default 8. */
  chunksPerTurn?: number;
  /** Longest line kept (bytes). Default 64 KiB. */
  maxLineBytes?: number;
  /** Told about read errors other than a missing file; the tail goes on. */
  onError?(err: unknown): void;
  /** Test hook: false disables fs.watch (polling only). */
  useWatch?: boolean;
}

/** Where the lines handed on end, in which file. */
export interface LogPosition {
  /** The file's device and inode numbers (as decimal strings). */
  dev: string;
  ino: string;
  /** Bytes up to the end of the last complete line handed on. */
  offset: number;
  /** `n:sha256` of the last n (≤ 64) bytes before the offset, the end of the last line: the same file still holds them there. */
  tail: string;
}

/** Whether a file can be read on from a position (openToResume): the bytes to read again from the offset, or why not. */
export type ResumeOutcome = { resumed: true; offset: number; bytes: number } | { resumed: false; reason: string };

/** Bytes before a position that identify it. */
const TAIL_BYTES = 64;
const digest = (b: Buffer) => createHash("sha256").update(b).digest("hex");

export interface LogTailStats {
  lines: number;
  bytes: number;
  rotations: number;
  truncations: number;
  droppedLongLines: number;
}

const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function bytesBefore(fh: FileHandle, offset: number, n: number): Promise<Buffer> {
  const buf = Buffer.alloc(n);
  const { bytesRead } = await fh.read(buf, 0, n, offset - n);
  return buf.subarray(0, bytesRead);
}

/** Whether the open file (its identity and size) can be read on from `r`, and if not why. */
async function judgeResume(
  fh: FileHandle,
  file: { dev: number; ino: number; size: number },
  r: LogPosition,
  maxBytes: number,
): Promise<ResumeOutcome> {
  const since = file.size - r.offset;
  const [count, sha] = r.tail.split(":");
  const n = Number(count);
  const holds = async () =>
    Number.isInteger(n) &&
    n >= 0 &&
    n <= TAIL_BYTES &&
    n <= r.offset &&
    digest(await bytesBefore(fh, r.offset, n)) === sha;
  const why =
    r.dev !== String(file.dev) || r.ino !== String(file.ino)
      ? "another file is at the path now (rotated or replaced)"
      : since < 0
        ? "the file is shorter than where reading stopped (truncated)"
        : !(await holds())
          ? "the file no longer holds what was read (truncated and rewritten)"
          : since > maxBytes
            ? `${since} bytes were written since, more than ${maxBytes} (the replay limit)`
            : null;
  return why === null ? { resumed: true, offset: r.offset, bytes: since } : { resumed: false, reason: why };
}

/** A file opened and found fit to read on from an earlier position (openToResume). */
export interface ResumeFile {
  handle: FileHandle;
  dev: number;
  ino: number;
  /** Where reading goes on, and how many bytes were written since. */
  offset: number;
  bytes: number;
}

/**
 * Opens the file at `file` and judges whether it can be read on from `r`
 * (the runtime decides by it how to restore the fleet). When it
 * can, the file stays open: given to a tail as `resumeFile`, the file judged
 * is the file read, even if the path is rotated in between (the tail then
 * finishes it and goes on in the new one, as with any rotation). The caller
 * closes `file.handle` if no tail takes it.
 */
export async function openToResume(
  file: string,
  r: LogPosition,
  maxBytes: number,
): Promise<{ outcome: ResumeOutcome; file: ResumeFile | null }> {
  let fh: FileHandle;
  try {
    fh = await open(file, "r");
  } catch (err) {
    const reason = `the file cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`;
    return { outcome: { resumed: false, reason }, file: null };
  }
  try {
    const st = await fh.stat();
    const outcome = await judgeResume(fh, st, r, maxBytes);
    if (!outcome.resumed) {
      await fh.close();
      return { outcome, file: null };
    }
    return { outcome, file: { handle: fh, dev: st.dev, ino: st.ino, offset: outcome.offset, bytes: outcome.bytes } };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

export class LogTail {
  private readonly opts: Required<Omit<LogTailOptions, "onError">> & Pick<LogTailOptions, "onError">;
  private fh: FileHandle | null = null;
  private ino = -1;
  private dev = -1;
  private pos = 0;
  /** End of the last complete line handed on (or skipped), and its last bytes. */
  private consumed = 0;
  private consumedTail: Buffer = Buffer.alloc(0);
  private partial: Buffer = Buffer.alloc(0);
  /** Inside an over-long line: skip until its end. */
  private skipping = false;
  private firstOpen = true;
  private running = false;
  private busy: Promise<void> | null = null;
  private again = false;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  readonly stats: LogTailStats = { lines: 0, bytes: 0, rotations: 0, truncations: 0, droppedLongLines: 0 };

  constructor(opts: LogTailOptions) {
    this.opts = {
      from: "end",
      pollMs: 500,
      chunkBytes: 64 * 1024,
      chunksPerTurn: 8,
      maxLineBytes: 64 * 1024,
      useWatch: true,
      resumeFile: null,
      ...opts,
    };
  }

  /** Where the lines handed on so far end (null before a file was opened; after stop(), where it stopped). */
  position(): LogPosition | null {
    if (this.ino === -1) return null;
    const tail = `${this.consumedTail.length}:${digest(this.consumedTail)}`;
    return { dev: String(this.dev), ino: String(this.ino), offset: this.consumed, tail };
  }

  /** Whether a file is open and being followed. */
  get following(): boolean {
    return this.fh !== null;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.opts.useWatch) {
      try {
        const base = path.basename(this.opts.path);
        this.watcher = watch(path.dirname(this.opts.path), { persistent: false }, (_event, file) => {
          if (file === null || String(file) === base) this.wake();
        });
        this.watcher.on("error", () => {
          this.watcher?.close();
          this.watcher = null; // polling carries on
        });
      } catch {
        this.watcher = null;
      }
    }
    this.timer = setInterval(() => this.wake(), this.opts.pollMs);
    this.timer.unref?.();
    this.wake();
  }

  /** Reads whatever is new now; resolves when that pass (and any it triggered) is done. */
  poll(): Promise<void> {
    this.wake();
    return this.busy ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.watcher?.close();
    this.watcher = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.busy?.catch(() => {});
    await this.close();
    if (this.firstOpen && this.opts.resumeFile) {
      this.firstOpen = false;
      await this.opts.resumeFile.handle.close().catch(() => {});
    }
  }

  private wake(): void {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = (async () => {
      try {
        do {
          this.again = false;
          await this.pass();
        } while (this.again && this.running);
      } catch (err) {
        this.opts.onError?.(err);
      } finally {
        this.busy = null;
      }
    })();
  }

  private async pass(): Promise<void> {
    const given = this.firstOpen ? this.opts.resumeFile : null;
    if (given) {
      // The file judged beforehand: read on in it, whatever the path names now (a rotation is handled below).
      this.fh = given.handle;
      this.ino = given.ino;
      this.dev = given.dev;
      this.pos = given.offset;
      this.consumed = this.pos;
      this.consumedTail = await bytesBefore(this.fh, this.pos, Math.min(TAIL_BYTES, this.pos));
      this.firstOpen = false;
    }
    const st = await stat(this.opts.path, { bigint: false }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return null;
      throw err;
    });
    if (this.fh && st && (st.ino !== this.ino || st.dev !== this.dev)) {
      // Rotated: finish the old file, then follow the new one from its start.
      await this.readToEnd();
      this.flushPartial();
      await this.close();
      this.stats.rotations++;
    } else if (this.fh && st && st.size < this.pos) {
      this.stats.truncations++;
      this.pos = 0;
      this.consumed = 0;
      this.consumedTail = Buffer.alloc(0);
      this.partial = Buffer.alloc(0);
      this.skipping = false;
    }
    if (!this.fh) {
      if (!st) {
        this.firstOpen = false; // a file that appears later is all new
        return;
      }
      if (!this.running) return;
      this.fh = await open(this.opts.path, "r");
      const opened = await this.fh.stat();
      this.ino = opened.ino;
      this.dev = opened.dev;
      this.pos = this.firstOpen && this.opts.from === "end" ? opened.size : 0;
      this.consumed = this.pos;
      this.consumedTail = await bytesBefore(this.fh, this.pos, Math.min(TAIL_BYTES, this.pos));
      this.firstOpen = false;
    }
    await this.readToEnd();
  }

  private async readToEnd(): Promise<void> {
    const fh = this.fh;
    if (!fh) return;
    const buf = Buffer.allocUnsafe(this.opts.chunkBytes);
    let chunks = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, this.pos);
      if (bytesRead === 0) return;
      this.pos += bytesRead;
      this.stats.bytes += bytesRead;
      this.consume(buf.subarray(0, bytesRead), Date.now());
      if (++chunks % this.opts.chunksPerTurn === 0) await yieldTurn();
      if (!this.running && this.fh === null) return;
    }
  }

  private consume(chunk: Buffer, receivedAt: number): void {
    const lines: string[] = [];
    let start = 0;
    const chunkStart = this.pos - chunk.length;
    let last: Buffer | null = null;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      const piece = chunk.subarray(start, nl + 1);
      start = nl + 1;
      // An over-long line's last bytes are its last piece.
      const line = this.partial.length > 0 && !this.skipping ? Buffer.concat([this.partial, piece]) : piece;
      last = line;
      if (this.skipping) {
        this.skipping = false;
        this.partial = Buffer.alloc(0);
        continue;
      }
      this.partial = Buffer.alloc(0);
      if (line.length - 1 > this.opts.maxLineBytes) {
        this.stats.droppedLongLines++;
        continue;
      }
      lines.push(line.toString("utf8", 0, line.length - 1));
    }
    if (last !== null) {
      // The end of the last line is where a resume begins; its bytes copied, as the read buffer is reused.
      this.consumed = chunkStart + start;
      this.consumedTail = Buffer.from(last.subarray(-TAIL_BYTES));
    }
    if (start < chunk.length && !this.skipping) {
      this.partial = Buffer.concat([this.partial, chunk.subarray(start)]);
      if (this.partial.length > this.opts.maxLineBytes) {
        this.stats.droppedLongLines++;
        this.partial = Buffer.alloc(0);
        this.skipping = true;
      }
    }
    this.emit(lines, receivedAt);
  }

  /** A rotated file's last line may lack its line break: it is still a line. */
  private flushPartial(): void {
    if (this.partial.length > 0 && !this.skipping) this.emit([this.partial.toString("utf8")], Date.now());
    this.partial = Buffer.alloc(0);
    this.skipping = false;
  }

  private emit(lines: string[], receivedAt: number): void {
    if (lines.length === 0) return;
    this.stats.lines += lines.length;
    try {
      this.opts.onLines(lines, receivedAt);
    } catch (err) {
      this.opts.onError?.(err);
    }
  }

  private async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    await fh?.close().catch(() => {});
  }
}
