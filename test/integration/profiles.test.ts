/**
 * Step profiles end to end: concurrent agent programs against the simulator (in its own
 * process), step_profiles.csv checked row by row against the spans and the simulator's ground
 * truth, the averages of /profiles against the averages of the file, and the status server
 * over real HTTP, its JSON keyed as ThunderAgent's reference and real output.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { withProgram } from '../../src/index.js';
import type { SimRequestRecord } from '../../src/simulator/index.js';
import { setupHarness, stepTrees, type Harness } from '../utils/otel.js';
import { startSimulatorProcess, type SimProcess } from '../utils/sim-process.js';
import { readFixture } from '../utils/fixtures.js';
import { LoopLag } from '../utils/loop-lag.js';

let sim: SimProcess;
let h: Harness;
let dir: string;
let port: number;
let rows: string[][];
let records: Map<string, SimRequestRecord>;
/** Stalls of this process while the programs ran (the prefill check widens by them: loop-lag.ts). */
const lag = new LoopLag();
const PROGRAMS = ['alpha', 'beta,with comma', '=cmd|calc', 'delta'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Splits a CSV line (RFC 4180) into fields. */
function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (line[q + 1] === '"') {
          v += line.slice(i, q) + '"';
          i = q + 2;
        } else {
          v += line.slice(i, q);
          i = q + 2;
          break;
        }
      }
      out.push(v);
    } else {
      const c = line.indexOf(',', i);
      const end = c === -1 ? line.length : c;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agentic-otel-profiles-'));
  sim = await startSimulatorProcess(['--decode-ms', '2', '--max-running', '64']);
  const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'k', maxRetries: 0 });
  // Steady state first (connections, JIT), through an instrumentation that writes no profile.
  const warm = setupHarness();
  await withProgram('warm-up', async () => {
    for (let i = 0; i < 3; i++) for await (const _c of await client.chat.completions.create({ model: sim.model, messages: [{ role: 'user', content: 'warm' }], stream: true, max_tokens: 4 })) void _c;
  });
  await warm.shutdown();
  h = setupHarness({ profile: { dir }, statusServer: { port: 0 } });
  port = (await h.instrumentation.statusServerPort())!;
  lag.start();
  await Promise.all(PROGRAMS.map((id, i) => withProgram(id, async () => {
    await sleep(3 * i);
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'system', content: 'You are an agent. '.repeat(10) }, { role: 'user', content: `task ${i}` }];
    for (let step = 0; step < 3; step++) {
      const s = await client.chat.completions.create({ model: sim.model, messages, stream: true, max_tokens: 6 + step });
      let text = '';
      for await (const c of s) text += c.choices[0]?.delta.content ?? '';
      messages.push({ role: 'assistant', content: text }, { role: 'user', content: `go on ${step}` });
      await sleep(10 + 5 * i);
    }
  })));
  lag.stop();
  await h.instrumentation.profiles.flush();
  rows = readFileSync(join(dir, 'step_profiles.csv'), 'utf8').trimEnd().split('\n').map(parseCsvLine);
  records = new Map((await sim.requests()).map((r) => [r.id, r]));
}, 60_000);

