/**
 * `agentic-otel snapshots analyze <dir> [--json]` and `agentic-otel snapshots prune <dir>
 * --older-than 7d [--max-files N]`: the raw captures that the `snapshots: { dir }` option writes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeSnapshots, formatSnapshotReport } from '../snapshots/snapshot-analyze.js';
import { SnapshotWriter } from '../snapshots/snapshot-writer.js';

/** Prints the analysis of `dir`; 1 when it holds no pair. */
export function snapshotsAnalyze(dir: string, json: boolean): number {
  const report = analyzeSnapshots(readdirSync(dir), (name) => readFileSync(join(dir, name), 'utf8'));
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatSnapshotReport(dir, report));
  return report.requests.length === 0 ? 1 : 0;
}

/** Deletes captures in `dir` older than `olderThanMs` (and the oldest beyond `maxFiles`). */
export async function snapshotsPrune(dir: string, olderThanMs: number, maxFiles = Number.MAX_SAFE_INTEGER): Promise<number> {
  const removed = await new SnapshotWriter(dir, maxFiles, olderThanMs).prune();
  process.stdout.write(`removed ${removed} snapshot file(s) from ${dir}\n`);
  return 0;
}
