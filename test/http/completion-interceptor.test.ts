import { context } from '@opentelemetry/api';
import { describe, expect, test } from 'vitest';
import { createCompletionInterceptor, type ArrivedRequest, type InterceptorHost } from '../../src/http/completion-interceptor.js';
import type { AgentStep } from '../../src/steps/agent-step.js';

describe('the request hook', () => {
  test('lets go of the parsed body once the request is dispatched, keeping its fields', () => {
    const arrived: ArrivedRequest[] = [];
    let jsonAtDispatch: unknown;
    const step = {
      dispatch: () => {
        jsonAtDispatch = arrived[0]!.request?.json;
        return context.active();
      },
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
    expect(jsonAtDispatch).toMatchObject({ model: 'm', messages }); // there when the chat span is made
    const request = arrived[0]!.request!;
    expect(request.json).toBeUndefined(); // …then released
    expect(request).toMatchObject({ model: 'm', stream: true, maxTokens: 7, includeUsage: false });
    expect(JSON.parse(String(sent[0]!.body))).toEqual({ stream_options: { include_usage: true }, model: 'm', stream: true, max_tokens: 7, messages });
  });
});
