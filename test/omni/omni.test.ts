/**
 * Omni pipelines: the E2E figures, the summary and the tables against values computed by hand,
 * both invariants (held and broken), the span tree and its timing for a three-stage request,
 * the metrics, and ingestion of the real vLLM-omni log example.
 */
import { describe, expect, test } from 'vitest';
import { diag, DiagLogLevel, type Attributes } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { MeterProvider, type HistogramMetricData } from '@opentelemetry/sdk-metrics';
import { TestMetricReader as TestReader } from '../utils/metrics.js';
import { OmniRecorder } from '../../src/omni/omni-recorder.js';
import { checkInvariants, computeE2E, formatSummary, formatTable, OmniSummaryAggregator, type OmniRequestRecord } from '../../src/omni/omni-stats.js';
import { OmniLogLineReader, readOmniLog } from '../../src/omni/omni-log-reader.js';
import { hrMs, durationMs } from '../utils/otel.js';
import { readFixture } from '../utils/fixtures.js';


function setup() {
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('t');
  const reader = new TestReader();
  const meter = new MeterProvider({ readers: [reader] }).getMeter('m');
  return { exporter, reader, recorder: new OmniRecorder(() => tracer, meter) };
}

const T0 = 1_780_000_000_000;
/** Three stages (thinker → talker → code2wav), two edges; totals by hand below. */
const threeStage = {
  requestId: 'req-1',
  start_time: T0,
  end_time: T0 + 1000,
  preprocess_ms: 10,
  stages: {
    0: { name: 'thinker', batch_id: 3, batch_size: 2, num_tokens_in: 100, num_tokens_out: 20, stage_gen_time_ms: 300 },
    1: { name: 'talker', num_tokens_in: 20, num_tokens_out: 50, stage_gen_time_ms: 400 },
    2: { name: 'code2wav', num_tokens_in: 50, num_tokens_out: 1000, stage_gen_time_ms: 200 },
  },
  transfers: {
    '0->1': { size_bytes: 1000, tx_time_ms: 1, rx_decode_time_ms: 2, in_flight_time_ms: 3 },
    '1->2': { size_bytes: 2000, tx_time_ms: 4, rx_decode_time_ms: 5, in_flight_time_ms: 6, used_shm: true },
  },
};

describe('E2E figures and invariants', () => {
  const record = (): OmniRequestRecord => ({
    requestId: 'r', stages: new Map(Object.entries(threeStage.stages).map(([k, v]) => [Number(k), { ...v }])),
    transfers: new Map(Object.entries(threeStage.transfers)), e2e_total_ms: 1000,
  });

  test('by hand: tokens 100 + 20 + 50 + 1000, transfers (1+2+3) + (4+5+6) ms and 1000 + 2000 bytes', () => {
    expect(computeE2E(record())).toEqual({ e2e_total_ms: 1000, e2e_total_tokens: 1170, transfers_total_time_ms: 21, transfers_total_bytes: 3000 });
  });

  test('both invariants hold when the printed totals agree, and each is caught when it does not', () => {
    expect(checkInvariants({ ...record(), reported: { e2e_total_tokens: 1170, transfers_total_time_ms: 21 } })).toEqual([]);
    expect(checkInvariants({ ...record(), reported: { e2e_total_tokens: 1171, transfers_total_time_ms: 20 } })).toEqual([
      { invariant: 'e2e_total_tokens', expected: 1170, reported: 1171 },
      { invariant: 'transfers_total_time_ms', expected: 21, reported: 20 },
    ]);
  });

  test('summary over two requests, by hand', () => {
    const agg = new OmniSummaryAggregator();
    const a = { ...record(), requestId: 'a', start_time: T0, end_time: T0 + 1000 };
    const b = { ...record(), requestId: 'b', start_time: T0 + 500, end_time: T0 + 2000, e2e_total_ms: 1500 };
    a.stages.get(0)!.start_time = T0 + 10;
    a.stages.get(0)!.end_time = T0 + 310;
    b.stages.get(0)!.start_time = T0 + 600;
    b.stages.get(0)!.end_time = T0 + 900;
    agg.add(a);
    agg.add(b);
    expect(agg.summary()).toEqual({
      e2e_requests: 2, e2e_wall_time_ms: 2000, e2e_total_tokens: 2340, e2e_avg_time_per_request_ms: 1000,
      e2e_avg_tokens_per_s: 1170, stage_wall_time_ms: [890],
    });
    expect(agg.e2eTable().map((r) => r.e2e_total_ms)).toEqual([1000, 1500]);
    expect(agg.stageTable()).toHaveLength(6);
    expect(agg.transferTable().map((r) => [r.request_id, r.edge, r.total_time_ms])).toEqual([['a', '0->1', 6], ['a', '1->2', 15], ['b', '0->1', 6], ['b', '1->2', 15]]);
  });
});

