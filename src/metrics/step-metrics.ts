/**
 * Every series a finished step feeds, recorded automatically. The labels of one step are found
 * at step start (TinyLLM's model and graph, with the series of the sums they add to: active
 * requests +1, and its −1 at the end; the GenAI set of the histograms), and again at its end only
 * when the response names the model the request did not. A model and graph's sets and series are
 * made once and shared by all their steps: a step adds to them as numbers (observed-sum.ts). No
 * program or request id is ever a label.
 */
import type { Attributes, Histogram } from '@opentelemetry/api';
import * as sc from '../semconv.js';
import type { ChunkRecorder, FailedAttempt, Feature, OutcomeSeries, StepStart, SumCellRef } from '../feature.js';
import type { StepRecord } from '../types.js';
import { requestErrorType } from '../breakers/request-error-type.js';
import type { ResolvedConfig } from '../config.js';
import type { Instruments } from './instruments.js';
import { keyOf, type ObservedSum } from './observed-sum.js';

/** Outcomes kept (a process talks to a few models); past this they are made per step. */
const MAX_OUTCOMES = 1024;

export class StepMetrics implements Feature {
  readonly name = 'step metrics';
  private readonly _outcomes = new Map<string, OutcomeSeries>();
  private _kvPrefix: { hits: SumCellRef; misses: SumCellRef } | undefined;

  constructor(
    private readonly _instruments: Instruments,
    private readonly _providerName: () => string,
    private readonly _timePerOutputChunk: ResolvedConfig['timePerOutputChunk'] = 'perStream',
  ) {}

  onStepStart(step: StepStart): void {
    if (!this._instruments.recording) return;
    const model = step.request?.model;
    const genai: Attributes = { [sc.ATTR_GEN_AI_OPERATION_NAME]: step.operation, [sc.ATTR_GEN_AI_PROVIDER_NAME]: this._providerName() };
    if (model !== undefined) genai[sc.ATTR_GEN_AI_REQUEST_MODEL] = model;
    if (step.serverAddress !== undefined) genai[sc.ATTR_SERVER_ADDRESS] = step.serverAddress;
    if (step.serverPort !== undefined) genai[sc.ATTR_SERVER_PORT] = step.serverPort;
    const outcome = this._outcome(model ?? sc.LABEL_VALUE_UNKNOWN, step.agentName ?? sc.LABEL_VALUE_DEFAULT_GRAPH, step.operation);
    step.metricLabels = {
      outcome,
      genai,
      genaiInput: { ...genai, [sc.ATTR_GEN_AI_TOKEN_TYPE]: sc.TOKEN_TYPE_INPUT },
      genaiOutput: { ...genai, [sc.ATTR_GEN_AI_TOKEN_TYPE]: sc.TOKEN_TYPE_OUTPUT },
      active: true,
    };
    this._active(outcome).value++;
    if (step.request?.stream !== true || this._timePerOutputChunk === 'off') return;
    step.chunkRecorder = this._timePerOutputChunk === 'perChunk' ? new PerChunkRecorder(this._instruments.i.genaiTpoc, genai) : new PerStreamRecorder();
  }

  /** A failed attempt the client will retry: an error of its own; the step is not active while it waits. */
  onAttemptFailed(attempt: FailedAttempt, step: StepStart): void {
    const labels = step.metricLabels;
    if (labels === undefined || !this._instruments.recording) return;
    const i = this._instruments.i;
    if (labels.active) this._active(labels.outcome).value--;
    labels.active = false;
    i.errors.add(1, { ...labels.outcome.start, [sc.LABEL_ERROR_TYPE]: requestErrorType(attempt.errorType) });
    if (attempt.retryAfterS !== undefined) i.rateLimitWait.record(attempt.retryAfterS, labels.outcome.start);
  }

  onRetry(step: StepStart): void {
    const labels = step.metricLabels;
    if (labels === undefined || !this._instruments.recording || labels.active) return;
    labels.active = true;
    this._active(labels.outcome).value++;
  }

