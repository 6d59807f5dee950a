/**
 * One agent step: one LLM request of one program, from the end of the program's previous step
 * to the request's last token, and the spans that split it into phases:
 *
 * ```
 * agent.step          previous end (or arrive) → last token
 * ├─ agent.tool_call  previous end → arrive        (not on a program's first step)
 * ├─ agent.pause      arrive → start               (only when > 0)
 * └─ chat {model}     start → last token / end
 *    ├─ llm.prefill   start → first token
 *    └─ llm.decode    first token → last token
 * ```
 *
 * Phases follow ThunderAgent's definitions (shared/reference/thunderagent-profiling-and-metrics.md).
 * Every timestamp is taken once and reused, so the phases add up to the step exactly.
 */
import { SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { CompletionSummary } from '../openai/completion-reader.js';
import { inputMessagesJson } from '../openai/messages.js';
import { cachedTokens, kvHitRate } from '../openai/usage.js';
import type { StepInit } from './step-init.js';
import { errorTypeOf } from './error-type.js';
import { AttemptResponse } from './attempt-response.js';
import * as sc from '../semconv.js';
import type { StepPhases, StepRecord } from '../types.js';
import { chatOutcomeAttributes, stepRecord } from './step-record.js';

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
}

/** `error.type` of an aborted request, by client (fetch, undici.request). */
const ABORTS: ReadonlySet<string> = new Set(['AbortError', 'UND_ERR_ABORTED', 'RequestAbortedError']);

/** Statuses a client follows to another URL, repeating a POST for 307 and 308. */
const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** The spans and measurements of one step. */
export class AgentStep {
  private readonly _stepSpan: Span;
  private readonly _stepContext: Context;
  private readonly _toolCallStart: number;
  private _chatSpan: Span | undefined;
  private _start: number;
  /** The current attempt's response. */
  private _response: AttemptResponse;
  private _ended = false;
  private _attempts = 0;
  /** When the last redirected attempt's response came (its chat span ends there). */
  private _hopEnd = NaN;

  constructor(private readonly _deps: StepDeps, private readonly _init: StepInit) {
    const { arrive, previousEnd } = _init;
    // Two requests of one program may overlap: the tool gap is then 0, never negative.
    this._toolCallStart = previousEnd !== undefined && previousEnd < arrive ? previousEnd : arrive;
    this._start = arrive;
    this._response = new AttemptResponse(_deps.captureContent, _init.chunkRecorder);
    const attributes: Attributes = {
      [sc.ATTR_AGENTIC_PROGRAM_ID]: _init.programId,
      [sc.ATTR_GEN_AI_CONVERSATION_ID]: _init.programId,
      [sc.ATTR_AGENTIC_STEP_ID]: _init.stepId,
    };
    if (_init.agentName !== undefined) attributes[sc.ATTR_GEN_AI_AGENT_NAME] = _init.agentName;
    this._stepSpan = _deps.tracer.startSpan(
      sc.SPAN_AGENT_STEP,
      { kind: SpanKind.INTERNAL, startTime: this._toolCallStart, attributes },
      _init.parentContext,
    );
    this._stepContext = trace.setSpan(_init.parentContext, this._stepSpan);
    if (previousEnd !== undefined && this._toolCallStart < arrive) {
      _deps.tracer
        .startSpan(sc.SPAN_AGENT_TOOL_CALL, { kind: SpanKind.INTERNAL, startTime: this._toolCallStart }, this._stepContext)
        .end(arrive);
    }
  }