describe('OmniRecorder', () => {
  test('a three-stage request: the span tree, laid out as the pipeline ran', () => {
    const { exporter, recorder } = setup();
    recorder.record(threeStage);
    const spans = exporter.getFinishedSpans();
    const byName = (n: string) => spans.find((s) => s.name === n) as ReadableSpan;
    const root = byName('omni.request');
    expect(spans.map((s) => s.name).sort()).toEqual(['omni.request', 'omni.stage 0 thinker', 'omni.stage 1 talker', 'omni.stage 2 code2wav', 'omni.transfer 0->1', 'omni.transfer 1->2']);
    for (const s of spans) if (s !== root) expect(s.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(hrMs(root.startTime)).toBe(T0);
    expect(hrMs(root.endTime)).toBe(T0 + 1000);
    // preprocess 10 → thinker 300 → edge 6 → talker 400 → edge 15 → code2wav 200
    const at = (n: string) => [hrMs(byName(n).startTime) - T0, hrMs(byName(n).endTime) - T0];
    expect(at('omni.stage 0 thinker')).toEqual([10, 310]);
    expect(at('omni.transfer 0->1')).toEqual([310, 316]);
    expect(at('omni.stage 1 talker')).toEqual([316, 716]);
    expect(at('omni.transfer 1->2')).toEqual([716, 731]);
    expect(at('omni.stage 2 code2wav')).toEqual([731, 931]);
    expect(root.attributes).toMatchObject({ 'omni.request.id': 'req-1', 'omni.e2e_total_ms': 1000, 'omni.e2e_total_tokens': 1170, 'omni.transfers_total_time_ms': 21, 'omni.transfers_total_bytes': 3000 });
    expect(root.attributes['omni.invariant_violations']).toBeUndefined();
    expect(byName('omni.stage 0 thinker').attributes).toMatchObject({ 'omni.stage.id': 0, 'omni.stage.name': 'thinker', 'omni.stage.batch_id': 3, 'omni.stage.batch_size': 2, 'omni.stage.num_tokens_in': 100 });
    expect(byName('omni.transfer 1->2').attributes).toMatchObject({ 'omni.edge': '1->2', 'omni.transfer.size_bytes': 2000, 'omni.transfer.used_shm': true, 'omni.transfer.total_time_ms': 15 });
  });

  test('startRequest / stage / transfer / end, a child of the active span', () => {
    const { exporter, recorder } = setup();
    const r = recorder.startRequest('live-1', { attributes: { 'app.tenant': 'x' } as Attributes });
    r.stage(0, { num_tokens_in: 5, num_tokens_out: 6, stage_gen_time_ms: 1 }).transfer(0, 1, { size_bytes: 10, tx_time_ms: 0.5 }).stage(1, { num_tokens_out: 7, stage_gen_time_ms: 1 });
    r.end();
    r.end(); // once
    const root = exporter.getFinishedSpans().find((s) => s.name === 'omni.request')!;
    expect(exporter.getFinishedSpans().filter((s) => s.name === 'omni.request')).toHaveLength(1);
    expect(root.attributes).toMatchObject({ 'app.tenant': 'x', 'omni.e2e_total_tokens': 18 });
    expect(durationMs(root)).toBeGreaterThanOrEqual(0);
    expect(recorder.summary.summary().e2e_requests).toBe(1);
  });

  test('a broken invariant is reported through diag and on the span, never thrown', () => {
    const { exporter, recorder } = setup();
    const warnings: string[] = [];
    diag.setLogger({ warn: (...args: unknown[]) => warnings.push(args.join(' ')), error: () => {}, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
    try {
      expect(() => recorder.record({ ...threeStage, e2e_total_tokens: 1200, transfers_total_time_ms: 21 })).not.toThrow();
    } finally {
      diag.disable();
    }
    const root = exporter.getFinishedSpans().find((s) => s.name === 'omni.request')!;
    expect(root.attributes['omni.invariant_violations']).toEqual(['e2e_total_tokens: reported 1200, parts sum to 1170']);
    expect(warnings.some((w) => w.includes('req-1') && w.includes('e2e_total_tokens'))).toBe(true);
  });

  test('metrics: latency, tokens, per-stage and per-edge histograms, no request ids', async () => {
    const { reader, recorder } = setup();
    recorder.record(threeStage);
    const { resourceMetrics } = await reader.collect();
    const metrics = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics) as HistogramMetricData[];
    const get = (name: string) => metrics.find((m) => m.descriptor.name === name)!;
    expect(get('omni.request.duration').dataPoints[0]!.value.sum).toBe(1);
    expect(get('omni.request.duration').descriptor.unit).toBe('s');
    expect(get('omni.request.tokens').dataPoints[0]!.value.sum).toBe(1170);
    expect(get('omni.stage.generation.duration').dataPoints.map((d) => [d.attributes['omni.stage'], d.value.sum])).toEqual([['0', 0.3], ['1', 0.4], ['2', 0.2]]);
    expect(get('omni.transfer.size').dataPoints.map((d) => [d.attributes['omni.edge'], d.value.sum])).toEqual([['0->1', 1000], ['1->2', 2000]]);
    expect(get('omni.transfer.duration').dataPoints.map((d) => [d.attributes['omni.edge'], d.value.sum])).toEqual([['0->1', 0.006], ['1->2', 0.015]]);
    for (const m of metrics) for (const d of m.dataPoints) expect(JSON.stringify(d.attributes)).not.toContain('req-1');
  });
});

describe('vLLM-omni log ingestion (shared/fixtures/omni)', () => {
  const text = readFixture('omni/vllm-omni-log-stats-doc-example.md');

  test('the [OmniTiming] line and the summary block, with the numbers the log prints', () => {
    const reading = readOmniLog(text);
    expect(reading.timingLines).toBe(1);
    expect(reading.summaryBlocks).toBe(1);
    // ```text, ```, two blank lines, the markdown heading, a blank line, ```text and the closing ```; the final newline ends that line.
    expect(reading.skippedLines).toBe(8); // the final newline ends the last line: no empty ninth line
    const [timing, summary] = reading.records;
    expect(timing).toMatchObject({ requestId: 'chatcmpl-a0edd05', e2e_total_ms: 32990, preprocess_ms: 2800 });
    expect([...timing!.stages]).toEqual([[0, { name: 'ar', stage_gen_time_ms: 16230 }], [1, { name: 'diffusion', stage_gen_time_ms: 13960 }]]);
    expect([...timing!.transfers]).toEqual([['0->1', { total_time_ms: 0.78 }]]);
    expect(summary).toMatchObject({ e2e_total_ms: 41356.133, preprocess_ms: 57 });
    expect(summary!.stages.get(0)).toEqual({ name: 'ar', stage_gen_time_ms: 9910.007, batch_id: 38, batch_size: 1, num_tokens_in: 4860, num_tokens_out: 67, postprocess_time_ms: 256.158 });
    expect(summary!.stages.get(1)).toEqual({ stage_gen_time_ms: 30379.198 });
    expect(summary!.transfers.get('0->1')).toEqual({ total_time_ms: 245.895 });
  });

  test('replayed into spans and tables: the numbers equal the log\'s', () => {
    const { exporter, recorder } = setup();
    for (const r of readOmniLog(text).records) recorder.recordParsed(r);
    const roots = exporter.getFinishedSpans().filter((s) => s.name === 'omni.request');
    expect(roots.map((s) => [s.attributes['omni.request.id'], durationMs(s)])).toEqual([['chatcmpl-a0edd05', 32990], ['summary-1', 41356.133]].map(([id, ms]) => [id, expect.closeTo(ms as number, 3)]));
    const stage1 = exporter.getFinishedSpans().find((s) => s.name === 'omni.stage 1 diffusion')!;
    expect(durationMs(stage1)).toBeCloseTo(13960, 3);
    const handoff = exporter.getFinishedSpans().filter((s) => s.name === 'omni.transfer 0->1').map((s) => durationMs(s));
    expect(handoff[0]).toBeCloseTo(0.78, 3);
    expect(handoff[1]).toBeCloseTo(245.895, 3);
    const e2e = recorder.summary.e2eTable();
    expect(e2e.map((r) => [r.request_id, r.e2e_total_ms, r.transfers_total_time_ms])).toEqual([['chatcmpl-a0edd05', 32990, 0.78], ['summary-1', 41356.133, 245.895]]);
    expect(e2e[1]!.e2e_total_tokens).toBe(4860 + 67);
  });
});

describe('omni at scale', () => {
  const record = (i: number): OmniRequestRecord => ({
    requestId: `r${i}`,
    start_time: i * 10,
    end_time: i * 10 + 5,
    stages: new Map([[0, { stage_gen_time_ms: 4, num_tokens_in: 10, num_tokens_out: 2, start_time: i * 10, end_time: i * 10 + 4 }]]),
    transfers: new Map(),
  });

  test('the tables keep the latest N requests; the summary covers every request', () => {
    const agg = new OmniSummaryAggregator(undefined, 50);
    for (let i = 0; i < 10_000; i++) agg.add(record(i));
    expect(agg.summary().e2e_requests).toBe(10_000);
    const e2e = agg.e2eTable();
    expect(e2e).toHaveLength(50);
    expect(e2e[0]!.request_id).toBe('r9950');
    expect(agg.stageTable()).toHaveLength(50);
  });

  test('a table of 100k rows prints (no array spread into arguments)', () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => ({ request_id: `r${i}`, ms: i }));
    expect(formatTable('big', rows).split('\n')).toHaveLength(100_004);
  });

  test('the log reader takes lines one by one and gives the same records as the whole text', () => {
    const text = readFixture('omni/vllm-omni-log-stats-doc-example.md');
    const got: OmniRequestRecord[] = [];
    const reader = new OmniLogLineReader((r) => got.push(r));
    for (const line of text.split('\n').slice(0, -1)) reader.line(line);
    reader.end();
    expect(got.map((r) => r.requestId)).toEqual(readOmniLog(text).records.map((r) => r.requestId));
    expect(reader.counts).toEqual({ timingLines: 1, summaryBlocks: 1, skippedLines: 8 });
  });
});

