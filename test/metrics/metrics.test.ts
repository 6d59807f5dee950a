/**
 * The metric series through a metric reader: names, units, buckets and label sets, and values
 * equal to ground truth (the simulator's usage, the facade calls made); the circuit breaker;
 * cardinality independent of the number of programs.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { request } from 'undici';
import { MeterProvider, type HistogramMetricData, type MetricData } from '@opentelemetry/sdk-metrics';
import { TestMetricReader as TestReader } from '../utils/metrics.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { AgenticInstrumentation, CircuitOpenError, withProgram } from '../../src/index.js';
import { BreakerState, CircuitBreaker } from '../../src/breakers/circuit-breaker.js';
import { requestErrorType } from '../../src/breakers/request-error-type.js';
import { setupHarness, type Harness } from '../utils/otel.js';


async function collect(reader: TestReader): Promise<Map<string, MetricData>> {
  const { resourceMetrics } = await reader.collect();
  return new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
}
const sumOf = (m: MetricData | undefined, match: Record<string, unknown> = {}) =>
  (m?.dataPoints ?? []).filter((d) => Object.entries(match).every(([k, v]) => d.attributes[k] === v)).reduce((s, d) => s + (typeof d.value === 'number' ? d.value : (d.value as { sum: number }).sum), 0);
const countOf = (m: MetricData | undefined, match: Record<string, unknown> = {}) =>
  ((m as HistogramMetricData | undefined)?.dataPoints ?? []).filter((d) => Object.entries(match).every(([k, v]) => d.attributes[k] === v)).reduce((s, d) => s + d.value.count, 0);

const body = (extra: Record<string, unknown> = {}) => JSON.stringify({ model: 'sim-llama-3-8b', messages: [{ role: 'system', content: 'You are an agent. '.repeat(6) }, { role: 'user', content: 'go' }], max_tokens: 5, ...extra });

describe('series recorded from the traffic', () => {
  let sim: Simulator;
  let h: Harness;
  let reader: TestReader;
  let metrics: Map<string, MetricData>;
  let ok: ReturnType<Simulator['requests']>;

  beforeAll(async () => {
    sim = await startSimulator({ decodeMsPerToken: 1 });
    h = setupHarness({ metricPrefix: 'tinyllm', retryWindowMs: 0 }) // each failure its own step at once (retries: test/steps/retries.test.ts);
    reader = new TestReader();
    h.instrumentation.setMeterProvider(new MeterProvider({ readers: [reader] }));
    const post = async (extra: Record<string, unknown>, headers: Record<string, string> = {}) => {
      const res = await request(`${sim.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body(extra) });
      await res.body.text();
    };
    await Promise.all(['planner', 'coder', 'coder'].map((agent, i) => withProgram(`p${i}`, async () => {
      await post({ stream: true });
      await post({ stream: true });
      await post({});
    }, { agent })));
    await withProgram('failing', () => post({ stream: true }, { 'x-sim-fault': 'http_500' }), { agent: 'coder' });
    metrics = await collect(reader);
    ok = sim.requests().filter((r) => r.fault === undefined);
  });
  afterAll(async () => {
    await h.shutdown();
    await sim.close();
  });

  test('TinyLLM names, units and buckets', () => {
    const latency = metrics.get('tinyllm_request_latency_seconds') as HistogramMetricData;
    expect(latency.descriptor.unit).toBe('s');
    expect(latency.dataPoints[0]!.value.buckets.boundaries).toEqual([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]);
    for (const name of ['tinyllm_requests_total', 'tinyllm_active_requests', 'tinyllm_tokens_input_total', 'tinyllm_tokens_output_total', 'tinyllm_errors_total', 'tinyllm_circuit_breaker_state', 'tinyllm_circuit_breaker_failures_total', 'tinyllm_cache_hits_total', 'tinyllm_cache_misses_total', 'tinyllm_system_info', 'tinyllm_step_phase_seconds', 'gen_ai.client.token.usage', 'gen_ai.client.operation.duration', 'gen_ai.client.operation.time_to_first_chunk', 'gen_ai.client.operation.time_per_output_chunk']) {
      expect(metrics.has(name), name).toBe(true);
    }
    expect((metrics.get('gen_ai.client.operation.duration') as HistogramMetricData).dataPoints[0]!.value.buckets.boundaries).toEqual([0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]);
    expect(metrics.get('tinyllm_system_info')!.dataPoints[0]!.attributes).toEqual({ version: '0.1.0', app: 'agentic-otel' });
  });

  test('requests, tokens and cache tokens equal what the engine reported', () => {
    expect(sumOf(metrics.get('tinyllm_requests_total'))).toBe(10);
    expect(sumOf(metrics.get('tinyllm_requests_total'), { graph: 'coder', request_type: 'chat', model: 'sim-llama-3-8b' })).toBe(7);
    expect(sumOf(metrics.get('tinyllm_tokens_input_total'))).toBe(ok.reduce((s, r) => s + r.promptTokens, 0));
    expect(sumOf(metrics.get('tinyllm_tokens_output_total'))).toBe(ok.reduce((s, r) => s + r.completionTokens, 0));
    const hits = ok.reduce((s, r) => s + r.cachedTokens, 0);
    expect(hits).toBeGreaterThan(0);
    expect(sumOf(metrics.get('tinyllm_cache_hits_total'), { cache_type: 'kv_prefix' })).toBe(hits);
    expect(sumOf(metrics.get('tinyllm_cache_misses_total'), { cache_type: 'kv_prefix' })).toBe(ok.reduce((s, r) => s + r.promptTokens - r.cachedTokens, 0));
    expect(sumOf(metrics.get('tinyllm_active_requests'))).toBe(0);
  });

  test('errors by closed error_type; the breaker counted the 5xx', () => {
    expect(metrics.get('tinyllm_errors_total')!.dataPoints.map((d) => d.attributes)).toEqual([{ error_type: 'http_5xx', model: 'sim-llama-3-8b', graph: 'coder' }]);
    expect(sumOf(metrics.get('tinyllm_circuit_breaker_failures_total'))).toBe(1);
    expect(metrics.get('tinyllm_circuit_breaker_state')!.dataPoints.map((d) => d.value)).toEqual([0]);
  });

  test('phase and GenAI histograms, recorded per step and per chunk', () => {
    const phase = metrics.get('tinyllm_step_phase_seconds');
    expect(countOf(phase, { phase: 'prefill' })).toBe(6); // streamed steps (the 500 never became a stream)
    expect(countOf(phase, { phase: 'tool_call' })).toBe(6); // steps 2 and 3 of three programs
    const usage = metrics.get('gen_ai.client.token.usage');
    expect(countOf(usage, { 'gen_ai.token.type': 'input' })).toBe(9);
    expect(sumOf(usage, { 'gen_ai.token.type': 'output' })).toBe(ok.reduce((s, r) => s + r.completionTokens, 0));
    expect(countOf(metrics.get('gen_ai.client.operation.duration'))).toBe(10);
    expect(countOf(metrics.get('gen_ai.client.operation.duration'), { 'error.type': '500' })).toBe(1);
    expect(countOf(metrics.get('gen_ai.client.operation.time_to_first_chunk'))).toBe(6);
    // Values, not only counts: the histograms' sums equal the steps' own phases and durations.
    const steps = h.spans().filter((sp) => sp.name === 'agent.step');
    const total = (attr: string, pick = (_: (typeof steps)[number]) => true) => steps.filter(pick).reduce((acc, sp) => acc + ((sp.attributes[attr] as number | undefined) ?? 0), 0);
    const streamedOk = (sp: (typeof steps)[number]) => sp.attributes['agentic.step.streamed'] === true;
    expect(sumOf(phase, { phase: 'prefill' })).toBeCloseTo(total('agentic.step.prefill_s', streamedOk), 9);
    expect(sumOf(phase, { phase: 'decode' })).toBeCloseTo(total('agentic.step.decode_s', streamedOk), 9);
    expect(sumOf(phase, { phase: 'tool_call' })).toBeCloseTo(total('agentic.step.tool_call_s'), 9);
    const chats = h.spans().filter((sp) => sp.kind === 2);
    const chatSeconds = chats.reduce((acc, sp) => acc + sp.duration[0] + sp.duration[1] / 1e9, 0);
    expect(sumOf(metrics.get('gen_ai.client.operation.duration'))).toBeCloseTo(chatSeconds, 6);
    expect(sumOf(metrics.get('tinyllm_request_latency_seconds'))).toBeCloseTo(chatSeconds, 6);
    // The default granularity, perStream: one record per successful stream.
    expect(countOf(metrics.get('gen_ai.client.operation.time_per_output_chunk'))).toBe(ok.filter((r) => r.stream).length);
  });

  test('no program or request id on any metric', () => {
    for (const m of metrics.values()) for (const d of m.dataPoints) expect(JSON.stringify(d.attributes)).not.toMatch(/p[0-2]"|failing|chatcmpl/);
  });
});

describe('time_per_output_chunk granularity', () => {
  // Each stream's ground truth: the simulator wrote chunksSent events between its first and last
  // token (the usage event at once after the last), so its mean time per output chunk is
  // decodeMs / (chunksSent − 1).
  const truth = (r: ReturnType<Simulator['requests']>[number]) => (r.decodeMs as number) / 1000 / (r.chunksSent - 1);
  let sim: Simulator;
  let h: Harness;
  beforeAll(async () => {
    sim = await startSimulator({ decodeMsPerToken: 10 });
  });
  afterAll(async () => {
    await h?.shutdown();
    await sim.close();
  });

  async function streamWith(timePerOutputChunk: 'perChunk' | 'perStream' | 'off') {
    h = setupHarness({ timePerOutputChunk });
    const reader = new TestReader();
    h.instrumentation.setMeterProvider(new MeterProvider({ readers: [reader] }));
    const res = await request(`${sim.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body({ stream: true, max_tokens: 8 }) });
    await res.body.text();
    const tpoc = (await collect(reader)).get('gen_ai.client.operation.time_per_output_chunk');
    await h.shutdown();
    return { count: countOf(tpoc), sum: sumOf(tpoc), sim: sim.requests().at(-1)! };
  }

  test('perChunk: one record per chunk after the first; perStream: one record, the same mean; off: none', async () => {
    const perChunk = await streamWith('perChunk');
    expect(perChunk.sim.chunksSent).toBe(9); // 8 tokens and the usage event
    expect(perChunk.count).toBe(8);
    expect(perChunk.sum / perChunk.count).toBeCloseTo(truth(perChunk.sim), 2); // within 5 ms of 10 ms
    const perStream = await streamWith('perStream');
    expect(perStream.count).toBe(1);
    expect(Math.abs(perStream.sum - truth(perStream.sim))).toBeLessThan(0.002);
    const off = await streamWith('off');
    expect(off.count).toBe(0);
  });

  test('an unknown granularity is refused by the constructor', () => {
    expect(() => new AgenticInstrumentation({ enabled: false, timePerOutputChunk: 'sometimes' as 'off' })).toThrow(RangeError);
  });
});

describe('facade (TinyLLM collector API)', () => {
  test('every call lands in its series; track* time sync and async work and rethrow errors unchanged', async () => {
    const reader = new TestReader();
    const inst = new AgenticInstrumentation({ enabled: false });
    inst.setMeterProvider(new MeterProvider({ readers: [reader] }));
    const m = inst.metrics;
    m.incrementRequestCount({ model: 'q', graph: 'g', requestType: 'generate' });
    m.recordTokens(100, 50, { model: 'q', graph: 'g' });
    m.trackRequestLatency({ model: 'q', graph: 'g' }, () => 42);
    await m.trackNodeExecution({ node: 'router', graph: 'g' }, async () => new Promise((r) => setTimeout(r, 15)));
    const boom = new TypeError('boom');
    await expect(m.trackGraphExecution({ graph: 'g' }, async () => { throw boom; })).rejects.toBe(boom);
    expect(() => m.trackNodeExecution({ node: 'tool', graph: 'g' }, () => { throw boom; })).toThrow(boom);
    m.incrementErrorCount('timeout', { model: 'q', graph: 'g' });
    m.updateCircuitBreakerState('half-open', 'q');
    m.incrementCircuitBreakerFailures('q');
    m.recordCacheHit('memory');
    m.recordCacheMiss('memory', 3);
    m.recordRateLimitWait(0.2, { model: 'q' });
    m.recordMemoryOperation('add');
    m.updateQueueSize(7, 'high');
    m.recordQueueWaitTime(0.5, 'high');
    m.incrementQueueRequest('high');
    m.incrementQueueRejected();
    m.updateActiveWorkers(3);
    m.recordModelLoad(2.5, { model: 'q' });
    const got = await collect(reader);
    expect(sumOf(got.get('agentic_requests_total'), { model: 'q', graph: 'g', request_type: 'generate' })).toBe(1);
    expect(sumOf(got.get('agentic_tokens_input_total'))).toBe(100);
    expect(sumOf(got.get('agentic_tokens_output_total'))).toBe(50);
    expect(countOf(got.get('agentic_request_latency_seconds'))).toBe(1);
    expect(sumOf(got.get('agentic_active_requests'))).toBe(0);
    expect(sumOf(got.get('agentic_node_executions_total'), { node: 'router' })).toBe(1);
    expect(sumOf(got.get('agentic_node_execution_duration_seconds'), { node: 'router' })).toBeGreaterThanOrEqual(0.014);
    expect(sumOf(got.get('agentic_node_errors_total'), { node: 'tool', error_type: 'TypeError' })).toBe(1);
    expect(sumOf(got.get('agentic_graph_executions_total'))).toBe(1);
    expect(countOf(got.get('agentic_graph_execution_duration_seconds'))).toBe(1);
    expect(sumOf(got.get('agentic_errors_total'), { error_type: 'TypeError', graph: 'g' })).toBe(1);
    expect(sumOf(got.get('agentic_errors_total'), { error_type: 'timeout' })).toBe(1);
    expect(got.get('agentic_circuit_breaker_state')!.dataPoints.map((d) => [d.attributes['model'], d.value])).toEqual([['q', 1]]);
    expect(sumOf(got.get('agentic_circuit_breaker_failures_total'), { model: 'q' })).toBe(1);
    expect(sumOf(got.get('agentic_cache_hits_total'), { cache_type: 'memory' })).toBe(1);
    expect(sumOf(got.get('agentic_cache_misses_total'), { cache_type: 'memory' })).toBe(3);
    expect(sumOf(got.get('agentic_rate_limit_wait_seconds'))).toBe(0.2);
    expect(sumOf(got.get('agentic_memory_operations_total'), { operation_type: 'add' })).toBe(1);
    expect(sumOf(got.get('agentic_queue_size'), { priority: 'high' })).toBe(7);
    expect(sumOf(got.get('agentic_queue_wait_time_seconds'))).toBe(0.5);
    expect(sumOf(got.get('agentic_queue_requests_total'))).toBe(1);
    expect(sumOf(got.get('agentic_queue_requests_rejected_total'))).toBe(1);
    expect(sumOf(got.get('agentic_queue_active_workers'))).toBe(3);
    expect(sumOf(got.get('agentic_model_load_duration_seconds'))).toBe(2.5);
  });
});

describe('circuit breaker', () => {
  test('closed → open after N failures → half-open after the cool-down → closed on success', () => {
    const b = new CircuitBreaker('h:1', { threshold: 3, cooldownMs: 100 });
    const moves: string[] = [];
    const off = b.onStateChange((from, to) => moves.push(`${from}->${to}`));
    b.failure(0);
    b.failure(1);
    b.success(2); // a success resets the run of failures
    b.failure(3);
    b.failure(4);
    expect(b.state(5)).toBe(BreakerState.Closed);
    b.failure(6);
    expect(b.state(7)).toBe(BreakerState.Open);
    expect(b.allows(50)).toBe(false);
    expect(b.state(106)).toBe(BreakerState.HalfOpen);
    b.failure(107); // the trial failed
    expect(b.state(108)).toBe(BreakerState.Open);
    expect(b.state(300)).toBe(BreakerState.HalfOpen);
    b.success(301);
    expect(b.state(302)).toBe(BreakerState.Closed);
    off();
    b.failure(400);
    expect(moves).toEqual(['0->2', '2->1', '1->2', '2->1', '1->0']);
    expect(b.failures).toBe(7);
  });

  test('error_type mapping', () => {
    expect(['500', '404', 'ECONNREFUSED', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'AbortError', 'malformed_response'].map(requestErrorType))
      .toEqual(['http_5xx', 'http_4xx', 'connection', 'connection', 'timeout', 'aborted', 'malformed_response']);
  });

  const poster = (sim: { url: string }) => () =>
    request(`${sim.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body() }).then((r) => r.body.text());

  /** Two refused connections open a breaker of threshold 2; the next request fails without being sent. Returns the engine's request count. */
  async function tripBreaker(sim: { refuse(on: boolean): Promise<unknown>; requests(): readonly unknown[] }, post: () => Promise<string>): Promise<number> {
    await sim.refuse(true);
    for (let i = 0; i < 2; i++) await expect(post()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await sim.refuse(false);
    const before = sim.requests().length;
    await expect(post()).rejects.toBeInstanceOf(CircuitOpenError);
    expect(sim.requests().length).toBe(before); // not sent
    return before;
  }

  test('failFast: an open backend fails at once without a connection; recovery is picked up', async () => {
    const sim = await startSimulator({ decodeMsPerToken: 1 });
    const h = setupHarness({ circuitBreaker: { threshold: 2, cooldownMs: 300, failFast: true } });
    const reader = new TestReader();
    h.instrumentation.setMeterProvider(new MeterProvider({ readers: [reader] }));
    const post = poster(sim);
    try {
      await tripBreaker(sim, post);
      let states = (await collect(reader)).get('agentic_circuit_breaker_state')!.dataPoints.map((d) => d.value);
      expect(states).toEqual([2]);
      await new Promise((r) => setTimeout(r, 320));
      await post(); // half-open: the trial goes through and succeeds
      states = (await collect(reader)).get('agentic_circuit_breaker_state')!.dataPoints.map((d) => d.value);
      expect(states).toEqual([0]);
      const steps = h.spans().filter((s) => s.name === 'agent.step').map((s) => s.attributes['error.type'] ?? 'ok');
      expect(steps).toEqual(['ECONNREFUSED', 'ECONNREFUSED', 'CIRCUIT_OPEN', 'ok']);
      expect(h.instrumentation.inFlight()).toBe(0);
    } finally {
      await h.shutdown();
      await sim.close();
    }
  });

  test('failFast works with no meter provider at all (nothing recorded, breakers still learn)', async () => {
    const sim = await startSimulator({ decodeMsPerToken: 1 });
    const h = setupHarness({ circuitBreaker: { threshold: 2, cooldownMs: 300, failFast: true } });
    const post = poster(sim);
    try {
      const before = await tripBreaker(sim, post);
      await new Promise((r) => setTimeout(r, 320));
      await post();
      await post(); // closed again: requests flow
      expect(sim.requests().length).toBe(before + 2);
    } finally {
      await h.shutdown();
      await sim.close();
    }
  });
});

