/**
 * One logical request, one step, across retries: a step whose attempt failed in a way clients
 * retry (connection error, timeout, 408, 409, 429, 5xx) waits for the retry, which continues it
 * as its next attempt. A retry is recognised from the `openai` client's `x-stainless-retry-count`
 * (the same body, its count equal to the attempts so far); for clients that retry without saying
 * so (the Vercel AI SDK, LangChain), from the same bytes sent again by the same explicitly named
 * program with nothing else of it in flight. Bodies are compared by length and a short hash of
 * their ends first, then by a SHA-256 computed only then (a failed body is hashed when it fails).
 * A step whose retry does not come within the window ends with its last attempt; so do a named
 * program's silently retried steps when it sends a different request with nothing else in flight,
 * and every waiting step at shutdown and at exit (its row is written). The program's next step
 * measures its tool_call from the failure either way.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_PROGRAM_ID } from '../semconv.js';
import { requestErrorType } from '../breakers/request-error-type.js';
import * as sc from '../semconv.js';
import type { AgentStep } from './agent-step.js';
import type { StepInit } from './step-init.js';

/** An arriving request, as far as telling a retry goes. */
export interface RetryCandidate {
  programId: string;
  retryCount: number | undefined;
  fingerprint: string | undefined;
  body: string | Uint8Array | undefined;
  /** Requests of the program in flight, waiting steps included. */
  inFlight: number;
}

interface Waiting {
  step: AgentStep;
  init: StepInit;
  /** The client numbers its retries (`x-stainless-retry-count`). */
  counted: boolean;
  hash: string | undefined;
  timer: NodeJS.Timeout;
}

const COUNTED_MAX_BACKOFF_S = 8;
const COUNTED_SLACK_MS = 2000;

export class RetryFollow {
  private readonly _byProgram = new Map<string, Waiting[]>();
  private _count = 0;

  /** @param _windowMs how long a failed step waits; `_onCountChange` hears of the first and the last waiting step. */
  constructor(private readonly _windowMs: () => number, private readonly _onCountChange: (waiting: number) => void) {}

  /** A failed attempt: true when the step now waits for its retry. */
  await(step: AgentStep, init: StepInit, errorType: string, retryAfterS: number | undefined): boolean {
    const counted = init.retryCount !== undefined;
    // A client that counts its retries (Stainless's: openai, anthropic) waits at most 8 s between
    // attempts, or what a `retry-after` asked (up to a minute); it has sent its retry well before.
    const windowMs = counted ? Math.min(this._windowMs(), (retryAfterS ?? COUNTED_MAX_BACKOFF_S) * 1000 + COUNTED_SLACK_MS) : this._windowMs();
    if (windowMs <= 0 || !isRetriable(errorType)) return false;
    if (!counted && (init.programId === DEFAULT_PROGRAM_ID || init.body === undefined)) return false;
    const entry: Waiting = { step, init, counted, hash: counted ? undefined : hashOf(init.body as string | Uint8Array), timer: undefined as unknown as NodeJS.Timeout };
    init.body = undefined; // hashed: an agent's body is not held for the window
    entry.timer = setTimeout(() => this._end(entry), windowMs);
    entry.timer.unref();
    const list = this._byProgram.get(init.programId);
    if (list === undefined) this._byProgram.set(init.programId, [entry]);
    else list.push(entry);
    if (this._count++ === 0) this._onCountChange(this._count);
    return true;
  }

  /** Whether any step waits for a retry (the request path asks nothing more when none does). */
  get any(): boolean {
    return this._count > 0;
  }

  /** The waiting step an arriving request retries, if any (taken out of the waiting ones). */
  take(c: RetryCandidate): AgentStep | undefined {
    if (this._count === 0) return undefined;
    const list = this._byProgram.get(c.programId);
    if (list === undefined) return undefined;
    if (c.retryCount !== undefined) {
      // A first attempt is a new request; a counted retry of a waiting step still comes within
      // its (short) window, so the waiting steps are left to it.
      if (c.retryCount === 0) return undefined;
      const same = list.filter((w) => w.counted && w.init.fingerprint === c.fingerprint);
      return this._takeOut(same.find((w) => w.step.attempts === c.retryCount) ?? same[0]);
    }
    if (c.programId === DEFAULT_PROGRAM_ID || c.body === undefined) return undefined;
    if (c.inFlight - list.length > 0) return undefined; // something else of the program is in flight: not a retry
    const candidates = list.filter((w) => !w.counted && w.init.fingerprint === c.fingerprint);
    if (candidates.length > 0) {
      const hash = hashOf(c.body);
      const match = candidates.find((w) => w.hash === hash);
      if (match !== undefined) return this._takeOut(match);
    }
    this.endProgram(c.programId); // a different request of the program: it moved on
    return undefined;
  }

  /** Ends every waiting step of `programId` with its last attempt. */
  endProgram(programId: string): void {
    for (const w of [...(this._byProgram.get(programId) ?? [])]) this._end(w);
  }

  /** Ends every waiting step (shutdown, exit). */
  endAll(): void {
    for (const programId of [...this._byProgram.keys()]) this.endProgram(programId);
  }

  private _end(w: Waiting): void {
    if (this._takeOut(w) !== undefined) w.step.endFailed();
  }

  private _takeOut(w: Waiting | undefined): AgentStep | undefined {
    if (w === undefined) return undefined;
    const list = this._byProgram.get(w.init.programId);
    const i = list?.indexOf(w) ?? -1;
    if (list === undefined || i < 0) return undefined;
    list.splice(i, 1);
    if (list.length === 0) this._byProgram.delete(w.init.programId);
    clearTimeout(w.timer);
    if (--this._count === 0) this._onCountChange(0);
    return w.step;
  }
}

/** Failures the clients retry: connection errors, timeouts, 408, 409, 429 and 5xx. */
export function isRetriable(errorType: string): boolean {
  if (errorType === '408' || errorType === '409' || errorType === '429') return true;
  const type = requestErrorType(errorType);
  return type === sc.REQUEST_ERROR_HTTP_5XX || type === sc.REQUEST_ERROR_CONNECTION || type === sc.REQUEST_ERROR_TIMEOUT;
}

function hashOf(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('base64');
}
