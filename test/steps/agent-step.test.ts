/**
 * AgentStep driven directly with chosen timestamps: the exact span times and attributes of
 * each phase, including a pause (a request held before dispatch), which the request hook
 * produces only when something holds a request.
 */
import { describe, expect, test } from 'vitest';
import { context } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AgentStep } from '../../src/steps/agent-step.js';
import type { StepInit } from '../../src/steps/step-init.js';
import type { StepRecord } from '../../src/types.js';
import { durationMs, hrMs, stepTrees } from '../utils/otel.js';

const T0 = 1_780_000_000_000;

function makeStep(init: Partial<StepInit> = {}) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const records: StepRecord[] = [];
  const step = new AgentStep(
    { tracer: provider.getTracer('t'), providerName: 'vllm', captureContent: false, onStepEnd: (r) => records.push(r) },
    {
      programId: 'p', agentName: undefined, stepId: 2, previousEnd: T0, arrive: T0 + 1000,
      parentContext: context.active(), operation: 'chat', request: { json: {}, model: 'm', stream: true, streamOptions: { include_usage: true }, includeUsage: true },
      serverAddress: 'h', serverPort: 1, backend: 'http://h:1', url: undefined, clientTimeoutS: undefined, fingerprint: undefined, retryCount: undefined, body: undefined, ...init,
    },
  );
  return { step, exporter, records };
}

const sse = (s: string) => Buffer.from(s);
const chunk = (content: string, finish: string | null = null) =>
  sse(`data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"${content}"},"finish_reason":${finish === null ? 'null' : `"${finish}"`}}]}\n\n`);

describe('AgentStep', () => {
  test('every phase span has the exact times; a pause appears when start > arrive', () => {
    const { step, exporter, records } = makeStep();
    step.dispatch(T0 + 1250); // held 250 ms before dispatch
    step.onResponseStart(200, { 'content-type': 'text/event-stream' }, T0 + 1260);
    step.onResponseData(chunk('a'), T0 + 1400);
    step.onResponseData(chunk('b'), T0 + 1500);
    step.onResponseData(chunk('c', 'stop'), T0 + 1650);
    step.onResponseData(sse('data: {"id":"c1","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":3,"total_tokens":103,"prompt_tokens_details":{"cached_tokens":80}}}\n\ndata: [DONE]\n\n'), T0 + 1700);
    step.onResponseEnd(T0 + 1710);
    const [t] = stepTrees(exporter.getFinishedSpans());
    expect(hrMs(t!.step.startTime)).toBe(T0);
    expect(hrMs(t!.step.endTime)).toBe(T0 + 1650); // the last token, not the [DONE] or the end
    expect(durationMs(t!.toolCall!)).toBe(1000);
    expect(durationMs(t!.pause!)).toBe(250);
    expect(hrMs(t!.chat.startTime)).toBe(T0 + 1250);
    expect(durationMs(t!.prefill!)).toBe(150);
    expect(durationMs(t!.decode!)).toBe(250);
    expect(t!.step.attributes).toMatchObject({
      'agentic.step.tool_call_s': 1, 'agentic.step.pause_s': 0.25, 'agentic.step.prefill_s': 0.15,
      'agentic.step.decode_s': 0.25, 'agentic.step.kv_hit_rate': 0.8, 'agentic.step.streamed': true,
    });
    expect(t!.chat.attributes['gen_ai.response.time_to_first_chunk']).toBe(0.15);
    expect(records).toEqual([expect.objectContaining({ programId: 'p', stepId: 2, kvHitRate: 0.8, inputTokens: 100, outputTokens: 3, cachedTokens: 80, totalTokens: 103, endTime: T0 + 1650, finishReasons: ['stop'] })]);
  });

  test('the first step of a program has no tool_call span and starts at arrive', () => {
    const { step, exporter } = makeStep({ previousEnd: undefined });
    step.dispatch(T0 + 1000);
    step.onResponseStart(200, { 'content-type': 'application/json' }, T0 + 1100);
    step.onResponseData(sse('{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}'), T0 + 1100);
    step.onResponseEnd(T0 + 1101);
    const [t] = stepTrees(exporter.getFinishedSpans());
    expect(t!.toolCall).toBeUndefined();
    expect(t!.pause).toBeUndefined();
    expect(hrMs(t!.step.startTime)).toBe(T0 + 1000);
    expect(durationMs(t!.inference!)).toBe(101);
    expect(t!.step.attributes['agentic.step.kv_hit_rate']).toBeUndefined(); // no cached_tokens: unknown
  });

  test('overlapping requests of one program: tool gap is 0, never negative', () => {
    const { step, exporter } = makeStep({ previousEnd: T0 + 2000 });
    step.dispatch(T0 + 1000);
    step.onError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), T0 + 1001);
    const [t] = stepTrees(exporter.getFinishedSpans());
    expect(t!.toolCall).toBeUndefined();
    expect(t!.step.attributes['agentic.step.tool_call_s']).toBe(0);
    expect(t!.chat.attributes['error.type']).toBe('ECONNREFUSED');
    expect(t!.chat.events.map((e) => e.name)).toEqual(['exception']);
  });

  test('a failure midway ends at the failure, with prefill and decode from what was seen', () => {
    const { step, exporter, records } = makeStep();
    step.dispatch(T0 + 1000);
    step.onResponseStart(200, { 'content-type': 'text/event-stream' }, T0 + 1001);
    step.onResponseData(chunk('a'), T0 + 1100);
    step.onResponseData(chunk('b'), T0 + 1200);
    step.onError(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }), T0 + 1300);
    step.onResponseEnd(T0 + 1400); // a late callback changes nothing
    const [t] = stepTrees(exporter.getFinishedSpans());
    expect(hrMs(t!.step.endTime)).toBe(T0 + 1300);
    expect(durationMs(t!.prefill!)).toBe(100);
    expect(durationMs(t!.decode!)).toBe(100);
    expect(t!.chat.status.code).toBe(2);
    expect(records).toHaveLength(1);
    expect(records[0]!.errorType).toBe('UND_ERR_SOCKET');
  });
});