  onStepEnd(r: StepRecord, step: StepStart): void {
    const labels = step.metricLabels;
    if (labels === undefined || !this._instruments.recording) return;
    const i = this._instruments.i;
    if (labels.active) this._active(labels.outcome).value--;
    labels.active = false;
    // The outcome: the response's model stands in when the request named none.
    const model = r.requestModel ?? r.model ?? sc.LABEL_VALUE_UNKNOWN;
    const start = labels.outcome.start;
    const outcome = model === start[sc.LABEL_MODEL] ? labels.outcome : this._outcome(model, start[sc.LABEL_GRAPH] as string, r.operation);
    const sums = this._instruments.sums;
    // The logical request's latency as the application saw it: from its arrival (retries, rate-limit
    // waits and a wait for a connection included) to its end.
    const seconds = (r.endTime - r.arriveTime) / 1000;
    (outcome.requestCount ??= seriesOf(sums.requests, outcome.requests)).value++;
    i.latency.record(seconds, outcome.start);
    if (r.inputTokens !== undefined && r.inputTokens >= 0) (outcome.tokensIn ??= seriesOf(sums.tokensIn, outcome.start)).value += r.inputTokens;
    if (r.outputTokens !== undefined && r.outputTokens >= 0) (outcome.tokensOut ??= seriesOf(sums.tokensOut, outcome.start)).value += r.outputTokens;
    if (r.cachedTokens !== undefined && r.inputTokens !== undefined && r.cachedTokens >= 0) {
      const kv = (this._kvPrefix ??= { hits: seriesOf(sums.cacheHits, KV_PREFIX), misses: seriesOf(sums.cacheMisses, KV_PREFIX) });
      kv.hits.value += r.cachedTokens;
      kv.misses.value += Math.max(0, r.inputTokens - r.cachedTokens);
    }
    const p = r.phases;
    if (r.stepId > 1) i.phase.record(p.toolCallS, PHASE_LABELS.toolCall);
    i.phase.record(p.pauseS, PHASE_LABELS.pause);
    if (r.streamed) {
      i.phase.record(p.prefillS, PHASE_LABELS.prefill);
      i.phase.record(p.decodeS, PHASE_LABELS.decode);
    }
    const genai = labels.genai;
    if (step.chunkRecorder instanceof PerStreamRecorder) step.chunkRecorder.record(i.genaiTpoc, genai);
    if (r.inputTokens !== undefined) i.genaiTokens.record(r.inputTokens, labels.genaiInput);
    if (r.outputTokens !== undefined) i.genaiTokens.record(r.outputTokens, labels.genaiOutput);
    if (r.streamed && r.errorType === undefined) i.genaiTtfc.record(p.prefillS, genai);
    i.genaiDuration.record(seconds, r.errorType === undefined ? genai : { ...genai, [sc.ATTR_ERROR_TYPE]: r.errorType });
    if (step.failureReported === true) return; // its last attempt's failure was counted when it failed
    if (r.errorType !== undefined) i.errors.add(1, { ...outcome.start, [sc.LABEL_ERROR_TYPE]: requestErrorType(r.errorType) });
    if (r.retryAfterS !== undefined) i.rateLimitWait.record(r.retryAfterS, outcome.start);
  }

  /** TinyLLM's sets of one model and graph (without and with the request type); their series are made when first added to. */
  private _outcome(model: string, graph: string, operation: string): OutcomeSeries {
    const key = `${model}\u0000${graph}\u0000${operation}`;
    let outcome = this._outcomes.get(key);
    if (outcome !== undefined) return outcome;
    const start: Attributes = { [sc.LABEL_MODEL]: model, [sc.LABEL_GRAPH]: graph };
    outcome = { start, requests: { ...start, [sc.LABEL_REQUEST_TYPE]: operation === sc.GEN_AI_OPERATION_CHAT ? sc.REQUEST_TYPE_CHAT : sc.REQUEST_TYPE_COMPLETION } };
    if (this._outcomes.size < MAX_OUTCOMES) this._outcomes.set(key, outcome);
    return outcome;
  }

  private _active(outcome: OutcomeSeries): SumCellRef {
    return (outcome.active ??= seriesOf(this._instruments.sums.active, outcome.start));
  }
}

const KV_PREFIX: Attributes = { [sc.LABEL_CACHE_TYPE]: sc.CACHE_TYPE_KV_PREFIX };

/** The series of `attributes` in `sum`. */
function seriesOf(sum: ObservedSum, attributes: Attributes): SumCellRef {
  return sum.cell(keyOf(attributes), () => attributes);
}

/** The phase histogram's label sets: a closed set, built once. */
const PHASE_LABELS = {
  toolCall: { [sc.LABEL_PHASE]: sc.PHASE_TOOL_CALL },
  pause: { [sc.LABEL_PHASE]: sc.PHASE_PAUSE },
  prefill: { [sc.LABEL_PHASE]: sc.PHASE_PREFILL },
  decode: { [sc.LABEL_PHASE]: sc.PHASE_DECODE },
} as const;

/** `gen_ai.client.operation.time_per_output_chunk`, one record per chunk after the first, with the step's own attributes. */
class PerChunkRecorder implements ChunkRecorder {
  constructor(private readonly _histogram: Histogram, private readonly _attributes: Attributes) {}

  onChunks(count: number, interval: number | undefined): void {
    for (let k = 0; k < count; k++) {
      if (k === 0 && interval === undefined) continue; // the first chunk of a stream has no interval
      this._histogram.record(k === 0 ? (interval as number) : 0, this._attributes);
    }
  }
}

/**
 * `gen_ai.client.operation.time_per_output_chunk`, one record per stream: its mean time per
 * output chunk, (last chunk − first chunk) / (chunks after the first). Two numbers per read, one
 * record at the step's end.
 */
class PerStreamRecorder implements ChunkRecorder {
  private _seconds = 0;
  private _intervals = 0;

  onChunks(count: number, interval: number | undefined): void {
    if (interval === undefined) {
      this._intervals += count - 1; // the first chunk of a stream has no interval
    } else {
      this._seconds += interval;
      this._intervals += count;
    }
  }

  record(histogram: Histogram, attributes: Attributes): void {
    if (this._intervals > 0) histogram.record(this._seconds / this._intervals, attributes);
  }
}
