/**
 * Appends finished steps to `{dir}/step_profiles.csv` without touching the request path: rows
 * are formatted into memory and written by an unref'd timer (or when many are waiting), one
 * append per batch. A restart appends to the existing file without a second header. A file that
 * cannot be written is reported once through `diag`; its rows stay in memory (bounded) and are
 * tried again on the next flush, and profiling goes on.
 */
import { diag } from '@opentelemetry/api';
import { appendFile, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { STEP_CSV_HEADER } from './step-csv.js';

const FLUSH_INTERVAL_MS = 1000;
const FLUSH_AT_ROWS = 1000;
/** Rows kept while the file cannot be written; the oldest go first beyond this. */
const MAX_PENDING_ROWS = 100_000;

export class StepProfileWriter {
  readonly path: string;
  private _pending: string[] = [];
  private _timer: NodeJS.Timeout | undefined;
  private _flushing: Promise<void> | undefined;
  private _headerChecked = false;
  private _failed = false;
  private _dropped = 0;

  constructor(readonly dir: string) {
    this.path = join(dir, 'step_profiles.csv');
  }

  /** Queues one row (with its newline). Never blocks, never throws. */
  write(row: string): void {
    this._pending.push(row);
    if (this._pending.length > MAX_PENDING_ROWS) {
      this._pending.shift();
      this._dropped++;
    }
    if (this._pending.length >= FLUSH_AT_ROWS) void this.flush();
    else if (this._timer === undefined) {
      this._timer = setTimeout(() => {
        this._timer = undefined;
        void this.flush();
      }, FLUSH_INTERVAL_MS);
      this._timer.unref();
    }
  }

  /** Writes every queued row; resolves when they are on disk (or kept after a failure). */
  async flush(): Promise<void> {
    while (this._flushing !== undefined) await this._flushing;
    if (this._pending.length === 0) return;
    this._flushing = this._flushOnce().finally(() => {
      this._flushing = undefined;
    });
    await this._flushing;
  }

  /** Flushes and stops the timer. */
  async shutdown(): Promise<void> {
    if (this._timer !== undefined) clearTimeout(this._timer);
    this._timer = undefined;
    await this.flush();
  }

  /** Rows waiting to be written. */
  get pendingRows(): number {
    return this._pending.length;
  }

  private async _flushOnce(): Promise<void> {
    const rows = this._pending;
    this._pending = [];
    try {
      let text = rows.join('');
      if (!this._headerChecked) {
        await mkdir(this.dir, { recursive: true });
        const size = await stat(this.path).then((s) => s.size, () => 0);
        if (size === 0) text = `${STEP_CSV_HEADER}\n${text}`;
        this._headerChecked = true;
      }
      await appendFile(this.path, text, 'utf8');
      if (this._failed) diag.info(`agentic-otel: writing ${this.path} works again`);
      this._failed = false;
    } catch (err) {
      this._pending = rows.concat(this._pending).slice(-MAX_PENDING_ROWS);
      if (!this._failed) {
        this._failed = true;
        diag.warn(`agentic-otel: cannot write step profiles to ${this.path}; keeping them in memory and retrying`, err);
      }
    }
    if (this._dropped > 0) {
      diag.warn(`agentic-otel: dropped ${this._dropped} step profile rows that could not be written`);
      this._dropped = 0;
    }
  }
}
