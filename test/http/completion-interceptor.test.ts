import { context } from '@opentelemetry/api';
import { describe, expect, test } from 'vitest';
import { createCompletionInterceptor, type ArrivedRequest, type InterceptorHost } from '../../src/http/completion-interceptor.js';
import type { AgentStep } from '../../src/steps/agent-step.js';

describe('the request hook', () => {
  test.each([true, false])('content capture %s: the whole body is parsed only for it, and let go once dispatched', (capture) => {
    const arrived: ArrivedRequest[] = [];
    let jsonAtDispatch: unknown;
    const step = {
      dispatch: () => {
        jsonAtDispatch = arrived[0]!.request?.json;
        return context.active();
      },
      traceContextNotInjected() {},
      onResponseStart() {},
      onResponseData() {},
      onResponseEnd() {},
      onError() {},
    } as unknown as AgentStep;
    const host: InterceptorHost = {
      isEnabled: () => true,
      isCompletionPath: (p) => p === '/v1/chat/completions',
      injectIncludeUsage: () => true,
      propagateTraceContext: () => false,
      captureContent: () => capture,
      beginStep: (a) => {
        arrived.push(a);
        return step;
      },
      admit: () => undefined,
    };
    const sent: { body?: unknown }[] = [];
    const dispatch = createCompletionInterceptor(host)((opts) => {
      sent.push(opts);
      return true;
    });
    const messages = [{ role: 'user', content: 'a long context '.repeat(1000) }];
    dispatch(
      { origin: 'http://e:8000', path: '/v1/chat/completions', method: 'POST', headers: {}, body: JSON.stringify({ model: 'm', stream: true, max_tokens: 7, messages }) },
      { onRequestStart() {}, onResponseError() {} },
    );
    if (capture) expect(jsonAtDispatch).toMatchObject({ model: 'm', messages }); // there when the chat span is made
    else expect(jsonAtDispatch).toBeUndefined(); // only the top-level fields were read
    const request = arrived[0]!.request!;
    expect(request.json).toBeUndefined(); // …then released
    expect(request).toMatchObject({ model: 'm', stream: true, maxTokens: 7, includeUsage: false });
    expect(JSON.parse(String(sent[0]!.body))).toEqual({ stream_options: { include_usage: true }, model: 'm', stream: true, max_tokens: 7, messages });
  });

  test('a body given as bytes is spliced as bytes, its content-length updated', () => {
    const host: InterceptorHost = {
      isEnabled: () => true,
      isCompletionPath: () => true,
      injectIncludeUsage: () => true,
      propagateTraceContext: () => false,
      captureContent: () => false,
      beginStep: () => ({ dispatch: () => context.active(), traceContextNotInjected() {} }) as unknown as AgentStep,
      admit: () => undefined,
    };
    const sent: { body?: unknown; headers?: unknown }[] = [];
    const dispatch = createCompletionInterceptor(host)((opts) => {
      sent.push(opts);
      return true;
    });
    const original = { model: 'm', stream: true, messages: [{ role: 'user', content: 'naïve — 日本語 ✓ "quoted" \\ end'.repeat(600) }] }; // an agent's ~20 KiB
    const bytes = new TextEncoder().encode(`\n ${JSON.stringify(original)}`);
    dispatch({ origin: 'http://e:8000', path: '/v1/chat/completions', method: 'POST', headers: { 'content-length': String(bytes.byteLength) }, body: bytes }, { onRequestStart() {}, onResponseError() {} });
    // With a declared length the body goes out in parts: the head with the field, then the
    // application's own bytes, not copied.
    const parts = sent[0]!.body as Buffer[];
    expect(parts).toHaveLength(2);
    expect(parts[1]!.buffer).toBe(bytes.buffer);
    const out = Buffer.concat(parts);
    expect(JSON.parse(out.toString('utf8'))).toEqual({ stream_options: { include_usage: true }, ...original });
    expect(sent[0]!.headers).toEqual(['content-length', String(out.length)]);
    // Without one, a single contiguous body (undici then frames it with a length, as it would have);
    // and a short body is always one buffer (one write with the headers).
    const short = new TextEncoder().encode(JSON.stringify({ model: 'm', stream: true, messages: [] }));
    sent.length = 0;
    dispatch({ origin: 'http://e:8000', path: '/v1/chat/completions', method: 'POST', headers: { 'content-length': String(short.byteLength) }, body: short }, { onRequestStart() {}, onResponseError() {} });
    expect(Buffer.isBuffer(sent[0]!.body)).toBe(true);
    sent.length = 0;
    dispatch({ origin: 'http://e:8000', path: '/v1/chat/completions', method: 'POST', headers: {}, body: bytes }, { onRequestStart() {}, onResponseError() {} });
    expect(Buffer.isBuffer(sent[0]!.body)).toBe(true);
    expect((sent[0]!.body as Buffer).equals(out)).toBe(true);
  });
});

describe('a feature that holds a request', () => {
  function setup(admission: Promise<void>) {
    const times: { dispatchedAt?: number; stepDispatchAt?: number; errors: unknown[] } = { errors: [] };
    const step = {
      dispatch: (t: number) => {
        times.stepDispatchAt = t;
        return context.active();
      },
      traceContextNotInjected() {},
      onError: (e: unknown) => times.errors.push(e),
      onResponseStart: () => false,
      onResponseData() {},
      onResponseEnd() {},
    } as unknown as AgentStep;
    const host: InterceptorHost = {
      isEnabled: () => true,
      isCompletionPath: () => true,
      injectIncludeUsage: () => false,
      propagateTraceContext: () => false,
      captureContent: () => false,
      beginStep: () => step,
      admit: () => admission,
    };
    const calls: string[] = [];
    let abort: ((e?: Error) => void) | undefined;
    const handler = {
      onConnect: (a: (e?: Error) => void) => {
        calls.push('onConnect');
        abort = a;
      },
      onHeaders: () => {
        calls.push('onHeaders');
        return true;
      },
      onData: () => true,
      onComplete: () => calls.push('onComplete'),
      onError: (e: Error) => calls.push(`onError ${e.message}`),
    };
    const dispatch = createCompletionInterceptor(host)((_opts, h) => {
      times.dispatchedAt = performance.timeOrigin + performance.now();
      (h as typeof handler).onConnect(() => {});
      (h as typeof handler).onHeaders();
      (h as typeof handler).onComplete();
      return true;
    });
    dispatch({ origin: 'http://e:8000', path: '/v1/chat/completions', method: 'POST', headers: {}, body: '{"model":"m","stream":false}' }, handler as never);
    return { times, calls, abortNow: (e: Error) => abort?.(e) };
  }

  test('is dispatched when the hold ends (the hold is pause), and the handler is connected once', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { times, calls } = setup(held);
    await new Promise((r) => setTimeout(r, 30));
    expect(times.dispatchedAt).toBeUndefined();
    const releasedAt = performance.timeOrigin + performance.now();
    release();
    await held;
    await new Promise((r) => setImmediate(r));
    expect(times.stepDispatchAt).toBeGreaterThanOrEqual(releasedAt);
    expect(calls).toEqual(['onConnect', 'onHeaders', 'onComplete']);
  });

  test('an abort while held reaches the application with its reason; the request is never sent', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { times, calls, abortNow } = setup(held);
    abortNow(new Error('the user gave up'));
    release();
    await held;
    await new Promise((r) => setImmediate(r));
    expect(times.dispatchedAt).toBeUndefined();
    expect(calls).toEqual(['onConnect', 'onError the user gave up']);
    expect(times.errors).toHaveLength(1);
  });
});
