/**
 * What the application sends and gets stays its own: trace context it set itself, which engines
 * receive ours, every undici callback in both handler APIs, its own errors; one step per logical
 * request across a redirect; client timeouts named as such; program ids that are object keys.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { getGlobalDispatcher, type Dispatcher } from 'undici';
import OpenAI from 'openai';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { withProgram } from '../../src/index.js';
import { setupHarness, stepTrees, type Harness } from '../utils/otel.js';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const chatBody = (extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ model: 'sim-llama-3-8b', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3, stream: true, ...extra });

let sim: Simulator;
let h: Harness;
/** Request headers as an echo engine received them. */
let seen: IncomingHttpHeaders[] = [];
let echo: Server;
let echoUrl: string;

beforeAll(async () => {
  sim = await startSimulator({ decodeMsPerToken: 1 });
  h = setupHarness({ enabled: false });
  echo = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(req.headers);
      if (req.headers['x-test-redirect'] === '1') {
        res.writeHead(307, { location: `${sim.url}/v1/chat/completions` });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
    });
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoUrl = `http://127.0.0.1:${(echo.address() as { port: number }).port}`;
});
afterAll(async () => {
  await h.shutdown();
  await sim.close();
  echo.closeAllConnections();
  await new Promise((r) => echo.close(r));
});
beforeEach(() => {
  h.exporter.reset();
  seen = [];
});

async function observed<T>(config: Parameters<Harness['instrumentation']['setConfig']>[0], fn: () => Promise<T>): Promise<T> {
  h.instrumentation.setConfig({ ...config, enabled: false });
  h.instrumentation.enable();
  try {
    return await fn();
  } finally {
    h.instrumentation.disable();
    h.instrumentation.setConfig({ enabled: false });
  }
}

const post = (url: string, headers: Record<string, string> = {}): Promise<string> =>
  fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: chatBody({ stream: false }) }).then((r) => r.text());

describe('trace context', () => {
  test('a request that already carries traceparent keeps it; the chat span says we did not inject', async () => {
    await observed({}, () => post(echoUrl, { traceparent: TRACEPARENT, tracestate: 'app=1' }));
    expect(seen[0]!['traceparent']).toBe(TRACEPARENT);
    expect(seen[0]!['tracestate']).toBe('app=1');
    const [t] = stepTrees(h.spans());
    expect(t!.chat.attributes['agentic.trace_context.injected']).toBe(false);
  });

  test('propagateTo limits which engines receive it: origins, host names, patterns, a function', async () => {
    const host = new URL(echoUrl).host;
    for (const [propagateTo, expected] of [
      [[echoUrl], true],
      [[host], true],
      [['http://elsewhere:8000'], false],
      [[/^https:/], false],
      [[/127\.0\.0\.1/], true],
      [(origin: URL) => origin.port === new URL(echoUrl).port, true],
      [() => false, false],
    ] as const) {
      seen = [];
      await observed({ propagateTo: propagateTo as never }, () => post(echoUrl));
      expect(seen[0]!['traceparent'] !== undefined, String(propagateTo)).toBe(expected);
    }
  });

  test('propagateTraceContext: false still turns all of it off', async () => {
    await observed({ propagateTraceContext: false, propagateTo: [echoUrl] }, () => post(echoUrl));
    expect(seen[0]!['traceparent']).toBeUndefined();
  });
});

/** Records the callbacks a handler of either API receives. */
function recorder(api: 'new' | 'legacy', calls: string[], done: () => void): Dispatcher.DispatchHandler {
  if (api === 'new') {
    return {
      onRequestStart: () => void calls.push('onRequestStart'),
      onResponseStart: (_c, status) => void calls.push(`onResponseStart ${status}`),
      onResponseData: () => void calls.push('onResponseData'),
      onResponseEnd: () => {
        calls.push('onResponseEnd');
        done();
      },
      onResponseError: (_c, e) => {
        calls.push(`onResponseError ${e.message}`);
        done();
      },
    };
  }
  return {
    onConnect: () => void calls.push('onConnect'),
    onRequestSent: () => void calls.push('onRequestSent'),
    onBodySent: () => void calls.push('onBodySent'),
    onResponseStarted: () => void calls.push('onResponseStarted'),
    onHeaders: (status: number) => {
      calls.push(`onHeaders ${status}`);
      return true;
    },
    onData: () => {
      calls.push('onData');
      return true;
    },
    onComplete: () => {
      calls.push('onComplete');
      done();
    },
    onError: (e: Error) => {
      calls.push(`onError ${e.message}`);
      done();
    },
  } as unknown as Dispatcher.DispatchHandler;
}

