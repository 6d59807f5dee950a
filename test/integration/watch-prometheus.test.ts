/**
 * End to end: real Prometheus scrapes `agentic-otel watch` (its own process) pointed at two
 * simulators, vLLM and SGLang flavours, while a workload runs; the scraped gauges equal the
 * simulators' own state. A third backend refuses connections: one warning, `up` 0. Ctrl-C
 * stops it cleanly. Skipped with a notice where the `prometheus` binary is absent.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { freePort } from '../utils/servers.js';
import { hasPrometheus, startPrometheus, type RealPrometheus } from '../utils/prometheus.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
if (!hasPrometheus) console.warn('NOTICE: the `prometheus` binary is not installed; the watch end-to-end test is skipped');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasPrometheus)('agentic-otel watch scraped by Prometheus', () => {
  let vllm: Simulator;
  let sglang: Simulator;
  let watcher: ChildProcess;
  let prom: RealPrometheus;
  let promUrl: string;
  let stdout = '';
  let stderr = '';
  const refused = 'http://127.0.0.1:1';

  const query = async (q: string) => {
    const body = (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    return body.data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
  };
  const one = async (q: string) => {
    const r = await query(q);
    expect(r, q).toHaveLength(1);
    return r[0]!.value;
  };

  beforeAll(async () => {
    vllm = await startSimulator({ flavor: 'vllm', decodeMsPerToken: 1, maxRunning: 8 });
    sglang = await startSimulator({ flavor: 'sglang', decodeMsPerToken: 1 });
    const watchPort = await freePort();
    watcher = spawn(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'watch', '--backend', vllm.url, '--backend', `sglang=${sglang.url}`, '--backend', refused, '--port', String(watchPort), '--interval', '300ms'], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    watcher.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    watcher.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    prom = await startPrometheus('watch', `127.0.0.1:${watchPort}`, 1);
    promUrl = prom.url;
    // A workload on both engines, with a shared prefix so the prefix caches hit.
    await Promise.all([vllm, sglang].flatMap((sim) => Array.from({ length: 6 }, (_, i) =>
      fetch(`${sim.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: sim.model, messages: [{ role: 'system', content: 'shared system prompt for every agent '.repeat(6) }, { role: 'user', content: `task ${i}` }], max_tokens: 5 + i }) }).then((r) => r.text()))));
    // Until Prometheus holds a scrape taken after the engines went idle.
    const expected = vllm.requests().reduce((s, r) => s + r.promptTokens, 0);
    for (let i = 0; i < 100; i++) {
      const r = await query(`agentic_backend_prompt_tokens_total{backend_url="${vllm.url}"}`);
      if (r[0]?.value === expected) break;
      await sleep(200);
    }
  }, 60_000);

  afterAll(async () => {
    prom?.close();
    if (watcher?.exitCode === null) watcher.kill('SIGKILL');
    await vllm?.close();
    await sglang?.close();
  });

  test('the scraped gauges equal the simulators\' state', async () => {
    for (const sim of [vllm, sglang]) {
      const l = `backend_url="${sim.url}"`;
      const recs = sim.requests();
      expect(await one(`agentic_backend_up{${l}}`)).toBe(1);
      expect(await one(`agentic_backend_prompt_tokens_total{${l}}`)).toBe(recs.reduce((s, r) => s + r.promptTokens, 0));
      expect(await one(`agentic_backend_generation_tokens_total{${l}}`)).toBe(recs.reduce((s, r) => s + r.completionTokens, 0));
      expect(await one(`agentic_backend_requests_running{${l}}`)).toBe(sim.load().running);
      expect(await one(`agentic_backend_requests_waiting{${l}}`)).toBe(sim.load().waiting);
      const hits = recs.reduce((s, r) => s + r.cachedTokens, 0);
      expect(hits).toBeGreaterThan(0);
      expect(await one(`agentic_backend_prefix_cache_hit_rate{${l}}`)).toBeCloseTo(hits / recs.reduce((s, r) => s + r.promptTokens, 0), 12);
      expect(await one(`agentic_backend_capacity_tokens{${l}}`)).toBe(4096 * 16);
      expect(await one(`llm_kv_blocks_total{worker_id="${sim.url}"}`)).toBe(4096);
    }
    expect((await query('agentic_backend_up')).map((r) => [r.labels['backend_url'], r.value]).sort()).toEqual([
      [refused, 0], [vllm.url, 1], [sglang.url, 1],
    ].sort());
    // What an up backend serves is its info series; a down one has none.
    expect((await query('agentic_backend_info')).map((r) => [r.labels['backend_url'], r.labels['backend_kind']]).sort()).toEqual([
      [vllm.url, 'vllm'], [sglang.url, 'sglang'],
    ].sort());
    expect((await query('agentic_backend_finished_total')).length).toBe(0); // no such series: the name is requests_finished
    expect(await one(`sum(agentic_backend_requests_finished_total{backend_url="${vllm.url}"})`)).toBe(6);
    expect(await one('llm_load_avg')).toBe(0);
  });

  test('one warning while a backend is down, a live status, and a clean exit on Ctrl-C', async () => {
    expect(stderr.match(/warning: backend http:\/\/127\.0\.0\.1:1 cannot be polled/g)).toHaveLength(1);
    expect(stdout).toMatch(/Prometheus endpoint http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(stdout).toMatch(/http:\/\/127\.0\.0\.1:1 DOWN/);
    const exit = new Promise<number | null>((r) => watcher.once('exit', (code) => r(code)));
    watcher.kill('SIGINT');
    expect(await exit).toBe(0);
    expect(stdout).toContain('agentic-otel watch: stopped');
  });

  test('bad flags and URLs: a clear error, exit code 2', () => {
    for (const args of [['watch'], ['watch', '--backend', 'not-a-url'], ['watch', '--backend', 'ftp://x'], ['watch', '--backend', 'http://x', '--interval', 'soon'], ['watch', '--backend', 'http://x', '--port', '99999']]) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args], { cwd: repo, encoding: 'utf8' });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^agentic-otel: (watch needs|--backend|--interval|--port)/);
    }
  }, 60_000);
});
