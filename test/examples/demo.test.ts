/**
 * `npm run demo`, small: its summary's numbers agree with step_profiles.csv and with the
 * simulator's own record of what it served.
 */
import { expect, test } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../utils/build.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

test('the demo: its summary, the CSV and the engine\'s ground truth agree', async () => {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'agentic-otel-demo-test-'));
  let csvDir: string | undefined;
  try {
    const summaryFile = join(dir, 'summary.json');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', resolve(repo, 'examples/demo.ts'), '--programs', '5', '--steps', '3', '--seed', '3', '--metrics-port', '0', '--summary-json', summaryFile], { cwd: repo, timeout: 60_000 });
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as { steps: number; failed: number; engineRequests: number; engineFaults: number; csv: string; profiles: Record<string, { step_count: number; avg_prefill_s: number; avg_decode_s: number; failed_steps: number }> };
    csvDir = dirname(summary.csv);
    expect(stdout).toContain(`5 programs, ${summary.steps} steps (${summary.failed} failed)`);
    const [header, ...rows] = readFileSync(summary.csv, 'utf8').trim().split('\n');
    expect(header!.split(',')).toHaveLength(10);
    // Every step is one request the engine received, and a row; every failure one the engine failed.
    expect(rows).toHaveLength(summary.steps);
    expect(summary.engineRequests).toBe(summary.steps);
    expect(rows.filter((r) => r.split(',')[8] !== '')).toHaveLength(summary.failed);
    expect(summary.engineFaults).toBe(summary.failed);
    // The per-program averages in the summary are the CSV's columns averaged.
    for (const [id, p] of Object.entries(summary.profiles)) {
      const mine = rows.map((r) => r.split(',')).filter((c) => c[0] === id);
      expect(mine).toHaveLength(p.step_count);
      const avg = (col: number) => Math.round((mine.reduce((s, c) => s + Number(c[col]), 0) / mine.length) * 1e4) / 1e4;
      expect(avg(2)).toBeCloseTo(p.avg_prefill_s, 4);
      expect(avg(3)).toBeCloseTo(p.avg_decode_s, 4);
      expect(mine.filter((c) => c[8] !== '')).toHaveLength(p.failed_steps);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (csvDir !== undefined) rmSync(csvDir, { recursive: true, force: true });
  }
}, 90_000);
