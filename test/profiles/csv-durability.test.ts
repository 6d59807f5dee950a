/**
 * No recorded row is lost: a process that made steps with `profile` on and never called
 * shutdown() has every finished step's row in step_profiles.csv, exactly once, however it
 * ended (natural end, process.exit, SIGTERM with and without a handler of its own); SIGKILL
 * loses at most the rows of the last second; a disk that fills up never tears or duplicates a
 * line.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StepProfileWriter, type WriterIo } from '../../src/profiles/step-profile-writer.js';
import { STEP_CSV_HEADER } from '../../src/profiles/step-csv.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../..');
const CHILD = resolve(here, 'children/csv-child.ts');

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'agentic-otel-durable-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** Each `step` line's receipt time, ms. */
  stepTimes: { key: string; at: number }[];
}

/** Runs the child; `onReady` is called when it prints `ready` (or, in `stream` mode, after `killAfterMs`). */
function runChild(dir: string, mode: string, act?: (pid: number) => void, killAfterMs?: number, extra: string[] = []): Promise<ChildRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, mode, ...extra], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let buffered = '';
    const stepTimes: { key: string; at: number }[] = [];
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith('step ')) stepTimes.push({ key: line.slice(5).replace(' ', ','), at: Date.now() });
        if (line === 'ready') act?.(child.pid!);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    if (killAfterMs !== undefined) setTimeout(() => act?.(child.pid!), killAfterMs);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not end: ${stdout}\n${stderr}`));
    }, 30_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stepTimes });
    });
  });
}

/** The CSV's rows as `program,step` keys. */
function rowKeys(dir: string): string[] {
  const lines = readFileSync(join(dir, 'step_profiles.csv'), 'utf8').split('\n');
  expect(lines[0]).toBe(STEP_CSV_HEADER);
  expect(lines.at(-1)).toBe(''); // ends with a complete line
  return lines.slice(1, -1).map((l) => {
    expect(l.split(',')).toHaveLength(8);
    return l.split(',').slice(0, 2).join(',');
  });
}

describe('every finished step reaches the CSV, exactly once, without shutdown()', () => {
  test.each([
    ['natural', 'a natural end', null, 0],
    ['exit', 'process.exit(0)', null, 0],
  ])('%s: %s', async (mode, _how, signal, code) => {
    const dir = tempDir();
    const run = await runChild(dir, mode);
    expect(run.signal).toBe(signal);
    expect(run.code).toBe(code);
    expect(run.stepTimes).toHaveLength(5);
    expect(rowKeys(dir).sort()).toEqual(run.stepTimes.map((s) => s.key).sort());
  }, 40_000);

  test.each(['natural', 'exit', 'sigterm'])('%s: a failed step still waiting for its retry ends and writes its row first', async (mode) => {
    const dir = tempDir();
    const run = await runChild(dir, mode, mode === 'sigterm' ? (pid) => process.kill(pid, 'SIGTERM') : undefined, undefined, ['5', 'waiting']);
    expect(run.stepTimes).toHaveLength(6); // five steps and the failed one, ended at exit
    expect(run.stepTimes.at(-1)!.key).toBe(`${mode}-prog,6`);
    expect(rowKeys(dir).sort()).toEqual(run.stepTimes.map((s) => s.key).sort());
  }, 40_000);

  test('SIGTERM without a handler of the application: rows written, and the process still dies of the signal', async () => {
    const dir = tempDir();
    const run = await runChild(dir, 'sigterm', (pid) => process.kill(pid, 'SIGTERM'));
    expect(run.signal).toBe('SIGTERM');
    expect(rowKeys(dir).sort()).toEqual(run.stepTimes.map((s) => s.key).sort());
    expect(run.stepTimes).toHaveLength(5);
  }, 40_000);

  test("SIGTERM with the application's own handler: rows written, and the application decides", async () => {
    const dir = tempDir();
    const run = await runChild(dir, 'sigterm-handler', (pid) => process.kill(pid, 'SIGTERM'));
    expect(run.stdout).toContain('application handler');
    expect(run.code).toBe(0);
    expect(run.signal).toBeNull();
    expect(rowKeys(dir).sort()).toEqual(run.stepTimes.map((s) => s.key).sort());
  }, 40_000);

  test('SIGKILL: only rows of steps finished in the last second before the kill can be missing', async () => {
    const dir = tempDir();
    let killedAt = 0;
    const run = await runChild(dir, 'stream', (pid) => {
      killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
    }, 3000);
    expect(run.signal).toBe('SIGKILL');
    const rows = new Set(rowKeys(dir));
    // A row is queued when its step ends and written within 1 s; allow 300 ms for the pipe and
    // a loaded machine on top of the documented second.
    const old = run.stepTimes.filter((s) => s.at < killedAt - 1300);
    expect(old.length).toBeGreaterThan(10);
    const missing = old.filter((s) => !rows.has(s.key));
    expect(missing).toEqual([]);
    expect(rows.size).toBe(rowKeys(dir).length); // no duplicate
  }, 40_000);
});

/** A disk that takes `capacity` bytes in all, then fails with ENOSPC (after a short write). */
function fillingDisk(capacity: number): WriterIo & { data: () => string; grow: (n: number) => void } {
  let stored = Buffer.alloc(0);
  let cap = capacity;
  const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  return {
    mkdir: () => {},
    open: () => ({ fd: 3, size: stored.length }),
    write: (_fd, bytes, offset, length) => {
      const room = cap - stored.length;
      if (room <= 0) throw enospc();
      const n = Math.min(room, length);
      stored = Buffer.concat([stored, bytes.subarray(offset, offset + n)]);
      return n;
    },
    truncate: (_fd, size) => {
      stored = stored.subarray(0, size);
    },
    close: () => {},
    data: () => stored.toString('utf8'),
    grow: (n) => {
      cap += n;
    },
  };
}

describe('a full disk', () => {
  test('a write that stores N bytes then fails leaves no torn or duplicated line, and every row arrives once space is back', async () => {
    const disk = fillingDisk(STEP_CSV_HEADER.length + 1 + 70);
    const w = new StepProfileWriter('/nowhere', disk);
    const rows = Array.from({ length: 5 }, (_, i) => `during-full-${String(i).padStart(3, '0')},1,0.0004,0.0,0.0,0.0,,1.0\n`);
    for (const r of rows) w.write(r);
    w.flushSync();
    expect(disk.data()).toBe(''); // the torn batch was truncated away
    w.write('after,1,0.0,0.0,0.0,0.0,,2.0\n');
    w.flushSync();
    expect(disk.data()).toBe('');
    disk.grow(10_000);
    await w.shutdown();
    expect(disk.data()).toBe(`${STEP_CSV_HEADER}\n${rows.join('')}after,1,0.0,0.0,0.0,0.0,,2.0\n`);
  });

  test('where truncating fails too, only the unwritten tail is written next: the line is completed, never repeated', async () => {
    const disk = fillingDisk(STEP_CSV_HEADER.length + 1 + 30);
    disk.truncate = () => {
      throw new Error('EIO');
    };
    const w = new StepProfileWriter('/nowhere', disk);
    const rows = ['a,1,0.1,0.2,0.0,0.0,,1.0\n', 'b,1,0.1,0.2,0.0,0.0,,1.0\n', 'c,1,0.1,0.2,0.0,0.0,,1.0\n'];
    for (const r of rows) w.write(r);
    w.flushSync();
    w.write('d,1,0.1,0.2,0.0,0.0,,1.0\n');
    disk.grow(1000);
    await w.shutdown();
    expect(disk.data()).toBe(`${STEP_CSV_HEADER}\n${rows.join('')}d,1,0.1,0.2,0.0,0.0,,1.0\n`);
  });

  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  test.runIf(root)('a real tmpfs of 8 KiB (root only): the file holds only complete, distinct rows', async () => {
    const mount = join(tempDir(), 'tiny');
    mkdirSync(mount);
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8k', 'tmpfs', mount]);
    if (r.status !== 0) {
      console.warn(`NOTICE: could not mount a tmpfs (${String(r.stderr)}); the real-disk check is skipped`);
      return;
    }
    try {
      const w = new StepProfileWriter(mount);
      const written: string[] = [];
      for (let batch = 0; batch < 40; batch++) {
        for (let i = 0; i < 10; i++) {
          const row = `during-full-${String(batch * 10 + i).padStart(3, '0')},1,0.0004,0.0,0.0,0.0,,1.0\n`;
          written.push(row);
          w.write(row);
        }
        w.flushSync();
      }
      await w.shutdown();
      const text = readFileSync(join(mount, 'step_profiles.csv'), 'utf8');
      const lines = text.split('\n');
      expect(lines[0]).toBe(STEP_CSV_HEADER);
      expect(lines.at(-1)).toBe('');
      const body = lines.slice(1, -1);
      expect(body.length).toBeGreaterThan(10);
      expect(new Set(body).size).toBe(body.length);
      for (const l of body) expect(written).toContain(`${l}\n`);
    } finally {
      spawnSync('umount', [mount]);
    }
  });
  test.skipIf(root)('a real tmpfs (needs root to mount: skipped)', () => {
    console.warn('NOTICE: not root; the tmpfs full-disk check is skipped');
  });
});
