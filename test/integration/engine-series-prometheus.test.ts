/**
 * Engine series you can alert on, through the SDK's own Prometheus exporter and real Prometheus:
 * an engine that starts down, comes up, changes its model and goes down again leaves, after each
 * change, exactly the series it should (one `up` per backend, `backend_info` only while up,
 * nothing stale). Beside it, why the engine metric producer exists: the SDK's observable gauges
 * keep a series that is no longer observed.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createServer, type Server } from 'node:http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider, type MetricData } from '@opentelemetry/sdk-metrics';
import { setupHarness, type Harness } from '../utils/otel.js';
import { TestMetricReader } from '../utils/metrics.js';
import { freePort } from '../utils/servers.js';
import { hasPrometheus, startPrometheus, type RealPrometheus } from '../utils/prometheus.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A vLLM-shaped engine whose state the test sets: down (connections reset) or serving a model. */
async function startEngine(): Promise<{ url: string; set(state: 'down' | { model: string }): void; close(): Promise<void> }> {
  let state: 'down' | { model: string } = 'down';
  const server: Server = createServer((req, res) => {
    if (state === 'down') {
      req.socket.destroy();
      return;
    }
    const m = `model_name="${state.model}"`;
    res.end(`# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{engine="0",${m}} 2\n# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{engine="0",${m}} 1\n# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc{engine="0",${m}} 0.25\n# TYPE vllm:prompt_tokens_total counter\nvllm:prompt_tokens_total{engine="0",${m}} 100\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    set: (s) => {
      state = s;
    },
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

async function collect(reader: TestMetricReader): Promise<Map<string, MetricData>> {
  const { resourceMetrics } = await reader.collect();
  return new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
}

describe('why a producer: the SDK keeps what an observable gauge no longer observes', () => {
  test('observable gauges keep a down engine\'s last values; the producer drops them at the next collection', async () => {
    const engine = await startEngine();
    engine.set({ model: 'A' });
    const observed = setupHarness({ backends: [{ url: engine.url, name: 'a' }], pollIntervalMs: 60_000 });
    const produced = setupHarness({ backends: [{ url: engine.url, name: 'a' }], pollIntervalMs: 60_000 });
    const r1 = new TestMetricReader();
    observed.instrumentation.setMeterProvider(new MeterProvider({ readers: [r1] }));
    const r2b = new TestMetricReader({ metricProducers: [produced.instrumentation.engineMetricProducer()] });
    new MeterProvider({ readers: [r2b] });
    try {
      await Promise.all([observed.instrumentation.backends.pollNow(), produced.instrumentation.backends.pollNow()]);
      expect((await collect(r1)).get('agentic_backend_requests_running')?.dataPoints).toHaveLength(1);
      expect((await collect(r2b)).get('agentic_backend_requests_running')?.dataPoints).toHaveLength(1);
      engine.set('down');
      await Promise.all([observed.instrumentation.backends.pollNow(), produced.instrumentation.backends.pollNow()]);
      // The SDK (cumulative) still exports the last value of a series nobody observes any more.
      expect((await collect(r1)).get('agentic_backend_requests_running')?.dataPoints).toHaveLength(1);
      const after = await collect(r2b);
      expect(after.get('agentic_backend_requests_running')).toBeUndefined();
      expect(after.get('agentic_backend_up')!.dataPoints.map((p) => [p.attributes, p.value])).toEqual([[{ 'backend.url': engine.url, 'backend.name': 'a' }, 0]]);
    } finally {
      await observed.shutdown();
      await produced.shutdown();
      await engine.close();
    }
  });
});

describe.skipIf(!hasPrometheus)('engine series in real Prometheus, through the SDK\'s Prometheus exporter', () => {
  let engine: Awaited<ReturnType<typeof startEngine>>;
  let h: Harness;
  let exporter: PrometheusExporter;
  let prom: RealPrometheus;
  let promUrl: string;

  async function query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    expect(body.status).toBe('success');
    return body.data.result;
  }
  const scrapes = async () => Number((await query('count_over_time(up{job="app"}[10m])'))[0]?.value[1] ?? 0);
  /** Polls the engine, then waits until Prometheus has scraped the app twice more. */
  async function settle(): Promise<void> {
    await h.instrumentation.backends.pollNow();
    const target = (await scrapes()) + 2;
    for (let i = 0; i < 200 && (await scrapes()) < target; i++) await sleep(50);
  }
  /** Every engine series now: name, the labels that matter, value. */
  async function series(): Promise<string[]> {
    const rows = await query('{__name__=~"agentic_backend_.+"}');
    return rows.map((r) => {
      const { __name__, backend_url: _u, backend_name, job: _j, instance: _i, otel_scope_name: _s, otel_scope_version: _v, ...rest } = r.metric;
      const extra = Object.entries(rest).map(([k, v]) => `${k}=${v}`).sort().join(',');
      return `${__name__}{${backend_name ?? ''}${extra ? `,${extra}` : ''}} ${r.value[1]}`;
    }).sort();
  }

  beforeAll(async () => {
    engine = await startEngine();
    const appPort = await freePort();
    h = setupHarness({ backends: [{ url: engine.url, name: 'engine-a' }], pollIntervalMs: 60_000 });
    exporter = new PrometheusExporter({ port: appPort, host: '127.0.0.1', metricProducers: [h.instrumentation.engineMetricProducer()] });
    h.instrumentation.setMeterProvider(new MeterProvider({ readers: [exporter] }));
    prom = await startPrometheus('app', `127.0.0.1:${appPort}`, 1);
    promUrl = prom.url;
  }, 60_000);

  afterAll(async () => {
    prom?.close();
    await h?.shutdown();
    await exporter?.shutdown();
    await engine?.close();
  });

  test('down → up (model A) → model B → down: exactly the expected series after each change', async () => {
    engine.set('down');
    await settle();
    expect(await series()).toEqual(['agentic_backend_up{engine-a} 0']);

    engine.set({ model: 'A' });
    await settle();
    const upA = await series();
    expect(upA.filter((s) => s.startsWith('agentic_backend_up'))).toEqual(['agentic_backend_up{engine-a} 1']);
    expect(upA.filter((s) => s.startsWith('agentic_backend_info'))).toEqual(['agentic_backend_info{engine-a,backend_kind=vllm,model=A} 1']);
    expect(upA).toContain('agentic_backend_requests_running{engine-a} 2');
    expect(upA).toContain('agentic_backend_kv_cache_usage{engine-a} 0.25');

    engine.set({ model: 'B' });
    await settle();
    const upB = await series();
    expect(upB.filter((s) => s.startsWith('agentic_backend_up'))).toEqual(['agentic_backend_up{engine-a} 1']);
    expect(upB.filter((s) => s.startsWith('agentic_backend_info'))).toEqual(['agentic_backend_info{engine-a,backend_kind=vllm,model=B} 1']);

    engine.set('down');
    await settle();
    expect(await series()).toEqual(['agentic_backend_up{engine-a} 0']);
    // An alert on up == 0 sees one series, and only while the engine is down.
    expect((await query('agentic_backend_up == 0')).length).toBe(1);
  }, 60_000);
});
