/**
 * The step lifecycle and the features on it: labels built once per step (active_requests returns
 * to 0 whatever the response says its model is), a feature that throws never stops the next, the
 * half-open breaker lets one trial through, and the lifecycle rules of enable / setMeterProvider /
 * setConfig.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createServer, type Server } from 'node:http';
import { request } from 'undici';
import { createNoopMeter, type Meter, type MeterProvider as ApiMeterProvider } from '@opentelemetry/api';
import { MeterProvider, type MetricData } from '@opentelemetry/sdk-metrics';
import { TestMetricReader } from '../utils/metrics.js';
import { setupHarness } from '../utils/otel.js';
import { BreakerState, CircuitBreaker } from '../../src/breakers/circuit-breaker.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';

/** An engine whose response names a model of its own choosing (or none asked for). */
let engine: Server;
let engineUrl: string;
let sim: Simulator;
beforeAll(async () => {
  engine = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', model: 'served-model-B', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }));
    });
  });
  await new Promise<void>((r) => engine.listen(0, '127.0.0.1', r));
  engineUrl = `http://127.0.0.1:${(engine.address() as { port: number }).port}`;
  sim = await startSimulator({ decodeMsPerToken: 0.5 });
});
afterAll(async () => {
  engine.closeAllConnections();
  await new Promise((r) => engine.close(r));
  await sim.close();
});

async function collect(reader: TestMetricReader): Promise<Map<string, MetricData>> {
  const { resourceMetrics } = await reader.collect();
  return new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
}

const post = async (url: string, body: Record<string, unknown>): Promise<void> => {
  const r = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [], ...body }) });
  await r.body.text();
};

describe('labels built once per step', () => {
  test.each([
    ['the response names another model than the request', { model: 'asked-model-A' }],
    ['the request names no model', {}],
  ])('%s: active_requests returns to 0', async (_case, body) => {
    const reader = new TestMetricReader();
    const h = setupHarness();
    h.instrumentation.setMeterProvider(new MeterProvider({ readers: [reader] }));
    try {
      await post(engineUrl, body);
      await post(engineUrl, body);
      const active = (await collect(reader)).get('agentic_active_requests')!;
      expect(active.dataPoints.length).toBeGreaterThan(0);
      for (const p of active.dataPoints) expect(p.value).toBe(0);
      // The outcome series name the model that answered when the request named none.
      const requests = (await collect(reader)).get('agentic_requests_total')!;
      const models = requests.dataPoints.map((p) => p.attributes['model']);
      expect(models).toEqual(['model' in body ? 'asked-model-A' : 'served-model-B']);
    } finally {
      await h.shutdown();
    }
  });
});

/** A meter provider whose instruments throw on every record. */
function throwingMeterProvider(): ApiMeterProvider {
  const base = createNoopMeter();
  const boom = (): never => {
    throw new Error('broken instrument');
  };
  const instrument = { add: boom, record: boom };
  const meter = new Proxy(base, {
    get: (target, key) => (typeof key === 'string' && key.startsWith('create') && !key.startsWith('createObservable') ? () => instrument : Reflect.get(target, key)),
  }) as Meter;
  return { getMeter: () => meter };
}

describe('isolation', () => {
  test('a feature that throws on every step stops neither the next feature nor the request', async () => {
    const h = setupHarness({ profile: { dir: `${process.env['TMPDIR'] ?? '/tmp'}/agentic-otel-isolation-${process.pid}` } });
    h.instrumentation.setMeterProvider(throwingMeterProvider());
    const seen: number[] = [];
    h.instrumentation.onStepEnd((r) => seen.push(r.stepId));
    try {
      await post(sim.url, { model: sim.model, max_tokens: 2 });
      expect(seen).toEqual([1]); // listeners come after the metrics feature in the list
      expect(h.instrumentation.profiles.get('default')?.step_count).toBe(1);
      expect(h.spans().filter((s) => s.name === 'agent.step')).toHaveLength(1);
    } finally {
      await h.shutdown();
    }
  });
});

describe('circuit breaker, half-open', () => {
  test('lets one trial request through; the others wait for its verdict', () => {
    const b = new CircuitBreaker('e:1', { threshold: 1, cooldownMs: 100 });
    b.failure(0);
    expect(b.allows(50)).toBe(false);
    expect(b.state(100)).toBe(BreakerState.HalfOpen);
    expect(b.allows(100)).toBe(true); // the trial
    expect(b.allows(101)).toBe(false);
    expect(b.allows(102)).toBe(false);
    b.release(); // the trial was aborted by the application: no verdict, the next may try
    expect(b.allows(103)).toBe(true);
    b.success(110);
    expect(b.state(110)).toBe(BreakerState.Closed);
    expect([b.allows(111), b.allows(112)]).toEqual([true, true]);
    b.failure(120);
    expect(b.allows(230)).toBe(true);
    b.failure(231); // the trial failed: open again
    expect(b.state(232)).toBe(BreakerState.Open);
  });
});

describe('lifecycle', () => {
  test('enable() starts the status server and the poller even when no dispatcher can be hooked', async () => {
    const h = setupHarness({ enabled: false, installGlobalDispatcher: false, statusServer: { port: 0 }, backends: [{ url: sim.url }], pollIntervalMs: 60_000 });
    try {
      h.instrumentation.enable();
      const port = await h.instrumentation.statusServerPort();
      expect(port).toBeGreaterThan(0);
      await h.instrumentation.backends.pollNow();
      expect(h.instrumentation.backends.states[0]?.up).toBe(true);
    } finally {
      await h.shutdown();
    }
  });

  test('setMeterProvider while disabled registers nothing', async () => {
    const h = setupHarness({ backends: [{ url: sim.url }], pollIntervalMs: 60_000 });
    h.instrumentation.disable();
    const reader = new TestMetricReader();
    h.instrumentation.setMeterProvider(new MeterProvider({ readers: [reader] }));
    try {
      const got = await collect(reader);
      expect([...got.keys()].filter((n) => n.includes('backend') || n.includes('circuit_breaker_state') || n.includes('system_info'))).toEqual([]);
    } finally {
      await h.shutdown();
    }
  });

  test('setConfig keeps the state of steps in flight: the step ends with its program and step id', async () => {
    const h = setupHarness();
    try {
      const slow = request(`${sim.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-program-id': 'kept' }, body: JSON.stringify({ model: sim.model, messages: [], max_tokens: 40, stream: true }) });
      await new Promise((r) => setTimeout(r, 5));
      h.instrumentation.setConfig({ providerName: 'sglang' });
      await (await slow).body.text();
      await post(sim.url, { model: sim.model, max_tokens: 1 });
      expect(h.instrumentation.inFlight()).toBe(0);
      const steps = h.spans().filter((s) => s.name === 'agent.step' && s.attributes['agentic.program.id'] === 'kept');
      expect(steps).toHaveLength(1);
      expect(h.instrumentation.profiles.programs()['kept']?.step_count).toBe(1);
    } finally {
      await h.shutdown();
    }
  });
});