afterAll(async () => {
  await h.shutdown();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('step_profiles.csv', () => {
  test('one row per step under the exact header, ids quoted and neutralised', () => {
    expect(rows[0]).toEqual(['program_id', 'step_id', 'prefill_s', 'decode_s', 'pause_s', 'tool_call_s', 'kv_hit_rate', 'completed_at']);
    expect(rows).toHaveLength(1 + 3 * PROGRAMS.length);
    const ids = new Set(rows.slice(1).map((r) => r[0]));
    expect(ids).toEqual(new Set(['alpha', 'beta,with comma', "'=cmd|calc", 'delta']));
    for (const r of rows.slice(1)) {
      expect(r).toHaveLength(8);
      for (const v of [r[2], r[3], r[4], r[5], r[7]]) expect(v).toMatch(/^\d+\.\d{1,4}$/);
    }
  });

  test('every row agrees with its span and with the simulator', () => {
    const trees = stepTrees(h.spans());
    expect(trees).toHaveLength(rows.length - 1);
    const prefillErr: number[] = [];
    for (const r of rows.slice(1)) {
      const programId = r[0]!.startsWith("'") ? r[0]!.slice(1) : r[0]!;
      const tree = trees.find((t) => t.step.attributes['agentic.program.id'] === programId && t.step.attributes['agentic.step.id'] === Number(r[1]))!;
      const a = tree.step.attributes;
      const r4 = (v: unknown) => String(Math.round((v as number) * 1e4) / 1e4);
      expect(Number(r[2])).toBe(Number(r4(a['agentic.step.prefill_s'])));
      expect(Number(r[3])).toBe(Number(r4(a['agentic.step.decode_s'])));
      expect(Number(r[4])).toBe(Number(r4(a['agentic.step.pause_s'])));
      expect(Number(r[5])).toBe(Number(r4(a['agentic.step.tool_call_s'])));
      if (r[1] === '1') expect(r[6]).toBe('');
      else expect(Number(r[6])).toBe(Number(r4(a['agentic.step.kv_hit_rate'])));
      // Epoch seconds as a double are only good to ~2.4e-7 s (2^-22 at 1.7e9), so the check
      // allows half the CSV's 0.1 ms unit plus a few of those, never the unit itself.
      const endS = tree.step.endTime[0] + tree.step.endTime[1] / 1e9;
      expect(Math.abs(Number(r[7]) - endS)).toBeLessThanOrEqual(0.00005 + 1e-6);
      const rec = records.get(tree.chat.attributes['gen_ai.response.id'] as string)!;
      expect(Number(r[6] || 0)).toBe(r[1] === '1' ? 0 : Math.round((rec.cachedTokens / rec.promptTokens) * 1e4) / 1e4);
      prefillErr.push(Math.abs(Number(r[2]) * 1000 - (rec.firstTokenAt! - rec.receivedAt)));
    }
    // Each row's prefill is the engine's queue + prefill as the client saw it. With four streams
    // in one test process a row can wait on that process's event loop (and on a machine short of
    // CPU, on the scheduler), so the 5 ms agreement is tested where the client is not saturated
    // (openai-steps.test.ts); here, no gross error in the typical row.
    prefillErr.sort((a, b) => a - b);
    expect(prefillErr[Math.floor(prefillErr.length / 2)]!).toBeLessThan(lag.withinTypical(25));
  });
});

describe('status server over HTTP', () => {
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  test('/profiles averages equal the averages computed from the CSV', async () => {
    const { status, body } = await get('/profiles');
    expect(status).toBe(200);
    for (const id of PROGRAMS) {
      const csvId = id.startsWith('=') ? `'${id}` : id;
      const mine = rows.slice(1).filter((r) => r[0] === csvId);
      const avg = (xs: number[]) => (xs.length ? Math.round((xs.reduce((s, x) => s + x, 0) / xs.length) * 1e4) / 1e4 : 0);
      const col = (i: number, from = 0) => mine.filter((r) => Number(r[1]) > from).map((r) => Number(r[i]));
      const profile = body[id] as Record<string, number>;
      expect(profile['step_count']).toBe(3);
      expect(profile['avg_prefill_s']).toBe(avg(col(2)));
      expect(profile['avg_decode_s']).toBe(avg(col(3)));
      expect(profile['avg_pause_s']).toBe(avg(col(4)));
      expect(profile['avg_tool_call_s']).toBe(avg(col(5, 1)));
      expect(profile['avg_kv_hit_rate']).toBe(avg(mine.filter((r) => r[6] !== '').map((r) => Number(r[6]))));
    }
  });

  test('JSON shapes carry every key of the reference and of the real ThunderAgent output', async () => {
    const real = readFixture('thunderagent/smoke-test-output.txt');
    const programsJson = JSON.parse(real.slice(real.indexOf('=== 4. /programs'), real.indexOf('=== 5.')).replace(/^=== .*\n/, '')) as Record<string, Record<string, unknown>>;
    const realProgram = programsJson['verify-a']!;
    const realProfile = realProgram['profile'] as Record<string, unknown>;
    const referenceProfileKeys = ['step_count', 'avg_prefill_s', 'avg_decode_s', 'avg_pause_s', 'avg_tool_call_s', 'avg_kv_hit_rate'];

    const one = await get(`/profiles/${encodeURIComponent('beta,with comma')}`);
    expect(one.status).toBe(200);
    for (const k of [...referenceProfileKeys, ...Object.keys(realProfile)]) expect(one.body).toHaveProperty(k);
    for (const k of Object.keys(realProfile)) expect(typeof one.body[k]).toBe(typeof realProfile[k] === 'object' ? typeof one.body[k] : typeof realProfile[k]);

    const programs = await get('/programs');
    const view = programs.body['alpha'] as Record<string, unknown>;
    // context_len is ThunderAgent's own size estimate, defined nowhere in the reference: not emitted.
    for (const k of Object.keys(realProgram).filter((k) => k !== 'context_len')) expect(view).toHaveProperty(k);
    expect(view).toMatchObject({ backend: sim.url, step_count: 3, status: 'acting', state: 'active' });
    expect(view['total_tokens']).toBeGreaterThan(0);

    const health = await get('/health');
    expect(health.body).toMatchObject({ status: 'ok', profile_enabled: true, programs_count: 4, reasoning_count: 0, acting_count: 4 });
  });

  test('errors: unknown program 404, unknown path 404, wrong method 405, all JSON', async () => {
    expect(await get('/profiles/nobody')).toEqual({ status: 404, body: { error: 'no profile for program nobody' } });
    expect((await get('/nope')).status).toBe(404);
    const res = await fetch(`http://127.0.0.1:${port}/profiles`, { method: 'POST' });
    expect(res.status).toBe(405);
    expect(await res.json()).toHaveProperty('error');
  });

  test('profiling off: /profiles answers 400 with a JSON error, /programs still works', async () => {
    const off = setupHarness({ statusServer: { port: 0 }, installGlobalDispatcher: false });
    try {
      const p = (await off.instrumentation.statusServerPort())!;
      const res = await fetch(`http://127.0.0.1:${p}/profiles/alpha`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/profiling is not enabled/);
      expect((await fetch(`http://127.0.0.1:${p}/programs`)).status).toBe(200);
    } finally {
      await off.shutdown();
    }
  });
});
