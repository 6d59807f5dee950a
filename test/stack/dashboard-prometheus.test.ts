/**
 * The dashboard and rules against what the package really exports: the demo workload runs,
 * real Prometheus scrapes it with the shipped scrape config and rules, and every query of every
 * panel (variables substituted: $backend and $model match all, $__rate_interval is 1m) returns a
 * non-empty result.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasPrometheus, startPrometheus, type RealPrometheus } from '../utils/prometheus.js';
import { freePort } from '../utils/servers.js';
import { ensureBuilt } from '../utils/build.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasPrometheus)('the Grafana dashboard on real Prometheus, after the demo workload', () => {
  let demo: ChildProcess;
  let prom: RealPrometheus;
  let dir: string;
  let demoOut = '';

  async function query(q: string): Promise<{ status: string; error?: string; data?: { result: unknown[] } }> {
    return (await (await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as never;
  }

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'agentic-otel-dash-'));
    const port = await freePort();
    // The shipped scrape config, its target pointed at the demo, its rules loaded from the repository.
    const shipped = readFileSync(resolve(repo, 'examples/prometheus/prometheus.yml'), 'utf8');
    const config = shipped.replace("'app:9464'", `'127.0.0.1:${port}'`).replace('rules/agentic-otel.rules.yml', resolve(repo, 'examples/prometheus/rules/agentic-otel.rules.yml')).replace(/scrape_interval: 15s/, 'scrape_interval: 1s').replace(/evaluation_interval: 15s/, 'evaluation_interval: 1s');
    writeFileSync(join(dir, 'prometheus.yml'), config);
    prom = await startPrometheus('unused', 'unused', 1, join(dir, 'prometheus.yml'));
    demo = spawn(process.execPath, ['--import', 'tsx', resolve(repo, 'examples/demo.ts'), '--programs', '8', '--steps', '4', '--seed', '5', '--metrics-port', String(port), '--linger', '20'], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    demo.stdout!.on('data', (d: Buffer) => (demoOut += d.toString()));
    // Until the workload is done and Prometheus has several scrapes of its results.
    for (let i = 0; i < 600 && !demoOut.includes('next:'); i++) await sleep(100);
    await sleep(6000);
  }, 120_000);

  afterAll(async () => {
    demo?.kill('SIGTERM');
    prom?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('every query of every panel returns a non-empty result', async () => {
    const dashboard = JSON.parse(readFileSync(resolve(repo, 'examples/grafana/agentic-otel.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(21);
    const empty: string[] = [];
    for (const panel of dashboard.panels) {
      for (const t of panel.targets) {
        const expr = t.expr.replaceAll('$backend', '.*').replaceAll('$model', '.*').replaceAll('$__rate_interval', '1m');
        const r = await query(expr);
        expect(r.status, `${panel.title}: ${r.error ?? ''}`).toBe('success');
        if ((r.data?.result.length ?? 0) === 0) empty.push(`${panel.title}: ${expr}`);
      }
    }
    expect(empty).toEqual([]);
  }, 60_000);

  test('the shipped rules are loaded and evaluated', async () => {
    const rules = (await (await fetch(`${prom.url}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string }[] }[] } };
    const all = rules.data.groups.flatMap((g) => g.rules);
    expect(all.length).toBe(9);
    expect(all.filter((r) => r.health === 'err')).toEqual([]);
    let recorded = 0;
    for (let i = 0; i < 50 && recorded === 0; i++) {
      recorded = (await query('agentic:requests:rate5m')).data?.result.length ?? 0;
      if (recorded === 0) await sleep(200);
    }
    expect(recorded).toBeGreaterThan(0);
  });
});
