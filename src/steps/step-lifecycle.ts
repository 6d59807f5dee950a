/**
 * Where a request becomes a step, or continues one (a followed redirect, a retry), and where a
 * step's end and its failed attempts reach every feature, each isolated from the others.
 */
import type { Attributes } from '@opentelemetry/api';
import type { FailedAttempt, Feature } from '../feature.js';
import type { ArrivedRequest } from '../http/completion-interceptor.js';
import { serverOf } from '../http/server-of.js';
import { installExitFlush } from '../profiles/exit-flush.js';
import type { ProgramTracker } from '../program/program-tracker.js';
import type { StepRecord } from '../types.js';
import { log } from '../util/log.js';
import { AgentStep, type StepDeps } from './agent-step.js';
import { RedirectFollow } from './redirect-follow.js';
import { RetryFollow } from './retry-follow.js';
import type { StepInit } from './step-init.js';

/** The feature lists a step's lifecycle calls. */
export interface LifecycleFeatures {
  onStepStart: readonly Feature[];
  onStepEnd: readonly Feature[];
  onAttemptFailed: readonly Feature[];
  onRetry: readonly Feature[];
  holdSpans: readonly Feature[];
}

export class StepLifecycle {
  readonly redirects = new RedirectFollow();
  readonly retries: RetryFollow;
  private _exitHook: (() => void) | undefined;

  constructor(
    private readonly _deps: StepDeps,
    private readonly _programs: () => ProgramTracker,
    private readonly _features: () => LifecycleFeatures,
    retryWindowMs: () => number,
  ) {
    // While a step waits for a retry, exit ends it first, so that its row is written with the rest.
    this.retries = new RetryFollow(retryWindowMs, (waiting) => {
      if (waiting > 0 && this._exitHook === undefined) this._exitHook = installExitFlush({ flushSync: () => this.retries.endAll() }, { first: true });
      else if (waiting === 0 && this._exitHook !== undefined) {
        this._exitHook();
        this._exitHook = undefined;
      }
    });
  }

  /** The step `arrived` begins, or the one it continues. */
  begin(arrived: ArrivedRequest): AgentStep {
    const follows = this.redirects.take(arrived.url, arrived.fingerprint);
    if (follows !== undefined) return follows;
    const programs = this._programs();
    const retried = this.retries.any ? this.retries.take({ ...arrived, inFlight: programs.get(arrived.programId)?.inFlight ?? 0 }) : undefined;
    if (retried !== undefined) {
      retried.init.failureReported = false;
      each(this._features().onRetry, 'onRetry', (f) => f.onRetry?.(retried.init));
      return retried;
    }
    const ticket = programs.beginStep(arrived.programId, arrived.arrive);
    const server = serverOf(arrived.origin);
    const gapStart = ticket.previousEnd !== undefined && ticket.previousEnd < arrived.arrive ? ticket.previousEnd : arrived.arrive;
    const holds = arrived.scope?.holds?.take(gapStart, arrived.arrive);
    const init: StepInit = {
      programId: arrived.programId,
      agentName: arrived.agentName,
      stepId: ticket.stepId,
      previousEnd: ticket.previousEnd,
      arrive: arrived.arrive,
      parentContext: arrived.parentContext,
      operation: arrived.operation,
      request: arrived.request,
      serverAddress: server?.address,
      serverPort: server?.port,
      backend: arrived.origin,
      url: arrived.url,
      clientTimeoutS: arrived.clientTimeoutS,
      fingerprint: arrived.fingerprint,
      retryCount: arrived.retryCount,
      // Only a named program's silent retry is told by its bytes.
      body: arrived.retryCount === undefined ? arrived.body : undefined,
    };
    if (holds !== undefined && holds.length > 0) init.holds = holds;
    each(this._features().onStepStart, 'onStepStart', (f) => f.onStepStart?.(init));
    return new AgentStep(this._deps, init);
  }

  /** An attempt failed: true when the step waits for the client's retry. */
  attemptFailed(step: AgentStep, init: StepInit, attempt: FailedAttempt): boolean {
    const waits = this.retries.await(step, init, attempt.errorType, attempt.retryAfterS);
    if (!waits) return false;
    init.failureReported = true;
    this._programs().noteEnd(init.programId, attempt.endTime);
    each(this._features().onAttemptFailed, 'onAttemptFailed', (f) => f.onAttemptFailed?.(attempt, init));
    return true;
  }

  /** What the step's final chat span waits for (the first feature that holds it). */
  holdSpans(record: StepRecord, init: StepInit, chatSpanId: string): Promise<Attributes> | undefined {
    for (const f of this._features().holdSpans) {
      try {
        const hold = f.holdSpans?.(record, init, chatSpanId);
        if (hold !== undefined) return hold;
      } catch (err) {
        log.error(`${f.name}: holdSpans failed`, err);
      }
    }
    return undefined;
  }

  /** A step ended: its program moves on, and every feature hears of it. */
  ended(record: StepRecord, init: StepInit): void {
    init.body = undefined;
    const program = this._programs().endStep(record.programId, record.endTime);
    each(this._features().onStepEnd, 'onStepEnd', (f) => f.onStepEnd?.(record, init, program));
  }

  /** Ends the steps waiting on a redirect or a retry (shutdown: no row is lost). */
  endAll(): void {
    this.redirects.endAll();
    this.retries.endAll();
  }
}

function each(features: readonly Feature[], what: string, fn: (f: Feature) => void): void {
  for (const f of features) {
    try {
      fn(f);
    } catch (err) {
      log.error(`${f.name}: ${what} failed`, err);
    }
  }
}
