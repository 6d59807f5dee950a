/**
 * Every fault the simulator can produce, and an application abort, through `fetch`,
 * `undici.request` and the `openai` client: the application gets the same outcome with the
 * instrumentation as without it, our spans end with ERROR, nothing is left in flight, and no
 * promise rejection escapes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { request } from 'undici';
import OpenAI from 'openai';
import { startSimulator, type SimFault, type Simulator } from '../../src/simulator/index.js';
import { setupHarness, stepTrees, type Harness } from '../utils/otel.js';

let sim: Simulator;
let h: Harness;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  sim = await startSimulator({ decodeMsPerToken: 2, cutAfterChunks: 3 });
  h = setupHarness({ retryWindowMs: 0 }); // each failure ends its step at once (retries: test/steps/retries.test.ts)
  process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await h.shutdown();
  await sim.close();
});
beforeEach(() => h.exporter.reset());

type Scenario = SimFault | 'refuse' | 'app_abort' | 'none';
type Client = 'fetch' | 'undici' | 'openai';

// include_usage is asked for by the application itself, so the bytes do not depend on injection.
const body = JSON.stringify({ model: 'sim-llama-3-8b', messages: [{ role: 'user', content: 'go' }], max_tokens: 8, stream: true, stream_options: { include_usage: true } });
const normalize = (text: string) => text.replace(/(chat)?cmpl-[0-9a-f]+/g, 'ID').replace(/"created":\d+/g, '"created":0');

/** What the application observes: bytes and status, or an error's class, name and code. */
async function outcome(client: Client, scenario: Scenario): Promise<unknown> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (scenario !== 'refuse' && scenario !== 'app_abort' && scenario !== 'none') headers['x-sim-fault'] = scenario;
  const describeError = (e: unknown) => {
    const err = e as { constructor: { name: string }; name?: string; code?: string; status?: number; cause?: { code?: string; name?: string } };
    return { error: err.constructor.name, name: err.name, code: err.code, status: err.status, cause: err.cause?.code ?? err.cause?.name };
  };
  const signal = AbortSignal.timeout(300);
  try {
    if (client === 'fetch') {
      const ac = new AbortController();
      const res = await fetch(`${sim.url}/v1/chat/completions`, { method: 'POST', headers, body, signal: AbortSignal.any([signal, ac.signal]) });
      if (scenario === 'app_abort') {
        const reader = res.body!.getReader();
        await reader.read();
        ac.abort();
        await reader.read();
      }
      return { status: res.status, text: normalize(await res.text()) };
    }
    if (client === 'undici') {
      const res = await request(`${sim.url}/v1/chat/completions`, { method: 'POST', headers, body, headersTimeout: 300 });
      if (scenario === 'app_abort') {
        for await (const _chunk of res.body) break; // leaving the loop destroys the body
        return { status: res.statusCode, aborted: true };
      }
      return { status: res.statusCode, text: normalize(await res.body.text()) };
    }
    const openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'k', maxRetries: 0, timeout: 300 });
    const stream = await openai.chat.completions.create(JSON.parse(body) as OpenAI.ChatCompletionCreateParamsStreaming, { headers });
    const chunks: string[] = [];
    for await (const c of stream) {
      chunks.push(normalize(JSON.stringify(c)));
      if (scenario === 'app_abort') {
        stream.controller.abort();
      }
    }
    return { chunks };
  } catch (e) {
    return describeError(e);
  }
}

async function run(client: Client, scenario: Scenario): Promise<unknown> {
  if (scenario === 'refuse') await sim.refuse(true);
  try {
    return await outcome(client, scenario);
  } finally {
    if (scenario === 'refuse') await sim.refuse(false);
  }
}

const scenarios: Scenario[] = ['none', 'http_500', 'http_429', 'stall', 'cut', 'malformed', 'reset', 'refuse', 'app_abort'];
const expectedErrorType: Record<Exclude<Scenario, 'none'>, RegExp> = {
  http_500: /^500$/,
  http_429: /^429$/,
  stall: /^(AbortError|TimeoutError|UND_ERR_HEADERS_TIMEOUT)$/,
  cut: /^(UND_ERR_SOCKET|TypeError)$/,
  malformed: /^malformed_response$/,
  reset: /^(UND_ERR_SOCKET|ECONNRESET)$/,
  refuse: /^ECONNREFUSED$/,
  app_abort: /^(AbortError|UND_ERR_ABORTED|RequestAbortedError)$/,
};

describe.each(['fetch', 'undici', 'openai'] as Client[])('%s', (client) => {
  test.each(scenarios)('%s: same outcome as without us; spans end; nothing in flight', async (scenario) => {
    h.instrumentation.disable();
    const bare = await run(client, scenario);
    h.instrumentation.enable();
    h.exporter.reset();
    const observed = await run(client, scenario);
    expect(observed).toEqual(bare);
    await new Promise((r) => setTimeout(r, 20)); // let a destroyed stream report its error
    const trees = stepTrees(h.spans());
    expect(trees).toHaveLength(1);
    const [t] = trees;
    if (scenario === 'none') {
      expect(t!.chat.status.code).toBe(0);
      expect(t!.chat.attributes['gen_ai.usage.output_tokens']).toBe(8);
    } else {
      expect(t!.chat.status.code).toBe(2);
      expect(t!.step.status.code).toBe(2);
      expect(String(t!.chat.attributes['error.type'])).toMatch(expectedErrorType[scenario]);
      expect(t!.step.attributes['error.type']).toBe(t!.chat.attributes['error.type']);
    }
    if (scenario === 'cut') {
      // The stream ended with what was seen: three tokens, so a prefill and a decode.
      expect(t!.chat.attributes['agentic.response.chunks']).toBe(3);
      expect(t!.decode).toBeDefined();
      expect(t!.step.attributes['agentic.step.decode_s'] as number).toBeGreaterThan(0);
    }
    if (scenario === 'malformed') expect(t!.chat.attributes['agentic.response.malformed_chunks']).toBe(1);
    expect(h.instrumentation.inFlight()).toBe(0);
    expect(unhandled).toEqual([]);
  });
});
