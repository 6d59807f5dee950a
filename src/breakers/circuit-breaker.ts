/**
 * A circuit breaker per backend (host:port), after cockatiel's: an enum of states, listeners
 * that return a disposer. Closed → open after `threshold` consecutive failures; open →
 * half-open once `cooldownMs` has passed (on the next request, or when its state is read);
 * half-open → closed on the next success, back to open on a failure. Half-open lets one trial
 * request through, as cockatiel does: the others are refused until its outcome is known (a
 * trial that ends with no verdict, an abort of the application's, frees the slot for the next).
 * Pure: time is handed in.
 */
import { BREAKER_STATE_CLOSED, BREAKER_STATE_HALF_OPEN, BREAKER_STATE_OPEN } from '../semconv.js';

/** Breaker states, with TinyLLM's gauge values. */
export enum BreakerState {
  Closed = 0,
  HalfOpen = 1,
  Open = 2,
}

/** TinyLLM's names for the states. */
export const BREAKER_STATE_NAMES = { [BreakerState.Closed]: BREAKER_STATE_CLOSED, [BreakerState.HalfOpen]: BREAKER_STATE_HALF_OPEN, [BreakerState.Open]: BREAKER_STATE_OPEN } as const;

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. @default 5 */
  threshold?: number;
  /** Time an open breaker waits before letting a trial request through. @default 30000 */
  cooldownMs?: number;
}

type Inner = { state: BreakerState.Closed; failures: number } | { state: BreakerState.Open; openedAt: number } | { state: BreakerState.HalfOpen; trial: boolean };

export type BreakerListener = (from: BreakerState, to: BreakerState) => void;

export class CircuitBreaker {
  private _inner: Inner = { state: BreakerState.Closed, failures: 0 };
  private readonly _listeners = new Set<BreakerListener>();
  private readonly _threshold: number;
  private readonly _cooldownMs: number;
  /** Failures counted while the breaker was closed or half-open (the failures counter). */
  failures = 0;

  constructor(readonly name: string, options: BreakerOptions = {}) {
    this._threshold = options.threshold ?? 5;
    this._cooldownMs = options.cooldownMs ?? 30_000;
  }

  /** The state at `now` (an open breaker past its cool-down is half-open). */
  state(now: number): BreakerState {
    if (this._inner.state === BreakerState.Open && now - this._inner.openedAt >= this._cooldownMs) this._move({ state: BreakerState.HalfOpen, trial: false });
    return this._inner.state;
  }

  /**
   * Whether a request may go now, taking the trial slot when half-open: closed, yes; open, no;
   * half-open, only the one trial.
   */
  allows(now: number): boolean {
    const state = this.state(now);
    const inner = this._inner;
    if (state === BreakerState.Closed) return true;
    if (inner.state !== BreakerState.HalfOpen || inner.trial) return false;
    inner.trial = true;
    return true;
  }

  /** A request ended with no verdict on the backend (aborted by the application): a half-open trial slot is freed. */
  release(): void {
    if (this._inner.state === BreakerState.HalfOpen) this._inner.trial = false;
  }

  success(now: number): void {
    if (this.state(now) !== BreakerState.Closed || (this._inner as { failures: number }).failures !== 0) this._move({ state: BreakerState.Closed, failures: 0 });
  }

  failure(now: number): void {
    this.failures++;
    const inner = this._inner;
    const state = this.state(now);
    if (state === BreakerState.HalfOpen) this._move({ state: BreakerState.Open, openedAt: now });
    else if (state === BreakerState.Closed && inner.state === BreakerState.Closed) {
      const failures = inner.failures + 1;
      if (failures >= this._threshold) this._move({ state: BreakerState.Open, openedAt: now });
      else this._inner = { state: BreakerState.Closed, failures };
    }
  }

  /** Calls `listener(from, to)` on every transition; returns the function that unsubscribes. */
  onStateChange(listener: BreakerListener): () => void {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  private _move(next: Inner): void {
    const from = this._inner.state;
    this._inner = next;
    if (from !== next.state) for (const l of this._listeners) l(from, next.state);
  }
}

/** The error a request to an open backend fails with, under `failFast`. */
export class CircuitOpenError extends Error {
  /** The `error.type` of a request refused this way. */
  static readonly CODE = 'CIRCUIT_OPEN';
  readonly code = CircuitOpenError.CODE;
  constructor(readonly backend: string) {
    super(`agentic-otel: circuit breaker for ${backend} is open; request not sent`);
    this.name = 'CircuitOpenError';
  }
}
