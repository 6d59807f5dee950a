/**
 * The CSV's shape, decided once: ThunderAgent's eight columns first and unchanged, and with
 * `profile: { extended: true }` a step's failure and a non-streamed step's model time after them.
 * A failed streamed step, a failed non-streamed step and a successful non-streamed step, in both
 * shapes, in the file and in the JSON views.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { STEP_CSV_EXTENDED_HEADER, STEP_CSV_HEADER } from '../../src/profiles/step-csv.js';
import { setupHarness } from '../utils/otel.js';

let sim: Simulator;
const dirs: string[] = [];
beforeAll(async () => {
  sim = await startSimulator({ decodeMsPerToken: 1 });
});
afterAll(async () => {
  await sim.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The three steps of program `p`: a failed stream (cut midway), a failed non-streamed request (500), a successful non-streamed one. */
async function threeSteps(extended: boolean): Promise<{ rows: string[][]; header: string; profile: Record<string, unknown> }> {
  const dir = mkdtempSync(join(tmpdir(), 'agentic-otel-shape-'));
  dirs.push(dir);
  const h = setupHarness({ profile: { dir, extended } });
  const post = async (body: Record<string, unknown>) => {
    try {
      const r = await request(`${sim.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-program-id': 'p' }, body: JSON.stringify({ model: sim.model, messages: [], max_tokens: 6, ...body }) });
      await r.body.text();
    } catch {
      // the cut stream rejects; the step is what we look at
    }
  };
  sim.injectFault('cut', 1);
  await post({ stream: true });
  sim.injectFault('http_500', 1);
  await post({});
  await post({ temperature: 0.5 }); // a different request: the same bytes again would be the 500's retry
  const profile = h.instrumentation.profiles.get('p') as unknown as Record<string, unknown>;
  await h.instrumentation.profiles.flush();
  await h.shutdown();
  const [header, ...lines] = readFileSync(join(dir, 'step_profiles.csv'), 'utf8').trim().split('\n');
  return { header: header!, rows: lines.map((l) => l.split(',')), profile };
}

describe('step_profiles.csv', () => {
  test('ThunderAgent\'s shape: eight columns, failures indistinguishable by design (the extended shape says it)', async () => {
    const { header, rows, profile } = await threeSteps(false);
    expect(header).toBe(STEP_CSV_HEADER);
    expect(rows.map((r) => r.length)).toEqual([8, 8, 8]);
    expect(rows.map((r) => r.slice(0, 2))).toEqual([['p', '1'], ['p', '2'], ['p', '3']]);
    // The JSON view knows, whatever the CSV's shape.
    expect(profile['failed_steps']).toBe(2);
    expect(profile['avg_inference_s']).toBeGreaterThan(0);
  });

  test('the extended shape: error_type and inference_s after the eight columns, which parse unchanged', async () => {
    const { header, rows } = await threeSteps(true);
    expect(header).toBe(STEP_CSV_EXTENDED_HEADER);
    expect(header.split(',').slice(0, 8).join(',')).toBe(STEP_CSV_HEADER);
    expect(rows.map((r) => r.length)).toEqual([10, 10, 10]);
    const [cut, failed, ok] = rows as [string[], string[], string[]];
    expect(cut[8]).not.toBe(''); // the stream was cut: its error type
    expect(cut[9]).toBe(''); // streamed: no inference column, prefill and decode say it
    expect(failed[8]).toBe('500');
    expect(Number(failed[9])).toBeGreaterThanOrEqual(0);
    expect(ok[8]).toBe('');
    expect(Number(ok[9])).toBeGreaterThan(0);
    expect([ok[2], ok[3]]).toEqual(['0.0', '0.0']); // non-streamed: prefill and decode 0, as ThunderAgent writes
  });

  test('a file in the other shape is moved aside, never appended to', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentic-otel-shape-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'step_profiles.csv'), `${STEP_CSV_HEADER}\nold,1,0.1,0.1,0.0,0.0,,1.0\n`);
    const h = setupHarness({ profile: { dir, extended: true } });
    const r = await request(`${sim.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: sim.model, messages: [], max_tokens: 2 }) });
    await r.body.text();
    await h.instrumentation.profiles.flush();
    await h.shutdown();
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(readFileSync(join(dir, 'step_profiles.csv'), 'utf8').split('\n')[0]).toBe(STEP_CSV_EXTENDED_HEADER);
    const aside = files.find((f) => f !== 'step_profiles.csv')!;
    expect(readFileSync(join(dir, aside), 'utf8')).toBe(`${STEP_CSV_HEADER}\nold,1,0.1,0.1,0.0,0.0,,1.0\n`);
  });
});