  /**
   * The request is dispatched to the engine at `start`. Returns the context of the `chat`
   * span, which the caller propagates to the engine.
   */
  dispatch(start: number): Context {
    const { tracer } = this._deps;
    const init = this._init;
    if (this._chatSpan !== undefined) this._chatSpan.end(this._hopEnd); // the hop that was redirected
    this._attempts++;
    this._start = start;
    if (this._attempts > 1) this._response = new AttemptResponse(this._deps.captureContent, init.chunkRecorder);
    const req = init.request;
    const attributes: Attributes = {
      [sc.ATTR_GEN_AI_OPERATION_NAME]: init.operation,
      [sc.ATTR_GEN_AI_PROVIDER_NAME]: this._deps.providerName,
      [sc.ATTR_GEN_AI_CONVERSATION_ID]: init.programId,
    };
    if (req?.model !== undefined) attributes[sc.ATTR_GEN_AI_REQUEST_MODEL] = req.model;
    if (req?.maxTokens !== undefined) attributes[sc.ATTR_GEN_AI_REQUEST_MAX_TOKENS] = req.maxTokens;
    if (req?.temperature !== undefined) attributes[sc.ATTR_GEN_AI_REQUEST_TEMPERATURE] = req.temperature;
    if (req?.topP !== undefined) attributes[sc.ATTR_GEN_AI_REQUEST_TOP_P] = req.topP;
    if (req !== undefined) attributes[sc.ATTR_GEN_AI_REQUEST_STREAM] = req.stream;
    if (init.serverAddress !== undefined) attributes[sc.ATTR_SERVER_ADDRESS] = init.serverAddress;
    if (init.serverPort !== undefined) attributes[sc.ATTR_SERVER_PORT] = init.serverPort;
    if (init.agentName !== undefined) attributes[sc.ATTR_GEN_AI_AGENT_NAME] = init.agentName;
    if (this._deps.captureContent && req?.json !== undefined) {
      const input = inputMessagesJson(req.json);
      if (input !== undefined) attributes[sc.ATTR_GEN_AI_INPUT_MESSAGES] = input;
    }
    if (this._attempts > 1) attributes[sc.ATTR_HTTP_REQUEST_RESEND_COUNT] = this._attempts - 1;
    const name = sc.operationSpanName(init.operation, req?.model);
    this._chatSpan = tracer.startSpan(name, { kind: SpanKind.CLIENT, startTime: start, attributes }, this._stepContext);
    return trace.setSpan(this._stepContext, this._chatSpan);
  }

