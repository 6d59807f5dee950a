/** What a finished step reports: its record for every consumer, its chat span's outcome attributes. */
import type { Attributes } from '@opentelemetry/api';
import type { CompletionSummary } from '../openai/completion-reader.js';
import { inputMessagesJson, outputMessagesJson } from '../openai/messages.js';
import * as sc from '../semconv.js';
import type { StepPhases, StepRecord } from '../types.js';
import type { StepInit } from './step-init.js';

/** The measurements `_finish` took. */
export interface StepOutcome {
  streamed: boolean;
  phases: StepPhases;
  start: number;
  end: number;
  summary: CompletionSummary | undefined;
  hitRate: number | undefined;
  cached: number | undefined;
  errorType: string | undefined;
  attempts: number;
  retryAfterS: number | undefined;
}

/** The step's record, as profiles, metrics and listeners see it. */
export function stepRecord(init: StepInit, o: StepOutcome): StepRecord {
  const usage = o.summary?.usage;
  const record: StepRecord = {
    programId: init.programId,
    stepId: init.stepId,
    operation: init.operation,
    streamed: o.streamed,
    phases: o.phases,
    finishReasons: o.summary?.finishReasons ?? [],
    arriveTime: init.arrive,
    startTime: o.start,
    endTime: o.end,
    attempts: o.attempts,
  };
  if (init.agentName !== undefined) record.agentName = init.agentName;
  if (init.backend !== undefined) record.backend = init.backend;
  if (init.serverAddress !== undefined) record.serverAddress = init.serverAddress;
  if (init.serverPort !== undefined) record.serverPort = init.serverPort;
  if (init.request?.model !== undefined) record.requestModel = init.request.model;
  const model = o.summary?.model ?? init.request?.model;
  if (model !== undefined) record.model = model;
  if (o.hitRate !== undefined) record.kvHitRate = o.hitRate;
  if (usage?.prompt_tokens !== undefined) record.inputTokens = usage.prompt_tokens;
  if (usage?.completion_tokens !== undefined) record.outputTokens = usage.completion_tokens;
  if (usage?.total_tokens !== undefined) record.totalTokens = usage.total_tokens;
  if (o.cached !== undefined) record.cachedTokens = o.cached;
  if (o.errorType !== undefined) record.errorType = o.errorType;
  if (o.retryAfterS !== undefined) record.retryAfterS = o.retryAfterS;
  if (o.summary?.id !== undefined) record.responseId = o.summary.id;
  return record;
}

/** The `chat` span's attributes from the response: id, model, finish reasons, usage, chunks, output. */
export function chatOutcomeAttributes(summary: CompletionSummary | undefined, cached: number | undefined, sse: boolean): Attributes {
  const a: Attributes = {};
  const usage = summary?.usage;
  if (summary?.id !== undefined) a[sc.ATTR_GEN_AI_RESPONSE_ID] = summary.id;
  if (summary?.model !== undefined) a[sc.ATTR_GEN_AI_RESPONSE_MODEL] = summary.model;
  if (summary !== undefined && summary.finishReasons.length > 0) a[sc.ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = summary.finishReasons;
  if (usage?.prompt_tokens !== undefined) a[sc.ATTR_GEN_AI_USAGE_INPUT_TOKENS] = usage.prompt_tokens;
  if (usage?.completion_tokens !== undefined) a[sc.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = usage.completion_tokens;
  if (cached !== undefined) a[sc.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = cached;
  if (summary !== undefined && sse) {
    a[sc.ATTR_AGENTIC_RESPONSE_CHUNKS] = summary.dataEvents;
    if (summary.malformedEvents > 0) a[sc.ATTR_AGENTIC_RESPONSE_MALFORMED_CHUNKS] = summary.malformedEvents;
  }
  if (summary?.output !== undefined) a[sc.ATTR_GEN_AI_OUTPUT_MESSAGES] = outputMessagesJson(summary.output, summary.finishReasons[0]);
  return a;
}

/** An attempt's `chat` span attributes at its start (the request's GenAI attributes, the resend count). */
export function chatStartAttributes(init: StepInit, providerName: string, captureContent: boolean, attempts: number): Attributes {
  const req = init.request;
  const attributes: Attributes = {
    [sc.ATTR_GEN_AI_OPERATION_NAME]: init.operation,
    [sc.ATTR_GEN_AI_PROVIDER_NAME]: providerName,
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
  if (captureContent && req?.json !== undefined) {
    const input = inputMessagesJson(req.json);
    if (input !== undefined) attributes[sc.ATTR_GEN_AI_INPUT_MESSAGES] = input;
  }
  if (attempts > 1) attributes[sc.ATTR_HTTP_REQUEST_RESEND_COUNT] = attempts - 1;
  return attributes;
}
