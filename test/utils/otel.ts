/**
 * Test harness: an in-memory span exporter behind a real SDK tracer provider, the async-hooks
 * context manager NodeSDK would install, and helpers to read the exported span tree.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { AgenticInstrumentation } from '../../src/instrumentation.js';
import type { AgenticInstrumentationConfig } from '../../src/types.js';

export interface Harness {
  instrumentation: AgenticInstrumentation;
  exporter: InMemorySpanExporter;
  provider: BasicTracerProvider;
  spans(): ReadableSpan[];
  shutdown(): Promise<void>;
}

let contextManager: AsyncLocalStorageContextManager | undefined;

/** A fresh instrumentation wired to an in-memory exporter. */
export function setupHarness(config: AgenticInstrumentationConfig = {}): Harness {
  if (contextManager === undefined) {
    contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  }
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const instrumentation = new AgenticInstrumentation(config);
  instrumentation.setTracerProvider(provider);
  return {
    instrumentation,
    exporter,
    provider,
    spans: () => exporter.getFinishedSpans(),
    async shutdown() {
      instrumentation.disable();
      await provider.shutdown();
    },
  };
}

/** Milliseconds between two span times. */
export function durationMs(span: ReadableSpan): number {
  return span.duration[0] * 1e3 + span.duration[1] / 1e6;
}

/** Epoch ms of an HrTime. */
export function hrMs(t: [number, number]): number {
  return t[0] * 1e3 + t[1] / 1e6;
}

/** The exported children of `parent`. */
export function childrenOf(spans: ReadableSpan[], parent: ReadableSpan): ReadableSpan[] {
  return spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
}

/** One step's spans, by role. */
export interface StepTree {
  step: ReadableSpan;
  toolCall: ReadableSpan | undefined;
  pause: ReadableSpan | undefined;
  /** Every tool_call and pause span (a program's holds split the tool gap), in time order. */
  toolCalls: ReadableSpan[];
  pauses: ReadableSpan[];
  /** One per attempt, in time order; `chat` is the last (the one that succeeded, or the last failure). */
  chats: ReadableSpan[];
  chat: ReadableSpan;
  prefill: ReadableSpan | undefined;
  decode: ReadableSpan | undefined;
  inference: ReadableSpan | undefined;
}

/** Every `agent.step` with its children, ordered by program then step id. */
export function stepTrees(spans: ReadableSpan[]): StepTree[] {
  const trees: StepTree[] = [];
  for (const step of spans.filter((s) => s.name === 'agent.step')) {
    const kids = childrenOf(spans, step);
    const byStart = (a: ReadableSpan, b: ReadableSpan) => hrMs(a.startTime) - hrMs(b.startTime);
    const chats = kids.filter((s) => s.kind === 2 /* CLIENT */).sort(byStart);
    const chat = chats.at(-1);
    if (chat === undefined) throw new Error('agent.step without a chat span');
    const grand = childrenOf(spans, chat);
    trees.push({
      step,
      toolCall: kids.find((s) => s.name === 'agent.tool_call'),
      pause: kids.find((s) => s.name === 'agent.pause'),
      toolCalls: kids.filter((s) => s.name === 'agent.tool_call').sort(byStart),
      pauses: kids.filter((s) => s.name === 'agent.pause').sort(byStart),
      chats,
      chat,
      prefill: grand.find((s) => s.name === 'llm.prefill'),
      decode: grand.find((s) => s.name === 'llm.decode'),
      inference: grand.find((s) => s.name === 'llm.inference'),
    });
  }
  return trees.sort((a, b) =>
    String(a.step.attributes['agentic.program.id']).localeCompare(String(b.step.attributes['agentic.program.id'])) ||
    Number(a.step.attributes['agentic.step.id']) - Number(b.step.attributes['agentic.step.id']));
}

export { trace };
