// What NodeSDK sets up for an application, for every mode of the benches: a tracer provider with
// the batch span processor (its defaults: batches of 512, a queue of 2,048) and a meter provider
// with a periodic exporting reader (cumulative, NodeSDK's default interval of 60 s). Both exporters
// count, then discard: `spans` and `histogramRecords` (the records every histogram received,
// read from the cumulative counts) are printed per completion, so that a mode that records
// nothing cannot look cheap. `onSpans` and `onMetrics` see what is exported (ceiling.mjs copies
// one of our steps from it).
import { context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AggregationTemporality, DataPointType, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

export function otelProviders({ onSpans, onMetrics } = {}) {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const counts = { spans: 0, histogramRecords: 0 };
  const spanExporter = {
    export: (spans, done) => {
      counts.spans += spans.length;
      onSpans?.(spans);
      done({ code: 0 });
    },
    shutdown: async () => {},
  };
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(spanExporter)] });
  const metricExporter = {
    export: (metrics, done) => {
      let records = 0;
      for (const scope of metrics.scopeMetrics) {
        for (const m of scope.metrics) {
          if (m.dataPointType !== DataPointType.HISTOGRAM) continue;
          for (const p of m.dataPoints) records += p.value.count;
        }
      }
      counts.histogramRecords = records; // cumulative: the total so far
      onMetrics?.(metrics);
      done({ code: 0 });
    },
    selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    counts,
    /** Exports what is pending, so that `counts` includes everything recorded until now. */
    async flush() {
      await tracerProvider.forceFlush();
      await reader.forceFlush();
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
