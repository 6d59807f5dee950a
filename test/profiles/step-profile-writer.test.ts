import { afterEach, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { StepProfileWriter } from '../../src/profiles/step-profile-writer.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'agentic-otel-csv-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  diag.disable();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('StepProfileWriter', () => {
  test('writes the header once; a restart appends without a second header', async () => {
    const dir = join(tempDir(), 'nested', 'profiles');
    const first = new StepProfileWriter(dir);
    first.write('a,1,0.1,0.2,0.0,0.0,,1.0\n');
    await first.shutdown();
    const second = new StepProfileWriter(dir);
    second.write('a,2,0.1,0.2,0.0,1.0,0.5,2.0\n');
    await second.shutdown();
    expect(readFileSync(join(dir, 'step_profiles.csv'), 'utf8')).toBe(
      'program_id,step_id,prefill_s,decode_s,pause_s,tool_call_s,kv_hit_rate,completed_at\na,1,0.1,0.2,0.0,0.0,,1.0\na,2,0.1,0.2,0.0,1.0,0.5,2.0\n',
    );
  });

  test('shutdown flushes every row, in order', async () => {
    const dir = tempDir();
    const w = new StepProfileWriter(dir);
    for (let i = 0; i < 2500; i++) w.write(`p,${i},0.0,0.0,0.0,0.0,,0.0\n`);
    await w.shutdown();
    const lines = readFileSync(w.path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2501);
    expect(lines.slice(1).map((l) => Number(l.split(',')[1]))).toEqual(Array.from({ length: 2500 }, (_, i) => i));
  });

  test('an unwritable directory is reported once; rows stay in memory', async () => {
    const warnings: string[] = [];
    const logger: DiagLogger = { error: () => {}, warn: (...args: unknown[]) => warnings.push(args.join(' ')), info: () => {}, debug: () => {}, verbose: () => {} };
    diag.setLogger(logger, DiagLogLevel.WARN);
    const blocker = join(tempDir(), 'a-file');
    writeFileSync(blocker, 'not a directory');
    const w = new StepProfileWriter(join(blocker, 'profiles')); // mkdir fails with ENOTDIR, even as root
    w.write('x,1,0.0,0.0,0.0,0.0,,0.0\n');
    await w.flush();
    w.write('x,2,0.0,0.0,0.0,0.0,,0.0\n');
    await w.shutdown();
    expect(warnings.filter((m) => m.includes('cannot write step profiles'))).toHaveLength(1);
    expect(w.pendingRows).toBe(2);
  });
});

describe('exit handlers', () => {
  test('installed once per process however many writers exist, removed with the last shutdown', async () => {
    const counts = () => ['beforeExit', 'exit', 'SIGTERM', 'SIGINT'].map((e) => process.listenerCount(e));
    const before = counts();
    const writers = [new StepProfileWriter(tempDir()), new StepProfileWriter(tempDir()), new StepProfileWriter(tempDir())];
    expect(counts()).toEqual(before); // nothing until a row is queued
    for (const w of writers) w.write('p,1,0.0,0.0,0.0,0.0,,1.0\n');
    expect(counts()).toEqual(before.map((n) => n + 1));
    await writers[0]!.shutdown();
    await writers[1]!.shutdown();
    expect(counts()).toEqual(before.map((n) => n + 1));
    await writers[2]!.shutdown();
    expect(counts()).toEqual(before);
  });

  test('disable() of the instrumentation removes them', async () => {
    const { startSimulator } = await import('../../src/simulator/index.js');
    const { setupHarness } = await import('../utils/otel.js');
    const { request } = await import('undici');
    const sim = await startSimulator({ decodeMsPerToken: 0.5 });
    const before = process.listenerCount('SIGTERM');
    const h = setupHarness({ profile: { dir: tempDir() } });
    try {
      const r = await request(`${sim.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: sim.model, messages: [], max_tokens: 2 }) });
      await r.body.text();
      expect(process.listenerCount('SIGTERM')).toBe(before + 1);
      h.instrumentation.disable();
      await h.instrumentation.shutdown();
      expect(process.listenerCount('SIGTERM')).toBe(before);
    } finally {
      await h.shutdown();
      await sim.close();
    }
  });
});
