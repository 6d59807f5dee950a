/**
 * The snapshot deltas and the analyzer on real captures: before / after pairs built from
 * shared/fixtures/prometheus by adding known amounts to their histograms and counters (the
 * text edited in place, as the engine would have printed it), the summary equal to the values
 * computed by hand, a counter reset flagged and left out; hostile request ids become safe names.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFixture } from '../utils/fixtures.js';
import { snapshotDelta, snapshotTotals } from '../../src/snapshots/snapshot-delta.js';
import { analyzeSnapshots } from '../../src/snapshots/snapshot-analyze.js';
import { captureFileName, parseCaptureFileName, safeRequestId } from '../../src/snapshots/snapshot-files.js';
import { SnapshotWriter } from '../../src/snapshots/snapshot-writer.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `text` with `amount` added to the value of every sample named `name` (all label sets: the first one only when `first`). */
function add(text: string, name: string, amount: number, first = true): string {
  let done = false;
  return text.split('\n').map((line) => {
    if (done && first) return line;
    const m = /^(\S+?)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) return line;
    done = true;
    return `${m[1]}${m[2] ?? ''} ${Number(m[3]) + amount}`;
  }).join('\n');
}

/** An "after" for `before`: one request with these timings and tokens, as vLLM V1 would record it. */
function afterOneRequest(before: string, t: { queue: number; prefill: number; decode: number; ttft: number; e2e: number; prompt: number; generation: number }): string {
  let s = before;
  for (const [name, v] of [['vllm:request_queue_time_seconds', t.queue], ['vllm:request_prefill_time_seconds', t.prefill], ['vllm:request_decode_time_seconds', t.decode], ['vllm:time_to_first_token_seconds', t.ttft], ['vllm:e2e_request_latency_seconds', t.e2e]] as const) {
    s = add(add(s, `${name}_sum`, v), `${name}_count`, 1);
  }
  return add(add(s, 'vllm:prompt_tokens_total', t.prompt), 'vllm:generation_tokens_total', t.generation);
}

describe('deltas of real captures', () => {
  test('vLLM V1: a known request added to the fixture comes back exactly', () => {
    const before = readFixture('prometheus/vllm-v1-cpu-after-requests-trimmed.prom');
    const after = afterOneRequest(before, { queue: 0.25, prefill: 1.5, decode: 3.125, ttft: 1.75, e2e: 4.9, prompt: 640, generation: 128 });
    const d = snapshotDelta(snapshotTotals(before), snapshotTotals(after));
    expect(d.seconds.queue).toBeCloseTo(0.25, 12);
    expect(d.seconds.prefill).toBeCloseTo(1.5, 12);
    expect(d.seconds.decode).toBeCloseTo(3.125, 12);
    expect(d.seconds.ttft).toBeCloseTo(1.75, 12);
    expect(d.seconds.e2e).toBeCloseTo(4.9, 12);
    expect(d.promptTokens).toBe(640);
    expect(d.generationTokens).toBe(128);
    expect(d.requests).toBe(1);
    expect(d.resets).toEqual([]);
  });

  test('vLLM 0.9.2 (V0) and SGLang names are read too', () => {
    const v0 = readFixture('prometheus/vllm-0.9.2-v0-after-benchmark.prom');
    const t = snapshotTotals(v0);
    expect(t.histograms.ttft).toEqual({ sum: 4941.843970537186, count: 69 });
    expect(t.histograms.prefill).toEqual({ sum: 239.16777801513672, count: 38 });
    const sglang = readFixture('prometheus/sglang-docs-example.prom');
    const s = snapshotTotals(sglang);
    expect(s.histograms.ttft?.count).toBe(11008);
    expect(s.counters.promptTokens).toBe(8.128902e6);
    const d = snapshotDelta(s, snapshotTotals(add(add(add(sglang, 'sglang:time_to_first_token_seconds_sum', 0.5), 'sglang:time_to_first_token_seconds_count', 1), 'sglang:prompt_tokens_total', 100)));
    expect(d.seconds.ttft).toBeCloseTo(0.5, 6);
    expect(d.promptTokens).toBe(100);
  });

  test('a counter that went down (engine restart) is flagged and never used', () => {
    const after = readFixture('prometheus/vllm-v1-cpu-after-requests-trimmed.prom');
    const restarted = readFixture('prometheus/vllm-v1-idle.prom');
    const d = snapshotDelta(snapshotTotals(after), snapshotTotals(restarted));
    expect(d.resets).toContain('e2e');
    expect(d.resets).toContain('promptTokens');
    expect(d.seconds.e2e).toBeUndefined();
  });
});

