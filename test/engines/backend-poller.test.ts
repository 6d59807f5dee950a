/**
 * The engine poller: faults (refused, timeout, 500, an HTML page, a 50 MB body, garbage, NaN)
 * never throw, mark the backend down, keep the last good values for the JSON view, and recovery
 * is picked up; the readings, the Dynamo aggregate and the program accounting by hand; the
 * in-process gauges and the ThunderAgent view against the simulator.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createServer, type Server } from 'node:http';
import { request } from 'undici';
import { MeterProvider, type MetricData } from '@opentelemetry/sdk-metrics';
import { TestMetricReader } from '../utils/metrics.js';
import { BackendPoller } from '../../src/engines/backend-poller.js';
import { safeUrl, windowHitRate, type BackendState } from '../../src/engines/backend-state.js';
import { backendReadings, dynamoReadings, programAccounting, renderReadings, thunderAgentView } from '../../src/engines/backend-readings.js';
import { parsePrometheusText } from '../../src/prometheus/parse-prometheus-text.js';
import { startSimulator } from '../../src/simulator/index.js';
import { withProgram } from '../../src/index.js';
import { setupHarness } from '../utils/otel.js';
import { readFixture } from '../utils/fixtures.js';

type Mode = 'good' | 'stall' | '500' | 'html' | 'huge' | 'garbage' | 'nan';

describe('poller faults', () => {
  let server: Server;
  let url: string;
  let mode: Mode = 'good';
  const good = readFixture('prometheus/vllm-v1-cpu-after-requests-trimmed.prom');

  beforeAll(async () => {
    server = createServer((_req, res) => {
      switch (mode) {
        case 'good': return res.writeHead(200, { 'content-type': 'text/plain' }).end(good);
        case 'stall': return; // never answers
        case '500': return res.writeHead(500).end('Internal Server Error');
        case 'html': return res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body><h1>502 Bad Gateway</h1></body></html>');
        case 'garbage': return res.writeHead(200).end('\u0000\u0001 not {{ prometheus ]] at all\n###\n');
        case 'nan': return res.writeHead(200).end('vllm:num_requests_running{engine="0"} NaN\nvllm:kv_cache_usage_perc{engine="0"} NaN\n');
        case 'huge': {
          res.writeHead(200, { 'content-type': 'text/plain' });
          const block = Buffer.alloc(1024 * 1024, '# padding line that never ends...\n');
          let sent = 0;
          const pump = () => {
            while (sent < 50 && res.write(block)) sent++;
            if (sent < 50) res.once('drain', () => { sent++; pump(); });
            else res.end();
          };
          res.on('error', () => undefined);
          return pump();
        }
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  test('every fault: no throw, up 0, last good values kept for the JSON view, gauges show only up; recovery picked up', async () => {
    const polls: boolean[] = [];
    const poller = new BackendPoller([{ url }, { url: 'http://127.0.0.1:1', name: 'refused' }], { pollIntervalMs: 1000, pollTimeoutMs: 300, onPoll: (b, ok) => b.name !== 'refused' && polls.push(ok) });
    const [b, refused] = poller.backends as [BackendState, BackendState];
    mode = 'good';
    await poller.pollAll();
    expect(b.up).toBe(true);
    expect(b.kind).toBe('vllm');
    expect(b.last!.snapshot.promptTokens).toBe(18);
    expect(refused.up).toBe(false);
    expect(refused.lastError).toMatch(/ECONNREFUSED/);
    for (const m of ['stall', '500', 'html', 'huge', 'garbage', 'nan'] as Mode[]) {
      mode = m;
      await expect(poller.poll(b)).resolves.toBeUndefined();
      expect(b.up, m).toBe(false);
      expect(b.lastError, m).toBeDefined();
      expect(b.last!.snapshot.promptTokens, m).toBe(18); // the last good snapshot stays
      const readings = backendReadings('agentic', poller.backends, undefined);
      expect(readings.find((r) => r.name === 'agentic_backend_up')!.samples.map((s) => s.value)).toEqual([0, 0]);
      expect(readings.find((r) => r.name === 'agentic_backend_prompt_tokens_total')).toBeUndefined();
      const view = thunderAgentView(poller.backends, 1000).backends as Record<string, { healthy: boolean; metrics: { prompt_tokens_total: number } }>;
      expect(view[url]!.healthy).toBe(false);
      expect(view[url]!.metrics.prompt_tokens_total).toBe(18);
    }
    expect(b.lastError).toMatch(/no readable value/);
    mode = 'good';
    await poller.poll(b);
    expect(b.up).toBe(true);
    expect(polls).toEqual([true, false, false, false, false, false, false, true]);
  }, 30_000);

  test('credentials never reach a label', () => {
    expect(safeUrl('http://user:secret@engine:8000/')).toBe('http://engine:8000');
    const poller = new BackendPoller([{ url: 'http://user:secret@127.0.0.1:1' }]);
    expect(renderReadings(backendReadings('agentic', poller.backends, undefined))).not.toContain('secret');
  });

  test('a bad URL is a constructor error', () => {
    expect(() => new BackendPoller([{ url: 'not a url' }])).toThrow();
  });
});

describe('readings by hand', () => {
  const state = (name: string, usage: number, blocks: number, running: number, queries: [number, number], hits: [number, number], slots?: number): BackendState => {
    const snap = (q: number, h: number) => ({ kind: 'vllm' as const, engines: 1, running, waiting: 0, kvCacheUsage: usage, prefixCacheQueries: q, prefixCacheHits: h, finishedByReason: {}, cache: { blockSize: 16, numGpuBlocks: blocks, capacityTokens: 16 * blocks } });
    const history = [{ at: 0, snapshot: snap(queries[0], hits[0]) }, { at: 5000, snapshot: snap(queries[1], hits[1]) }];
    return { config: { url: `http://${name}:8000`, name, ...(slots !== undefined && { slots }) }, url: `http://${name}:8000`, name, kind: 'vllm', up: true, polled: true, last: history[1], history, lastError: undefined, serverInfo: undefined };
  };

  test('Dynamo aggregate: blocks, slots, load mean / std-dev, KV hit rate from deltas', () => {
    const a = state('w1', 0.4, 100, 3, [1000, 2000], [500, 1300], 8);
    const b = state('w2', 0.02, 100, 1, [0, 1000], [0, 200]);
    const out = Object.fromEntries(dynamoReadings([a, b], { component: 'backend', endpoint: 'generate' }).map((r) => [r.name, r.samples.map((s) => [s.labels['worker_id'] ?? '-', s.value])]));
    expect(out['llm_kv_blocks_active']).toEqual([['w1', 40], ['w2', 2]]); // the Dynamo README's example numbers
    expect(out['llm_kv_blocks_total']).toEqual([['w1', 100], ['w2', 100]]);
    expect(out['llm_requests_active_slots']).toEqual([['w1', 3], ['w2', 1]]);
    expect(out['llm_requests_total_slots']).toEqual([['w1', 8]]);
    // Load is each worker's active KV blocks (Dynamo's scoring.rs), not its usage fraction.
    expect(out['llm_load_avg']![0]![1]).toBeCloseTo(21, 12);
    expect(out['llm_load_std']![0]![1]).toBeCloseTo(19, 12);
    expect(out['llm_kv_hit_rate_percent']![0]![1]).toBeCloseTo((100 * (800 + 200)) / (1000 + 1000), 12);
    expect(windowHitRate(a.history)).toBe(0.8);
  });

  test("Dynamo's load as its README prints it (workers at 77 and 29 blocks: 53.0 / 24.0), and workers of different sizes", () => {
    const load = (workers: [string, number, number][]) => {
      const out = Object.fromEntries(dynamoReadings(workers.map(([id, usage, blocks]) => state(id, usage, blocks, 0, [0, 0], [0, 0])), { component: 'backend', endpoint: 'generate' }).map((r) => [r.name, r.samples.map((x) => x.value)]));
      return [out['llm_load_avg']![0], out['llm_load_std']![0]];
    };
    expect(load([['w1', 0.77, 100], ['w2', 0.29, 100]])).toEqual([53, 24]);
    // 50 of 100 blocks and 50 of 200 blocks: equal load in blocks, though the usage fractions (0.5, 0.25) differ.
    expect(load([['w1', 0.5, 100], ['w2', 0.25, 200]])).toEqual([50, 0]);
    // 30 of 100 and 150 of 200: mean 90, population standard deviation 60.
    expect(load([['w1', 0.3, 100], ['w2', 0.75, 200]])).toEqual([90, 60]);
  });

  test('the aggregate reads back what Dynamo itself prints', () => {
    const text = renderReadings(dynamoReadings([state('7587884888253033398', 0.4, 100, 0, [0, 0], [0, 0]), state('7587884888253033401', 0.02, 100, 0, [0, 0], [0, 0])], { component: 'backend', endpoint: 'generate' }));
    const ours = parsePrometheusText(text);
    const theirs = parsePrometheusText(readFixture('prometheus/dynamo-metrics-component-readme.prom'));
    for (const name of ['llm_kv_blocks_active', 'llm_kv_blocks_total']) {
      expect(ours.families.get(name)!.samples.map((s) => [s.labels, s.value])).toEqual(theirs.families.get(name)!.samples.map((s) => [s.labels, s.value]));
    }
  });

  test('program accounting as ThunderAgent computes it', () => {
    const b = state('e', 0.5, 1000, 2, [0, 0], [0, 0]); // capacity 16000 tokens, half used
    const a = programAccounting(b, [
      { backend: 'http://e:8000', status: 'reasoning', total_tokens: 7000 },
      { backend: 'http://e:8000', status: 'reasoning', total_tokens: 4000 },
      { backend: 'http://e:8000', status: 'acting', total_tokens: 9000 },
      { backend: 'http://other:8000', status: 'reasoning', total_tokens: 99999 },
    ]);
    expect(a).toEqual({
      active_program_count: 3, reasoning_program_count: 2, acting_program_count: 1,
      active_program_tokens: 20000, reasoning_program_tokens: 11000, acting_program_tokens: 9000,
      shared_tokens: 11000 - 0.5 * 16000, capacity_overflow: 20000 - 16000,
    });
  });
});

describe('in-process: gauges and the ThunderAgent view against the simulator', () => {
  test('vLLM and SGLang flavours: gauges equal the engines\' own counts; the JSON view has ThunderAgent\'s keys', async () => {
    const vllm = await startSimulator({ flavor: 'vllm', decodeMsPerToken: 1 });
    const sglang = await startSimulator({ flavor: 'sglang', decodeMsPerToken: 1 });
    const h = setupHarness({ backends: [{ url: vllm.url }, { url: sglang.url, name: 'sg' }], pollIntervalMs: 60_000, statusServer: { port: 0 } });
    const reader = new TestMetricReader();
    h.instrumentation.setMeterProvider(new MeterProvider({ readers: [reader] }));
    try {
      for (const sim of [vllm, sglang, vllm]) {
        await withProgram('p1', async () => {
          const res = await request(`${sim.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: sim.model, messages: [{ role: 'user', content: 'same prefix for the cache '.repeat(10) }], max_tokens: 4 }) });
          await res.body.text();
        });
      }
      await h.instrumentation.backends.pollNow();
      const { resourceMetrics } = await reader.collect();
      const metrics = new Map<string, MetricData>(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
      const value = (name: string, url: string) => metrics.get(name)!.dataPoints.find((d) => d.attributes['backend.url'] === url)!.value as number;
      const sum = (sim: typeof vllm, f: (r: ReturnType<typeof vllm.requests>[number]) => number) => sim.requests().reduce((s, r) => s + f(r), 0);
      expect(value('agentic_backend_up', vllm.url)).toBe(1);
      expect(value('agentic_backend_up', sglang.url)).toBe(1);
      expect(value('agentic_backend_prompt_tokens_total', vllm.url)).toBe(sum(vllm, (r) => r.promptTokens));
      expect(value('agentic_backend_generation_tokens_total', vllm.url)).toBe(sum(vllm, (r) => r.completionTokens));
      expect(value('agentic_backend_prefix_cache_hit_rate', vllm.url)).toBe(sum(vllm, (r) => r.cachedTokens) / sum(vllm, (r) => r.promptTokens));
      expect(value('agentic_backend_prompt_tokens_total', sglang.url)).toBe(sum(sglang, (r) => r.promptTokens));
      expect(value('agentic_backend_capacity_tokens', sglang.url)).toBe(4096 * 16);
      expect(value('agentic_backend_requests_running', vllm.url)).toBe(0);
      expect(value('agentic_backend_active_programs', sglang.url)).toBe(0); // p1's last request went to vLLM
      expect(value('agentic_backend_active_programs', vllm.url)).toBe(1);
      const kinds = metrics.get('agentic_backend_info')!.dataPoints.map((d) => d.attributes['backend.kind']).sort();
      expect(kinds).toEqual(['sglang', 'vllm']);
      // ThunderAgent's GET /metrics, on the status server.
      const port = (await h.instrumentation.statusServerPort())!;
      const view = (await (await fetch(`http://127.0.0.1:${port}/metrics`)).json()) as { backends: Record<string, Record<string, unknown>> };
      const real = readFixture('thunderagent/smoke-test-output.txt');
      const realJson = JSON.parse(real.slice(real.indexOf('=== 5. /metrics'), real.indexOf('\n=== 6') === -1 ? undefined : real.indexOf('\n=== 6')).replace(/^=== .*\n/, '')) as { backends: Record<string, Record<string, unknown>> };
      const realBackend = Object.values(realJson.backends)[0]!;
      const ours = view.backends[vllm.url]!;
      const reference = ['url', 'healthy', 'monitoring', 'active_program_tokens', 'reasoning_program_tokens', 'acting_program_tokens', 'active_program_count', 'shared_tokens', 'capacity_overflow', 'cache_config', 'metrics'];
      for (const k of reference) expect(ours).toHaveProperty(k);
      const realMetricKeys = Object.keys(realBackend['metrics'] as object);
      for (const k of realMetricKeys) expect(ours['metrics']).toHaveProperty(k);
      expect(Object.keys(ours['cache_config'] as object)).toEqual(Object.keys(realBackend['cache_config'] as object));
      expect(ours).toMatchObject({ healthy: true, active_program_count: 1, acting_program_count: 1 });
    } finally {
      await h.shutdown();
      await vllm.close();
      await sglang.close();
    }
  }, 30_000);
});
