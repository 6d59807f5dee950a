/**
 * TinyLLM's collector API (`instrumentation.metrics`), for what only the application knows:
 * nodes, graphs, queues, model loads, caches of its own. Requests, tokens, errors, cache hits
 * and breakers are recorded automatically (step-metrics.ts, the breaker registry). Also the
 * metric feature of the breakers: the `circuit_breaker_state` gauge over the registry's
 * breakers (and states the application sets), their failure counter, and `system_info`.
 */
import type { BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import * as sc from '../semconv.js';
import type { Feature } from '../feature.js';
import { BreakerState } from '../breakers/circuit-breaker.js';
import type { BreakerRegistry } from '../breakers/breaker-registry.js';
import { PACKAGE_VERSION } from '../version.js';
import type { Instruments } from './instruments.js';

/** `request_type`: the endpoint. */
export type RequestType = typeof sc.REQUEST_TYPE_CHAT | typeof sc.REQUEST_TYPE_COMPLETION;
/** `cache_type` of engine prefix-cache tokens. */
export type CacheType = typeof sc.CACHE_TYPE_KV_PREFIX | (string & {});

/** The collector: `instrumentation.metrics`. */
export class TinyLlmMetrics implements Feature {
  readonly name = 'TinyLLM metrics';
  /** Breaker states set by the application through the facade, by model. */
  private readonly _manualStates = new Map<string, BreakerState>();
  private _meter: Meter | undefined;
  private _registered: Observable[] = [];
  private readonly _observe = (result: BatchObservableResult): void => this._collect(result);
  private readonly _unsubscribe: () => void;

  /** @internal built by the instrumentation */
  constructor(private readonly _h: Instruments, private readonly _breakers: BreakerRegistry) {
    this._unsubscribe = _breakers.onFailure((backend) => this._h.i.breakerFailures.add(1, { [sc.LABEL_MODEL]: backend }));
  }

  /** Moves the batch callback to the current meter, while enabled (disabled, nothing is registered). */
  updateMetricInstruments(): void {
    if (this._meter === undefined) return;
    this._unregister();
    this._register();
  }

  enable(): void {
    if (this._meter === undefined) this._register();
  }

  disable(): void {
    this._unregister();
  }

  private _register(): void {
    this._meter = this._h.meter;
    this._registered = [this._h.i.breakerState, this._h.i.systemInfo];
    this._meter.addBatchObservableCallback(this._observe, this._registered);
  }

  private _unregister(): void {
    this._meter?.removeBatchObservableCallback(this._observe, this._registered);
    this._meter = undefined;
  }

  shutdown(): void {
    this.disable();
    this._unsubscribe();
  }

  incrementRequestCount(labels: { model?: string; graph?: string; requestType?: string } = {}): void {
    this._h.i.requests.add(1, { [sc.LABEL_MODEL]: labels.model ?? sc.LABEL_VALUE_UNKNOWN, [sc.LABEL_GRAPH]: labels.graph ?? sc.LABEL_VALUE_UNKNOWN, [sc.LABEL_REQUEST_TYPE]: labels.requestType ?? sc.REQUEST_TYPE_GENERATE });
  }

  recordTokens(inputTokens: number, outputTokens: number, labels: { model?: string; graph?: string } = {}): void {
    const l = { [sc.LABEL_MODEL]: labels.model ?? sc.LABEL_VALUE_UNKNOWN, [sc.LABEL_GRAPH]: labels.graph ?? sc.LABEL_VALUE_UNKNOWN };
    this._h.i.tokensIn.add(inputTokens, l);
    this._h.i.tokensOut.add(outputTokens, l);
  }

  /** Times `fn` (sync or async) as one request: active while it runs; an error is counted and rethrown unchanged. */
  trackRequestLatency<T>(labels: { model?: string; graph?: string }, fn: () => T): T {
    const l = { [sc.LABEL_MODEL]: labels.model ?? sc.LABEL_VALUE_UNKNOWN, [sc.LABEL_GRAPH]: labels.graph ?? sc.LABEL_VALUE_UNKNOWN };
    this._h.i.active.add(1, l);
    return track(fn, (seconds) => {
      this._h.i.latency.record(seconds, l);
      this._h.i.active.add(-1, l);
    }, (err) => this.incrementErrorCount(errorName(err), l));
  }

  trackNodeExecution<T>(labels: { node: string; graph?: string }, fn: () => T): T {
    const l = { [sc.LABEL_NODE]: labels.node, [sc.LABEL_GRAPH]: labels.graph ?? sc.LABEL_VALUE_UNKNOWN };
    this._h.i.nodeExecutions.add(1, l);
    return track(fn, (seconds) => this._h.i.nodeDuration.record(seconds, l), (err) => this.incrementNodeErrorCount(labels.node, errorName(err), labels.graph ?? sc.LABEL_VALUE_UNKNOWN));
  }

  trackGraphExecution<T>(labels: { graph: string }, fn: () => T): T {
    const l = { [sc.LABEL_GRAPH]: labels.graph };
    this._h.i.graphExecutions.add(1, l);
    return track(fn, (seconds) => this._h.i.graphDuration.record(seconds, l), (err) => this.incrementErrorCount(errorName(err), { graph: labels.graph }));
  }

  trackModelLoad<T>(labels: { model: string }, fn: () => T): T {
    return track(fn, (seconds) => this._h.i.modelLoad.record(seconds, { [sc.LABEL_MODEL]: labels.model }), () => undefined);
  }

  /** A model load that was timed elsewhere. */
  recordModelLoad(seconds: number, labels: { model: string }): void {
    this._h.i.modelLoad.record(seconds, { [sc.LABEL_MODEL]: labels.model });
  }

  incrementErrorCount(errorType: string, labels: { model?: string; graph?: string } = {}): void {
    this._h.i.errors.add(1, { [sc.LABEL_ERROR_TYPE]: errorType, [sc.LABEL_MODEL]: labels.model ?? sc.LABEL_VALUE_UNKNOWN, [sc.LABEL_GRAPH]: labels.graph ?? sc.LABEL_VALUE_UNKNOWN });
  }

  incrementNodeErrorCount(node: string, errorType: string, graph: string = sc.LABEL_VALUE_UNKNOWN): void {
    this._h.i.nodeErrors.add(1, { [sc.LABEL_NODE]: node, [sc.LABEL_GRAPH]: graph, [sc.LABEL_ERROR_TYPE]: errorType });
  }

  updateCircuitBreakerState(state: sc.BreakerStateName, model: string = sc.LABEL_VALUE_UNKNOWN): void {
    this._manualStates.set(model, state === sc.BREAKER_STATE_OPEN ? BreakerState.Open : state === sc.BREAKER_STATE_HALF_OPEN ? BreakerState.HalfOpen : BreakerState.Closed);
  }

  incrementCircuitBreakerFailures(model: string = sc.LABEL_VALUE_UNKNOWN): void {
    this._h.i.breakerFailures.add(1, { [sc.LABEL_MODEL]: model });
  }

  recordCacheHit(cacheType: CacheType = sc.CACHE_TYPE_GENERAL, count = 1): void {
    this._h.i.cacheHits.add(count, { [sc.LABEL_CACHE_TYPE]: cacheType });
  }

  recordCacheMiss(cacheType: CacheType = sc.CACHE_TYPE_GENERAL, count = 1): void {
    this._h.i.cacheMisses.add(count, { [sc.LABEL_CACHE_TYPE]: cacheType });
  }

  recordRateLimitWait(seconds: number, labels: { model?: string } = {}): void {
    this._h.i.rateLimitWait.record(seconds, { [sc.LABEL_MODEL]: labels.model ?? sc.LABEL_VALUE_UNKNOWN });
  }

  recordMemoryOperation(operationType: 'add' | 'get' | 'set' | 'delete' | (string & {})): void {
    this._h.i.memoryOps.add(1, { [sc.LABEL_OPERATION_TYPE]: operationType });
  }

  updateQueueSize(size: number, priority: 'high' | 'normal' | 'low' | 'all' | (string & {}) = 'all'): void {
    this._h.i.queueSize.record(size, { [sc.LABEL_PRIORITY]: priority });
  }

  recordQueueWaitTime(seconds: number, priority = 'normal'): void {
    this._h.i.queueWait.record(seconds, { [sc.LABEL_PRIORITY]: priority });
  }

  incrementQueueRequest(priority = 'normal'): void {
    this._h.i.queueRequests.add(1, { [sc.LABEL_PRIORITY]: priority });
  }

  incrementQueueRejected(): void {
    this._h.i.queueRejected.add(1);
  }

  updateActiveWorkers(count: number): void {
    this._h.i.queueWorkers.record(count);
  }

  private _collect(result: BatchObservableResult): void {
    const now = performance.timeOrigin + performance.now();
    const i = this._h.i;
    for (const [backend, state] of this._breakers.states(now)) result.observe(i.breakerState, state, { [sc.LABEL_MODEL]: backend });
    for (const [model, state] of this._manualStates) result.observe(i.breakerState, state, { [sc.LABEL_MODEL]: model });
    result.observe(i.systemInfo, 1, SYSTEM_INFO);
  }
}

const SYSTEM_INFO = { [sc.LABEL_VERSION]: PACKAGE_VERSION, [sc.LABEL_APP]: sc.APP_NAME };

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