describe('agentic-otel snapshots analyze', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentic-otel-snapshots-'));
  dirs.push(dir);
  const base = readFixture('prometheus/vllm-v1-cpu-after-requests-trimmed.prom');
  const timings = [
    { queue: 0.1, prefill: 0.5, decode: 2.0, ttft: 0.6, e2e: 2.6, prompt: 100, generation: 50 },
    { queue: 0.2, prefill: 0.25, decode: 4.5, ttft: 0.45, e2e: 4.95, prompt: 300, generation: 90 },
    { queue: 0.0, prefill: 1.0, decode: 1.0, ttft: 1.0, e2e: 2.0, prompt: 800, generation: 20 },
  ];
  let chain = base;
  timings.forEach((t, i) => {
    const after = afterOneRequest(chain, t);
    writeFileSync(join(dir, captureFileName(`chatcmpl-${i}`, 'before', 1_764_460_000_000 + i * 10_000)), chain);
    writeFileSync(join(dir, captureFileName(`chatcmpl-${i}`, 'after', 1_764_460_005_000 + i * 10_000)), after);
    chain = after;
  });
  // An engine restart between a before and its after.
  writeFileSync(join(dir, captureFileName('chatcmpl-restart', 'before', 1_764_460_100_000)), chain);
  writeFileSync(join(dir, captureFileName('chatcmpl-restart', 'after', 1_764_460_101_000)), readFixture('prometheus/vllm-v1-idle.prom'));

  test('per request and summary: totals and averages equal the values computed by hand', () => {
    const report = analyzeSnapshots(readdirSync(dir), (n) => readFileSync(join(dir, n), 'utf8'));
    expect(report.requests).toHaveLength(4);
    const r1 = report.requests.find((r) => r.requestId === 'chatcmpl-1')!;
    expect(r1.prefillS).toBeCloseTo(0.25, 9);
    expect(r1.decodeS).toBeCloseTo(4.5, 9);
    expect(r1.ttftS).toBeCloseTo(0.45, 9);
    expect(r1.requests).toBe(1);
    expect(report.requests.find((r) => r.requestId === 'chatcmpl-restart')!.resets.length).toBeGreaterThan(0);
    // By hand: prefill 0.5 + 0.25 + 1.0 = 1.75, decode 2.0 + 4.5 + 1.0 = 7.5, TTFT 0.6 + 0.45 + 1.0 = 2.05.
    expect(report.summary.analyzed).toBe(3);
    expect(report.summary.totalPrefillS).toBeCloseTo(1.75, 9);
    expect(report.summary.totalDecodeS).toBeCloseTo(7.5, 9);
    expect(report.summary.totalTtftS).toBeCloseTo(2.05, 9);
    expect(report.summary.avgPrefillS).toBeCloseTo(1.75 / 3, 9);
    expect(report.summary.avgDecodeS).toBeCloseTo(2.5, 9);
    expect(report.summary.avgTtftS).toBeCloseTo(2.05 / 3, 9);
  });

  test('the command prints the reference\'s report, and --json for machines', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', resolve(repoRoot, 'src/cli/main.ts'), 'snapshots', 'analyze', dir], { cwd: repoRoot, encoding: 'utf8' });
    expect(out).toContain('Found 4 request(s) with snapshots');
    expect(out).toContain('Request: chatcmpl-1');
    expect(out).toContain('  Prefill Time: 0.250s');
    expect(out).toContain('SUMMARY - 3 request(s) analyzed');
    expect(out).toContain('Total Decode Time: 7.500s');
    expect(out).toContain('Average TTFT: 0.683s');
    expect(out).toMatch(/counter reset between the captures/);
    const json = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', resolve(repoRoot, 'src/cli/main.ts'), 'snapshots', 'analyze', dir, '--json'], { cwd: repoRoot, encoding: 'utf8' })) as { summary: { totalPrefillS: number } };
    expect(json.summary.totalPrefillS).toBeCloseTo(1.75, 9);
  });

  test('prune --older-than removes old captures only', () => {
    const old = mkdtempSync(join(tmpdir(), 'agentic-otel-prune-'));
    dirs.push(old);
    writeFileSync(join(old, captureFileName('a', 'before', Date.now())), 'x');
    writeFileSync(join(old, captureFileName('b', 'before', Date.now())), 'x');
    writeFileSync(join(old, 'notes.txt'), 'not ours');
    const aged = (Date.now() - 8 * 86_400_000) / 1000;
    utimesSync(join(old, readdirSync(old).find((n) => n.startsWith('a_'))!), aged, aged);
    const out = execFileSync(process.execPath, ['--import', 'tsx', resolve(repoRoot, 'src/cli/main.ts'), 'snapshots', 'prune', old, '--older-than', '7d'], { cwd: repoRoot, encoding: 'utf8' });
    expect(out).toContain('removed 1 snapshot file(s)');
    expect(readdirSync(old).sort()).toEqual([readdirSync(old).find((n) => n.startsWith('b_'))!, 'notes.txt'].sort());
  });
});

