/**
 * Per-request engine snapshots against the simulator, whose `/metrics` publishes vLLM V1's
 * per-request histograms from its own ground truth: an isolated request's engine timings equal
 * what the simulator did to it, exactly; overlapping requests are flagged inexact; a burst of
 * 100 concurrent requests causes a bounded number of scrapes; the raw captures are on disk.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { parseCaptureFileName } from '../../src/snapshots/snapshot-files.js';
import { setupHarness, type Harness } from '../utils/otel.js';

let sim: Simulator;
let h: Harness;
let dir: string;
beforeAll(async () => {
  sim = await startSimulator({ decodeMsPerToken: 2, maxRunning: 64 });
  dir = mkdtempSync(join(tmpdir(), 'agentic-otel-snap-'));
  h = setupHarness({ backends: [{ url: sim.url, name: 'sim' }], pollIntervalMs: 60_000, snapshots: { dir } });
  await sleep(100); // the first capture, the first request's "before"
});
afterAll(async () => {
  await h.shutdown();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

async function complete(content: string): Promise<string> {
  const res = await request(`${sim.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: sim.model, stream: true, max_tokens: 6, messages: [{ role: 'user', content }] }) });
  const text = await res.body.text();
  return /"id":"(chatcmpl-[^"]+)"/.exec(text)![1]!;
}

/** The chat span of response `id`, once it has ended (it waits for the "after" capture). */
async function chatOf(id: string): Promise<ReadableSpan> {
  for (let i = 0; i < 100; i++) {
    const span = h.spans().find((s) => s.kind === 2 && s.attributes['gen_ai.response.id'] === id);
    if (span !== undefined) return span;
    await sleep(20);
  }
  throw new Error(`no chat span for ${id}`);
}

describe('engine snapshots', () => {
  test('an isolated request: the engine\'s own timings equal the simulator\'s ground truth, exact', async () => {
    const id = await complete('alone');
    const a = (await chatOf(id)).attributes;
    const rec = sim.request(id)!;
    expect(a['agentic.engine.snapshot']).toBe('ok');
    expect(a['agentic.engine.exact']).toBe(true);
    expect(a['agentic.engine.requests']).toBe(1);
    expect(a['agentic.engine.queue_s']).toBeCloseTo(rec.queueMs! / 1000, 9);
    expect(a['agentic.engine.prefill_s']).toBeCloseTo(rec.prefillMs! / 1000, 9);
    expect(a['agentic.engine.decode_s']).toBeCloseTo(rec.decodeMs! / 1000, 9);
    expect(a['agentic.engine.ttft_s']).toBeCloseTo((rec.queueMs! + rec.prefillMs!) / 1000, 9);
    expect(a['agentic.engine.e2e_s']).toBeCloseTo((rec.finishedAt! - rec.receivedAt) / 1000, 9);
    expect(a['agentic.engine.prompt_tokens']).toBe(rec.promptTokens);
    expect(a['agentic.engine.generation_tokens']).toBe(rec.completionTokens);
    // The chat span keeps its own end time (the last token), however late the capture came.
    const chat = await chatOf(id);
    const step = h.spans().find((s) => s.name === 'agent.step' && s.spanContext().traceId === chat.spanContext().traceId)!;
    expect(chat.endTime).toEqual(step.endTime);
    // Its raw captures, named by the engine's response id.
    await sleep(50);
    const files = readdirSync(dir).map(parseCaptureFileName).filter((p) => p?.requestId === id);
    expect(files.map((f) => f!.stage).sort()).toEqual(['after', 'before']);
  });

  test('two overlapping requests are flagged inexact (their deltas are upper bounds)', async () => {
    const ids = await Promise.all([complete('one'), complete('two')]);
    for (const id of ids) {
      const a = (await chatOf(id)).attributes;
      expect(a['agentic.engine.exact']).toBe(false);
      expect(a['agentic.engine.e2e_s'] as number).toBeGreaterThanOrEqual((sim.request(id)!.finishedAt! - sim.request(id)!.receivedAt) / 1000 - 1e-9);
    }
  });

  test('100 concurrent requests: a bounded number of scrapes, every chat span ends', async () => {
    const origin = new URL(sim.url).origin;
    const before = h.instrumentation.snapshots.scrapes()[origin]!;
    const t0 = performance.now();
    const ids = await Promise.all(Array.from({ length: 100 }, (_, i) => complete(`burst ${i}`)));
    const spans = await Promise.all(ids.map(chatOf));
    const elapsed = performance.now() - t0;
    const scrapes = h.instrumentation.snapshots.scrapes()[origin]! - before;
    console.log(`100 concurrent requests over ${elapsed.toFixed(0)} ms: ${scrapes} scrapes of the engine's /metrics`);
    // At most one capture in flight and one queued, started 50 ms apart at the closest.
    expect(scrapes).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 2);
    expect(scrapes).toBeLessThan(30);
    expect(spans.every((s) => s.attributes['agentic.engine.snapshot'] !== undefined)).toBe(true);
  });

  test('no capture after the request within maxWaitMs: the spans end anyway, marked missing', async () => {
    h.instrumentation.setConfig({ backends: [{ url: sim.url, name: 'sim' }], pollIntervalMs: 60_000, snapshots: { maxWaitMs: 0 } });
    await sleep(100);
    const id = await complete('in a hurry');
    const a = (await chatOf(id)).attributes;
    expect(a['agentic.engine.snapshot']).toBe('missing');
    expect(a['agentic.engine.prefill_s']).toBeUndefined();
  });
});
