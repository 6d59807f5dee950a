/**
 * The `undici` package's request API through the global hook, program identity, propagation,
 * content capture, custom dispatchers, registration and disable().
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { Agent, getGlobalDispatcher, request } from 'undici';
import { trace } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { AgenticInstrumentation, withProgram } from '../../src/index.js';
import { setupHarness, stepTrees, type Harness } from '../utils/otel.js';

let sim: Simulator;
let h: Harness;
beforeAll(async () => {
  sim = await startSimulator({ decodeMsPerToken: 1 });
  h = setupHarness();
});
afterAll(async () => {
  await h.shutdown();
  await sim.close();
});
beforeEach(() => h.exporter.reset());

const chatBody = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'sim-llama-3-8b', messages: [{ role: 'user', content: 'What is in the repo?' }], max_tokens: 4, ...extra });

async function post(path: string, body: string, headers: Record<string, string> = {}, dispatcher?: Agent) {
  const res = await request(`${sim.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, ...(dispatcher && { dispatcher }) });
  return { status: res.statusCode, text: await res.body.text() };
}

describe('undici.request', () => {
  test('streamed and non-streamed completions become steps', async () => {
    await withProgram('u1', async () => {
      const streamed = await post('/v1/chat/completions', chatBody({ stream: true }));
      expect(streamed.status).toBe(200);
      expect(streamed.text).toContain('data: [DONE]');
      await post('/v1/chat/completions', chatBody());
    });
    const [s, n] = stepTrees(h.spans());
    expect(s!.step.attributes['agentic.step.streamed']).toBe(true);
    expect(s!.prefill).toBeDefined();
    expect(s!.chat.attributes['gen_ai.usage.output_tokens']).toBe(4);
    expect(n!.step.attributes['agentic.step.streamed']).toBe(false);
    expect(n!.inference).toBeDefined();
    expect(n!.step.attributes['agentic.step.id']).toBe(2);
    expect(n!.toolCall).toBeDefined();
  });

  test('/v1/completions is a text_completion', async () => {
    await post('/v1/completions', JSON.stringify({ model: 'sim-llama-3-8b', prompt: 'def add(a, b):', max_tokens: 3, stream: true }));
    const [t] = stepTrees(h.spans());
    expect(t!.chat.name).toBe('text_completion sim-llama-3-8b');
    expect(t!.chat.attributes['gen_ai.operation.name']).toBe('text_completion');
    expect(t!.chat.attributes['gen_ai.usage.output_tokens']).toBe(3);
  });

  test('other paths and methods pass through untouched', async () => {
    const res = await request(`${sim.url}/v1/models`);
    expect(JSON.parse(await res.body.text()).data[0].id).toBe('sim-llama-3-8b');
    expect(h.spans()).toHaveLength(0);
  });
});

describe('program identity, first match wins', () => {
  test('withProgram > x-program-id > program_id > extra_body.program_id > default', async () => {
    await withProgram('from-scope', () => post('/v1/chat/completions', chatBody({ program_id: 'b' }), { 'X-Program-Id': 'h' }));
    await post('/v1/chat/completions', chatBody({ program_id: 'b' }), { 'x-program-id': 'from-header' });
    await post('/v1/chat/completions', chatBody({ program_id: 'from-body', extra_body: { program_id: 'e' } }));
    await post('/v1/chat/completions', chatBody({ extra_body: { program_id: 'from-extra-body' } }));
    await post('/v1/chat/completions', chatBody());
    const ids = h.spans().filter((s) => s.name === 'agent.step').map((s) => s.attributes['agentic.program.id']);
    expect(ids).toEqual(['from-scope', 'from-header', 'from-body', 'from-extra-body', 'default']);
  });
});

describe('trace context', () => {
  test('the step is a child of the active span and the engine gets the chat span as parent', async () => {
    const app = h.provider.getTracer('app');
    await app.startActiveSpan('agent-run', async (root) => {
      await post('/v1/chat/completions', chatBody());
      root.end();
    });
    const [t] = stepTrees(h.spans());
    const root = h.spans().find((s) => s.name === 'agent-run')!;
    expect(t!.step.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    const rec = sim.request(t!.chat.attributes['gen_ai.response.id'] as string)!;
    expect(rec.traceparent).toBe(`00-${root.spanContext().traceId}-${t!.chat.spanContext().spanId}-01`);
  });

  test('propagateTraceContext: false sends no traceparent', async () => {
    h.instrumentation.setConfig({ propagateTraceContext: false });
    try {
      await post('/v1/chat/completions', chatBody());
      const [t] = stepTrees(h.spans());
      expect(sim.request(t!.chat.attributes['gen_ai.response.id'] as string)!.traceparent).toBeUndefined();
    } finally {
      h.instrumentation.setConfig({});
    }
  });
});

describe('usage injection', () => {
  test('on by default: the engine is asked for usage; the application does not see the usage chunk, the step has usage', async () => {
    const { text } = await post('/v1/chat/completions', chatBody({ stream: true }));
    expect(text).not.toContain('"usage"');
    expect(text).toMatch(/data: \[DONE\]\n\n$/);
    expect(sim.requests().at(-1)!.includeUsage).toBe(true);
    const [t] = stepTrees(h.spans());
    expect(t!.chat.attributes['gen_ai.usage.input_tokens']).toBeTypeOf('number');
  });

  test('off: the body goes out byte for byte, and usage is unknown', async () => {
    h.instrumentation.setConfig({ injectIncludeUsage: false });
    try {
      const body = chatBody({ stream: true });
      const { text } = await post('/v1/chat/completions', body);
      expect(text).not.toContain('"usage"');
      expect(sim.requests().at(-1)!.includeUsage).toBe(false);
      const [t] = stepTrees(h.spans());
      expect(t!.chat.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
      expect(t!.step.attributes['agentic.step.kv_hit_rate']).toBeUndefined();
    } finally {
      h.instrumentation.setConfig({});
    }
  });
});

describe('message content', () => {
  test('not captured by default', async () => {
    await post('/v1/chat/completions', chatBody({ stream: true }), { authorization: 'Bearer sk-live-secret' });
    const [t] = stepTrees(h.spans());
    expect(t!.chat.attributes['gen_ai.input.messages']).toBeUndefined();
    expect(t!.chat.attributes['gen_ai.output.messages']).toBeUndefined();
    for (const s of h.spans()) expect(JSON.stringify(s.attributes)).not.toContain('sk-live-secret');
  });

  test('captured with captureContent, or with the GenAI environment variable', async () => {
    for (const enable of [() => h.instrumentation.setConfig({ captureContent: true }), () => {
      process.env['OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT'] = 'true';
      h.instrumentation.setConfig({});
    }]) {
      h.exporter.reset();
      enable();
      try {
        await post('/v1/chat/completions', chatBody({ stream: true }), { 'api-key': 'azure-secret' });
        const [t] = stepTrees(h.spans());
        expect(JSON.parse(t!.chat.attributes['gen_ai.input.messages'] as string)).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'What is in the repo?' }] }]);
        expect(JSON.parse(t!.chat.attributes['gen_ai.output.messages'] as string)).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'The agent reads the' }], finish_reason: 'length' }]);
        for (const s of h.spans()) expect(JSON.stringify(s.attributes)).not.toContain('azure-secret');
      } finally {
        delete process.env['OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT'];
        h.instrumentation.setConfig({});
      }
    }
  });
});

describe('dispatchers', () => {
  test('an application dispatcher composed with interceptor(); observed once even under the global hook', async () => {
    const own = new Agent({ connections: 4 }).compose(h.instrumentation.interceptor());
    await post('/v1/chat/completions', chatBody(), {}, own as unknown as Agent);
    // The global dispatcher also carries the hook: composing ours on top still observes once.
    const doubled = getGlobalDispatcher().compose(h.instrumentation.interceptor());
    await post('/v1/chat/completions', chatBody(), {}, doubled as unknown as Agent);
    expect(h.spans().filter((s) => s.name === 'agent.step')).toHaveLength(2);
  });

  test('installGlobalDispatcher: false leaves the global dispatcher alone', async () => {
    const before = getGlobalDispatcher();
    const local = new AgenticInstrumentation({ installGlobalDispatcher: false });
    local.setTracerProvider(h.provider);
    try {
      expect(getGlobalDispatcher()).toBe(before);
      await post('/v1/chat/completions', chatBody(), {}, new Agent().compose(local.interceptor()) as unknown as Agent);
      // Only h's global hook observed the global path; `local` observed its own dispatcher.
      expect(h.spans().filter((s) => s.name === 'agent.step')).toHaveLength(1);
    } finally {
      local.disable();
    }
  });

  test('disable() restores the dispatcher enable() replaced, and stops observing', async () => {
    const before = getGlobalDispatcher();
    const second = new AgenticInstrumentation();
    second.setTracerProvider(h.provider);
    expect(getGlobalDispatcher()).not.toBe(before);
    second.disable();
    expect(getGlobalDispatcher()).toBe(before);
    h.instrumentation.disable();
    try {
      await post('/v1/chat/completions', chatBody());
      expect(h.spans()).toHaveLength(0);
    } finally {
      h.instrumentation.enable();
    }
    await post('/v1/chat/completions', chatBody());
    expect(h.spans().filter((s) => s.name === 'agent.step')).toHaveLength(1);
  });

  test('custom paths', async () => {
    h.instrumentation.setConfig({ paths: ['/custom/generate'] });
    try {
      await post('/v1/chat/completions', chatBody());
      expect(h.spans()).toHaveLength(0);
    } finally {
      h.instrumentation.setConfig({});
    }
  });
});

describe('registration', () => {
  test('registerInstrumentations hands over the providers; NodeSDK runs it end to end', async () => {
    h.instrumentation.disable();
    const exporter = new InMemorySpanExporter();
    const inst = new AgenticInstrumentation({ enabled: false });
    // Without resource auto-detection: its async attributes would make even the simple
    // processor export after the span ends.
    const sdk = new NodeSDK({ spanProcessors: [new SimpleSpanProcessor(exporter)], instrumentations: [inst], metricReaders: [], autoDetectResources: false });
    sdk.start();
    try {
      expect(inst.isEnabled()).toBe(true);
      await withProgram('sdk', () => post('/v1/chat/completions', chatBody({ stream: true })));
      for (let i = 0; i < 50 && exporter.getFinishedSpans().length < 4; i++) await new Promise((r) => setTimeout(r, 20));
      const names = exporter.getFinishedSpans().map((s) => s.name).sort();
      expect(names).toEqual(['agent.step', 'chat sim-llama-3-8b', 'llm.decode', 'llm.prefill']);
    } finally {
      await sdk.shutdown();
      inst.disable();
      h.instrumentation.enable();
    }
    const other = new AgenticInstrumentation({ enabled: false });
    const unload = registerInstrumentations({ instrumentations: [other], tracerProvider: h.provider });
    try {
      expect(other.isEnabled()).toBe(true);
    } finally {
      unload();
    }
    expect(other.isEnabled()).toBe(false);
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  test('a bad option throws from the constructor, not on the request path', () => {
    expect(() => new AgenticInstrumentation({ enabled: false, programIdleTimeoutMs: -1 })).toThrow(RangeError);
  });
});
