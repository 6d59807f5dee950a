import { performance } from 'node:perf_hooks';

// The global `performance` is a lazy getter in Node 20 (a function call on every read); the
// module's export is the object itself. timeOrigin is a getter too, and never changes.
const ORIGIN = performance.timeOrigin;

/**
 * Wall-clock time in epoch milliseconds with sub-millisecond resolution (monotonic within a run).
 *
 * Every chunk of a response is stamped with its own reading (~180 instructions on Node 20). A
 * reading shared by the chunks of one socket read cost more than it saved there: telling reads
 * apart needs a chunk's `byteOffset` or `buffer`, each a generic call on Node 20 (~300
 * instructions with the load that reaches it), and forgetting a shared reading at the end of
 * the turn needs a microtask, dearer still with AsyncLocalStorage's hooks on.
 */
export function now(): number {
  return ORIGIN + performance.now();
}
