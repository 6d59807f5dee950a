/**
 * What we open does not hold the process, and breakers follow request outcomes: an engine's
 * `/metrics` answering 404 or garbage never opens a breaker while its completions succeed,
 * and a successful poll never closes a breaker that requests opened.
 */
import { describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { startSimulator } from '../../src/simulator/index.js';
import { CircuitOpenError } from '../../src/breakers/circuit-breaker.js';
import { setupHarness } from '../utils/otel.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../..');

describe('the status server', () => {
  test('a script that calls sdk.shutdown() with the status server on exits by itself', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(here, '../profiles/children/status-exit-child.ts')], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      // No exporter to wait for: only our status server could hold the process.
      env: { ...process.env, OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' },
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = await new Promise<boolean>((r) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        r(false);
      }, 15_000);
      child.on('exit', () => {
        clearTimeout(timer);
        r(true);
      });
    });
    expect(out).toMatch(/listening \d+/);
    expect(out).toContain('shut down');
    expect(exited).toBe(true);
  }, 30_000);
});

const completion = JSON.stringify({ model: 'sim-llama-3-8b', messages: [{ role: 'user', content: 'x' }], max_tokens: 2 });

describe('breakers follow request outcomes', () => {
  test('an engine whose /metrics answers 404 or garbage, while completions succeed, keeps a closed breaker', async () => {
    const sim = await startSimulator({ decodeMsPerToken: 0.5 });
    // A front that serves completions from the simulator and broken /metrics.
    let polls = 0;
    const front = createServer((req, res) => {
      if (req.url?.startsWith('/metrics') === true || req.url?.startsWith('/get_server_info') === true) {
        polls++;
        res.writeHead(polls % 2 === 0 ? 404 : 200, { 'content-type': 'text/plain' });
        res.end(polls % 2 === 0 ? 'not found' : '<html>garbage</html>');
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void request(sim.url + req.url!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) }).then(async (r) => {
          res.writeHead(r.statusCode, { 'content-type': String(r.headers['content-type']) });
          res.end(Buffer.from(await r.body.arrayBuffer()));
        });
      });
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(front.address() as { port: number }).port}`;
    const h = setupHarness({ backends: [{ url }], pollIntervalMs: 30, pollTimeoutMs: 500, circuitBreaker: { threshold: 2, cooldownMs: 60_000, failFast: true } });
    try {
      await new Promise((r) => setTimeout(r, 400));
      expect(polls).toBeGreaterThan(4);
      for (let i = 0; i < 3; i++) {
        const r = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: completion });
        expect(r.statusCode).toBe(200);
        await r.body.text();
      }
    } finally {
      await h.shutdown();
      front.closeAllConnections();
      await new Promise((r) => front.close(r));
      await sim.close();
    }
  });

  test('a breaker that requests opened is not closed by a successful poll', async () => {
    const sim = await startSimulator({ decodeMsPerToken: 0.5 });
    const h = setupHarness({ backends: [{ url: sim.url }], pollIntervalMs: 30, circuitBreaker: { threshold: 2, cooldownMs: 60_000, failFast: true } });
    try {
      sim.injectFault('http_500', 2);
      for (let i = 0; i < 2; i++) {
        const r = await request(`${sim.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: completion });
        expect(r.statusCode).toBe(500);
        await r.body.text();
      }
      await new Promise((r) => setTimeout(r, 300)); // several successful polls
      await expect(request(`${sim.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: completion })).rejects.toBeInstanceOf(CircuitOpenError);
    } finally {
      await h.shutdown();
      await sim.close();
    }
  });
});
