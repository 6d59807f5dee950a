/**
 * Hostile and odd engines, each built from the failure it once caused: a drip-feeding engine,
 * SGLang server info answered in HTML, a format that flips behind one URL, samples after
 * `# EOF`, a duplicated series, values no engine can mean, a backend URL with a path and query.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { BackendPoller } from '../../src/engines/backend-poller.js';
import { engineUrl } from '../../src/engines/backend-state.js';
import { parsePrometheusText } from '../../src/prometheus/parse-prometheus-text.js';
import { readFixture } from '../utils/fixtures.js';

const servers: Server[] = [];
afterEach(async () => {
  diag.disable();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as { port: number }).port}`;
}

const VLLM = readFixture('prometheus/vllm-v1-idle.prom');
const SGLANG = readFixture('prometheus/sglang-docs-example.prom');
const vllmText = (running: number, usage: number) =>
  `# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{engine="0",model_name="m"} ${running}\n# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc{engine="0",model_name="m"} ${usage}\n# TYPE vllm:prompt_tokens_total counter\nvllm:prompt_tokens_total{engine="0",model_name="m"} 10\n`;

function warnings(): string[] {
  const out: string[] = [];
  diag.setLogger({ warn: (...a: unknown[]) => out.push(a.join(' ')), error: () => {}, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
  return out;
}

describe('polls', () => {
  test('one deadline per poll: an engine that drips a byte every 100 ms is down after the timeout, not up on an old snapshot', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const body = vllmText(1, 0.5);
      let i = 0;
      const t = setInterval(() => {
        if (i >= body.length) {
          clearInterval(t);
          res.end();
          return;
        }
        res.write(body[i++]);
      }, 100);
      res.on('close', () => clearInterval(t));
    });
    const poller = new BackendPoller([{ url }], { pollIntervalMs: 60_000, pollTimeoutMs: 400 });
    const started = Date.now();
    await poller.pollAll();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(poller.backends[0]!.up).toBe(false);
    expect(poller.backends[0]!.lastError).toMatch(/no complete answer within 400 ms/);
  });

  test('a poll in flight is joined, not started twice; pollAll resolves after a completed poll', async () => {
    let hits = 0;
    const url = await serve((_req, res) => {
      hits++;
      setTimeout(() => res.end(vllmText(2, 0.1)), 50);
    });
    const poller = new BackendPoller([{ url }], { pollIntervalMs: 60_000 });
    await Promise.all([poller.pollAll(), poller.pollAll(), poller.pollAll()]);
    expect(hits).toBe(1);
    expect(poller.backends[0]!.up).toBe(true);
    expect(poller.backends[0]!.last?.snapshot.running).toBe(2);
  });

  test('SGLang whose /get_server_info answers 200 with HTML is up on its /metrics; the reason is reported once', async () => {
    const warned = warnings();
    const url = await serve((req, res) => {
      if (req.url === '/get_server_info') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>proxy login</html>');
        return;
      }
      res.end(SGLANG);
    });
    const poller = new BackendPoller([{ url }], { pollIntervalMs: 60_000 });
    await poller.pollAll();
    await poller.pollAll();
    const b = poller.backends[0]!;
    expect(b.up).toBe(true);
    expect(b.kind).toBe('sglang');
    expect(warned.filter((w) => w.includes('/get_server_info'))).toHaveLength(1);
  });

  test('a backend whose format changes behind the same URL (vLLM → SGLang) is read as what it now is', async () => {
    let body = VLLM;
    const url = await serve((req, res) => res.end(req.url === '/get_server_info' ? '{}' : body));
    const poller = new BackendPoller([{ url }], { pollIntervalMs: 60_000 });
    await poller.pollAll();
    expect(poller.backends[0]!.kind).toBe('vllm');
    body = SGLANG;
    await poller.pollAll();
    expect(poller.backends[0]!.up).toBe(true);
    expect(poller.backends[0]!.kind).toBe('sglang');
  });

  test('backend URLs keep their own path and query when an endpoint is appended', async () => {
    expect(engineUrl('http://h:8000/?token=X', '/metrics')).toBe('http://h:8000/metrics?token=X');
    expect(engineUrl('http://h:8000/vllm/', '/metrics')).toBe('http://h:8000/vllm/metrics');
    expect(engineUrl('http://u:p@h:8000/a?x=1&y=2#frag', '/get_server_info')).toBe('http://u:p@h:8000/a/get_server_info?x=1&y=2');
    const seen: string[] = [];
    const url = await serve((req, res) => {
      seen.push(req.url!);
      res.end(vllmText(0, 0));
    });
    const poller = new BackendPoller([{ url: `${url}/engine?token=X` }], { pollIntervalMs: 60_000 });
    await poller.pollAll();
    expect(seen).toEqual(['/engine/metrics?token=X']);
    expect(poller.backends[0]!.url).toBe(`${url}/engine`); // no query in the label
  });
});

describe('values', () => {
  test('nothing after # EOF is read', () => {
    const p = parsePrometheusText('# TYPE a gauge\na 1\n# EOF\na 5\nb 2\n');
    expect(p.families.get('a')!.samples.map((s) => s.value)).toEqual([1]);
    expect(p.families.has('b')).toBe(false);
  });

  test('a duplicated series is reported once and its first value kept; out-of-range values are dropped and reported', async () => {
    const warned = warnings();
    const url = await serve((_req, res) => res.end([
      '# TYPE vllm:num_requests_running gauge',
      'vllm:num_requests_running{engine="0",model_name="m"} 3',
      'vllm:num_requests_running{engine="0",model_name="m"} 7',
      '# TYPE vllm:num_requests_waiting gauge',
      'vllm:num_requests_waiting{engine="0",model_name="m"} -3',
      '# TYPE vllm:kv_cache_usage_perc gauge',
      'vllm:kv_cache_usage_perc{engine="0",model_name="m"} 1.5',
      '# TYPE vllm:prompt_tokens_total counter',
      'vllm:prompt_tokens_total{engine="0",model_name="m"} +Inf',
      '# TYPE vllm:prefix_cache_queries_total counter',
      'vllm:prefix_cache_queries_total{engine="0",model_name="m"} 10',
      '# TYPE vllm:prefix_cache_hits_total counter',
      'vllm:prefix_cache_hits_total{engine="0",model_name="m"} 20',
      '',
    ].join('\n')));
    const poller = new BackendPoller([{ url }], { pollIntervalMs: 60_000 });
    await poller.pollAll();
    await poller.pollAll();
    const s = poller.backends[0]!.last!.snapshot;
    expect(s.running).toBe(3); // the first of the two, not their sum
    expect(s.waiting).toBeUndefined();
    expect(s.kvCacheUsage).toBeUndefined();
    expect(s.promptTokens).toBeUndefined(); // +Inf is no count
    expect(s.prefixCacheHitRate).toBeUndefined(); // 20 hits of 10 queries: a rate of 2
    expect(warned.filter((w) => w.includes('more than once'))).toHaveLength(1);
    expect(warned.filter((w) => w.includes('kvCacheUsage 1.5'))).toHaveLength(1);
    expect(warned.filter((w) => w.includes('waiting -3'))).toHaveLength(1);
    expect(warned.filter((w) => w.includes('prefixCacheHitRate 2'))).toHaveLength(1);
  });

  test('SGLang: used tokens read; total slots from its server arguments', async () => {
    const url = await serve((req, res) => res.end(req.url === '/get_server_info'
      ? JSON.stringify({ max_total_num_tokens: 8192, page_size: 1, max_running_requests: 48 })
      : SGLANG));
    const poller = new BackendPoller([{ url }], { pollIntervalMs: 60_000 });
    await poller.pollAll();
    const s = poller.backends[0]!.last!.snapshot;
    expect(s.usedTokens).toBe(123859); // the capture's sglang:num_used_tokens
    expect(s.totalSlots).toBe(48);
  });
});
