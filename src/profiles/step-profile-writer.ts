/**
 * Appends finished steps to `{dir}/step_profiles.csv` without touching the request path: rows
 * are formatted into memory and appended once a second by an unref'd timer (sooner when many
 * are waiting), and synchronously when the process ends: on `beforeExit`, `exit`, SIGTERM and
 * SIGINT (see {@link installExitFlush}). So a finished step's row is lost only on SIGKILL or a
 * crash of the runtime, and then only the rows of the last second.
 *
 * Writes are synchronous appends of a few KiB (the cost of one syscall, once a second, off the
 * request path): a write in flight can never race the exit flush, and a write that fails midway
 * is known to the byte. Such a write is undone (the file truncated back to its last complete
 * row) and the whole batch kept for the next try; where truncating fails too, only the
 * unwritten tail is kept, so the line is completed, never duplicated. A file that cannot be
 * written is reported once through `diag`; its rows stay in memory (bounded) and profiling goes
 * on. A restart appends to the existing file without a second header.
 */
import { Buffer } from 'node:buffer';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { STEP_CSV_HEADER } from './step-csv.js';
import { installExitFlush } from './exit-flush.js';
import { log } from '../util/log.js';

const FLUSH_INTERVAL_MS = 1000;
const FLUSH_AT_ROWS = 1000;
/** Rows kept while the file cannot be written; the oldest go first beyond this. */
const MAX_PENDING_ROWS = 100_000;

/** The file operations the writer uses (replaceable in tests, e.g. by a disk that fills up). */
export interface WriterIo {
  mkdir(dir: string): void;
  /** Opens for appending; returns the descriptor and the file's size. */
  open(path: string): { fd: number; size: number };
  /** Writes bytes at the end; returns how many were written (may throw after a short write). */
  write(fd: number, bytes: Buffer, offset: number, length: number): number;
  truncate(fd: number, size: number): void;
  close(fd: number): void;
  /** The file's first line, when it exists (to check a header before appending). */
  firstLine?(path: string): string | undefined;
  /** Moves a file aside. */
  rename?(from: string, to: string): void;
}

