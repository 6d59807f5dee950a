/**
 * Real Prometheus for the tests that scrape us: Debian's `prometheus` binary (installed by
 * .ci/run), one scrape job, its own data directory, started on a free port and awaited ready.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './servers.js';

export const hasPrometheus = spawnSync('prometheus', ['--version']).status === 0;

export interface RealPrometheus {
  url: string;
  close(): void;
}

/**
 * Starts Prometheus scraping `target` (host:port) as job `job` every `intervalS` seconds, or with
 * the configuration file `configFile` when given.
 */
export async function startPrometheus(job: string, target: string, intervalS: number, configFile?: string): Promise<RealPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'agentic-otel-prom-'));
  const port = await freePort();
  if (configFile === undefined) writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: ${intervalS}s\nscrape_configs:\n  - job_name: ${job}\n    static_configs:\n      - targets: ['${target}']\n`);
  const prom: ChildProcess = spawn('prometheus', [`--config.file=${configFile ?? join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && !(await fetch(`${url}/-/ready`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 200));
  return {
    url,
    close: () => {
      prom.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
