#!/usr/bin/env node
/**
 * The `agentic-otel` command.
 *
 *   agentic-otel simulator [--port 8000] [--host 127.0.0.1] [--model NAME] [--max-running 16]
 *                          [--decode-ms 4] [--prefill-ms-per-token 0.02] [--max-tokens 24]
 */
import { parseArgs } from 'node:util';
import { startSimulator } from '../simulator/server.js';
import { omniIngest } from './omni-ingest.js';
import { snapshotsAnalyze, snapshotsPrune } from './snapshots.js';
import { parseDuration } from '../snapshots/snapshot-analyze.js';
import { parseBackend, parseInterval, watch } from './watch.js';

const USAGE = `usage: agentic-otel simulator [--port 8000] [--host 127.0.0.1] [--model NAME] [--flavor vllm|sglang|skyrl]
                         [--max-running N] [--decode-ms MS] [--prefill-ms-per-token MS] [--max-tokens N] [--retry-after-ms MS]
       agentic-otel watch --backend URL [--backend URL …] [--port 9464] [--host 127.0.0.1] [--interval 5s] [--prefix agentic]
       agentic-otel omni ingest <logfile> [--json] [--otlp-endpoint URL]
       agentic-otel snapshots analyze <dir> [--json]
       agentic-otel snapshots prune <dir> --older-than 7d [--max-files N]`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(USAGE + '\n');
    return command === undefined ? 2 : 0;
  }
  if (command === 'watch') {
    const { values } = parseArgs({ args: rest, options: { backend: { type: 'string', multiple: true }, port: { type: 'string', default: '9464' }, host: { type: 'string', default: '127.0.0.1' }, interval: { type: 'string', default: '5s' }, prefix: { type: 'string', default: 'agentic' } } });
    if (values.backend === undefined || values.backend.length === 0) throw new UsageError('watch needs at least one --backend URL');
    const port = /^\d{1,5}$/.test(values.port) ? Number(values.port) : NaN;
    if (!(port >= 0 && port <= 65535)) throw new UsageError(`--port must be an integer 0..65535, got '${values.port}'`);
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(values.prefix)) throw new UsageError(`--prefix must be a Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*), got '${values.prefix}'`);
    let intervalMs: number;
    try {
      intervalMs = parseInterval(values.interval);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    try {
      for (const b of values.backend) parseBackend(b);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    return watch({ backends: values.backend, port, host: values.host, intervalMs, prefix: values.prefix });
  }
  if (command === 'omni') {
    const [sub, ...args] = rest;
    if (sub !== 'ingest') throw new UsageError(`unknown omni command '${sub ?? ''}' (expected: omni ingest <logfile>)`);
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' }, 'otlp-endpoint': { type: 'string' } } });
    if (positionals.length !== 1) throw new UsageError('omni ingest takes one log file');
    return omniIngest(positionals[0] as string, { json: values.json === true, otlpEndpoint: values['otlp-endpoint'] ?? process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] });
  }
  if (command === 'snapshots') {
    const [sub, ...args] = rest;
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' }, 'older-than': { type: 'string' }, 'max-files': { type: 'string' } } });
    if (positionals.length !== 1) throw new UsageError(`snapshots ${sub ?? ''} takes one directory`);
    const dir = positionals[0] as string;
    if (sub === 'analyze') return snapshotsAnalyze(dir, values.json === true);
    if (sub !== 'prune') throw new UsageError(`unknown snapshots command '${sub ?? ''}' (expected: analyze, prune)`);
    const age = values['older-than'] === undefined ? undefined : parseDuration(values['older-than']);
    if (age === undefined) throw new UsageError(`snapshots prune needs --older-than like 7d, 12h, 30m (got '${values['older-than'] ?? ''}')`);
    const maxFiles = values['max-files'] === undefined ? undefined : Number(values['max-files']);
    if (maxFiles !== undefined && !(Number.isInteger(maxFiles) && maxFiles >= 0)) throw new UsageError(`--max-files must be an integer >= 0, got '${values['max-files']}'`);
    return snapshotsPrune(dir, age, maxFiles);
  }
  if (command !== 'simulator') {
    process.stderr.write(`agentic-otel: unknown command '${command}'\n${USAGE}\n`);
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      port: { type: 'string', default: '8000' },
      host: { type: 'string', default: '127.0.0.1' },
      model: { type: 'string' },
      'max-running': { type: 'string' },
      'decode-ms': { type: 'string' },
      'prefill-ms-per-token': { type: 'string' },
      'max-tokens': { type: 'string' },
      'retry-after-ms': { type: 'string' },
      flavor: { type: 'string' },
    },
  });
  if (values.flavor !== undefined && !['vllm', 'sglang', 'skyrl'].includes(values.flavor)) throw new UsageError(`--flavor must be vllm, sglang or skyrl, got '${values.flavor}'`);
  const num = (name: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number >= ${min}, got '${v}'`);
    return n;
  };
  const port = num('port', values.port, 0) as number;
  const sim = await startSimulator({
    port,
    host: values.host,
    ...(values.model !== undefined && { model: values.model }),
    ...(values['max-running'] !== undefined && { maxRunning: num('max-running', values['max-running'], 1) }),
    ...(values['decode-ms'] !== undefined && { decodeMsPerToken: num('decode-ms', values['decode-ms'], 0) }),
    ...(values['prefill-ms-per-token'] !== undefined && { prefillMsPerToken: num('prefill-ms-per-token', values['prefill-ms-per-token'], 0) }),
    ...(values['max-tokens'] !== undefined && { defaultMaxTokens: num('max-tokens', values['max-tokens'], 1) }),
    ...(values['retry-after-ms'] !== undefined && { retryAfterMs: num('retry-after-ms', values['retry-after-ms'], 0) }),
    ...(values.flavor !== undefined && { flavor: values.flavor as 'vllm' | 'sglang' | 'skyrl' }),
  });
  process.stdout.write(`agentic-otel simulator serving ${sim.model} at ${sim.url}/v1 (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await sim.close();
  return 0;
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`agentic-otel: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof UsageError || (err as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1);
  },
);