describe('undici handler fidelity', () => {
  test.each(['new', 'legacy'] as const)('the %s handler API gets every callback, in the same order, as without us', async (api) => {
    const bareDispatcher = getGlobalDispatcher();
    const run = async (dispatcher: Dispatcher): Promise<string[]> => {
      const calls: string[] = [];
      await new Promise<void>((resolve) => {
        const url = new URL(sim.url);
        dispatcher.dispatch({ origin: url.origin, path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody({ stream: false }) }, recorder(api, calls, resolve));
      });
      // Data may arrive in a different number of reads: compare the shape, not the count.
      return calls.filter((c, i) => !(c === calls[i - 1] && (c === 'onData' || c === 'onResponseData')));
    };
    // Through the global hook, as every fetch / undici call of the application goes.
    const bare = await run(getGlobalDispatcher());
    h.instrumentation.enable();
    let ours: string[];
    try {
      expect(getGlobalDispatcher()).not.toBe(bareDispatcher);
      ours = await run(getGlobalDispatcher());
    } finally {
      h.instrumentation.disable();
    }
    expect(ours).toEqual(bare);
    expect(bare.length).toBeGreaterThan(3);
    if (api === 'legacy') expect(bare).toContain('onRequestSent');
  });

  test("a request body stream that fails surfaces the application's own error as the cause", async () => {
    const send = async (): Promise<unknown> => {
      const body = new ReadableStream({
        pull(controller) {
          controller.error(new Error('the application body failed'));
        },
      });
      try {
        await fetch(`${sim.url}/v1/chat/completions`, { method: 'POST', body, duplex: 'half' } as RequestInit);
      } catch (err) {
        return err;
      }
      return undefined;
    };
    const bare = (await send()) as Error & { cause?: Error };
    h.instrumentation.enable();
    let ours: Error & { cause?: Error };
    try {
      ours = (await send()) as Error & { cause?: Error };
    } finally {
      h.instrumentation.disable();
    }
    expect(bare.cause?.message).toBe('the application body failed');
    expect(ours.name).toBe(bare.name);
    expect(ours.message).toBe(bare.message);
    expect(ours.cause?.message).toBe(bare.cause?.message);
  });
});

describe('steps', () => {
  test('a 307 followed by the client is one step; the hop is an attempt (http.request.resend_count)', async () => {
    const text = await observed({}, () => withProgram('redirected', () =>
      fetch(`${echoUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-redirect': '1' }, body: chatBody() }).then((r) => r.text())));
    expect(text).toContain('data: [DONE]');
    await new Promise((r) => setTimeout(r, 50));
    const steps = h.spans().filter((s) => s.name === 'agent.step');
    expect(steps).toHaveLength(1);
    const chats = h.spans().filter((s) => s.kind === 2);
    expect(chats).toHaveLength(2);
    expect(chats.map((c) => c.attributes['http.response.status_code']).sort()).toEqual([200, 307]);
    const follow = chats.find((c) => c.attributes['http.response.status_code'] === 200)!;
    expect(follow.attributes['http.request.resend_count']).toBe(1);
    expect(steps[0]!.attributes['agentic.step.attempts']).toBe(2);
    expect(steps[0]!.attributes['error.type']).toBeUndefined();
    expect(steps[0]!.attributes['agentic.program.id']).toBe('redirected');
    // The hop is not model time: from arrival to the followed attempt's dispatch is pause.
    const pause = h.spans().find((s) => s.name === 'agent.pause');
    expect(pause).toBeDefined();
    expect(steps[0]!.attributes['agentic.step.pause_s']).toBeGreaterThan(0);
  });

  test('an openai client timeout is error_type "timeout", and a user abort stays "aborted"', async () => {
    const stalled = await startSimulator();
    try {
      stalled.injectFault('stall', 2);
      const client = new OpenAI({ baseURL: `${stalled.url}/v1`, apiKey: 'k', maxRetries: 0 });
      await observed({}, async () => {
        // The client states a request's own timeout in x-stainless-timeout (whole seconds).
        await expect(client.chat.completions.create({ model: stalled.model, messages: [{ role: 'user', content: 'x' }] }, { timeout: 1200 })).rejects.toThrow(/timed out/i);
        const ac = new AbortController();
        setTimeout(() => ac.abort(), 100);
        await expect(client.chat.completions.create({ model: stalled.model, messages: [{ role: 'user', content: 'x' }] }, { signal: ac.signal, timeout: 5000 })).rejects.toThrow();
      });
      const types = stepTrees(h.spans()).map((t) => t.chat.attributes['error.type']);
      expect(types).toEqual(['timeout', 'AbortError']);
    } finally {
      await stalled.close();
    }
  });

  test('program ids such as __proto__ and constructor are ordinary programs in every view', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'agentic-otel-proto-'));
    try {
      await observed({ profile: { dir } }, async () => {
        for (const id of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) await post(sim.url, { 'x-program-id': id });
        const all = h.instrumentation.profiles.all();
        const programs = h.instrumentation.profiles.programs();
        for (const view of [all, programs]) {
          expect(Object.keys(view).sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'toString']);
          expect(Object.keys(JSON.parse(JSON.stringify(view)) as object).sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'toString']);
        }
        expect(h.instrumentation.profiles.get('__proto__')?.step_count).toBe(1);
        expect(h.instrumentation.profiles.get('valueOf')).toBeUndefined();
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
