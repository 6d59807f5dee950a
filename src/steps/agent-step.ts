/**
 * One agent step: one logical LLM request of one program, from the end of the program's previous
 * step to the request's last token, and the spans that split it into phases:
 *
 * ```
 * agent.step          previous end (or arrive) → last token
 * ├─ agent.tool_call  previous end → arrive, less the program's holds (one span per interval)
 * ├─ agent.pause      each hold (pausing()) in that gap, and arrive → the last attempt's start
 * │                   (failed attempts, backoff, rate-limit waits, redirect hops, pool queue)
 * ├─ chat {model}     one per attempt (`http.request.resend_count` from the second on)
 * │  ├─ llm.prefill   start on a connection → first token
 * │  └─ llm.decode    first token → last token
 * └─ …
 * ```
 *
 * Phases follow ThunderAgent's definitions; the phase spans partition the step. Every timestamp
 * is taken once and reused, so the phases add up to the step exactly.
 */
import { SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { FailedAttempt } from '../feature.js';
import type { CompletionSummary } from '../openai/completion-reader.js';
import { heldSeconds, outsideHolds } from '../program/hold-log.js';
import * as sc from '../semconv.js';
import type { StepPhases, StepRecord } from '../types.js';
import { endAttempt, headerValue, retryAfterSeconds, type AttemptEnd } from './attempt-end.js';
import { AttemptResponse } from './attempt-response.js';
import { errorTypeOf } from './error-type.js';
import type { StepInit } from './step-init.js';
import { chatStartAttributes, stepRecord } from './step-record.js';

/** What a step needs from the instrumentation. */
export interface StepDeps {
  tracer: Tracer;
  providerName: string;
  captureContent: boolean;
  /** Called exactly once when the step has ended, whatever the outcome. */
  onStepEnd(record: StepRecord, init: StepInit): void;
  /**
   * The attempt was answered with a redirect to `location` (resolved): true when the step
   * waits for the client to follow it (the follow-up request continues this step, or the host
   * calls {@link AgentStep.endRedirected} when none comes).
   */
  onRedirect?(step: AgentStep, init: StepInit, location: URL): boolean;
  /**
   * An attempt failed: true when the step waits for the client's retry (the retry continues
   * this step, or the host calls {@link AgentStep.endFailed} when none comes).
   */
  onAttemptFailed?(step: AgentStep, init: StepInit, attempt: FailedAttempt): boolean;
  /** How long of `[from, to]` (an attempt's dispatch, its start on a connection) it queued in the pool (ms). */
  poolWait?(origin: string | undefined, from: number, to: number): number;
  /** A response from `origin` ended at `t`. */
  responseEnded?(origin: string | undefined, t: number): void;
  /** Attributes the chat span waits for before it ends (the engine's own timings), if any. */
  holdSpans?(record: StepRecord, init: StepInit, chatSpanId: string): Promise<Attributes> | undefined;
}

/** `error.type` of an aborted request, by client (fetch, undici.request). */
const ABORTS: ReadonlySet<string> = new Set(['AbortError', 'UND_ERR_ABORTED', 'RequestAbortedError']);
/** Statuses a client follows to another URL, repeating a POST for 307 and 308. */
const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** A wait for a connection shorter than this is undici's own dispatch latency, not a queue. */
const QUEUE_MIN_MS = 1;

/** The spans and measurements of one step. */
export class AgentStep {
  private readonly _stepSpan: Span;
  private readonly _stepContext: Context;
  private readonly _toolCallStart: number;
  /** The program's holds in the tool gap, flat `[start, end, …]`. */
  private readonly _holds: readonly number[];
  private _chatSpan: Span | undefined;
  /** The current attempt's dispatch, and when undici started it on a connection. */
  private _dispatchAt: number;
  private _connectedAt = NaN;
  private _queuedMs = 0;
  /** The current attempt's response. */
  private _response: AttemptResponse;
  private _retryAfterS: number | undefined;
  private _ended = false;
  private _attempts = 0;
  private _hopEnd = NaN; // when the last redirected attempt's response came (its chat span ends there)
  private _failed: AttemptEnd | undefined; // the last failed attempt, while the step waits for a retry
  private _pauseReason: string = sc.PAUSE_REASON_QUEUE;

  constructor(private readonly _deps: StepDeps, /** What the step began with. */ readonly init: StepInit) {
    const { arrive, previousEnd } = init;
    // Two requests of one program may overlap: the tool gap is then 0, never negative.
    this._toolCallStart = previousEnd !== undefined && previousEnd < arrive ? previousEnd : arrive;
    this._holds = init.holds ?? [];
    this._dispatchAt = arrive;
    this._response = new AttemptResponse(_deps.captureContent, init.chunkRecorder);
    const attributes: Attributes = {
      [sc.ATTR_AGENTIC_PROGRAM_ID]: init.programId,
      [sc.ATTR_GEN_AI_CONVERSATION_ID]: init.programId,
      [sc.ATTR_AGENTIC_STEP_ID]: init.stepId,
    };
    if (init.agentName !== undefined) attributes[sc.ATTR_GEN_AI_AGENT_NAME] = init.agentName;
    this._stepSpan = _deps.tracer.startSpan(sc.SPAN_AGENT_STEP, { kind: SpanKind.INTERNAL, startTime: this._toolCallStart, attributes }, init.parentContext);
    this._stepContext = trace.setSpan(init.parentContext, this._stepSpan);
    if (previousEnd === undefined || this._toolCallStart >= arrive) return;
    const tools = this._holds.length === 0 ? [this._toolCallStart, arrive] : outsideHolds(this._toolCallStart, arrive, this._holds);
    for (let i = 0; i < tools.length; i += 2) this._phaseSpan(sc.SPAN_AGENT_TOOL_CALL, tools[i] as number, tools[i + 1] as number);
    for (let i = 0; i < this._holds.length; i += 2) this._phaseSpan(sc.SPAN_AGENT_PAUSE, this._holds[i] as number, this._holds[i + 1] as number, sc.PAUSE_REASON_HOLD);
  }

  /**
   * An attempt is dispatched to the engine at `start`. Returns the context of its `chat` span,
   * which the caller propagates to the engine.
   */
  dispatch(start: number): Context {
    const init = this.init;
    if (this._chatSpan !== undefined) {
      this._chatSpan.end(this._hopEnd); // the hop that was redirected
      this._pauseReason = sc.PAUSE_REASON_REDIRECT;
    }
    if (this._failed !== undefined) {
      this._failed = undefined; // the client retries
      this._pauseReason = sc.PAUSE_REASON_RETRY;
    }
    this._attempts++;
    this._dispatchAt = start;
    this._connectedAt = NaN;
    this._queuedMs = 0;
    this._retryAfterS = undefined;
    if (this._attempts > 1) this._response = new AttemptResponse(this._deps.captureContent, init.chunkRecorder);
    const req = init.request;
    const attributes = chatStartAttributes(init, this._deps.providerName, this._deps.captureContent, this._attempts);
    const name = sc.operationSpanName(init.operation, req?.model);
    this._chatSpan = this._deps.tracer.startSpan(name, { kind: SpanKind.CLIENT, startTime: start, attributes }, this._stepContext);
    return trace.setSpan(this._stepContext, this._chatSpan);
  }

  /** undici started the current attempt on a connection at `t` (its wait in the pool ended). */
  onConnected(t: number): void {
    if (!Number.isNaN(this._connectedAt)) return;
    this._connectedAt = t;
    // Judged now: what ended during the wait freed the connection this attempt got.
    if (t - this._dispatchAt >= QUEUE_MIN_MS) this._queuedMs = this._deps.poolWait?.(this.init.backend, this._dispatchAt, t) ?? 0;
  }

  /** The request went out without our trace context (its own, or propagateTo excluded it). */
  traceContextNotInjected(): void {
    this._chatSpan?.setAttribute(sc.ATTR_AGENTIC_TRACE_CONTEXT_INJECTED, false);
  }

  /**
   * Response headers arrived at `t`. Returns true when this attempt is over for the step: a
   * redirect the client is expected to follow (its response's rest no longer concerns the step;
   * the follow-up request continues it).
   */
  onResponseStart(statusCode: number, headers: Record<string, string | string[] | undefined>, t: number): boolean {
    this._response.status = statusCode;
    this._chatSpan?.setAttribute(sc.ATTR_HTTP_RESPONSE_STATUS_CODE, statusCode);
    if (REDIRECTS.has(statusCode) && this._deps.onRedirect !== undefined) {
      const location = headerValue(headers['location']);
      let target: URL | undefined;
      try {
        target = location === undefined ? undefined : new URL(location, this.init.url);
      } catch {
        target = undefined;
      }
      if (target !== undefined && this._deps.onRedirect(this, this.init, target)) {
        this._hopEnd = t;
        return true;
      }
      return false;
    }
    if (statusCode >= 400) this._retryAfterS = retryAfterSeconds(headerValue(headers[sc.HEADER_RETRY_AFTER_MS]), headerValue(headers[sc.HEADER_RETRY_AFTER]), Date.now());
    this._response.start(statusCode, headerValue(headers['content-type']), headerValue(headers['content-encoding']));
    return false;
  }

  /** A chunk of the response body arrived at `t`. */
  onResponseData(chunk: Buffer, t: number, oneEvent?: boolean): void {
    this._response.data(chunk, t, oneEvent);
  }

  /** The response ended at `t`. */
  onResponseEnd(t: number): void {
    const summary = this._response.summary(t, false);
    let errorType: string | undefined;
    if (this._response.status >= 400) errorType = String(this._response.status);
    else if (summary !== undefined && summary.malformedEvents > 0) errorType = sc.ERROR_TYPE_MALFORMED_RESPONSE;
    this._finish(t, summary, errorType, undefined);
  }

  /** The attempt failed at `t` (refused, reset, aborted, cut midway, timed out). */
  onError(err: unknown, t: number): void {
    const summary = this._response.summary(t, true);
    // A client that gives up on a chunk it cannot parse aborts: the cause is the engine's output.
    let errorType = summary !== undefined && summary.malformedEvents > 0 ? sc.ERROR_TYPE_MALFORMED_RESPONSE : errorTypeOf(err);
    if (this._clientTimedOut(errorType, t)) errorType = sc.ERROR_TYPE_TIMEOUT;
    this._finish(t, summary, errorType, err);
  }

  /** No follow-up came for the redirect: the step ends with the redirect as its outcome. */
  endRedirected(): void {
    this._finish(this._hopEnd, undefined, undefined, undefined);
  }

  /** No retry came for the failed attempt: the step ends with it (its end, its error). */
  endFailed(): void {
    const failed = this._failed;
    if (failed === undefined || this._ended) return;
    this._failed = undefined;
    this._endStep(failed);
  }

  /** The step's attempts so far. */
  get attempts(): number {
    return this._attempts;
  }


  /**
   * An abort is the client's timeout when the client said how long it waits (`openai` sends
   * its timeout truncated to whole seconds) and the attempt lasted that long: at least the
   * stated seconds, less than one more (plus slack for a busy event loop).
   */
  private _clientTimedOut(errorType: string, t: number): boolean {
    const limit = this.init.clientTimeoutS;
    if (limit === undefined || !ABORTS.has(errorType)) return false;
    const elapsed = (t - this._dispatchAt) / 1000;
    return elapsed >= limit - 0.05 && elapsed < limit + 1.5;
  }

  /** When the current attempt started on a connection: its dispatch, plus any wait in the pool (less connecting). */
  private _attemptStart(): number {
    return this._queuedMs >= QUEUE_MIN_MS ? this._dispatchAt + this._queuedMs : this._dispatchAt;
  }

  private _finish(t: number, summary: CompletionSummary | undefined, errorType: string | undefined, err: unknown): void {
    if (this._ended || this._failed !== undefined) return;
    this._deps.responseEnded?.(this.init.backend, t);
    const chat = this._chatSpan;
    const a = endAttempt(this._deps.tracer, this._stepContext, chat, this._response, this.init.request?.stream === true, this._attemptStart(), { t, summary, errorType, err, retryAfterS: this._retryAfterS });
    this._chatSpan = undefined;
    if (errorType !== undefined && this._deps.onAttemptFailed?.(this, this.init, { errorType, endTime: a.end, retryAfterS: a.retryAfterS }) === true) {
      chat?.end(a.end);
      this._failed = a;
      return;
    }
    this._endStep(a, chat);
  }

  /** Ends the step with attempt `a`; `chat`, its span when still open, may wait for engine timings. */
  private _endStep(a: AttemptEnd, chat?: Span): void {
    if (this._ended) return;
    this._ended = true;
    const init = this.init;
    // Pause: the holds in the gap, and from the arrival to the last attempt's start.
    if (a.start > init.arrive) this._phaseSpan(sc.SPAN_AGENT_PAUSE, init.arrive, a.start, this._pauseReason);
    const held = heldSeconds(this._holds);
    const toolCallS = (init.arrive - this._toolCallStart) / 1000 - held;
    const pauseS = held + (a.start - init.arrive) / 1000;
    const stepAttributes: Attributes = {
      [sc.ATTR_AGENTIC_STEP_TOOL_CALL_S]: toolCallS,
      [sc.ATTR_AGENTIC_STEP_PAUSE_S]: pauseS,
      [sc.ATTR_AGENTIC_STEP_PREFILL_S]: a.prefillS,
      [sc.ATTR_AGENTIC_STEP_DECODE_S]: a.decodeS,
      [sc.ATTR_AGENTIC_STEP_STREAMED]: a.streamed,
    };
    if (a.inferenceS !== undefined) stepAttributes[sc.ATTR_AGENTIC_STEP_INFERENCE_S] = a.inferenceS;
    if (this._attempts > 1) stepAttributes[sc.ATTR_AGENTIC_STEP_ATTEMPTS] = this._attempts;
    if (a.hitRate !== undefined) stepAttributes[sc.ATTR_AGENTIC_STEP_KV_HIT_RATE] = a.hitRate;
    const step = this._stepSpan;
    step.setAttributes(stepAttributes);
    if (a.errorType !== undefined) {
      step.setAttribute(sc.ATTR_ERROR_TYPE, a.errorType);
      step.setStatus({ code: SpanStatusCode.ERROR });
    }
    const phases: StepPhases = { toolCallS, pauseS, prefillS: a.prefillS, decodeS: a.decodeS };
    if (a.inferenceS !== undefined) phases.inferenceS = a.inferenceS;
    const record = stepRecord(init, { ...a, phases, attempts: Math.max(1, this._attempts) });
    // The spans end with their own end times, once the engine's timings arrive (a bounded wait).
    const hold = chat === undefined ? undefined : this._deps.holdSpans?.(record, init, chat.spanContext().spanId);
    const endSpans = (engine?: Attributes): void => {
      if (engine !== undefined) chat?.setAttributes(engine);
      chat?.end(a.end);
      step.end(a.end);
    };
    if (hold === undefined) endSpans();
    else hold.then(endSpans, () => endSpans());
    this._deps.onStepEnd(record, init);
  }

  private _phaseSpan(name: string, start: number, end: number, reason?: string): void {
    const span = this._deps.tracer.startSpan(name, { kind: SpanKind.INTERNAL, startTime: start }, this._stepContext);
    if (reason !== undefined) span.setAttribute(sc.ATTR_AGENTIC_PAUSE_REASON, reason);
    span.end(end);
  }
}
