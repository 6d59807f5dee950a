/**
 * The metric instruments: TinyLLM's series under a configurable prefix
 * (shared/reference/tinyllm-metrics.md, with TinyLLM's own bucket boundaries), the four GenAI
 * client histograms (shared/reference/genai-semconv.md) and the phase histogram. One set, held
 * by a feature that recreates it when the meter provider changes, read by the step metrics and
 * TinyLLM's facade. The sums every step adds to (requests, active requests, tokens, prefix-cache
 * hits and misses) are kept by us and observed at collection (observed-sum.ts).
 *
 * Names are chosen so that @opentelemetry/exporter-prometheus prints exactly TinyLLM's series:
 * it keeps a `_total` a counter already has and adds no unit suffix.
 */
import type { BatchObservableResult, Counter, Gauge, Histogram, Meter, Observable, ObservableGauge } from '@opentelemetry/api';
import * as sc from '../semconv.js';
import type { Feature } from '../feature.js';
import { isNoopMeter } from './noop-meter.js';
import { ObservedSum } from './observed-sum.js';

const GENAI_DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const GENAI_TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
// TinyLLM's own boundaries (tinyllm/metrics.py).
const REQUEST_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const MODEL_LOAD_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60];
const NODE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const GRAPH_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const RATE_LIMIT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];
const QUEUE_WAIT_BUCKETS = [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60];

/** The sums every step adds to, kept by us and observed at collection (observed-sum.ts). */
export interface StepSums {
  requests: ObservedSum;
  active: ObservedSum;
  tokensIn: ObservedSum;
  tokensOut: ObservedSum;
  cacheHits: ObservedSum;
  cacheMisses: ObservedSum;
}

export interface MetricInstruments extends StepSums {
  latency: Histogram;
  errors: Counter;
  breakerState: ObservableGauge;
  breakerFailures: Counter;
  modelLoad: Histogram;
  nodeExecutions: Counter;
  nodeDuration: Histogram;
  nodeErrors: Counter;
  graphExecutions: Counter;
  graphDuration: Histogram;
  rateLimitWait: Histogram;
  memoryOps: Counter;
  queueSize: Gauge;
  queueWait: Histogram;
  queueRequests: Counter;
  queueRejected: Counter;
  queueWorkers: Gauge;
  systemInfo: ObservableGauge;
  phase: Histogram;
  genaiTokens: Histogram;
  genaiDuration: Histogram;
  genaiTtfc: Histogram;
  genaiTpoc: Histogram;
}

/** The observable instruments of the step sums, by sum. */
function createSumInstruments(meter: Meter, prefix: string): Record<keyof StepSums, Observable> {
  const p = (name: string): string => sc.prefixed(prefix, name);
  return {
    requests: meter.createObservableCounter(p(sc.METRIC_REQUESTS_TOTAL), { description: 'Total number of requests processed' }),
    active: meter.createObservableUpDownCounter(p(sc.METRIC_ACTIVE_REQUESTS), { description: 'Number of requests currently being processed' }),
    tokensIn: meter.createObservableCounter(p(sc.METRIC_TOKENS_INPUT_TOTAL), { description: 'Total number of input tokens processed (engine-reported usage)' }),
    tokensOut: meter.createObservableCounter(p(sc.METRIC_TOKENS_OUTPUT_TOTAL), { description: 'Total number of output tokens generated (engine-reported usage)' }),
    cacheHits: meter.createObservableCounter(p(sc.METRIC_CACHE_HITS_TOTAL), { description: 'Total number of cache hits (kv_prefix: cached prompt tokens)' }),
    cacheMisses: meter.createObservableCounter(p(sc.METRIC_CACHE_MISSES_TOTAL), { description: 'Total number of cache misses (kv_prefix: uncached prompt tokens)' }),
  };
}

