// performance.timeOrigin is a getter costing as much as performance.now(); it never changes.
const ORIGIN = performance.timeOrigin;

/** Wall-clock time in epoch milliseconds with sub-millisecond resolution (monotonic within a run). */
export function now(): number {
  return ORIGIN + performance.now();
}
