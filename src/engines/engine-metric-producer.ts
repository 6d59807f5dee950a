/**
 * The engine series as a MetricProducer, for the metric reader to pull at every collection:
 * exactly the series the poller's state gives now. The metrics SDK keeps every attribute set an
 * observable instrument ever reported under cumulative temporality (its TemporalMetricProcessor
 * merges each collection into the last, so a series that is no longer observed is exported with
 * its last value for ever: an engine that went down, a model that changed). A producer has no
 * such memory: a backend that is down, renamed or removed leaves nothing behind after one
 * collection. Register it on each reader: `new PrometheusExporter({ metricProducers: [p] })`,
 * `new PeriodicExportingMetricReader({ exporter, metricProducers: [p] })`.
 *
 * We do not depend on `@opentelemetry/sdk-metrics`: the shapes below are its `CollectionResult`,
 * with its enum values written out (DataPointType GAUGE 2 / SUM 3, AggregationTemporality
 * CUMULATIVE 1), stable since sdk-metrics 1.0.
 */
import { ValueType, type HrTime } from '@opentelemetry/api';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../version.js';
import type { Reading } from './backend-readings.js';

const GAUGE = 2;
const SUM = 3;
const CUMULATIVE = 1;

function hrNow(): HrTime {
  const ms = performance.timeOrigin + performance.now();
  return [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];
}

/** Produces the engine series on demand; `readings` is the poller's current state as readings. */
export class EngineMetricProducer {
  private readonly _start = hrNow();

  constructor(private readonly _readings: () => readonly Reading[]) {}

  /**
   * sdk-metrics' `MetricProducer.collect`: one scope (ours) with a metric per reading that has
   * samples now. Typed loosely so that it is assignable to the SDK's `MetricProducer` without us
   * importing the SDK.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  collect(): Promise<any> {
    const end = hrNow();
    const metrics = this._readings()
      .filter((r) => r.samples.length > 0)
      .map((r) => ({
        descriptor: { name: r.name, description: r.help, unit: '', type: r.type === 'counter' ? 'OBSERVABLE_COUNTER' : 'OBSERVABLE_GAUGE', valueType: ValueType.DOUBLE, advice: {} },
        aggregationTemporality: CUMULATIVE,
        dataPointType: r.type === 'counter' ? SUM : GAUGE,
        ...(r.type === 'counter' ? { isMonotonic: true } : {}),
        dataPoints: r.samples.map((s) => ({ attributes: s.labels, startTime: this._start, endTime: end, value: s.value })),
      }));
    return Promise.resolve({ resourceMetrics: { resource: { attributes: {} }, scopeMetrics: [{ scope: { name: PACKAGE_NAME, version: PACKAGE_VERSION }, metrics }] }, errors: [] });
  }
}
