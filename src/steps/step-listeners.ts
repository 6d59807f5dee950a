/** The application's own step listeners (`instrumentation.onStepEnd`), as a feature. */
import type { Feature } from '../feature.js';
import type { StepRecord } from '../types.js';
import { log } from '../util/log.js';

export class StepListeners implements Feature {
  readonly name = 'step listeners';
  private readonly _listeners = new Set<(record: StepRecord) => void>();

  /** Subscribes; returns the function that unsubscribes. */
  add(listener: (record: StepRecord) => void): () => void {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  onStepEnd(record: StepRecord): void {
    for (const listener of this._listeners) {
      try {
        listener(record);
      } catch (err) {
        log.error('a step listener failed', err);
      }
    }
  }
}
