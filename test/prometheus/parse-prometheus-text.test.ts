/**
 * The Prometheus text parser against every capture in shared/fixtures/prometheus (values read
 * by hand from the files), against what prom-client and the OpenTelemetry Prometheus exporter
 * print (property tests), and against garbage (it never throws).
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { Registry, Counter, Gauge, Histogram } from 'prom-client';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { TestMetricReader } from '../utils/metrics.js';
import { parseNumber, parsePrometheusText, samplesNamed } from '../../src/prometheus/parse-prometheus-text.js';
import { readFixture } from '../utils/fixtures.js';

const parse = (name: string) => parsePrometheusText(readFixture(`prometheus/${name}`));

describe('captures', () => {
  test('every capture parses with nothing skipped', () => {
    for (const [file, families] of [['vllm-v1-idle.prom', 62], ['vllm-v1-cpu-after-requests-trimmed.prom', 40], ['vllm-0.9.2-v0-one-request.prom', 22], ['vllm-0.9.2-v0-after-benchmark.prom', 22], ['sglang-docs-example.prom', 12], ['dynamo-metrics-component-readme.prom', 2]] as const) {
      const r = parse(file);
      expect(r.skippedLines, file).toBe(0);
      expect(r.families.size, file).toBe(families);
    }
  });

  test('vLLM V1: exponent numbers, _created gauges, engine labels, cache_config_info with "None" values', () => {
    const r = parse('vllm-v1-idle.prom');
    expect(samplesNamed(r, 'process_virtual_memory_bytes')[0]!.value).toBe(8.982228992e9);
    expect(samplesNamed(r, 'vllm:prefix_cache_queries_created')[0]!.value).toBe(1.7624384230434499e9);
    expect(r.families.get('vllm:prefix_cache_queries_created')!.type).toBe('gauge');
    expect(samplesNamed(r, 'vllm:num_requests_running')[0]!.labels).toEqual({ engine: '0', model_name: 'Qwen/Qwen1.5-0.5B-Chat' });
    const info = samplesNamed(parse('vllm-v1-cpu-after-requests-trimmed.prom'), 'vllm:cache_config_info')[0]!;
    expect(info.labels['block_size']).toBe('128');
    expect(info.labels['num_gpu_blocks']).toBe('146');
    expect(info.labels['kv_offloading_size']).toBe('None');
    expect(info.labels['kv_cache_dtype_skip_layers']).toBe('[]');
  });

  test('SGLang: exponent-form counters', () => {
    const r = parse('sglang-docs-example.prom');
    expect(samplesNamed(r, 'sglang:prompt_tokens_total')[0]!.value).toBe(8128902);
    expect(samplesNamed(r, 'sglang:generation_tokens_total')[0]!.value).toBe(7557572);
    expect(samplesNamed(r, 'sglang:cache_hit_rate')[0]!.value).toBe(0.007507552643049313);
  });

  test('histograms: buckets, sum and count belong to their family, +Inf included', () => {
    const r = parse('vllm-0.9.2-v0-after-benchmark.prom');
    const ttft = r.families.get('vllm:time_to_first_token_seconds')!;
    expect(ttft.type).toBe('histogram');
    const count = ttft.samples.find((s) => s.name === 'vllm:time_to_first_token_seconds_count')!;
    expect(count.value).toBe(69);
    expect(ttft.samples.find((s) => s.name.endsWith('_bucket') && s.labels['le'] === '+Inf')!.value).toBe(69);
  });
});

describe('format corners', () => {
  test('escapes, NaN, ±Inf, timestamps, OpenMetrics, exemplars, comments, families without samples, broken lines', () => {
    const r = parsePrometheusText([
      '# a comment header',
      '# HELP x_total A "help" with \\\\ and \\n.',
      '# TYPE x_total counter',
      'x_total{path="/a\\"b\\\\c\\nd",code="200",} 1.5e3 1700000000000',
      '# TYPE empty gauge',
      'g NaN',
      'h +Inf',
      'i -Inf',
      'om_total 3 1700000000.5',
      'om_bucket{le="1"} 2 # {trace_id="abc"} 0.5 1700000000',
      'broken{label="unterminated} 1',
      'no_value',
      '9starts_with_digit 1',
      'bad_value abc',
      '# EOF',
    ].join('\n'));
    const x = r.families.get('x_total')!;
    expect(x.help).toBe('A "help" with \\ and \n.');
    expect(x.samples[0]).toEqual({ name: 'x_total', labels: { path: '/a"b\\c\nd', code: '200' }, value: 1500, timestamp: 1700000000000 });
    expect(r.families.get('empty')).toEqual({ name: 'empty', type: 'gauge', samples: [] });
    expect(samplesNamed(r, 'g')[0]!.value).toBeNaN();
    expect(samplesNamed(r, 'h')[0]!.value).toBe(Infinity);
    expect(samplesNamed(r, 'i')[0]!.value).toBe(-Infinity);
    expect(samplesNamed(r, 'om_total')[0]!.timestamp).toBe(1700000000.5);
    expect(samplesNamed(r, 'om_bucket')[0]!.value).toBe(2);
    expect(r.skippedLines).toBe(4);
  });

  test('numbers as Prometheus prints them; anything else is not a number', () => {
    expect(parseNumber('9.75010481363281e-06')).toBe(9.75010481363281e-6);
    expect(parseNumber('-0.5')).toBe(-0.5);
    for (const bad of ['', 'abc', '1.2.3', '0x10', '1e', ' 1']) expect(parseNumber(bad)).toBeUndefined();
  });

  test('a sample value reads as Number() reads its text, in every form a double is printed', () => {
    const printed = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => String(v)),
      fc.tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 20 })).map(([v, k]) => v.toFixed(k)),
      fc.tuple(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: 20 })).map(([v, k]) => v.toExponential(k)),
      fc.tuple(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 1, max: 21 })).map(([v, k]) => v.toPrecision(k)),
      fc.stringMatching(/^[+-]?(\d{1,25}(\.\d{0,25})?|\.\d{1,25})([eE][+-]?\d{1,3})?$/),
    );
    fc.assert(fc.property(printed, (text) => {
      const sample = parsePrometheusText(`x ${text}\n`).families.get('x')?.samples[0];
      expect(sample?.value).toBe(Number(text));
    }), { numRuns: 5000 });
  });

  test('consecutive samples that share names and values read as if each stood alone, broken lines among them', () => {
    const key = fc.constantFrom('a', 'b', 'le', 'engine');
    const value = fc.oneof(fc.constantFrom('0', '1', 'x', 'x\\"y', '', 'long value'), fc.string({ maxLength: 4 }));
    // A line is whole, or broken in its labels (no closing quote) or in its value.
    const line = fc.tuple(fc.constantFrom('m', 'm_bucket', 'n'), fc.array(fc.tuple(key, value), { maxLength: 4 }), fc.integer(), fc.constantFrom('whole', 'whole', 'whole', 'labels', 'value'));
    const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    fc.assert(fc.property(fc.array(line, { minLength: 1, maxLength: 12 }), (lines) => {
      const texts = lines.map(([name, labels, v, shape]) => {
        const section = labels.map(([k, x]) => `${k}="${escape(x)}"`).join(',');
        if (shape === 'labels') return `${name}{${section}${section ? ',' : ''}a="open} ${v}`;
        return `${name}{${section}} ${shape === 'value' ? 'abc' : v}`;
      });
      const parsed = parsePrometheusText(texts.join('\n'));
      const together = [...parsed.families.values()].flatMap((f) => f.samples);
      expect(parsed.skippedLines).toBe(lines.filter(([, , , shape]) => shape !== 'whole').length);
      // Untyped, the three names are three families: their samples, in order, family by family.
      const kept = lines.filter(([, , , shape]) => shape === 'whole');
      const alone = texts.filter((_, k) => lines[k]![3] === 'whole').map((t) => [...parsePrometheusText(t).families.values()][0]!.samples[0]!);
      const order = [...new Set(alone.map((x) => x.name))];
      const grouped = order.flatMap((name) => alone.filter((x) => x.name === name));
      expect(together).toEqual(grouped);
      const expected = order.flatMap((name) => kept.filter(([n]) => n === name).map(([, labels]) => Object.fromEntries(labels)));
      expect(together.map((x) => x.labels)).toEqual(expected);
    }), { numRuns: 3000 });
  });

  test('garbage never throws', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
      const r = parsePrometheusText(text);
      expect(r.skippedLines).toBeGreaterThanOrEqual(0);
    }), { numRuns: 2000 });
  });
});

describe('reads back exactly what the common exporters print', () => {
  const labelValue = fc.string({ unit: 'binary', maxLength: 12 });
  const value = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: -1e9, max: 1e9 }));

  test('prom-client: counters, gauges and histograms with arbitrary label values', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(labelValue, value), { minLength: 1, maxLength: 5 }), async (points) => {
      const registry = new Registry();
      const gauge = new Gauge({ name: 'g', help: 'a gauge', labelNames: ['k'], registers: [registry] });
      const counter = new Counter({ name: 'c_total', help: 'a counter', labelNames: ['k'], registers: [registry] });
      const hist = new Histogram({ name: 'h_seconds', help: 'a histogram', buckets: [0.1, 1], registers: [registry] });
      const expected = new Map<string, number>();
      for (const [k, v] of points) {
        gauge.set({ k }, v);
        expected.set(k, v === 0 ? 0 : v); // -0 prints as 0
        counter.inc({ k }, Math.abs(v) % 1000);
        hist.observe(Math.abs(v) % 10);
      }
      const r = parsePrometheusText(await registry.metrics());
      expect(r.skippedLines).toBe(0);
      const got = new Map(samplesNamed(r, 'g').map((s) => [s.labels['k'], s.value]));
      expect(got).toEqual(expected);
      expect(samplesNamed(r, 'h_seconds_count')[0]!.value).toBe(points.length);
      expect(r.families.get('h_seconds')!.samples.filter((s) => s.name === 'h_seconds_bucket').map((s) => s.labels['le'])).toEqual(['0.1', '1', '+Inf']);
    }), { numRuns: 150 });
  });

  test('the OpenTelemetry Prometheus exporter', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(labelValue, fc.double({ min: 0, max: 1e12, noNaN: true })), { minLength: 1, maxLength: 5 }), async (points) => {
      const reader = new TestMetricReader();
      const meter = new MeterProvider({ readers: [reader] }).getMeter('prop');
      const counter = meter.createCounter('requests_total');
      const expected = new Map<string, number>();
      for (const [k, v] of points) {
        counter.add(v, { k });
        expected.set(k, (expected.get(k) ?? 0) + v);
      }
      const { resourceMetrics } = await reader.collect();
      const text = new PrometheusSerializer().serialize(resourceMetrics);
      const r = parsePrometheusText(text);
      expect(r.skippedLines).toBe(0);
      const got = new Map(samplesNamed(r, 'requests_total').map((s) => [s.labels['k'], s.value]));
      expect(got.size).toBe(expected.size);
      for (const [k, v] of expected) expect(got.get(k)).toBe(v);
    }), { numRuns: 100 });
  });
});
