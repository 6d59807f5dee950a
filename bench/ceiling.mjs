// The ceiling of any implementation of what we emit: the bare client plus, through the same SDK
// providers, exactly the telemetry of one of our exported steps — its span tree (the names, kinds,
// attributes and parents of the spans, with the response's own timing) and, with metrics, the
// histogram records of a usual step (each data point our steps record, with its attributes) —
// and nothing observed. No implementation that emits that through the SDK can cost less, so a
// mode's ratio to bare can be read against this one's (run.mjs on the raw clients, clients.mjs
// through the openai client).
import { context, trace } from '@opentelemetry/api';
import { DataPointType } from '@opentelemetry/sdk-metrics';

/** One step of ours as exported: the tree of the trace holding an `agent.tool_call`, or undefined. */
export function stepTemplateOf(spans) {
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  const tool = spans.find((s) => s.name === 'agent.tool_call');
  if (tool === undefined) return undefined;
  const traceId = tool.spanContext().traceId;
  const tree = spans.filter((s) => s.spanContext().traceId === traceId);
  if (!['agent.step', 'agent.tool_call', 'llm.prefill', 'llm.decode'].every((n) => tree.some((s) => s.name === n))) return undefined;
  const parentId = (s) => s.parentSpanContext?.spanId ?? s.parentSpanId;
  const template = (s) => ({ name: s.name, kind: s.kind, attributes: { ...s.attributes }, children: tree.filter((c) => parentId(c) === s.spanContext().spanId).map(template) });
  const root = tree.find((s) => !byId.has(parentId(s)) || parentId(s) === undefined);
  return template(root);
}

/**
 * The histogram records of our steps in a metric export from the meter named `scopeName`: every
 * data point recorded at least half as often as the busiest (a step's usual records, not its
 * rare error or first-step variants), with its histogram's name and unit and its attributes.
 */
export function histogramTemplateOf(resourceMetrics, scopeName) {
  const points = [];
  for (const scope of resourceMetrics.scopeMetrics) {
    if (scope.scope.name !== scopeName) continue;
    for (const m of scope.metrics) {
      if (m.dataPointType !== DataPointType.HISTOGRAM) continue;
      for (const p of m.dataPoints) points.push({ name: m.descriptor.name, unit: m.descriptor.unit, attributes: { ...p.attributes }, count: p.value.count });
    }
  }
  const busiest = Math.max(0, ...points.map((p) => p.count));
  const out = points.filter((p) => busiest > 0 && p.count * 2 >= busiest);
  return out.length === 0 ? undefined : out;
}

/**
 * Wraps `client` (an async function doing one completion) so that each call also emits the
 * template's telemetry: `templates()` returns `{ spans, histograms }` (histograms may be
 * undefined: spans only).
 */
export function ceilingOf(tracerProvider, meterProvider, templates) {
  const tracer = tracerProvider.getTracer('ceiling');
  const meter = meterProvider?.getMeter('ceiling');
  const instruments = new Map();
  const histogramOf = (h) => {
    let i = instruments.get(h.name);
    if (i === undefined) instruments.set(h.name, (i = meter.createHistogram(h.name, { unit: h.unit })));
    return i;
  };
  return (client) => async (...args) => {
    const { spans: t, histograms } = templates();
    if (t === undefined) throw new Error('ceiling: none of our steps was exported to copy (ours runs first in the warm-up)');
    const step = tracer.startSpan(t.name, { kind: t.kind, attributes: t.attributes });
    const stepCtx = trace.setSpan(context.active(), step);
    const chatT = t.children.find((c) => c.children.length > 0);
    for (const c of t.children) if (c !== chatT) tracer.startSpan(c.name, { kind: c.kind, attributes: c.attributes }, stepCtx).end();
    const chat = tracer.startSpan(chatT.name, { kind: chatT.kind, attributes: chatT.attributes }, stepCtx);
    const chatCtx = trace.setSpan(stepCtx, chat);
    const result = await context.with(chatCtx, () => client(...args));
    for (const c of chatT.children) tracer.startSpan(c.name, { kind: c.kind, attributes: c.attributes }, chatCtx).end();
    chat.end();
    step.end();
    if (meter !== undefined && histograms !== undefined) for (const h of histograms) histogramOf(h).record(0.01, h.attributes);
    return result;
  };
}