  /** The request went out without our trace context (it had its own, or propagateTo excluded it). */
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
        target = location === undefined ? undefined : new URL(location, this._init.url);
      } catch {
        target = undefined;
      }
      if (target !== undefined && this._deps.onRedirect(this, this._init, target)) {
        this._hopEnd = t;
        return true;
      }
      return false;
    }
    this._response.start(statusCode, headerValue(headers['content-type']), headerValue(headers['content-encoding']));
    return false;
  }

  /** A chunk of the response body arrived at `t`. */
  onResponseData(chunk: Buffer, t: number): void {
    this._response.data(chunk, t);
  }

  /** The response ended at `t`. */
  onResponseEnd(t: number): void {
    const summary = this._response.summary(t, false);
    let errorType: string | undefined;
    if (this._response.status >= 400) errorType = String(this._response.status);
    else if (summary !== undefined && summary.malformedEvents > 0) errorType = sc.ERROR_TYPE_MALFORMED_RESPONSE;
    this._finish(t, summary, errorType, undefined);
  }

  /** The request failed at `t` (refused, reset, aborted, cut midway, timed out). */
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

  /** The step's attempts so far. */
  get attempts(): number {
    return this._attempts;
  }

  /**
   * An abort is the client's timeout when the client said how long it waits (`openai` sends
   * its timeout truncated to whole seconds) and the request lasted that long: at least the
   * stated seconds, less than one more (plus slack for a busy event loop).
   */
  private _clientTimedOut(errorType: string, t: number): boolean {
    const limit = this._init.clientTimeoutS;
    if (limit === undefined || !ABORTS.has(errorType)) return false;
    const elapsed = (t - this._init.arrive) / 1000;
    return elapsed >= limit - 0.05 && elapsed < limit + 1.5;
  }

  private _finish(t: number, summary: CompletionSummary | undefined, errorType: string | undefined, err: unknown): void {
    if (this._ended) return;
    this._ended = true;
    const { tracer } = this._deps;
    const init = this._init;
    const chat = this._chatSpan;
    const chatContext = chat ? trace.setSpan(this._stepContext, chat) : this._stepContext;
    const response = this._response;
    const streamed = response.mode === 'sse' || (response.mode === 'opaque' && init.request?.stream === true);
    const failed = errorType !== undefined && err !== undefined;

    // The first and last token: SSE data events when we could read them, else the body bytes.
    let first: number;
    let last: number;
    if (summary !== undefined && response.mode === 'sse') {
      first = summary.firstEventAt ?? t;
      last = summary.lastChoiceAt ?? first;
    } else {
      first = Number.isNaN(response.firstByteAt) ? t : response.firstByteAt;
      last = Number.isNaN(response.lastByteAt) ? first : response.lastByteAt;
    }
    // A successful step ends at its last token; a failed one when it failed.
    const end = streamed && !failed ? last : t;
    const start = this._start;

    let prefillS = 0;
    let decodeS = 0;
    let inferenceS: number | undefined;
    if (chat !== undefined) {
      if (streamed) {
        prefillS = (first - start) / 1000;
        decodeS = (last - first) / 1000;
        tracer.startSpan(sc.SPAN_LLM_PREFILL, { kind: SpanKind.INTERNAL, startTime: start }, chatContext).end(first);
        tracer.startSpan(sc.SPAN_LLM_DECODE, { kind: SpanKind.INTERNAL, startTime: first }, chatContext).end(last);
        if (summary?.firstEventAt !== undefined) {
          chat.setAttribute(sc.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, prefillS);
        }
      } else {
        inferenceS = (end - start) / 1000;
        tracer.startSpan(sc.SPAN_LLM_INFERENCE, { kind: SpanKind.INTERNAL, startTime: start }, chatContext).end(end);
      }
    }

    const usage = summary?.usage;
    const hitRate = kvHitRate(usage);
    const cached = cachedTokens(usage);
    if (chat !== undefined) {
      const a = chatOutcomeAttributes(summary, cached, response.mode === 'sse');
      chat.setAttributes(a);
      if (errorType !== undefined) {
        chat.setAttribute(sc.ATTR_ERROR_TYPE, errorType);
        chat.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(err, response.status) });
        if (err instanceof Error) chat.recordException(err, t);
      }
      chat.end(end);
    }

    // Pause: from the request's arrival to the dispatch of its last attempt (redirect hops).
    if (start > init.arrive) {
      tracer.startSpan(sc.SPAN_AGENT_PAUSE, { kind: SpanKind.INTERNAL, startTime: init.arrive }, this._stepContext).end(start);
    }
    const toolCallS = (init.arrive - this._toolCallStart) / 1000;
    const pauseS = (start - init.arrive) / 1000;
    const step = this._stepSpan;
    const stepAttributes: Attributes = {
      [sc.ATTR_AGENTIC_STEP_TOOL_CALL_S]: toolCallS,
      [sc.ATTR_AGENTIC_STEP_PAUSE_S]: pauseS,
      [sc.ATTR_AGENTIC_STEP_PREFILL_S]: prefillS,
      [sc.ATTR_AGENTIC_STEP_DECODE_S]: decodeS,
      [sc.ATTR_AGENTIC_STEP_STREAMED]: streamed,
    };
    if (inferenceS !== undefined) stepAttributes[sc.ATTR_AGENTIC_STEP_INFERENCE_S] = inferenceS;
    if (this._attempts > 1) stepAttributes[sc.ATTR_AGENTIC_STEP_ATTEMPTS] = this._attempts;
    if (hitRate !== undefined) stepAttributes[sc.ATTR_AGENTIC_STEP_KV_HIT_RATE] = hitRate;
    step.setAttributes(stepAttributes);
    if (errorType !== undefined) {
      step.setAttribute(sc.ATTR_ERROR_TYPE, errorType);
      step.setStatus({ code: SpanStatusCode.ERROR });
    }
    step.end(end);

    const phases: StepPhases = { toolCallS, pauseS, prefillS, decodeS };
    if (inferenceS !== undefined) phases.inferenceS = inferenceS;
    const record = stepRecord(init, { streamed, phases, start, end, summary, hitRate, cached, errorType });
    this._deps.onStepEnd(record, init);
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function errorMessage(err: unknown, status: number): string {
  if (err instanceof Error) return err.message;
  if (err !== undefined) return String(err);
  return status >= 400 ? `HTTP ${status}` : 'malformed response';
}
