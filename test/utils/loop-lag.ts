/**
 * Tolerances for comparing our timestamps with the engine's, which runs in a process of its own.
 * On an idle machine they agree within a few ms; on a loaded one (other jobs on its 2 cores) a
 * scheduler stall delays the timestamps of both sides by up to the stall. The tolerance is then
 * the idle one plus twice the longest delay this process's event loop saw since `start()`: a
 * wrong measurement (a phase booked to the wrong bucket) still fails on an idle machine, and a
 * stalled one no longer looks like one.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export class LoopLag {
  private _histogram: IntervalHistogram | undefined;

  /** Starts watching (again, from nothing). */
  start(): void {
    this._histogram?.disable();
    this._histogram = monitorEventLoopDelay({ resolution: 1 });
    this._histogram.enable();
  }

  stop(): void {
    this._histogram?.disable();
  }

  /** The longest event-loop delay seen since `start()`, in ms. */
  maxMs(): number {
    return (this._histogram?.max ?? 0) / 1e6;
  }

  /** `idleMs` plus twice the longest event-loop delay seen since `start()`. */
  within(idleMs: number): number {
    return idleMs + 2 * this.maxMs();
  }
}
