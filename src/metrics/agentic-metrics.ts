/**
 * The metric series: TinyLLM's request / token / error / circuit-breaker / cache / queue / node /
 * graph series under a configurable prefix (shared/reference/tinyllm-metrics.md, with TinyLLM's
 * own bucket boundaries), the four GenAI client histograms (shared/reference/genai-semconv.md)
 * and a phase histogram. Recorded automatically from finished steps; the rest through the
 * facade methods, which mirror TinyLLM's collector API.
 *
 * Names are chosen so that @opentelemetry/exporter-prometheus prints exactly TinyLLM's series:
 * it keeps a `_total` a counter already has and adds no unit suffix. No program or request id is
 * ever a label.
 */
import { diag, type Attributes, type BatchObservableResult, type Counter, type Gauge, type Histogram, type Meter, type ObservableGauge, type UpDownCounter } from '@opentelemetry/api';
import * as sc from '../semconv.js';
import type { StepRecord } from '../types.js';
import { PACKAGE_VERSION } from '../version.js';
import { isNoopMeter } from './noop-meter.js';
import { BREAKER_STATE_NAMES, BreakerState, CircuitBreaker, type BreakerOptions } from './circuit-breaker.js';

/** Why a request failed, as a closed label set (TinyLLM's `error_type`). */
export type RequestErrorType = 'timeout' | 'connection' | 'http_4xx' | 'http_5xx' | 'aborted' | 'malformed_response';
/** `request_type`: the endpoint. */
export type RequestType = 'chat' | 'completion';
/** `cache_type` of engine prefix-cache tokens. */
export type CacheType = 'kv_prefix' | (string & {});
/** Circuit breaker states as TinyLLM names them. */
export type BreakerStateName = 'closed' | 'half-open' | 'open';

const GENAI_DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const GENAI_TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
// TinyLLM's own boundaries (tinyllm/metrics.py).
const REQUEST_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const MODEL_LOAD_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60];
const NODE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const GRAPH_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const RATE_LIMIT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];
const QUEUE_WAIT_BUCKETS = [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60];

/** Maps a step's `error.type` to TinyLLM's closed `error_type` set. */
export function requestErrorType(errorType: string): RequestErrorType {
  if (/^4\d\d$/.test(errorType)) return 'http_4xx';
  if (/^5\d\d$/.test(errorType)) return 'http_5xx';
  if (errorType === sc.ERROR_TYPE_MALFORMED_RESPONSE) return 'malformed_response';
  if (errorType === 'AbortError' || errorType === 'UND_ERR_ABORTED' || errorType === 'RequestAbortedError') return 'aborted';
  if (/TIMEOUT|TimeoutError|ETIMEDOUT/i.test(errorType)) return 'timeout';
  return 'connection';
}

/** Whether a failure is the backend's (it feeds the breaker): not an abort, not a 4xx. */
function isBackendFailure(type: RequestErrorType): boolean {
  return type !== 'aborted' && type !== 'http_4xx';
}

interface Instruments {
  requests: Counter;
  latency: Histogram;
  active: UpDownCounter;
  tokensIn: Counter;
  tokensOut: Counter;
  errors: Counter;
  breakerState: ObservableGauge;
  breakerFailures: Counter;
  modelLoad: Histogram;
  nodeExecutions: Counter;
  nodeDuration: Histogram;
  nodeErrors: Counter;
  graphExecutions: Counter;
  graphDuration: Histogram;
  cacheHits: Counter;
  cacheMisses: Counter;
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

/** The collector: `instrumentation.metrics`. */
export class AgenticMetrics {
  private _i!: Instruments;
  private _meter: Meter | undefined;
  /** False under the API's no-op meter: per-request recording is skipped (breakers still run). */
  private _recording = false;
  private readonly _breakers = new Map<string, CircuitBreaker>();
  /** Breaker states set by the application through the facade, by model. */
  private readonly _manualStates = new Map<string, BreakerState>();
  private readonly _observe = (result: BatchObservableResult) => this._collect(result);

  constructor(meter: Meter, private readonly _prefix: string, private readonly _providerName: () => string, private readonly _breakerOptions: BreakerOptions = {}) {
    this.updateMetricInstruments(meter);
  }

