/**
 * examples/omni.ts runs against nothing but the package, and `agentic-otel omni ingest`
 * replays the real vLLM-omni log: tables, JSON, and OTLP traces to a local receiver.
 */
import { beforeAll, expect, test } from 'vitest';
import { execFile } from 'node:child_process';
import { ensureBuilt, REPO_ROOT } from '../utils/build.js';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fixturePath } from '../utils/fixtures.js';

const repo = REPO_ROOT;
const cli = ['--import', 'tsx', join(repo, 'src/cli/main.ts')];
const run = promisify(execFile);

beforeAll(ensureBuilt, 120_000);

test('examples/omni.ts prints spans, an invariant violation and the tables', async () => {
  const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'examples/omni.ts'], { cwd: repo, timeout: 60_000 });
  expect(stdout).toMatch(/span omni\.stage 0 thinker\s+30\.0 ms/);
  expect(stdout).toMatch(/span omni\.transfer 0->1\s+0\.9 ms/);
  expect(stdout).toMatch(/e2e_requests\s+2/);
  expect(`${stdout}${stderr}`).toMatch(/chatcmpl-a0edd05 breaks e2e_total_tokens \(reported 9000, parts sum to 9023\)/);
}, 90_000);

test('omni ingest --json: the log\'s numbers, as NDJSON written while reading', async () => {
  const { stdout } = await run(process.execPath, [...cli, 'omni', 'ingest', '--json', fixturePath('omni/vllm-omni-log-stats-doc-example.md')], { cwd: repo, timeout: 60_000 });
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; request_id?: string; e2e_total_ms?: number; read?: Record<string, number>; violations: string[] });
  const summary = lines.at(-1)!;
  expect(summary.type).toBe('summary');
  // 8 other lines: the file's final newline ends its last line, it is no ninth (empty) line.
  expect(summary.read).toEqual({ timingLines: 1, summaryBlocks: 1, skippedLines: 8 });
  expect(lines.slice(0, -1).map((r) => [r.type, r.request_id, r.e2e_total_ms])).toEqual([['request', 'chatcmpl-a0edd05', 32990], ['request', 'summary-1', 41356.133]]);
  expect(summary.violations).toEqual([]);
}, 90_000);

test('omni ingest --otlp-endpoint: the traces reach an OTLP/HTTP receiver', async () => {
  const spans: { name: string; start: bigint; end: bigint }[] = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans: { scopeSpans: { spans: { name: string; startTimeUnixNano: string; endTimeUnixNano: string }[] }[] }[] };
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ name: s.name, start: BigInt(s.startTimeUnixNano), end: BigInt(s.endTimeUnixNano) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as { port: number }).port;
  try {
    const { stdout } = await run(process.execPath, [...cli, 'omni', 'ingest', '--otlp-endpoint', `http://127.0.0.1:${port}`, fixturePath('omni/vllm-omni-log-stats-doc-example.md')], { cwd: repo, timeout: 60_000 });
    expect(stdout).toContain('exported 2 omni.request traces');
    expect(stdout).toContain('invariants: all hold');
    // Sorted: the exporter may send the two traces in either order (one request or two).
    const ms = (name: string) => spans.filter((s) => s.name === name).map((s) => Number(s.end - s.start) / 1e6).sort((a, b) => a - b);
    expect(ms('omni.request').map((v) => Math.round(v * 1000) / 1000)).toEqual([32990, 41356.133]);
    expect(ms('omni.stage 1 diffusion').map((v) => Math.round(v))).toEqual([13960]);
    expect(ms('omni.transfer 0->1').map((v) => Math.round(v * 1000) / 1000)).toEqual([0.78, 245.895]);
  } finally {
    receiver.close();
  }
}, 90_000);