describe('retention', () => {
  test('by count: the oldest captures beyond maxFiles go, other files stay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentic-otel-retain-'));
    dirs.push(dir);
    const writer = new SnapshotWriter(dir, 3, 86_400_000);
    for (let i = 0; i < 5; i++) {
      const capture = { seq: i, startedAt: 1_764_460_000_000 + i * 1000, completedAt: 0, text: `v ${i}\n`, totals: { histograms: {}, counters: {} } };
      const path = await writer.save(`req-${i}`, 'before', capture);
      const at = (Date.now() - (5 - i) * 60_000) / 1000;
      utimesSync(path!, at, at);
    }
    writeFileSync(join(dir, 'README.txt'), 'not a capture');
    expect(await writer.prune()).toBe(2);
    expect(readdirSync(dir).sort()).toEqual(['README.txt', ...[2, 3, 4].map((i) => captureFileName(`req-${i}`, 'before', 1_764_460_000_000 + i * 1000))].sort());
  });
});

describe('file names', () => {
  test('hostile request ids produce safe names inside the directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentic-otel-hostile-'));
    dirs.push(dir);
    const hostile = ['../../etc/x', 'x'.repeat(10_000), 'a\u0000b\nc\rd\te\u001b[31m', '..', '.hidden', '', 'C:\\Windows\\x', '/abs/path', 'ok-id_1.2'];
    const names = hostile.map((id) => captureFileName(id, 'before', 1_764_460_000_123.456));
    for (const [i, n] of names.entries()) {
      expect(n).toMatch(/^[A-Za-z0-9._-]+_before_20251129_\d{6}_123456\.txt$/);
      expect(n).not.toContain('..');
      expect(n.startsWith('.')).toBe(false);
      expect(n.length).toBeLessThanOrEqual(128 + '_before_20251129_235320_123456.txt'.length);
      expect(parseCaptureFileName(n)?.requestId).toBe(safeRequestId(hostile[i]!));
    }
    expect(new Set(names).size).toBe(names.length);
    expect(safeRequestId('ok-id_1.2')).toBe('ok-id_1.2');
    // Written through the writer, every one lands in the directory itself.
    const writer = new SnapshotWriter(dir, 100, 86_400_000);
    const capture = { seq: 1, startedAt: 1_764_460_000_000, completedAt: 1_764_460_000_001, text: 'vllm:x 1\n', totals: { histograms: {}, counters: {} } };
    for (const id of hostile) await writer.save(id, 'after', capture);
    expect(readdirSync(dir)).toHaveLength(hostile.length);
  });
});
