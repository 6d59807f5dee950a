/**
 * Raw captures on disk, named as the reference's tool names them (snapshot-files.ts). A capture
 * shared by several requests (coalesced) is written once: the first request's file holds the
 * bytes, and every other request's name is a hard link to it (the same file, one copy on disk;
 * a copy only where the file system cannot link). Retention by count and by age runs after
 * every 50 writes and at least once a minute, oldest first. Nothing here blocks a request, and
 * a failure is reported once through `diag`.
 */
import { link, mkdir, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { log } from '../util/log.js';
import type { Capture } from './engine-captures.js';
import { captureFileName, parseCaptureFileName, stampTime, type Stage } from './snapshot-files.js';

const PRUNE_EVERY = 50;
const PRUNE_INTERVAL_MS = 60_000;

export class SnapshotWriter {
  private readonly _files = new WeakMap<Capture, Promise<string | undefined>>();
  private _ready: Promise<void> | undefined;
  private _writes = 0;
  private _lastPrune = 0;
  private _pruning: Promise<void> | undefined;
  private _warned = false;

  constructor(readonly dir: string, private readonly _maxFiles: number, private readonly _maxAgeMs: number) {}

  /** Saves `capture` as `requestId`'s `stage` file (written once, linked for every other request). */
  async save(requestId: string, stage: Stage, capture: Capture): Promise<string | undefined> {
    try {
      this._ready ??= mkdir(this.dir, { recursive: true }).then(() => undefined);
      await this._ready;
      const path = join(this.dir, captureFileName(requestId, stage, capture.startedAt));
      const first = this._files.get(capture);
      if (first === undefined) {
        const written = writeFile(path, capture.text).then(() => path);
        this._files.set(capture, written.catch(() => undefined));
        await written;
      } else {
        const source = await first;
        if (source === path) return path;
        if (source === undefined) await writeFile(path, capture.text);
        else await link(source, path).catch(() => writeFile(path, capture.text));
      }
      this._afterWrite();
      return path;
    } catch (err) {
      this._warn(err);
      return undefined;
    }
  }

  /** Deletes capture files older than `maxAgeMs`, then the oldest beyond `maxFiles`. */
  async prune(now = Date.now()): Promise<number> {
    let removed = 0;
    const names = (await readdir(this.dir).catch(() => [] as string[])).filter((n) => parseCaptureFileName(n) !== undefined);
    const files = await Promise.all(names.map(async (name) => {
      const at = await stat(join(this.dir, name)).then((s) => s.mtimeMs, () => stampTime((parseCaptureFileName(name) as { stamp: string }).stamp));
      return { name, at };
    }));
    files.sort((a, b) => a.at - b.at);
    const excess = Math.max(0, files.length - this._maxFiles);
    for (const [i, f] of files.entries()) {
      if (i >= excess && now - f.at <= this._maxAgeMs) continue;
      await unlink(join(this.dir, f.name)).then(() => removed++, () => undefined);
    }
    return removed;
  }

  /** Waits for a prune in progress. */
  async flush(): Promise<void> {
    await this._pruning;
  }

  private _afterWrite(): void {
    this._writes++;
    const t = Date.now();
    if (this._pruning !== undefined || (this._writes % PRUNE_EVERY !== 0 && t - this._lastPrune < PRUNE_INTERVAL_MS)) return;
    this._lastPrune = t;
    this._pruning = this.prune(t).then(() => undefined, (err: unknown) => this._warn(err)).finally(() => {
      this._pruning = undefined;
    });
  }

  private _warn(err: unknown): void {
    if (this._warned) return;
    this._warned = true;
    log.warn(`engine snapshots: could not write to ${this.dir} (reported once)`, err);
  }
}
