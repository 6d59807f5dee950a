/**
 * A metric reader whose collect() the tests call directly, cumulative like Prometheus.
 */
import { AggregationTemporality, MetricReader, type MetricProducer } from '@opentelemetry/sdk-metrics';

export class TestMetricReader extends MetricReader {
  constructor(options: { metricProducers?: MetricProducer[] } = {}) {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE, ...options });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}
