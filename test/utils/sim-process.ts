/**
 * The simulator in a child process, as a real engine runs: its event loop does not share time
 * with the client under test, so comparing the client's phases with the engine's ground truth
 * compares two clocks that each run undisturbed. Durations, not instants, are compared across
 * the two processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SimFault, SimRequestRecord } from '../../src/simulator/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface SimProcess {
  url: string;
  port: number;
  model: string;
  requests(): Promise<SimRequestRecord[]>;
  injectFault(fault: SimFault, count?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts `agentic-otel simulator` from source (through tsx) on a free port. */
export async function startSimulatorProcess(args: string[] = []): Promise<SimProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', resolve(repoRoot, 'src/cli/main.ts'), 'simulator', '--port', '0', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const line = await new Promise<string>((resolveLine, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`simulator did not start: ${stderr}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolveLine(out);
      }
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}: ${stderr}`)));
  });
  const m = /serving (\S+) at (http:\/\/[^\s/]+)\/v1/.exec(line);
  if (m === null) throw new Error(`unexpected simulator banner: ${line}`);
  const url = m[2]!;
  return {
    url,
    port: Number(new URL(url).port),
    model: m[1]!,
    async requests() {
      const res = await fetch(`${url}/sim/requests`);
      return ((await res.json()) as { requests: SimRequestRecord[] }).requests;
    },
    async injectFault(fault, count = 1) {
      const res = await fetch(`${url}/sim/fault`, { method: 'POST', body: JSON.stringify({ fault, count }) });
      if (!res.ok) throw new Error(await res.text());
    },
    close: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