describe('cardinality', () => {
  test('10,000 programs make exactly as many series as 10', async () => {
    const engineBody = Buffer.from('data: {"id":"x","model":"m","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":"stop"}]}\n\ndata: {"id":"x","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":1,"total_tokens":11,"prompt_tokens_details":{"cached_tokens":8}}}\n\ndata: [DONE]\n\n');
    const engine = (_o: unknown, handler: { onRequestStart?: (c: unknown, x: unknown) => void; onResponseStart?: (...a: unknown[]) => void; onResponseData?: (c: unknown, b: Buffer) => void; onResponseEnd?: (c: unknown, t: unknown) => void }) => {
      handler.onRequestStart?.({}, {});
      handler.onResponseStart?.({}, 200, { 'content-type': 'text/event-stream' }, 'OK');
      handler.onResponseData?.({}, engineBody);
      handler.onResponseEnd?.({}, {});
      return true;
    };
    const series = async (programs: number) => {
      const reader = new TestReader();
      const inst = new AgenticInstrumentation({ installGlobalDispatcher: false });
      inst.setMeterProvider(new MeterProvider({ readers: [reader] }));
      const dispatch = inst.interceptor()(engine as never);
      const noop = { onRequestStart() {}, onResponseStart() {}, onResponseData() {}, onResponseEnd() {}, onResponseError() {} };
      for (let p = 0; p < programs; p++) {
        withProgram(`program-${p}`, () => {
          for (let s = 0; s < 2; s++) dispatch({ origin: 'http://127.0.0.1:8000', path: '/v1/chat/completions', method: 'POST', headers: {}, body: '{"model":"m","stream":true}' }, noop as never);
        }, { agent: p % 2 ? 'a' : 'b' });
      }
      const got = await collect(reader);
      inst.disable();
      return [...got.values()].reduce((n, m) => n + m.dataPoints.length, 0);
    };
    const few = await series(10);
    const many = await series(10_000);
    console.log(`metric series: ${few} with 10 programs, ${many} with 10,000 programs`);
    expect(many).toBe(few);
    expect(few).toBeGreaterThan(10);
  }, 60_000);
});
