/**
 * Tolerances for comparing our timestamps with the engine's, which runs in a process of its own.
 * On an idle machine they agree within a few ms; on a loaded one (other jobs on its 2 cores) a
 * scheduler stall delays the timestamps of both sides by up to the stall. A tolerance widens by
 * the stalls this process's event loop saw since `start()`: `within` by twice the longest (for one
 * comparison, which a single stall can hit), `withinTypical` by twice the 90th percentile less the
 * sampling interval (for a median over many steps). Idle, the longest was 4–20 ms here (a collection, a
 * compilation), the 90th percentile within a few ms of the interval: a median still fails on a
 * phase booked to the wrong bucket.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** The histogram's sampling interval, ms: every sample is at least this. */
const RESOLUTION_MS = 1;

export class LoopLag {
  private _histogram: IntervalHistogram | undefined;

  /** Starts watching (again, from nothing). */
  start(): void {
    this._histogram?.disable();
    this._histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this._histogram.enable();
  }

  stop(): void {
    this._histogram?.disable();
  }

  /** `idleMs` plus twice the longest event-loop delay seen since `start()`. */
  within(idleMs: number): number {
    return idleMs + (2 * (this._histogram?.max ?? 0)) / 1e6;
  }

  /** `idleMs` plus twice the 90th percentile of the delays since `start()`, less the sampling interval. */
  withinTypical(idleMs: number): number {
    const p90 = this._histogram === undefined || this._histogram.count === 0 ? RESOLUTION_MS : this._histogram.percentile(90) / 1e6;
    return idleMs + 2 * Math.max(0, p90 - RESOLUTION_MS);
  }
}
