/**
 * `agentic-otel watch --backend URL [--backend URL …] [--port 9464] [--host 127.0.0.1] [--interval 5s]`:
 * the engine poller on its own, serving the backend gauges and the Dynamo-style aggregate as a
 * Prometheus endpoint (like TinyLLM's `tinyllm metrics --port` and Dynamo's metrics component).
 * It warns once while a backend cannot be reached, says when it comes back, prints a short live
 * status, and exits cleanly on Ctrl-C.
 */
import { createServer } from 'node:http';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { PACKAGE_NAME } from '../version.js';
import { BackendPoller } from '../engines/backend-poller.js';
import type { BackendConfig } from '../engines/backend-state.js';
import { backendReadings, renderReadings } from '../engines/backend-readings.js';

export interface WatchOptions {
  backends: string[];
  port: number;
  host: string;
  intervalMs: number;
  prefix: string;
}

/** `5s`, `500ms`, `2` (seconds) → milliseconds. */
export function parseInterval(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (m === null) throw new Error(`--interval must look like 5s, 500ms or 2, got '${v}'`);
  const n = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
  if (!(n >= 100)) throw new Error(`--interval must be at least 100ms, got '${v}'`);
  return n;
}

/** Parses `URL` or `kind=URL` (kind: vllm, sglang, skyrl). */
export function parseBackend(v: string): BackendConfig {
  const m = /^(vllm|sglang|skyrl)=(.+)$/.exec(v);
  const url = m ? (m[2] as string) : v;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--backend must be a URL like http://127.0.0.1:8000, got '${withoutCredentials(v)}'`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`--backend must be http:// or https://, got '${withoutCredentials(v)}'`);
  return m ? { url, kind: m[1] as BackendConfig['kind'] & string } : { url };
}

/** Runs until SIGINT / SIGTERM; resolves with the exit code. */
export async function watch(options: WatchOptions): Promise<number> {
  const err = process.stderr;
  const logger: DiagLogger = {
    // Our component logger passes its namespace first, then the message and its arguments.
    error: (...args) => err.write(`error: ${text(args)}\n`),
    warn: (...args) => err.write(`warning: ${text(args)}\n`),
    info: (...args) => err.write(`${text(args)}\n`),
    debug: () => {},
    verbose: () => {},
  };
  diag.setLogger(logger, DiagLogLevel.INFO);
  const poller = new BackendPoller(options.backends.map(parseBackend), { pollIntervalMs: options.intervalMs });
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      const text = renderReadings(backendReadings(options.prefix, poller.backends, undefined));
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text);
      return;
    }
    res.writeHead(path === '/' ? 200 : 404, { 'content-type': 'text/plain' }).end(path === '/' ? 'agentic-otel watch: see /metrics\n' : 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  process.stdout.write(`agentic-otel watch: ${poller.backends.length} backend(s), every ${options.intervalMs} ms; Prometheus endpoint http://${options.host}:${port}/metrics (Ctrl-C to stop)\n`);
  poller.start();
  const status = setInterval(() => {
    const parts = poller.backends.map((b) => {
      const s = b.last?.snapshot;
      if (!b.up) return `${b.name} DOWN`;
      const kv = s?.kvCacheUsage === undefined ? '?' : `${(100 * s.kvCacheUsage).toFixed(0)}%`;
      return `${b.name} ${b.kind ?? '?'} run=${s?.running ?? '?'} wait=${s?.waiting ?? '?'} kv=${kv}`;
    });
    process.stdout.write(`${new Date().toISOString().slice(11, 19)}  ${parts.join('  |  ')}\n`);
  }, options.intervalMs);
  status.unref();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  clearInterval(status);
  poller.stop();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  process.stdout.write('agentic-otel watch: stopped\n');
  return 0;
}

/** A diag call's words, without our namespace. */
function text(args: unknown[]): string {
  const words = args[0] === PACKAGE_NAME ? args.slice(1) : args;
  return words.map((w) => (w instanceof Error ? w.message : String(w))).join(' ');
}

/** A URL as an error message may show it: no `user:password@`. */
function withoutCredentials(v: string): string {
  return v.replace(/\/\/[^@/]*@/, '//');
}
