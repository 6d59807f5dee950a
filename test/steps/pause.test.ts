/**
 * Pause made real: retries, rate limits, a client's pool queue and the application's own holds
 * are the pause phase, each against ground truth (the simulator's record of what it received
 * and when, on the same clock; the test's own clock around a hold), and metrics and the CSV say
 * what the spans say.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { Agent, request } from 'undici';
import { generateText } from 'ai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { MeterProvider, type HistogramMetricData, type MetricData } from '@opentelemetry/sdk-metrics';
import type { SimRequestRecord } from '../../src/simulator/index.js';
import { startSimulatorProcess, type SimProcess } from '../utils/sim-process.js';
import { pausing, withProgram } from '../../src/index.js';
import { now } from '../../src/util/clock.js';
import { TestMetricReader } from '../utils/metrics.js';
import { hrMs, setupHarness, stepTrees, type Harness, type StepTree } from '../utils/otel.js';
import { LoopLag } from '../utils/loop-lag.js';

// The engine in its own process: its record of when it received and finished each request is
// ground truth that the client's event loop does not disturb.
let sim: SimProcess;
let h: Harness;
let reader: TestMetricReader;
let dir: string;
beforeAll(async () => {
  sim = await startSimulatorProcess(['--decode-ms', '2', '--retry-after-ms', '150']);
}, 30_000);
afterAll(async () => {
  await sim.close();
});
/**
 * The tolerance of a comparison with the engine's clock: 5 ms on an idle machine, plus twice the
 * longest delay this process's event loop saw during the test (the engine's, in its own process,
 * is as late under the same load): a loaded machine delays both sides' timestamps.
 */
