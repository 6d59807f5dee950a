import { performance } from 'node:perf_hooks';

// The global `performance` is a lazy getter in Node 20 (a function call on every read); the
// module's export is the object itself. timeOrigin is a getter too, and never changes.
const ORIGIN = performance.timeOrigin;

/** Wall-clock time in epoch milliseconds with sub-millisecond resolution (monotonic within a run). */
export function now(): number {
  return ORIGIN + performance.now();
}
