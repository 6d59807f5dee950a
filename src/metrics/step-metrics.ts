/**
 * Every series a finished step feeds, recorded automatically. The labels of one step are built
 * twice and only twice: a start-time set at step start (active requests +1, and its −1 at the
 * end, and the GenAI chunk histograms), and an outcome set at step end (adding what only the end
 * knows: the error type, the response model when the request named none). No program or request
 * id is ever a label.
 */
import type { Attributes, Histogram } from '@opentelemetry/api';
import * as sc from '../semconv.js';
import type { ChunkRecorder, Feature, StepStart } from '../feature.js';
import type { StepRecord } from '../types.js';
import { requestErrorType } from '../breakers/request-error-type.js';
import type { Instruments } from './instruments.js';

export class StepMetrics implements Feature {
  readonly name = 'step metrics';

  constructor(private readonly _instruments: Instruments, private readonly _providerName: () => string) {}

  onStepStart(step: StepStart): void {
    if (!this._instruments.recording) return;
    const start: Attributes = { [sc.LABEL_MODEL]: step.request?.model ?? sc.LABEL_VALUE_UNKNOWN, [sc.LABEL_GRAPH]: step.agentName ?? sc.LABEL_VALUE_DEFAULT_GRAPH };
    const genai: Attributes = { [sc.ATTR_GEN_AI_OPERATION_NAME]: step.operation, [sc.ATTR_GEN_AI_PROVIDER_NAME]: this._providerName() };
    if (step.request?.model !== undefined) genai[sc.ATTR_GEN_AI_REQUEST_MODEL] = step.request.model;
    if (step.serverAddress !== undefined) genai[sc.ATTR_SERVER_ADDRESS] = step.serverAddress;
    if (step.serverPort !== undefined) genai[sc.ATTR_SERVER_PORT] = step.serverPort;
    step.metricLabels = { start, genai };
    this._instruments.i.active.add(1, start);
    if (step.request?.stream === true) step.chunkRecorder = new ChunkHistogram(this._instruments.i.genaiTpoc, genai);
  }

  onStepEnd(r: StepRecord, step: StepStart): void {
    const labels = step.metricLabels;
    if (labels === undefined || !this._instruments.recording) return;
    const i = this._instruments.i;
    i.active.add(-1, labels.start);
    // The outcome: the response's model stands in when the request named none.
    const model = r.requestModel ?? r.model ?? sc.LABEL_VALUE_UNKNOWN;
    const graph = labels.start[sc.LABEL_GRAPH] as string;
    const outcome: Attributes = { [sc.LABEL_MODEL]: model, [sc.LABEL_GRAPH]: graph };
    const seconds = (r.endTime - r.startTime) / 1000;
    i.requests.add(1, { ...outcome, [sc.LABEL_REQUEST_TYPE]: r.operation === sc.GEN_AI_OPERATION_CHAT ? sc.REQUEST_TYPE_CHAT : sc.REQUEST_TYPE_COMPLETION });
    i.latency.record(seconds, outcome);
    if (r.inputTokens !== undefined) i.tokensIn.add(r.inputTokens, outcome);
    if (r.outputTokens !== undefined) i.tokensOut.add(r.outputTokens, outcome);
    if (r.cachedTokens !== undefined && r.inputTokens !== undefined) {
      const kv: Attributes = { [sc.LABEL_CACHE_TYPE]: sc.CACHE_TYPE_KV_PREFIX };
      i.cacheHits.add(r.cachedTokens, kv);
      i.cacheMisses.add(Math.max(0, r.inputTokens - r.cachedTokens), kv);
    }
    const p = r.phases;
    if (r.stepId > 1) i.phase.record(p.toolCallS, PHASE_LABELS.toolCall);
    i.phase.record(p.pauseS, PHASE_LABELS.pause);
    if (r.streamed) {
      i.phase.record(p.prefillS, PHASE_LABELS.prefill);
      i.phase.record(p.decodeS, PHASE_LABELS.decode);
    }
    const genai = labels.genai;
    if (r.inputTokens !== undefined) i.genaiTokens.record(r.inputTokens, { ...genai, [sc.ATTR_GEN_AI_TOKEN_TYPE]: sc.TOKEN_TYPE_INPUT });
    if (r.outputTokens !== undefined) i.genaiTokens.record(r.outputTokens, { ...genai, [sc.ATTR_GEN_AI_TOKEN_TYPE]: sc.TOKEN_TYPE_OUTPUT });
    if (r.streamed && r.errorType === undefined) i.genaiTtfc.record(p.prefillS, genai);
    i.genaiDuration.record(seconds, r.errorType === undefined ? genai : { ...genai, [sc.ATTR_ERROR_TYPE]: r.errorType });
    if (r.errorType !== undefined) i.errors.add(1, { ...outcome, [sc.LABEL_ERROR_TYPE]: requestErrorType(r.errorType) });
  }
}

/** The phase histogram's label sets: a closed set, built once. */
const PHASE_LABELS = {
  toolCall: { [sc.LABEL_PHASE]: sc.PHASE_TOOL_CALL },
  pause: { [sc.LABEL_PHASE]: sc.PHASE_PAUSE },
  prefill: { [sc.LABEL_PHASE]: sc.PHASE_PREFILL },
  decode: { [sc.LABEL_PHASE]: sc.PHASE_DECODE },
} as const;

/** `gen_ai.client.operation.time_per_output_chunk` of one stream, with the step's own attributes. */
class ChunkHistogram implements ChunkRecorder {
  constructor(private readonly _histogram: Histogram, private readonly _attributes: Attributes) {}

  onChunks(count: number, interval: number | undefined): void {
    for (let k = 0; k < count; k++) {
      if (k === 0 && interval === undefined) continue; // the first chunk of a stream has no interval
      this._histogram.record(k === 0 ? (interval as number) : 0, this._attributes);
    }
  }
}
