/**
 * Real Prometheus scrapes an application that runs the NodeSDK-style Prometheus exporter with
 * `metricPrefix: 'tinyllm'` while it drives the simulator (with failing requests and a backend
 * whose breaker opens), and every PromQL query of the TinyLLM reference is run against it.
 *
 * The workload runs in two phases with scrapes between them: Prometheus's rate() cannot see a
 * series' first increments (it has no earlier sample), so phase 1 creates every series and the
 * values are checked against what phase 2 did. Ratios of rates over the same scrapes are exact.
 *
 * Needs the `prometheus` binary (Debian package `prometheus`, installed by .ci/run); without it
 * the test is skipped with a notice.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { request } from 'undici';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { withProgram } from '../../src/index.js';
import { setupHarness, type Harness } from '../utils/otel.js';
import { freePort } from '../utils/servers.js';
import { hasPrometheus, startPrometheus, type RealPrometheus } from '../utils/prometheus.js';

if (!hasPrometheus) console.warn('NOTICE: the `prometheus` binary is not installed; the real-Prometheus test is skipped (apt-get install prometheus)');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasPrometheus)('TinyLLM PromQL queries against real Prometheus', () => {
  let simA: Simulator;
  let simB: Simulator;
  let h: Harness;
  let exporter: PrometheusExporter;
  let prom: RealPrometheus;
  let promUrl: string;
  const phase2 = { requests: 0, errors: 0, byGraph: { planner: 0, coder: 0 }, tokens: 0, hits: 0, misses: 0, nodes: { search: 0, edit: 0 }, queueWaits: [] as number[], rejected: 0 };

  async function query(q: string): Promise<{ status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } }> {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
    return (await res.json()) as never;
  }
  const values = async (q: string) => {
    const r = await query(q);
    expect(r.status, `${q}: ${r.error ?? ''}`).toBe('success');
    expect(r.data!.result.length, `${q} returned nothing`).toBeGreaterThan(0);
    return r.data!.result.map((x) => ({ labels: x.metric, value: Number(x.value[1]) }));
  };
  const scrapes = async () => Number((await query('count_over_time(up{job="app"}[10m])')).data?.result[0]?.value[1] ?? 0);
  /** Waits until Prometheus has scraped the app `n` more times; returns right after the last. */
  const scraped = async (n: number) => {
    const target = (await scrapes()) + n;
    for (let i = 0; i < 300 && (await scrapes()) < target; i++) await sleep(50);
  };

  beforeAll(async () => {
    simA = await startSimulator({ decodeMsPerToken: 1 });
    simB = await startSimulator();
    await simB.refuse(true);
    const appPort = await freePort();
    exporter = new PrometheusExporter({ port: appPort, host: '127.0.0.1' });
    h = setupHarness({ metricPrefix: 'tinyllm', retryWindowMs: 0, circuitBreaker: { threshold: 3, cooldownMs: 3_600_000 } });
    h.instrumentation.setMeterProvider(new MeterProvider({ readers: [exporter] }));
    prom = await startPrometheus('app', `127.0.0.1:${appPort}`, 2);
    promUrl = prom.url;

    const m = h.instrumentation.metrics;
    let calls = 0; // every call a request of its own: the same bytes after a failure would be its retry
    const call = async (sim: Simulator, graph: 'planner' | 'coder', extra: Record<string, unknown>, fault?: string) => {
      calls++;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault) headers['x-sim-fault'] = fault;
      await withProgram(`${graph}-prog`, async () => {
        const res = await request(`${sim.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: 'sim-llama-3-8b', messages: [{ role: 'system', content: 'You are an agent. '.repeat(8) }, { role: 'user', content: `${graph} task ${calls}` }], max_tokens: 6, ...extra }) });
        await res.body.text();
      }, { agent: graph }).catch(() => undefined);
    };
    const workload = async (phase: 1 | 2) => {
      const before = simA.requests().length;
      // Phase 1 creates every series phase 2 touches; A's failures never come 3 in a row.
      const plan: [graph: 'planner' | 'coder', stream: boolean, fault?: string][] = phase === 1
        ? [['planner', true], ['coder', false], ['coder', true, 'http_500'], ['planner', false], ['planner', true, 'http_500'], ['coder', true]]
        : [['planner', true], ['coder', true, 'http_500'], ['planner', false], ['coder', true], ['coder', false], ['planner', true, 'http_500'], ['coder', true]];
      for (const [graph, stream, fault] of plan) await call(simA, graph, { stream }, fault);
      if (phase === 1) for (let i = 0; i < 3; i++) await call(simB, 'coder', {}); // opens B's breaker
      for (const [node, ms] of phase === 1 ? [['search', 5], ['edit', 5]] as const : [['search', 5], ['search', 5], ['edit', 5]] as const) {
        await m.trackNodeExecution({ node, graph: 'coder' }, () => sleep(ms));
        if (phase === 2) phase2.nodes[node]++;
      }
      await m.trackNodeExecution({ node: 'edit', graph: 'coder' }, async () => { throw new RangeError('bad patch'); }).catch(() => undefined);
      m.incrementQueueRequest('high');
      const waits = phase === 1 ? [0.2] : [0.05, 0.15, 0.4];
      for (const w of waits) m.recordQueueWaitTime(w, 'high');
      m.updateQueueSize(phase === 1 ? 3 : 5, 'high');
      m.incrementQueueRejected();
      if (phase === 2) {
        phase2.queueWaits = waits;
        phase2.rejected = 1;
        const recs = simA.requests().slice(before);
        phase2.requests = plan.length;
        phase2.errors = plan.filter((p) => p[2]).length;
        for (const [graph] of plan) phase2.byGraph[graph]++;
        const ok = recs.filter((r) => r.fault === undefined);
        phase2.tokens = ok.reduce((s, r) => s + r.promptTokens + r.completionTokens, 0);
        phase2.hits = ok.reduce((s, r) => s + r.cachedTokens, 0);
        phase2.misses = ok.reduce((s, r) => s + r.promptTokens - r.cachedTokens, 0);
      }
    };
    // Each phase starts right after a scrape and ends well within the 2 s interval, so every
    // series changes between the same two scrapes and rate() extrapolates them all alike.
    await scraped(1);
    await workload(1);
    await scraped(2);
    await workload(2);
    await scraped(2);
  }, 90_000);

  afterAll(async () => {
    prom?.close();
    await h?.shutdown();
    await exporter?.shutdown();
    await simA?.close();
    await simB?.close();
  });

  // rate() extrapolates each series on its own, and never a counter below zero, which depends on
  // the series' own values: ratios across series agree closely, not to the last bit.
  const near = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(0.01 * Math.abs(b));

  test('request rate, in total and by graph', async () => {
    expect((await values('rate(tinyllm_requests_total[5m])')).every((v) => v.value >= 0)).toBe(true);
    const byGraph = Object.fromEntries((await values('sum(rate(tinyllm_requests_total[5m])) by (graph)')).map((v) => [v.labels['graph'], v.value]));
    near(byGraph['coder']! / byGraph['planner']!, phase2.byGraph.coder / phase2.byGraph.planner);
  });

  test('latency percentiles (the by-model query as the reference writes it is not valid PromQL)', async () => {
    const [p95] = await values('histogram_quantile(0.95, rate(tinyllm_request_latency_seconds_bucket[5m]))');
    expect(p95!.value).toBeGreaterThan(0);
    expect(p95!.value).toBeLessThan(1);
    const asWritten = await query('histogram_quantile(0.99, rate(tinyllm_request_latency_seconds_bucket[5m])) by (model)');
    expect(asWritten.status).toBe('error');
    expect(asWritten.error).toMatch(/parse error: unexpected <by>/);
    const byModel = await values('histogram_quantile(0.99, sum(rate(tinyllm_request_latency_seconds_bucket[5m])) by (le, model))');
    expect(byModel.map((v) => v.labels['model'])).toEqual(['sim-llama-3-8b']);
  });

  test('error rate and errors by type', async () => {
    const [pct] = await values('sum(rate(tinyllm_errors_total[5m])) / sum(rate(tinyllm_requests_total[5m])) * 100');
    near(pct!.value, (phase2.errors / phase2.requests) * 100);
    const byType = Object.fromEntries((await values('sum(rate(tinyllm_errors_total[5m])) by (error_type)')).map((v) => [v.labels['error_type'], v.value]));
    expect(byType['http_5xx']).toBeGreaterThan(0);
    expect(byType['connection']).toBe(0); // B's refusals were in phase 1 only
  });

  test('token throughput, in total and by model', async () => {
    const [total] = await values('sum(rate(tinyllm_tokens_input_total[5m]) + rate(tinyllm_tokens_output_total[5m]))');
    const [requests] = await values('sum(rate(tinyllm_requests_total[5m]))');
    near(total!.value / requests!.value, phase2.tokens / phase2.requests);
    expect((await values('sum(rate(tinyllm_tokens_output_total[5m])) by (model)')).map((v) => v.labels['model'])).toEqual(['sim-llama-3-8b']);
  });

  test('circuit breaker health: the refused backend is open', async () => {
    const open = await values('tinyllm_circuit_breaker_state == 2');
    expect(open.map((v) => v.labels['model'])).toEqual([`127.0.0.1:${simB.port}`]);
    const failures = await values('rate(tinyllm_circuit_breaker_failures_total[5m])');
    expect(failures.find((v) => v.labels['model'] === `127.0.0.1:${simA.port}`)!.value).toBeGreaterThan(0);
    expect(failures.find((v) => v.labels['model'] === `127.0.0.1:${simB.port}`)!.value).toBe(0);
  });

  test('cache performance: the engine\'s prefix-cache hit rate, token-weighted', async () => {
    const [rate] = await values('sum(rate(tinyllm_cache_hits_total[5m])) /\n(sum(rate(tinyllm_cache_hits_total[5m])) + sum(rate(tinyllm_cache_misses_total[5m])))');
    near(rate!.value, phase2.hits / (phase2.hits + phase2.misses));
    const hits = await values('sum(rate(tinyllm_cache_hits_total[5m])) by (cache_type)');
    const misses = await values('sum(rate(tinyllm_cache_misses_total[5m])) by (cache_type)');
    expect(hits.map((v) => v.labels['cache_type'])).toEqual(['kv_prefix']);
    near(hits[0]!.value / (hits[0]!.value + misses[0]!.value), rate!.value);
  });

  test('node performance (the slowest-nodes query as written is not valid PromQL either)', async () => {
    const byNode = Object.fromEntries((await values('sum(rate(tinyllm_node_executions_total[5m])) by (node)')).map((v) => [v.labels['node'], v.value]));
    near(byNode['search']! / byNode['edit']!, phase2.nodes.search / (phase2.nodes.edit + 1)); // + the failing edit
    const asWritten = await query('histogram_quantile(0.95, rate(tinyllm_node_execution_duration_seconds_bucket[5m])) by (node)');
    expect(asWritten.status).toBe('error');
    expect((await values('histogram_quantile(0.95, sum(rate(tinyllm_node_execution_duration_seconds_bucket[5m])) by (le, node))')).length).toBe(2);
    const errors = await values('sum(rate(tinyllm_node_errors_total[5m])) by (node, error_type)');
    expect(errors.map((v) => [v.labels['node'], v.labels['error_type']])).toEqual([['edit', 'RangeError']]);
  });

  test('queue metrics', async () => {
    const [size] = await values('tinyllm_queue_size');
    expect(size!.value).toBe(5);
    const [avgWait] = await values('rate(tinyllm_queue_wait_time_seconds_sum[5m]) / rate(tinyllm_queue_wait_time_seconds_count[5m])');
    near(avgWait!.value, phase2.queueWaits.reduce((s, w) => s + w, 0) / phase2.queueWaits.length);
    const [rejected] = await values('rate(tinyllm_queue_requests_rejected_total[5m])');
    expect(rejected!.value).toBeGreaterThan(0);
  });
});
