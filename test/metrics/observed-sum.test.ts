/**
 * The sums the steps add to as numbers: one series per attribute set whatever the key order, a
 * counter's negative adds ignored as the SDK ignores them, the SDK's cardinality limit, and what
 * a real meter provider exports (the instrument kinds a synchronous counter and up-down counter
 * export, the same totals, the facade's adds and a step's in one series).
 */
import { describe, expect, test } from 'vitest';
import { MeterProvider, type MetricData, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { TestMetricReader } from '../utils/metrics.js';
import { keyOf, MAX_SERIES, ObservedSum } from '../../src/metrics/observed-sum.js';
import { Instruments } from '../../src/metrics/instruments.js';

describe('ObservedSum', () => {
  test('one series per attribute set, whatever the order of its keys; values keep their types', () => {
    const s = new ObservedSum(true);
    s.add(1, { model: 'm', graph: 'g' });
    s.add(2, { graph: 'g', model: 'm' });
    s.add(4, { model: 'm', graph: 'g', request_type: 'chat' });
    s.add(8, { port: 1 });
    s.add(16, { port: '1' });
    const series: [number, object][] = [];
    s.forEach((v, a) => series.push([v, a]));
    expect(series).toEqual([[3, { model: 'm', graph: 'g' }], [4, { model: 'm', graph: 'g', request_type: 'chat' }], [8, { port: 1 }], [16, { port: '1' }]]);
    expect(keyOf({ a: 'x', b: 1 })).toBe(keyOf({ b: 1, a: 'x' }));
    expect(keyOf({ a: 'x,' })).not.toBe(keyOf({ a: 'x', ',': '' }));
  });

  test('a counter ignores negative and non-finite adds; an up-down counter takes negative ones', () => {
    const c = new ObservedSum(true);
    c.add(2, { a: '1' });
    c.add(-1, { a: '1' });
    c.add(Number.NaN, { a: '1' });
    const u = new ObservedSum(false);
    u.add(1, { a: '1' });
    u.add(-1, { a: '1' });
    const values = (s: ObservedSum) => { const out: number[] = []; s.forEach((v) => out.push(v)); return out; };
    expect(values(c)).toEqual([2]);
    expect(values(u)).toEqual([0]);
  });

  test('past the cardinality limit, new attribute sets fold into the overflow series', () => {
    const s = new ObservedSum(true);
    for (let i = 0; i < MAX_SERIES + 5; i++) s.add(1, { id: String(i) });
    const series: [number, Record<string, unknown>][] = [];
    s.forEach((v, a) => series.push([v, a]));
    expect(series).toHaveLength(MAX_SERIES + 1);
    expect(series.at(-1)).toEqual([5, { 'otel.metric.overflow': true }]);
  });
});

describe('the step sums through a meter provider', () => {
  const collect = async (reader: TestMetricReader): Promise<Map<string, MetricData>> => {
    const { resourceMetrics } = await reader.collect();
    return new Map(resourceMetrics.scopeMetrics.flatMap((x) => x.metrics).map((m) => [m.descriptor.name, m]));
  };

  test('exported as the synchronous instruments were: monotonic counters and a non-monotonic active count', async () => {
    const reader = new TestMetricReader();
    const provider = new MeterProvider({ readers: [reader] });
    const instruments = new Instruments(provider.getMeter('t'), 'tinyllm');
    instruments.i.requests.add(1, { model: 'm', graph: 'g', request_type: 'chat' });
    instruments.sums.requests.cell(keyOf({ graph: 'g', model: 'm', request_type: 'chat' }), () => ({ model: 'm', graph: 'g', request_type: 'chat' })).value += 2;
    instruments.i.active.add(1, { model: 'm', graph: 'g' });
    instruments.i.active.add(-1, { model: 'm', graph: 'g' });
    instruments.i.tokensIn.add(7, { model: 'm', graph: 'g' });
    const m = await collect(reader);
    const requests = m.get('tinyllm_requests_total') as SumMetricData;
    expect(requests.isMonotonic).toBe(true);
    expect(requests.dataPoints.map((p) => [p.value, p.attributes])).toEqual([[3, { model: 'm', graph: 'g', request_type: 'chat' }]]);
    const active = m.get('tinyllm_active_requests') as SumMetricData;
    expect(active.isMonotonic).toBe(false);
    expect(active.dataPoints.map((p) => p.value)).toEqual([0]);
    expect((m.get('tinyllm_tokens_input_total') as SumMetricData).dataPoints[0]?.value).toBe(7);
    // A second collection reports the totals again (cumulative), grown by what was added since.
    instruments.i.tokensIn.add(3, { model: 'm', graph: 'g' });
    expect(((await collect(reader)).get('tinyllm_tokens_input_total') as SumMetricData).dataPoints[0]?.value).toBe(10);
    await provider.shutdown();
  });

  test('a new meter provider reports the totals so far; the old one no longer calls back', async () => {
    const first = new TestMetricReader();
    const p1 = new MeterProvider({ readers: [first] });
    const instruments = new Instruments(p1.getMeter('t'), 'tinyllm');
    instruments.i.cacheHits.add(5, { cache_type: 'kv_prefix' });
    const second = new TestMetricReader();
    const p2 = new MeterProvider({ readers: [second] });
    instruments.updateMetricInstruments(p2.getMeter('t'));
    instruments.i.cacheHits.add(1, { cache_type: 'kv_prefix' });
    expect(((await collect(second)).get('tinyllm_cache_hits_total') as SumMetricData).dataPoints[0]?.value).toBe(6);
    expect((await collect(first)).get('tinyllm_cache_hits_total')?.dataPoints ?? []).toEqual([]);
    await p1.shutdown();
    await p2.shutdown();
  });
});