const nodeIo: WriterIo = {
  mkdir: (dir) => fs.mkdirSync(dir, { recursive: true }),
  open: (path) => {
    const fd = fs.openSync(path, 'a');
    return { fd, size: fs.fstatSync(fd).size };
  },
  write: (fd, bytes, offset, length) => fs.writeSync(fd, bytes, offset, length),
  truncate: (fd, size) => fs.ftruncateSync(fd, size),
  close: (fd) => fs.closeSync(fd),
  firstLine: (path) => {
    let fd: number | undefined;
    try {
      fd = fs.openSync(path, 'r');
      const buf = Buffer.alloc(512);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      const text = buf.toString('utf8', 0, n);
      const nl = text.indexOf('\n');
      return nl === -1 ? text : text.slice(0, nl);
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  },
  rename: (from, to) => fs.renameSync(from, to),
};

export class StepProfileWriter {
  readonly path: string;
  private _pending: string[] = [];
  /** The unwritten end of a batch whose write failed and could not be undone: written first. */
  private _tail: Buffer | undefined;
  private _timer: NodeJS.Timeout | undefined;
  private _fd: number | undefined;
  private _size = 0;
  private _failed = false;
  private _dropped = 0;
  /** Set while registered for the exit flush: from the first row queued until shutdown. */
  private _unregister: (() => void) | undefined;

  /**
   * @param header the file's header line: ThunderAgent's, or the extended one. A file whose header
   *   is another is moved aside (`step_profiles.<epoch ms>.csv`) rather than appended to: one file
   *   never mixes two shapes.
   */
  constructor(readonly dir: string, private readonly _io: WriterIo = nodeIo, readonly header: string = STEP_CSV_HEADER) {
    this.path = join(dir, 'step_profiles.csv');
  }

  /** Queues one row (with its newline). Never blocks, never throws. */
  write(row: string): void {
    this._unregister ??= installExitFlush(this);
    this._pending.push(row);
    if (this._pending.length > MAX_PENDING_ROWS) {
      this._pending.shift();
      this._dropped++;
    }
    if (this._pending.length >= FLUSH_AT_ROWS) this.flushSync();
    else if (this._timer === undefined) {
      this._timer = setTimeout(() => {
        this._timer = undefined;
        this.flushSync();
      }, FLUSH_INTERVAL_MS);
      this._timer.unref();
    }
  }

  /** Writes every queued row. */
  async flush(): Promise<void> {
    this.flushSync();
    return Promise.resolve();
  }

  /** Writes every queued row now; on failure they stay queued (reported once). Never throws. */
  flushSync(): void {
    if (this._pending.length === 0 && this._tail === undefined) return;
    try {
      this._writeAll();
    } catch (err) {
      log.error('step profile writer failed', err);
    }
  }

  /**
   * Writes what is queued, stops the timer, closes the file and removes the exit handlers (a
   * row queued later opens it again).
   */
  async shutdown(): Promise<void> {
    if (this._timer !== undefined) clearTimeout(this._timer);
    this._timer = undefined;
    this.flushSync();
    this._unregister?.();
    this._unregister = undefined;
    if (this._fd !== undefined) {
      try {
        this._io.close(this._fd);
      } catch {
        // already gone
      }
      this._fd = undefined;
    }
    return Promise.resolve();
  }

  /** Rows waiting to be written. */
  get pendingRows(): number {
    return this._pending.length;
  }

  private _writeAll(): void {
    let batch: Buffer | undefined;
    try {
      if (this._fd === undefined) {
        this._io.mkdir(this.dir);
        this._moveAsideOtherShape();
        const { fd, size } = this._io.open(this.path);
        this._fd = fd;
        this._size = size;
      }
      const fd = this._fd;
      if (this._tail !== undefined) {
        const tail = this._tail;
        const n = this._writeFully(fd, tail);
        this._tail = n < tail.length ? tail.subarray(n) : undefined;
        if (this._tail !== undefined) throw new Error('short write');
      }
      if (this._pending.length === 0) return this._recovered();
      const rows = this._pending;
      let text = rows.join('');
      if (this._size === 0) text = `${this.header}\n${text}`;
      batch = Buffer.from(text, 'utf8');
      const before = this._size;
      this._pending = [];
      try {
        this._writeFully(fd, batch);
      } catch (err) {
        this._undo(fd, before, batch, rows, (err as { written?: number }).written ?? 0);
        throw err;
      }
      this._recovered();
    } catch (err) {
      if (!this._failed) {
        this._failed = true;
        log.warn(`cannot write step profiles to ${this.path}; keeping them in memory and retrying`, err);
      }
    } finally {
      if (this._dropped > 0) {
        log.warn(`dropped ${this._dropped} step profile rows that could not be written`);
        this._dropped = 0;
      }
    }
  }

  /** Writes all of `bytes`; on failure throws with `written` set to what did reach the file. */
  private _writeFully(fd: number, bytes: Buffer): number {
    let done = 0;
    while (done < bytes.length) {
      let n: number;
      try {
        n = this._io.write(fd, bytes, done, bytes.length - done);
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        (e as Error & { written?: number }).written = done;
        this._size += done;
        throw e;
      }
      if (n <= 0) {
        const e = new Error('write made no progress') as Error & { written?: number };
        e.written = done;
        this._size += done;
        throw e;
      }
      done += n;
    }
    this._size += done;
    return done;
  }

  /**
   * A batch failed after `written` of its bytes reached the file: truncate back to `before` and
   * queue its rows again; if that fails, keep the unwritten tail to complete the line.
   */
  private _undo(fd: number, before: number, batch: Buffer, rows: string[], written: number): void {
    if (written === 0) {
      this._pending = rows.concat(this._pending).slice(-MAX_PENDING_ROWS);
      return;
    }
    try {
      this._io.truncate(fd, before);
      this._size = before;
      this._pending = rows.concat(this._pending).slice(-MAX_PENDING_ROWS);
    } catch {
      this._tail = batch.subarray(written);
    }
  }

  /** An existing file written in the other shape is moved aside, once, before the first append. */
  private _moveAsideOtherShape(): void {
    const first = this._io.firstLine?.(this.path);
    if (first === undefined || first === '' || first === this.header) return;
    const aside = join(this.dir, `step_profiles.${Date.now()}.csv`);
    this._io.rename?.(this.path, aside);
    log.info(`${this.path} has another header; moved aside to ${aside}, a new file is started`);
  }

  private _recovered(): void {
    if (this._failed) log.info(`writing ${this.path} works again`);
    this._failed = false;
  }
}