function createInstruments(meter: Meter, prefix: string, sums: StepSums): MetricInstruments {
  const p = (name: string): string => sc.prefixed(prefix, name);
  const h = (name: string, description: string, unit: string, buckets: number[]): Histogram => meter.createHistogram(name, { description, unit, advice: { explicitBucketBoundaries: buckets } });
  return {
    ...sums,
    latency: h(p(sc.METRIC_REQUEST_LATENCY_SECONDS), 'Request latency in seconds', 's', REQUEST_LATENCY_BUCKETS),
    errors: meter.createCounter(p(sc.METRIC_ERRORS_TOTAL), { description: 'Total number of errors by type' }),
    breakerState: meter.createObservableGauge(p(sc.METRIC_CIRCUIT_BREAKER_STATE), { description: 'Circuit breaker state (0=closed, 1=half-open, 2=open)' }),
    breakerFailures: meter.createCounter(p(sc.METRIC_CIRCUIT_BREAKER_FAILURES_TOTAL), { description: 'Total circuit breaker failures' }),
    modelLoad: h(p(sc.METRIC_MODEL_LOAD_DURATION_SECONDS), 'Time taken to load a model', 's', MODEL_LOAD_BUCKETS),
    nodeExecutions: meter.createCounter(p(sc.METRIC_NODE_EXECUTIONS_TOTAL), { description: 'Total number of node executions' }),
    nodeDuration: h(p(sc.METRIC_NODE_EXECUTION_DURATION_SECONDS), 'Node execution duration in seconds', 's', NODE_BUCKETS),
    nodeErrors: meter.createCounter(p(sc.METRIC_NODE_ERRORS_TOTAL), { description: 'Total number of node execution errors' }),
    graphExecutions: meter.createCounter(p(sc.METRIC_GRAPH_EXECUTIONS_TOTAL), { description: 'Total number of graph executions' }),
    graphDuration: h(p(sc.METRIC_GRAPH_EXECUTION_DURATION_SECONDS), 'Graph execution duration in seconds', 's', GRAPH_BUCKETS),
    rateLimitWait: h(p(sc.METRIC_RATE_LIMIT_WAIT_SECONDS), 'Time spent waiting for rate limiter', 's', RATE_LIMIT_BUCKETS),
    memoryOps: meter.createCounter(p(sc.METRIC_MEMORY_OPERATIONS_TOTAL), { description: 'Total number of memory operations' }),
    queueSize: meter.createGauge(p(sc.METRIC_QUEUE_SIZE), { description: 'Current queue size' }),
    queueWait: h(p(sc.METRIC_QUEUE_WAIT_TIME_SECONDS), 'Time spent waiting in queue', 's', QUEUE_WAIT_BUCKETS),
    queueRequests: meter.createCounter(p(sc.METRIC_QUEUE_REQUESTS_TOTAL), { description: 'Total requests submitted to queue' }),
    queueRejected: meter.createCounter(p(sc.METRIC_QUEUE_REQUESTS_REJECTED_TOTAL), { description: 'Total requests rejected due to full queue' }),
    queueWorkers: meter.createGauge(p(sc.METRIC_QUEUE_ACTIVE_WORKERS), { description: 'Number of active worker threads' }),
    systemInfo: meter.createObservableGauge(p(sc.METRIC_SYSTEM_INFO), { description: 'agentic-otel system information' }),
    phase: h(p(sc.METRIC_STEP_PHASE_SECONDS), 'Time an agent step spent in each phase', 's', GENAI_DURATION_BUCKETS),
    genaiTokens: h(sc.METRIC_GEN_AI_CLIENT_TOKEN_USAGE, 'Number of input and output tokens used', '{token}', GENAI_TOKEN_BUCKETS),
    genaiDuration: h(sc.METRIC_GEN_AI_CLIENT_OPERATION_DURATION, 'GenAI operation duration', 's', GENAI_DURATION_BUCKETS),
    genaiTtfc: h(sc.METRIC_GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK, 'Time to receive the first chunk of a streamed response', 's', GENAI_DURATION_BUCKETS),
    genaiTpoc: h(sc.METRIC_GEN_AI_CLIENT_TIME_PER_OUTPUT_CHUNK, 'Time between consecutive chunks of a streamed response', 's', GENAI_DURATION_BUCKETS),
  };
}

/** Holds the current instrument set; the first feature in the list, so the others find it fresh. */
export class Instruments implements Feature {
  readonly name = 'metric instruments';
  /** The instruments on the current meter. */
  i!: MetricInstruments;
  /** The current meter (the facade's observable callbacks are registered on it). */
  meter!: Meter;
  /** False under the API's no-op meter: per-request recording is skipped. */
  recording = false;
  /** The step sums: they outlive a change of meter (their totals are since the instrumentation began). */
  readonly sums: StepSums = {
    requests: new ObservedSum(true),
    active: new ObservedSum(false),
    tokensIn: new ObservedSum(true),
    tokensOut: new ObservedSum(true),
    cacheHits: new ObservedSum(true),
    cacheMisses: new ObservedSum(true),
  };
  private _observed: { meter: Meter; instruments: Record<keyof StepSums, Observable> } | undefined;
  private readonly _observe = (result: BatchObservableResult): void => {
    const instruments = this._observed?.instruments;
    if (instruments === undefined) return;
    for (const name of Object.keys(instruments) as (keyof StepSums)[]) {
      const instrument = instruments[name];
      this.sums[name].forEach((value, attributes) => result.observe(instrument, value, attributes));
    }
  };

  constructor(meter: Meter, readonly prefix: string) {
    this.updateMetricInstruments(meter);
  }

  updateMetricInstruments(meter: Meter): void {
    if (this._observed !== undefined) this._observed.meter.removeBatchObservableCallback(this._observe, Object.values(this._observed.instruments));
    this.meter = meter;
    this.recording = !isNoopMeter(meter);
    this.i = createInstruments(meter, this.prefix, this.sums);
    const instruments = createSumInstruments(meter, this.prefix);
    this._observed = { meter, instruments };
    meter.addBatchObservableCallback(this._observe, Object.values(instruments));
  }
}