describe('omni wall time and unknown counts', () => {
  const timing = (prefix: string, id: string) => `${prefix}[OmniTiming] req=${id} total=5.00s preprocess=1.00s engine=4.00s stages=[0:ar=2.00s,1:diffusion=2.00s] transfers=[0->1=0.500ms]`;
  const replay = (lines: string[]) => {
    const { recorder } = setup();
    const reader = new OmniLogLineReader((r) => recorder.recordParsed(r), 2026);
    for (const l of lines) reader.line(l);
    reader.end();
    return recorder.summary.summary();
  };

  test('from the log\'s own timestamps (one-second resolution, no year in the log): the same however long the replay takes', () => {
    const lines = [timing('INFO 12-01 10:00:00 ', 'a'), timing('INFO 12-01 10:00:30 ', 'b')];
    const first = replay(lines);
    // a starts 5 s before its line (10:00:00), b ends at 10:00:30.
    expect(first.e2e_wall_time_ms).toBe(35_000);
    expect(first.e2e_avg_time_per_request_ms).toBe(17_500);
    expect(replay(lines)).toEqual(first);
  });

  test('without timestamps the wall time is unknown, never the replay\'s run time; unknown tokens are not 0', () => {
    const s = replay([timing('', 'a'), timing('', 'b')]);
    expect(s.e2e_requests).toBe(2);
    expect(s.e2e_wall_time_ms).toBeNull();
    expect(s.e2e_total_tokens).toBeNull();
    expect(s.e2e_avg_tokens_per_s).toBeNull();
    const printed = formatSummary(s);
    expect(printed).toMatch(/e2e_wall_time_ms\s+-/);
    expect(printed).toMatch(/e2e_avg_tokens_per_s\s+-/);
    expect(printed).not.toMatch(/e2e_total_tokens\s+0/);
  });

  test('known tokens only make the throughput', () => {
    const agg = new OmniSummaryAggregator();
    const stage = (out: number | undefined) => new Map([[0, { num_tokens_in: 10, ...(out === undefined ? {} : { num_tokens_out: out }), start_time: 0, end_time: 1000 }]]);
    agg.add({ requestId: 'x', start_time: 0, end_time: 1000, stages: stage(90), transfers: new Map() });
    agg.add({ requestId: 'y', start_time: 0, end_time: 1000, stages: new Map([[0, { start_time: 0, end_time: 1000 }]]), transfers: new Map() });
    const s = agg.summary();
    expect(s.e2e_total_tokens).toBe(100);
    expect(s.e2e_avg_tokens_per_s).toBe(100);
    expect(agg.e2eTable()[1]!.e2e_total_tokens).toBeUndefined();
  });
});
