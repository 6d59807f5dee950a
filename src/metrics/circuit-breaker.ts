/**
 * A circuit breaker per backend (host:port), after cockatiel's: an enum of states, listeners
 * that return a disposer. Closed → open after `threshold` consecutive failures; open →
 * half-open once `cooldownMs` has passed (on the next request, or when its state is read);
 * half-open → closed on the next success, back to open on a failure. Pure: time is handed in.
 */

/** Breaker states, with TinyLLM's gauge values. */
export enum BreakerState {
  Closed = 0,
  HalfOpen = 1,
  Open = 2,
}

/** TinyLLM's names for the states. */
export const BREAKER_STATE_NAMES = { [BreakerState.Closed]: 'closed', [BreakerState.HalfOpen]: 'half-open', [BreakerState.Open]: 'open' } as const;

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. @default 5 */
  threshold?: number;
  /** Time an open breaker waits before letting a trial request through. @default 30000 */
  cooldownMs?: number;
}

type Inner = { state: BreakerState.Closed; failures: number } | { state: BreakerState.Open; openedAt: number } | { state: BreakerState.HalfOpen };

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
    if (this._inner.state === BreakerState.Open && now - this._inner.openedAt >= this._cooldownMs) this._move({ state: BreakerState.HalfOpen });
    return this._inner.state;
  }

  /** Whether a request may go now: not while open. */
  allows(now: number): boolean {
    return this.state(now) !== BreakerState.Open;
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
  readonly code = 'CIRCUIT_OPEN';
  constructor(readonly backend: string) {
    super(`agentic-otel: circuit breaker for ${backend} is open; request not sent`);
    this.name = 'CircuitOpenError';
  }
}