const lag = new LoopLag();
const within = () => lag.within(5);
beforeEach(() => {
  lag.start();
  dir = mkdtempSync(join(tmpdir(), 'agentic-otel-pause-'));
  h = setupHarness({ profile: { dir, extended: true } });
  reader = new TestMetricReader();
  h.instrumentation.setMeterProvider(new MeterProvider({ readers: [reader] }));
});
afterEach(async () => {
  lag.stop();
  await h.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

const chat = (content: string) => ({ model: sim.model, messages: [{ role: 'user' as const, content }], max_tokens: 4 });
const seconds = (t: StepTree, phase: string) => t.step.attributes[`agentic.step.${phase}_s`] as number;

/** The steps of a program, and the simulator's records in arrival order since `from`. */
function stepsOf(programId: string): StepTree[] {
  return stepTrees(h.spans()).filter((t) => t.step.attributes['agentic.program.id'] === programId);
}

async function metrics(): Promise<Map<string, MetricData>> {
  const { resourceMetrics } = await reader.collect();
  return new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
}
const total = (m: MetricData | undefined) => (m?.dataPoints ?? []).reduce((s, d) => s + (typeof d.value === 'number' ? d.value : (d.value as { sum: number }).sum), 0);
const count = (m: MetricData | undefined) => ((m as HistogramMetricData | undefined)?.dataPoints ?? []).reduce((s, d) => s + d.value.count, 0);

/** The CSV's rows (extended shape) after the writer flushed. */
async function csvRows(): Promise<string[][]> {
  await h.instrumentation.profiles.flush();
  return readFileSync(join(dir, 'step_profiles.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
}

/**
 * A step, its spans, its metrics and its CSV row say the same: one step, its attempts, its phases
 * partitioning it, pause from the first arrival to the last attempt's start.
 */
async function expectOneStep(t: StepTree, attempts: number, failedAttempts: number): Promise<void> {
  expect(t.chats).toHaveLength(attempts);
  expect(t.chats.map((c) => c.attributes['http.request.resend_count'])).toEqual(Array.from({ length: attempts }, (_, i) => (i === 0 ? undefined : i)));
  if (attempts > 1) expect(t.step.attributes['agentic.step.attempts']).toBe(attempts);
  const phases = seconds(t, 'tool_call') + seconds(t, 'pause') + seconds(t, 'prefill') + seconds(t, 'decode') + ((t.step.attributes['agentic.step.inference_s'] as number | undefined) ?? 0);
  expect(Math.abs(phases * 1000 - (hrMs(t.step.endTime) - hrMs(t.step.startTime)))).toBeLessThan(0.01);
  const spans = [...t.toolCalls, ...t.pauses].reduce((s, x) => s + hrMs(x.endTime) - hrMs(x.startTime), 0);
  expect(Math.abs(spans - (seconds(t, 'tool_call') + seconds(t, 'pause')) * 1000)).toBeLessThan(0.01);
  const m = await metrics();
  expect(total(m.get('agentic_requests_total'))).toBe(1);
  expect(total(m.get('agentic_errors_total'))).toBe(failedAttempts);
  expect(count(m.get('agentic_step_phase_seconds'))).toBeGreaterThan(0);
  const rows = await csvRows();
  expect(rows).toHaveLength(1);
  expect(Number(rows[0]![4])).toBeCloseTo(seconds(t, 'pause'), 4); // pause_s column
}


/**
 * Every step's CSV row and the metrics say what its spans say: one row per step with its pause and
 * tool_call, requests_total = steps, errors_total = failed attempts, the pause histogram's sum =
 * the steps' pause.
 */
async function expectMetricsAndCsvAgree(): Promise<void> {
  const trees = stepTrees(h.spans());
  const rows = await csvRows();
  expect(rows).toHaveLength(trees.length);
  for (const t of trees) {
    const row = rows.find((r) => r[0] === t.step.attributes['agentic.program.id'] && Number(r[1]) === t.step.attributes['agentic.step.id'])!;
    expect(Number(row[4])).toBeCloseTo(seconds(t, 'pause'), 3);
    expect(Number(row[5])).toBeCloseTo(seconds(t, 'tool_call'), 3);
  }
  const m = await metrics();
  expect(total(m.get('agentic_requests_total'))).toBe(trees.length);
  expect(total(m.get('agentic_errors_total'))).toBe(trees.reduce((n, t) => n + t.chats.filter((c) => c.status.code === 2).length, 0));
  const phase = (m.get('agentic_step_phase_seconds')?.dataPoints ?? []).filter((d) => d.attributes['phase'] === 'pause');
  expect(phase.reduce((x, d) => x + (d.value as { sum: number }).sum, 0)).toBeCloseTo(trees.reduce((x, t) => x + seconds(t, 'pause'), 0), 9);
}

describe('retries are attempts of one step', () => {
  test('openai maxRetries 2 against two 500s: one step, 3 attempts, pause = the gap to the third dispatch, tool_call unchanged', async () => {
    const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'x', maxRetries: 2 });
    const from = (await sim.requests()).length;
    let toolStart = 0;
    let toolEnd = 0;
    await withProgram('retrying', async () => {
      await client.chat.completions.create(chat('first'));
      toolStart = now();
      await sleep(40); // the tool
      toolEnd = now();
      await sim.injectFault('http_500', 2);
      await client.chat.completions.create(chat('second'));
    });
    const [, t] = stepsOf('retrying');
    const recs = (await sim.requests()).slice(from);
    expect(recs.map((r) => r.fault)).toEqual([undefined, 'http_500', 'http_500', undefined]);
    // The engine's gap from the first attempt's arrival to the third's, and the pause, agree.
    const gap = recs[3]!.receivedAt - recs[1]!.receivedAt;
    expect(gap).toBeGreaterThan(300); // the client's backoff (0.375–0.5 s, then twice that)
    expect(Math.abs(seconds(t!, 'pause') * 1000 - gap)).toBeLessThan(within());
    // tool_call: the engine's gap from the previous step's end to this step's first arrival (the
    // tool, and the client's own work around it), not the backoff.
    expect(Math.abs(seconds(t!, 'tool_call') * 1000 - (recs[1]!.receivedAt - recs[0]!.finishedAt!))).toBeLessThan(10 + within());
    expect(seconds(t!, 'tool_call') * 1000).toBeGreaterThanOrEqual(toolEnd - toolStart - 1);
    expect(seconds(t!, 'tool_call') * 1000).toBeLessThan(toolEnd - toolStart + 100);
    expect(t!.pauses.map((p) => p.attributes['agentic.pause.reason'])).toEqual(['retry']);
    expect(t!.chats.map((c) => c.attributes['http.response.status_code'])).toEqual([500, 500, 200]);
    expect(t!.chats.map((c) => c.attributes['error.type'])).toEqual(['500', '500', undefined]);
    expect(t!.step.status.code).toBe(0);
    // The first step and this one: two rows, two requests; two failed attempts.
    const m = await metrics();
    expect(total(m.get('agentic_requests_total'))).toBe(2);
    expect(total(m.get('agentic_errors_total'))).toBe(2);
    expect(await csvRows()).toHaveLength(2);
    await expectMetricsAndCsvAgree();
  });

  test('a 429 with retry-after-ms: the wait it asked for is on the attempt and in rate_limit_wait_seconds', async () => {
    const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'x', maxRetries: 2 });
    const from = (await sim.requests()).length;
    await sim.injectFault('http_429', 1);
    await withProgram('limited', () => client.chat.completions.create(chat('rate limited')));
    const [t] = stepsOf('limited');
    const recs = (await sim.requests()).slice(from);
    const gap = recs[1]!.receivedAt - recs[0]!.receivedAt;
    expect(gap).toBeGreaterThanOrEqual(145); // the client honours retry-after-ms (150)
    expect(Math.abs(seconds(t!, 'pause') * 1000 - gap)).toBeLessThan(within());
    expect(t!.chats[0]!.attributes['agentic.retry_after_s']).toBe(0.15);
    const wait = (await metrics()).get('agentic_rate_limit_wait_seconds');
    expect(count(wait)).toBe(1);
    expect(total(wait)).toBeCloseTo(0.15, 9);
    await expectOneStep(t!, 2, 1);
    await expectMetricsAndCsvAgree();
  });

  test('the Vercel AI SDK retries silently: the same bytes from the same named program continue the step', async () => {
    const provider = createOpenAICompatible({ name: 'engine', baseURL: `${sim.url}/v1` });
    const from = (await sim.requests()).length;
    await sim.injectFault('http_500', 1);
    const r = await withProgram('vercel', () => generateText({ model: provider(sim.model), prompt: 'hello', maxRetries: 1, maxOutputTokens: 4 }));
    expect(r.text.length).toBeGreaterThan(0);
    const [t] = stepsOf('vercel');
    const recs = (await sim.requests()).slice(from);
    expect(recs).toHaveLength(2);
    expect(Math.abs(seconds(t!, 'pause') * 1000 - (recs[1]!.receivedAt - recs[0]!.receivedAt))).toBeLessThan(within());
    await expectOneStep(t!, 2, 1);
    await expectMetricsAndCsvAgree();
  }, 15_000);

  test('identical concurrent requests of program "default" stay separate steps, a failed one among them', async () => {
    const body = JSON.stringify(chat('sample this prompt'));
    await sim.injectFault('http_500', 1);
    await Promise.all(Array.from({ length: 4 }, async () => {
      const res = await request(`${sim.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.body.text();
    }));
    // One more identical one after the failure, still "default": never taken for a retry.
    const res = await request(`${sim.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await res.body.text();
    const trees = stepsOf('default');
    expect(trees).toHaveLength(5);
    expect(trees.every((t) => t.chats.length === 1)).toBe(true);
    expect(trees.filter((t) => t.step.status.code === 2)).toHaveLength(1);
    expect(await csvRows()).toHaveLength(5);
    await expectMetricsAndCsvAgree();
  });

  test('a retried request whose every attempt fails is one ERROR step with one row, ending at its last attempt', async () => {
    const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'x', maxRetries: 2 });
    await sim.injectFault('http_500', 3);
    await expect(withProgram('doomed', () => client.chat.completions.create(chat('never')))).rejects.toThrow();
    expect(stepsOf('doomed')).toHaveLength(0); // it waits for a retry that could still come
    h.instrumentation.settle();
    const [t] = stepsOf('doomed');
    expect(t!.step.status.code).toBe(2);
    expect(t!.step.attributes['error.type']).toBe('500');
    expect(hrMs(t!.step.endTime)).toBeCloseTo(hrMs(t!.chats[2]!.endTime), 6);
    await expectOneStep(t!, 3, 3);
    expect((await csvRows())[0]![8]).toBe('500'); // error_type column
    await expectMetricsAndCsvAgree();
  });
});

describe('after a failure the program moves on', () => {
  test('the next request\'s tool_call starts at the failure, while the failed step may still be retried', async () => {
    const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'x', maxRetries: 0 });
    let failedAt = 0;
    let sentAt = 0;
    await withProgram('moving-on', async () => {
      await client.chat.completions.create(chat('first'));
      await sim.injectFault('http_500', 1);
      await expect(client.chat.completions.create(chat('fails'))).rejects.toThrow();
      failedAt = now();
      await sleep(30); // the agent handles the error
      sentAt = now();
      await client.chat.completions.create(chat('next'));
    });
    h.instrumentation.settle();
    const trees = stepsOf('moving-on');
    expect(trees.map((t) => t.step.attributes['agentic.step.id'])).toEqual([1, 2, 3]);
    expect(trees[1]!.step.status.code).toBe(2);
    const tool = seconds(trees[2]!, 'tool_call') * 1000;
    expect(tool).toBeGreaterThanOrEqual(sentAt - failedAt - 1);
    expect(tool).toBeLessThan(sentAt - failedAt + within() + 10);
    expect(await csvRows()).toHaveLength(3);
    await expectMetricsAndCsvAgree();
  });
});

describe('the application\'s holds and the client\'s queue', () => {
  test('pausing(): overlapping holds count once as pause, the rest of the gap is tool_call', async () => {
    let held = 0;
    let gap = 0;
    await withProgram('holder', async () => {
      await request(`${sim.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(chat('one')) }).then((r) => r.body.text());
      const t0 = now();
      await sleep(15); // tool work
      const h0 = now();
      await Promise.all([pausing(() => sleep(40)), sleep(10).then(() => pausing(() => sleep(20)))]); // a semaphore, a token bucket
      held = now() - h0;
      await sleep(10); // more tool work
      gap = now() - t0;
      await request(`${sim.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(chat('two')) }).then((r) => r.body.text());
    });
    const [, t] = stepsOf('holder');
    expect(Math.abs(seconds(t!, 'pause') * 1000 - held)).toBeLessThan(within());
    expect(held).toBeGreaterThanOrEqual(39);
    expect(held).toBeLessThan(55); // the union, not 40 + 20
    expect(Math.abs((seconds(t!, 'tool_call') + seconds(t!, 'pause')) * 1000 - gap)).toBeLessThan(within());
    expect(t!.toolCalls).toHaveLength(2); // before and after the hold
    expect(t!.pauses.map((p) => p.attributes['agentic.pause.reason'])).toEqual(['hold']);
    expect(await pausing(() => 42)).toBe(42); // outside a program: it only runs fn
    await expect(withProgram('x', () => pausing(() => Promise.reject(new RangeError('no'))))).rejects.toBeInstanceOf(RangeError);
    await expectMetricsAndCsvAgree();
  });

  test('a pool of 2 connections and 8 programs: pause is the time queued, prefill no longer holds it', async () => {
    h.instrumentation.disable();
    const pool = new Agent({ connections: 2 }).compose(h.instrumentation.interceptor());
    h.instrumentation.enable();
    // Both connections opened first: what follows waits for a free connection, not for a connect.
    await Promise.all([0, 1].map((i) => request(`${sim.url}/v1/chat/completions`, { method: 'POST', dispatcher: pool, body: JSON.stringify(chat(`warm ${i}`)) }).then((r) => r.body.text())));
    const handed = new Map<string, number>();
    // (Handed over 2 ms apart: the engine shares this process, and eight requests in one turn
    // would delay its own receipt of the first, which is the ground truth.)
    await Promise.all(Array.from({ length: 8 }, (_, i) => withProgram(`pooled-${i}`, async () => {
      await sleep(2 * i);
      handed.set(`pooled-${i}`, now());
      const res = await request(`${sim.url}/v1/chat/completions`, { method: 'POST', dispatcher: pool, body: JSON.stringify({ ...chat(`queued ${i}`), stream: true, max_tokens: 10 }) });
      await res.body.text();
    })));
    await pool.close();
    // Ground truth, from the engine's own record (same clock): a queued request waited from the
    // application's call until a connection was freed, when the engine finished the response
    // before it on that connection (the latest finish before its receipt).
    const recs = await sim.requests();
    const byId = new Map<string, SimRequestRecord>(recs.map((r) => [r.id, r]));
    const queued: number[] = [];
    for (let i = 0; i < 8; i++) {
      const [t] = stepsOf(`pooled-${i}`);
      const rec = byId.get(t!.chat.attributes['gen_ai.response.id'] as string)!;
      const freedAt = Math.max(-Infinity, ...recs.filter((r) => r.finishedAt! <= rec.receivedAt).map((r) => r.finishedAt!));
      const queue = Math.max(0, freedAt - handed.get(`pooled-${i}`)!);
      queued.push(queue);
      expect(Math.abs(seconds(t!, 'pause') * 1000 - queue)).toBeLessThan(within());
      // Prefill starts on the connection: the engine's time from freeing it to the first token.
      if (queue > 0) expect(Math.abs(seconds(t!, 'prefill') * 1000 - (rec.firstTokenAt! - freedAt))).toBeLessThan(within());
      expect(seconds(t!, 'prefill') * 1000).toBeLessThan(15 + within());
    }
    expect(queued.filter((w) => w > 10)).toHaveLength(6); // six of eight waited for a connection
    await expectMetricsAndCsvAgree();
  });
});
