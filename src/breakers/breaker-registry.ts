/**
 * The circuit breakers, one per backend (host:port), and the admission decision they make:
 * with `failFast`, a request to an open backend fails at once with a {@link CircuitOpenError}
 * and is not sent. Fed by request outcomes (every failed request that is the backend's fault:
 * connection, timeout, 5xx, malformed response; not an abort, not a 4xx) and by polls that
 * could not reach the engine at all. The breaker gauge and failure counter are a metric
 * feature that reads this registry (metrics/breaker-metrics.ts).
 */
import type { AdmissionRequest, FailedAttempt, Feature, StepStart } from '../feature.js';
import type { StepRecord } from '../types.js';
import { BreakerState, CircuitBreaker, CircuitOpenError, type BreakerOptions } from './circuit-breaker.js';
import { isBackendFailure, requestErrorType } from './request-error-type.js';
import { now } from '../util/clock.js';
import { log } from '../util/log.js';
import { BREAKER_STATE_NAMES } from './circuit-breaker.js';

export interface BreakerRegistryOptions extends BreakerOptions {
  /** Refuse requests to an open backend instead of only observing. */
  failFast: boolean;
}

export class BreakerRegistry implements Feature {
  readonly name = 'circuit breakers';
  private readonly _breakers = new Map<string, CircuitBreaker>();
  private readonly _failureListeners = new Set<(backend: string) => void>();

  constructor(private readonly _options: BreakerRegistryOptions) {}

  /** The breaker of a backend (host:port). */
  breaker(backend: string): CircuitBreaker {
    let b = this._breakers.get(backend);
    if (b === undefined) {
      b = new CircuitBreaker(backend, this._options);
      b.onStateChange((from, to) => log.info(`circuit breaker ${backend}: ${BREAKER_STATE_NAMES[from]} → ${BREAKER_STATE_NAMES[to]}`));
      this._breakers.set(backend, b);
    }
    return b;
  }

  /** Every breaker's state at `at`. */
  *states(at: number): Iterable<[string, BreakerState]> {
    for (const [backend, b] of this._breakers) yield [backend, b.state(at)];
  }

  /** Calls `listener(backend)` on every failure counted; returns the function that unsubscribes. */
  onFailure(listener: (backend: string) => void): () => void {
    this._failureListeners.add(listener);
    return () => this._failureListeners.delete(listener);
  }

  admit(request: AdmissionRequest): Error | undefined {
    if (!this._options.failFast || request.backend === undefined) return undefined;
    return this.breaker(request.backend).allows(now()) ? undefined : new CircuitOpenError(request.backend);
  }

  onStepEnd(record: StepRecord, step: StepStart): void {
    if (step.failureReported !== true) this._outcome(step, record.errorType, record.endTime);
  }

  /** Every failed attempt counts, the ones the client retries included. */
  onAttemptFailed(attempt: FailedAttempt, step: StepStart): void {
    this._outcome(step, attempt.errorType, attempt.endTime);
  }

  private _outcome(step: StepStart, errorType: string | undefined, at: number): void {
    if (step.serverAddress === undefined || step.serverPort === undefined || errorType === CircuitOpenError.CODE) return;
    const backend = `${step.serverAddress}:${step.serverPort}`;
    const b = this.breaker(backend);
    if (errorType === undefined) b.success(at);
    else if (isBackendFailure(requestErrorType(errorType))) this._failure(backend, at);
    else if (/^4\d\d$/.test(errorType)) b.success(at); // the backend answered
    else b.release();
  }

  /** A poll could not reach the backend at all: a failure, as a refused request is. */
  unreachable(backend: string, at: number): void {
    this._failure(backend, at);
  }

  private _failure(backend: string, at: number): void {
    this.breaker(backend).failure(at);
    for (const l of this._failureListeners) l(backend);
  }
}
