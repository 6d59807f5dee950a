/**
 * The end of one attempt of a step: its `chat` span's children (prefill and decode, or inference),
 * outcome attributes and status, and the measurements the step books from it.
 */
import { SpanStatusCode, trace, SpanKind, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { CompletionSummary } from '../openai/completion-reader.js';
import { cachedTokens, kvHitRate } from '../openai/usage.js';
import * as sc from '../semconv.js';
import type { AttemptResponse } from './attempt-response.js';
import { chatOutcomeAttributes } from './step-record.js';

/** What an attempt ended with. */
export interface AttemptEnd {
  /** When it started on a connection (the end of any wait in the client's pool), epoch ms. */
  start: number;
  /** Its last token (a successful stream) or when it ended. */
  end: number;
  streamed: boolean;
  prefillS: number;
  decodeS: number;
  inferenceS: number | undefined;
  summary: CompletionSummary | undefined;
  hitRate: number | undefined;
  cached: number | undefined;
  errorType: string | undefined;
  retryAfterS: number | undefined;
}

/** How an attempt ended, as the step saw it. */
export interface AttemptOutcome {
  t: number;
  summary: CompletionSummary | undefined;
  errorType: string | undefined;
  err: unknown;
  retryAfterS: number | undefined;
}

/**
 * Ends the attempt's phase spans and sets `chat`'s outcome (the caller ends `chat` itself: its
 * attributes may still be coming) and returns the attempt's measurements.
 */
export function endAttempt(
  tracer: Tracer,
  stepContext: Context,
  chat: Span | undefined,
  response: AttemptResponse,
  requestStream: boolean,
  start: number,
  o: AttemptOutcome,
): AttemptEnd {
  const { t, summary, errorType, err } = o;
  const chatContext = chat ? trace.setSpan(stepContext, chat) : stepContext;
  const streamed = response.mode === 'sse' || (response.mode === 'opaque' && requestStream);
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
  // A successful stream ends at its last token; anything else when it ended.
  const end = streamed && !failed ? last : t;
  let prefillS = 0;
  let decodeS = 0;
  let inferenceS: number | undefined;
  const usage = summary?.usage;
  const hitRate = kvHitRate(usage);
  const cached = cachedTokens(usage);
  if (chat !== undefined) {
    if (streamed) {
      prefillS = (first - start) / 1000;
      decodeS = (last - first) / 1000;
      tracer.startSpan(sc.SPAN_LLM_PREFILL, { kind: SpanKind.INTERNAL, startTime: start }, chatContext).end(first);
      tracer.startSpan(sc.SPAN_LLM_DECODE, { kind: SpanKind.INTERNAL, startTime: first }, chatContext).end(last);
      if (summary?.firstEventAt !== undefined) chat.setAttribute(sc.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, prefillS);
    } else {
      inferenceS = (end - start) / 1000;
      tracer.startSpan(sc.SPAN_LLM_INFERENCE, { kind: SpanKind.INTERNAL, startTime: start }, chatContext).end(end);
    }
    chat.setAttributes(chatOutcomeAttributes(summary, cached, response.mode === 'sse'));
    if (o.retryAfterS !== undefined) chat.setAttribute(sc.ATTR_AGENTIC_RETRY_AFTER_S, o.retryAfterS);
    if (errorType !== undefined) {
      chat.setAttribute(sc.ATTR_ERROR_TYPE, errorType);
      chat.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(err, response.status) });
      if (err instanceof Error) chat.recordException(err, t);
    }
  }
  return { start, end, streamed, prefillS, decodeS, inferenceS, summary, hitRate, cached, errorType, retryAfterS: o.retryAfterS };
}

/**
 * The wait a response asks for before a retry, in seconds: OpenAI's `retry-after-ms`, else
 * `retry-after` as seconds or as an HTTP date (relative to `t`, epoch ms).
 */
export function retryAfterSeconds(ms: string | undefined, after: string | undefined, t: number): number | undefined {
  if (ms !== undefined) {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return n / 1000;
  }
  if (after === undefined) return undefined;
  const s = Number(after);
  if (after.trim() !== '' && Number.isFinite(s)) return s >= 0 ? s : undefined;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - t) / 1000);
}

function errorMessage(err: unknown, status: number): string {
  if (err instanceof Error) return err.message;
  if (err !== undefined) return String(err);
  return status >= 400 ? `HTTP ${status}` : 'malformed response';
}

/** A header's first value. */
export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