  /** (Re)creates every instrument on `meter`; the old batch callback is removed. */
  updateMetricInstruments(meter: Meter): void {
    if (this._meter !== undefined && this._i !== undefined) this._meter.removeBatchObservableCallback(this._observe, [this._i.breakerState, this._i.systemInfo]);
    this._meter = meter;
    this._recording = !isNoopMeter(meter);
    const p = (name: string) => `${this._prefix}_${name}`;
    const h = (name: string, description: string, unit: string, buckets: number[]) => meter.createHistogram(name, { description, unit, advice: { explicitBucketBoundaries: buckets } });
    this._i = {
      requests: meter.createCounter(p(sc.METRIC_REQUESTS_TOTAL), { description: 'Total number of requests processed' }),
      latency: h(p(sc.METRIC_REQUEST_LATENCY_SECONDS), 'Request latency in seconds', 's', REQUEST_LATENCY_BUCKETS),
      active: meter.createUpDownCounter(p(sc.METRIC_ACTIVE_REQUESTS), { description: 'Number of requests currently being processed' }),
      tokensIn: meter.createCounter(p(sc.METRIC_TOKENS_INPUT_TOTAL), { description: 'Total number of input tokens processed (engine-reported usage)' }),
      tokensOut: meter.createCounter(p(sc.METRIC_TOKENS_OUTPUT_TOTAL), { description: 'Total number of output tokens generated (engine-reported usage)' }),
      errors: meter.createCounter(p(sc.METRIC_ERRORS_TOTAL), { description: 'Total number of errors by type' }),
      breakerState: meter.createObservableGauge(p(sc.METRIC_CIRCUIT_BREAKER_STATE), { description: 'Circuit breaker state (0=closed, 1=half-open, 2=open)' }),
      breakerFailures: meter.createCounter(p(sc.METRIC_CIRCUIT_BREAKER_FAILURES_TOTAL), { description: 'Total circuit breaker failures' }),
      modelLoad: h(p(sc.METRIC_MODEL_LOAD_DURATION_SECONDS), 'Time taken to load a model', 's', MODEL_LOAD_BUCKETS),
      nodeExecutions: meter.createCounter(p(sc.METRIC_NODE_EXECUTIONS_TOTAL), { description: 'Total number of node executions' }),
      nodeDuration: h(p(sc.METRIC_NODE_EXECUTION_DURATION_SECONDS), 'Node execution duration in seconds', 's', NODE_BUCKETS),
      nodeErrors: meter.createCounter(p(sc.METRIC_NODE_ERRORS_TOTAL), { description: 'Total number of node execution errors' }),
      graphExecutions: meter.createCounter(p(sc.METRIC_GRAPH_EXECUTIONS_TOTAL), { description: 'Total number of graph executions' }),
      graphDuration: h(p(sc.METRIC_GRAPH_EXECUTION_DURATION_SECONDS), 'Graph execution duration in seconds', 's', GRAPH_BUCKETS),
      cacheHits: meter.createCounter(p(sc.METRIC_CACHE_HITS_TOTAL), { description: 'Total number of cache hits (kv_prefix: cached prompt tokens)' }),
      cacheMisses: meter.createCounter(p(sc.METRIC_CACHE_MISSES_TOTAL), { description: 'Total number of cache misses (kv_prefix: uncached prompt tokens)' }),
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
    meter.addBatchObservableCallback(this._observe, [this._i.breakerState, this._i.systemInfo]);
  }

  /** Removes the batch callback (on disable). */
  dispose(): void {
    this._meter?.removeBatchObservableCallback(this._observe, [this._i.breakerState, this._i.systemInfo]);
    this._meter = undefined;
  }

  // --- automatic recording, from the request hook ---

  /** The breaker of a backend (host:port). */
  breaker(backend: string): CircuitBreaker {
    let b = this._breakers.get(backend);
    if (b === undefined) {
      b = new CircuitBreaker(backend, this._breakerOptions);
      b.onStateChange((from, to) => diag.info(`agentic-otel: circuit breaker ${backend}: ${BREAKER_STATE_NAMES[from]} → ${BREAKER_STATE_NAMES[to]}`));
      this._breakers.set(backend, b);
    }
    return b;
  }

  /** A request began: one more active request. */
  requestStarted(model: string, graph: string): void {
    if (this._recording) this._i.active.add(1, { model, graph });
  }

  /** A step ended: every series it feeds. `backend` is host:port. */
  recordStep(r: StepRecord, backend: string | undefined, now: number): void {
    if (!this._recording) {
      this._breakerOutcome(r, backend, now);
      return;
    }
    const i = this._i;
    const model = r.requestModel ?? r.model ?? 'unknown';
    const graph = r.agentName ?? 'default';
    const labels = { model, graph };
    i.active.add(-1, labels);
    i.requests.add(1, { model, graph, request_type: r.operation === 'chat' ? 'chat' : 'completion' });
    i.latency.record((r.endTime - r.startTime) / 1000, labels);
    if (r.inputTokens !== undefined) i.tokensIn.add(r.inputTokens, labels);
    if (r.outputTokens !== undefined) i.tokensOut.add(r.outputTokens, labels);
    if (r.cachedTokens !== undefined && r.inputTokens !== undefined) {
      i.cacheHits.add(r.cachedTokens, { cache_type: 'kv_prefix' });
      i.cacheMisses.add(Math.max(0, r.inputTokens - r.cachedTokens), { cache_type: 'kv_prefix' });
    }
    const phases = r.phases;
    if (r.stepId > 1) i.phase.record(phases.toolCallS, { phase: 'tool_call' });
    i.phase.record(phases.pauseS, { phase: 'pause' });
    if (r.streamed) {
      i.phase.record(phases.prefillS, { phase: 'prefill' });
      i.phase.record(phases.decodeS, { phase: 'decode' });
    }
    const genai: Attributes = { [sc.ATTR_GEN_AI_OPERATION_NAME]: r.operation, [sc.ATTR_GEN_AI_PROVIDER_NAME]: this._providerName() };
    if (r.requestModel !== undefined) genai[sc.ATTR_GEN_AI_REQUEST_MODEL] = r.requestModel;
    if (r.serverAddress !== undefined) genai[sc.ATTR_SERVER_ADDRESS] = r.serverAddress;
    if (r.serverPort !== undefined) genai[sc.ATTR_SERVER_PORT] = r.serverPort;
    if (r.inputTokens !== undefined) i.genaiTokens.record(r.inputTokens, { ...genai, [sc.ATTR_GEN_AI_TOKEN_TYPE]: 'input' });
    if (r.outputTokens !== undefined) i.genaiTokens.record(r.outputTokens, { ...genai, [sc.ATTR_GEN_AI_TOKEN_TYPE]: 'output' });
    if (r.streamed && r.errorType === undefined) i.genaiTtfc.record(phases.prefillS, genai);
    if (r.errorType !== undefined) genai[sc.ATTR_ERROR_TYPE] = r.errorType;
    i.genaiDuration.record((r.endTime - r.startTime) / 1000, genai);
    if (r.errorType !== undefined) i.errors.add(1, { error_type: requestErrorType(r.errorType), model, graph });
    this._breakerOutcome(r, backend, now);
  }

  /** The backend's circuit breaker learns the step's outcome. */
  private _breakerOutcome(r: StepRecord, backend: string | undefined, now: number): void {
    if (backend === undefined) return;
    if (r.errorType === undefined) this.breaker(backend).success(now);
    else if (isBackendFailure(requestErrorType(r.errorType))) this._breakerFailure(backend, now);
  }

  /** `count` chunks arrived in one read, the first `interval` seconds after the previous chunk. */
  recordChunks(count: number, interval: number | undefined, attributes: Attributes): void {
    for (let k = 0; k < count; k++) {
      if (k === 0 && interval === undefined) continue; // the first chunk of a stream has no interval
      this._i.genaiTpoc.record(k === 0 ? (interval as number) : 0, attributes);
    }
  }

  /** The GenAI attributes of a streamed request's chunks. */
  chunkAttributes(operation: string, model: string | undefined, address: string | undefined, port: number | undefined): Attributes {
    const a: Attributes = { [sc.ATTR_GEN_AI_OPERATION_NAME]: operation, [sc.ATTR_GEN_AI_PROVIDER_NAME]: this._providerName() };
    if (model !== undefined) a[sc.ATTR_GEN_AI_REQUEST_MODEL] = model;
    if (address !== undefined) a[sc.ATTR_SERVER_ADDRESS] = address;
    if (port !== undefined) a[sc.ATTR_SERVER_PORT] = port;
    return a;
  }

  /** An engine poll could not reach the backend: its breaker counts a failure, as a refused request does. */
  recordBackendUnreachable(backend: string, now: number): void {
    this._breakerFailure(backend, now);
  }

  private _breakerFailure(backend: string, now: number): void {
    this.breaker(backend).failure(now);
    this._i.breakerFailures.add(1, { model: backend });
  }

  // --- the facade: TinyLLM's collector API ---

  incrementRequestCount(labels: { model?: string; graph?: string; requestType?: string } = {}): void {
    this._i.requests.add(1, { model: labels.model ?? 'unknown', graph: labels.graph ?? 'unknown', request_type: labels.requestType ?? 'generate' });
  }

  recordTokens(inputTokens: number, outputTokens: number, labels: { model?: string; graph?: string } = {}): void {
    const l = { model: labels.model ?? 'unknown', graph: labels.graph ?? 'unknown' };
    this._i.tokensIn.add(inputTokens, l);
    this._i.tokensOut.add(outputTokens, l);
  }

  /** Times `fn` (sync or async) as one request: active while it runs; an error is counted and rethrown unchanged. */
  trackRequestLatency<T>(labels: { model?: string; graph?: string }, fn: () => T): T {
    const l = { model: labels.model ?? 'unknown', graph: labels.graph ?? 'unknown' };
    this._i.active.add(1, l);
    return track(fn, (seconds) => {
      this._i.latency.record(seconds, l);
      this._i.active.add(-1, l);
    }, (err) => this.incrementErrorCount(errorName(err), l));
  }

  trackNodeExecution<T>(labels: { node: string; graph?: string }, fn: () => T): T {
    const l = { node: labels.node, graph: labels.graph ?? 'unknown' };
    this._i.nodeExecutions.add(1, l);
    return track(fn, (seconds) => this._i.nodeDuration.record(seconds, l), (err) => this.incrementNodeErrorCount(labels.node, errorName(err), l.graph));
  }

  trackGraphExecution<T>(labels: { graph: string }, fn: () => T): T {
    this._i.graphExecutions.add(1, { graph: labels.graph });
    return track(fn, (seconds) => this._i.graphDuration.record(seconds, { graph: labels.graph }), (err) => this.incrementErrorCount(errorName(err), { graph: labels.graph }));
  }

  trackModelLoad<T>(labels: { model: string }, fn: () => T): T {
    return track(fn, (seconds) => this._i.modelLoad.record(seconds, { model: labels.model }), () => undefined);
  }

  /** A model load that was timed elsewhere. */
  recordModelLoad(seconds: number, labels: { model: string }): void {
    this._i.modelLoad.record(seconds, { model: labels.model });
  }

  incrementErrorCount(errorType: string, labels: { model?: string; graph?: string } = {}): void {
    this._i.errors.add(1, { error_type: errorType, model: labels.model ?? 'unknown', graph: labels.graph ?? 'unknown' });
  }

  incrementNodeErrorCount(node: string, errorType: string, graph = 'unknown'): void {
    this._i.nodeErrors.add(1, { node, graph, error_type: errorType });
  }

  updateCircuitBreakerState(state: BreakerStateName, model = 'unknown'): void {
    this._manualStates.set(model, state === 'open' ? BreakerState.Open : state === 'half-open' ? BreakerState.HalfOpen : BreakerState.Closed);
  }

  incrementCircuitBreakerFailures(model = 'unknown'): void {
    this._i.breakerFailures.add(1, { model });
  }

  recordCacheHit(cacheType: CacheType = 'general', count = 1): void {
    this._i.cacheHits.add(count, { cache_type: cacheType });
  }

  recordCacheMiss(cacheType: CacheType = 'general', count = 1): void {
    this._i.cacheMisses.add(count, { cache_type: cacheType });
  }

  recordRateLimitWait(seconds: number, labels: { model?: string } = {}): void {
    this._i.rateLimitWait.record(seconds, { model: labels.model ?? 'unknown' });
  }

  recordMemoryOperation(operationType: 'add' | 'get' | 'set' | 'delete' | (string & {})): void {
    this._i.memoryOps.add(1, { operation_type: operationType });
  }

  updateQueueSize(size: number, priority: 'high' | 'normal' | 'low' | 'all' | (string & {}) = 'all'): void {
    this._i.queueSize.record(size, { priority });
  }

  recordQueueWaitTime(seconds: number, priority = 'normal'): void {
    this._i.queueWait.record(seconds, { priority });
  }

  incrementQueueRequest(priority = 'normal'): void {
    this._i.queueRequests.add(1, { priority });
  }

  incrementQueueRejected(): void {
    this._i.queueRejected.add(1);
  }

  updateActiveWorkers(count: number): void {
    this._i.queueWorkers.record(count);
  }

  private _collect(result: BatchObservableResult): void {
    const now = performance.timeOrigin + performance.now();
    for (const [backend, b] of this._breakers) result.observe(this._i.breakerState, b.state(now), { model: backend });
    for (const [model, state] of this._manualStates) result.observe(this._i.breakerState, state, { model });
    result.observe(this._i.systemInfo, 1, { version: PACKAGE_VERSION, app: 'agentic-otel' });
  }
}

function errorName(err: unknown): string {
  if (err instanceof Error) return err.name;
  return typeof err;
}

/** Runs `fn`, timing it whether it returns, resolves, throws or rejects; errors pass through unchanged. */
function track<T>(fn: () => T, done: (seconds: number) => void, failed: (err: unknown) => void): T {
  const start = performance.now();
  const finish = () => done((performance.now() - start) / 1000);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    failed(err);
    finish();
    throw err;
  }
  if (result instanceof Promise) {
    return result.then(
      (v) => {
        finish();
        return v;
      },
      (err: unknown) => {
        failed(err);
        finish();
        throw err;
      },
    ) as T;
  }
  finish();
  return result;
}
